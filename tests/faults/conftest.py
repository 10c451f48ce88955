"""Fixtures for breaking things on purpose (crews come from make_crew in tests/conftest.py): a
real Chroma server on a loopback port that tests stop and restart, and a hook that acts when
the crew reports a retry.
"""

from __future__ import annotations

import logging
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
    logger = logging.getLogger("crew.runtime")

    def install(action: Callable[[logging.LogRecord], None]) -> OnRetry:
        handler = OnRetry(action)
        logger.addHandler(handler)
        handlers.append(handler)
        return handler

    yield install
    for handler in handlers:
        logger.removeHandler(handler)
