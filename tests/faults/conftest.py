"""Fixtures for breaking things on purpose (crews come from make_crew in tests/conftest.py): a
real Chroma server on a loopback port that tests stop and restart, a hook that acts when the
crew reports a retry, and a small real disk to fill or make read-only.
"""

from __future__ import annotations

import errno
import logging
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Callable

import pytest

from tests.servers import ChromaServer

CHROMA = Path(sys.executable).parent / "chroma"


@pytest.fixture
def chroma_server(tmp_path):
    """`chroma run` on a free loopback port; tests stop and restart it on the same data."""
    # chromadb is a hard dependency: a missing `chroma` command is a broken install, not a skip.
    assert CHROMA.exists(), f"the chroma command is missing at {CHROMA}: reinstall the requirements (chromadb)"
    server = ChromaServer(tmp_path / "chroma-server")
    server.start()
    try:
        yield server
    finally:
        server.stop()


class OnRetry(logging.Handler):
    """Call `action` (once) when the crew logs that it is about to retry a failed call.

    The retry's warning is logged from the turn's own thread just before the backoff sleep, so
    whatever the action does (restart a server, press Stop) happens at that exact point.
    """

    def __init__(self, action: Callable[[logging.LogRecord], None]) -> None:
        super().__init__(logging.WARNING)
        self.action = action
        self.fired = 0

    def emit(self, record: logging.LogRecord) -> None:
        if "trying again" in record.getMessage() and not self.fired:
            self.fired += 1
            self.action(record)


@pytest.fixture
def on_retry():
    handlers: list[OnRetry] = []
    logger = logging.getLogger("crew.engine.runtime")

    def install(action: Callable[[logging.LogRecord], None]) -> OnRetry:
        handler = OnRetry(action)
        logger.addHandler(handler)
        handlers.append(handler)
        return handler

    yield install
    for handler in handlers:
        logger.removeHandler(handler)


class SmallDisk:
    """A small tmpfs the test can fill, free, and remount read-only: a real full or read-only disk."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.filler = path / "filler"

    def _mount(self, *options: str) -> None:
        subprocess.run(["mount", "-o", ",".join(options), str(self.path)], check=True, capture_output=True)

    def fill(self, leave: int = 0) -> None:
        """Take every byte but `leave` (then what is left is used up by the first writes)."""
        with open(self.filler, "ab") as f:
            room = shutil.disk_usage(self.path).free - leave
            block = b"\0" * 65536
            try:
                while room > 0:
                    room -= f.write(block[: min(len(block), room)])
                    f.flush()
            except OSError as exc:
                assert exc.errno == errno.ENOSPC, exc

    def free(self) -> None:
        self.filler.unlink(missing_ok=True)

    def read_only(self) -> None:
        self._mount("remount", "ro")

    def writable(self) -> None:
        self._mount("remount", "rw")


def _release(path: Path) -> None:
    """Let go of what this process holds open on the disk: cached stores, Chroma's per-folder systems."""
    import gc

    import streamlit as st
    from chromadb.api.shared_system_client import SharedSystemClient

    st.cache_resource.clear()
    for key, system in list(SharedSystemClient._identifier_to_system.items()):
        if key.startswith(str(path)):
            try:
                system.stop()
            finally:
                SharedSystemClient._identifier_to_system.pop(key, None)
    gc.collect()


@pytest.fixture
def small_disk(tmp_path):
    """A 16 MB tmpfs at tmp_path/disk; skipped only where mounting is not permitted; always unmounted."""
    path = tmp_path / "disk"
    path.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m,mode=0755", "tmpfs", str(path)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"mounting a tmpfs is not permitted here (needs root or CAP_SYS_ADMIN): {mounted.stderr.strip()}")
    try:
        yield SmallDisk(path)
    finally:
        _release(path)
        if subprocess.run(["umount", str(path)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "--lazy", str(path)], check=True)  # still busy: detach now, free when let go
