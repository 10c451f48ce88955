"""Start and stop a real PostgreSQL server for tests and benchmarks, on loopback only.

Debian's server binaries (`initdb`, `pg_ctl`, from the `postgresql` package that `scripts/setup --dev`
installs) make a fresh cluster in a temporary directory and serve it on 127.0.0.1 at a free port, with
its unix socket in that directory too (nothing under /var/run). Postgres refuses to run as root, so
when the tests run as root the cluster belongs to, and runs as, the `postgres` OS user. Clients log in
over TCP with a random password (scram-sha-256), so the `url` carries one, as a real deployment's does.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from tests.servers import free_port

DEBIAN = Path("/usr/lib/postgresql")  # Debian keeps the server binaries per major version, off PATH
SETUP_HINT = ("PostgreSQL server binaries (initdb, pg_ctl) not found in {where} or on PATH: run"
              " `bash scripts/setup --dev`, which installs Debian's `postgresql` package")


def pg_bin() -> Path:
    """The directory of initdb and pg_ctl: Debian's newest, else wherever PATH finds them."""
    versions = sorted((p for p in DEBIAN.glob("*/bin") if (p / "initdb").is_file() and (p / "pg_ctl").is_file()),
                      key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0)
    if versions:
        return versions[-1]
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(found).resolve().parent
    raise RuntimeError(SETUP_HINT.format(where=DEBIAN))


class PostgresServer:
    """A throwaway PostgreSQL cluster with one database, `crew`, reachable at `url`; `stop()` removes it."""

    def __init__(self, database: str = "crew", port: int | None = None) -> None:
        self.bin = pg_bin()
        self.database = database
        self.host = "127.0.0.1"
        self.port = port or free_port()
        self.user = "postgres"
        self.password = secrets.token_urlsafe(16)
        # Not under pytest's tmp dirs: those are private to root, and the server may run as `postgres`.
        self.dir = Path(tempfile.mkdtemp(prefix="crew-pg-"))
        self.data = self.dir / "data"
        self.log = self.dir / "server.log"
        self._as_postgres = os.geteuid() == 0
        self.started = False

    @property
    def url(self) -> str:
        return self.url_of(self.database)

    def url_of(self, database: str) -> str:
        return f"postgresql://{self.user}:{self.password}@{self.host}:{self.port}/{database}"

    def _run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        cmd = [str(a) for a in args]
        if self._as_postgres:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=self.dir)
        if out.returncode != 0:
            said = out.stderr[-2000:] or out.stdout[-2000:]
            raise RuntimeError(f"{Path(str(args[0])).name} failed ({out.returncode}): {said}")
        return out

    def start(self) -> "PostgresServer":
        pwfile = self.dir / "pwfile"
        pwfile.write_text(self.password + "\n")
        if self._as_postgres:
            shutil.chown(self.dir, "postgres", "postgres")
            shutil.chown(pwfile, "postgres", "postgres")
        pwfile.chmod(0o600)
        try:
            self._run(self.bin / "initdb", "-D", self.data, "-U", self.user, "--pwfile", pwfile, "-E", "UTF8",
                      "--locale", "C.UTF-8", "--auth-host", "scram-sha-256", "--auth-local", "peer")
        finally:
            pwfile.unlink()
        # Loopback only; the socket in our own directory; fsync off (a test cluster need not survive a crash).
        self.start_server()
        self.create_database(self.database)
        return self

    def start_server(self) -> None:
        """Start the cluster (again, after `stop_server`) on the same data and port."""
        options = (f"-c listen_addresses={self.host} -c port={self.port} -c unix_socket_directories={self.dir}"
                   " -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=100")
        self._run(self.bin / "pg_ctl", "-D", self.data, "-l", self.log, "-o", options, "-w", "-t", "60", "start")
        self.started = True

    def stop_server(self) -> None:
        """Stop the server, keeping its data (every client connection is cut; `start_server` brings it back)."""
        self._run(self.bin / "pg_ctl", "-D", self.data, "-m", "fast", "-w", "-t", "60", "stop")
        self.started = False

    def create_database(self, name: str) -> str:
        """Create an empty database on this server and return its URL (a test that needs a clean slate)."""
        import psycopg

        deadline = time.monotonic() + 30
        while True:
            try:
                with psycopg.connect(host=self.host, port=self.port, user=self.user, password=self.password,
                                     dbname="postgres", autocommit=True, connect_timeout=5) as conn:
                    conn.execute(f'CREATE DATABASE "{name}"')
                return self.url_of(name)
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise

    def restart(self) -> None:
        """Stop and start the server on the same data and port (every client connection is cut)."""
        self._run(self.bin / "pg_ctl", "-D", self.data, "-l", self.log, "-m", "fast", "-w", "-t", "60", "restart")

    def stop(self) -> None:
        if self.started:
            try:
                self._run(self.bin / "pg_ctl", "-D", self.data, "-m", "fast", "-w", "-t", "60", "stop")
            finally:
                self.started = False
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> "PostgresServer":
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc) -> None:
        self.stop()

    def env(self) -> dict[str, str]:
        return {"CREW_DATABASE_URL": self.url}
