"""Start and stop the real servers tests run against, on loopback only; run the `crew` command line."""

from __future__ import annotations

import ipaddress
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx

VENV_BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parents[1]  # the repository: app.py, pages/, src/
APP = ROOT / "app.py"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before answering {url}")
        try:
            if httpx.get(url, timeout=1).status_code < 500:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise TimeoutError(f"no answer from {url} within {timeout} s")


def run_cli(*args: str, env: dict[str, str] | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    """`python -m crew ARGS` from the repository root, in this test's environment plus `env`; output as text."""
    return subprocess.run([sys.executable, "-m", "crew", *args], cwd=ROOT, env={**os.environ, **(env or {})},
                          capture_output=True, text=True, timeout=timeout)


class ChromaServer:
    """`chroma run --path DIR --host 127.0.0.1 --port PORT`, restartable on the same data."""

    def __init__(self, path: Path, port: int | None = None) -> None:
        self.path = path
        self.port = port or free_port()
        self.host = "127.0.0.1"
        self.proc: subprocess.Popen | None = None
        self.log = path.parent / f"{path.name}.log"

    def start(self) -> None:
        env = {**os.environ, "ANONYMIZED_TELEMETRY": "False"}
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [str(VENV_BIN / "chroma"), "run", "--path", str(self.path), "--host", self.host, "--port", str(self.port)],
                stdout=log, stderr=subprocess.STDOUT, env=env,
            )
        wait_http(f"http://{self.host}:{self.port}/api/v2/heartbeat", self.proc)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def env(self) -> dict[str, str]:
        return {"CHROMA_HOST": self.host, "CHROMA_PORT": str(self.port)}


GOAL_BOX = "What should the crew find out?"  # the chat box's placeholder
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--no-first-run", "--disable-gpu",
    # Belt and braces: the browser resolves no host name but loopback's, so it can reach nothing
    # else. Chromium matches IP literals against the rules too (checked: "EXCLUDE localhost" alone
    # makes 127.0.0.1 unreachable), and writes IPv6 there without brackets.
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE localhost , EXCLUDE 127.0.0.1 , EXCLUDE ::1",
]
NOT_NETWORK = ("data", "blob", "about", "chrome-error")


def is_loopback_url(url: str) -> bool:
    """True for a URL that stays on this machine: loopback hosts, or no network at all (data:)."""
    parts = urlsplit(url)
    if parts.scheme in NOT_NETWORK:
        return True
    host = (parts.hostname or "").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class LoopbackOnly:
    """Playwright routing for a browser context: loopback requests pass, any other is aborted and
    recorded, and `check()` fails the test naming them (the browser must not leave the machine)."""

    def __init__(self) -> None:
        self.blocked: list[str] = []

    def install(self, context) -> None:
        context.route("**/*", self._request)
        # Streamlit's own socket is not routed at all (proxying it would slow every page).
        context.route_web_socket(lambda url: not is_loopback_url(url), self._web_socket)

    def _request(self, route) -> None:
        url = route.request.url
        if is_loopback_url(url):
            route.fallback()
        else:
            self.blocked.append(url)
            route.abort("blockedbyclient")

    def _web_socket(self, ws) -> None:
        self.blocked.append(ws.url)
        ws.close()

    def check(self) -> None:
        assert self.blocked == [], f"the browser tried to leave the machine: {self.blocked}"


class StreamlitApp:
    """`streamlit run app.py` on a free loopback port with the given environment.

    `hostname` runs it in a UTS namespace of its own under that host name (`unshare --uts`, as root), as
    if on another machine: the name is what `crew.storage.owners` records as a job's owner.
    """

    def __init__(self, log: Path, env: dict[str, str], hostname: str | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log
        self.env = {**os.environ, "CREW_WEB_SEARCH": "false", **env}
        self.hostname = hostname
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> "StreamlitApp":
        self._log = open(self.log_path, "wb")
        cmd = [str(VENV_BIN / "streamlit"), "run", "app.py", "--server.port", str(self.port),
               "--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false"]
        if self.hostname:  # `exec`: the app keeps the pid (and process group) this object signals
            cmd = ["unshare", "--uts", "sh", "-c", 'hostname "$0" && exec "$@"', self.hostname, *cmd]
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=self.env, stdout=self._log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        try:
            wait_http(f"{self.url}/_stcore/health", self.proc)
        except Exception:
            self.__exit__()
            raise RuntimeError(f"streamlit did not start: {self.log_path.read_text()[-2000:]}") from None
        return self

    def kill(self) -> None:
        """SIGKILL the app's whole process group at once: no clean-up of any kind, as a power cut."""
        import signal

        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def __exit__(self, *exc) -> None:
        import signal

        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self._log.close()


class Chromium:
    """Debian's Chromium driven by Playwright: no browser download, loopback only.

    Every page gets its own context (its own cookies, so its own Streamlit session) behind
    `LoopbackOnly`; leaving the block fails the test if any page tried to reach another host.
    """

    def __enter__(self):
        from playwright.sync_api import sync_playwright

        self._pw = sync_playwright().start()
        self.browser = self._pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        self.guard = LoopbackOnly()
        return self

    def page(self, width: int = 1280, height: int = 1000):
        context = self.browser.new_context(viewport={"width": width, "height": height})
        self.guard.install(context)
        page = context.new_page()
        page.set_default_timeout(30_000)
        return page

    def __exit__(self, *exc) -> None:
        self.browser.close()
        self._pw.stop()
        if exc[0] is None:  # a test that failed already keeps its own failure
            self.guard.check()
