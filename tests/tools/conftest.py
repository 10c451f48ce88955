"""Real MCP servers for the tool tests: the directory server over stdio and over loopback HTTP."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from crew.settings import McpServer
from tests.servers import free_port

HERE = Path(__file__).parent


def stdio_server(script: str = "directory_server.py", *args: str, **extra) -> McpServer:
    return McpServer(transport="stdio", command=sys.executable, args=(str(HERE / script), *args), **extra)


@pytest.fixture
def directory_stdio() -> McpServer:
    return stdio_server("directory_server.py", "stdio")


@pytest.fixture(scope="module")
def directory_http_process(tmp_path_factory):
    """The directory server over streamable HTTP on a free loopback port, for the module's tests:
    (its configuration, the file where it notes what became of each `slow` call)."""
    port = free_port()
    here = tmp_path_factory.mktemp("mcp-http")
    log_path, calls = here / "server.log", here / "calls.log"
    log = open(log_path, "w")
    proc = subprocess.Popen([sys.executable, str(HERE / "directory_server.py"), "http", str(port)],
                            stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "DIRECTORY_LOG": str(calls)})
    url = f"http://127.0.0.1:{port}/mcp"
    try:
        for _ in range(200):
            try:
                httpx.get(url, timeout=0.5)  # any HTTP answer: the server is up
                break
            except httpx.HTTPError:
                if proc.poll() is not None:
                    pytest.fail("the MCP server did not start: " + log_path.read_text()[-2000:])
                time.sleep(0.1)
        else:
            pytest.fail("the MCP server did not start: " + log_path.read_text()[-2000:])
        yield McpServer(transport="streamable_http", url=url), calls
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@pytest.fixture(scope="module")
def directory_http(directory_http_process) -> McpServer:
    return directory_http_process[0]


@pytest.fixture
def mcp_crew(make_crew):
    """`make(models, servers, **settings)`: a crew whose researchers may use these MCP servers;
    its MCP connections (and stdio servers) are closed after the test."""
    made = []

    def make(models, servers: dict[str, McpServer], **overrides):
        crew = make_crew(models, mcp_servers=servers, **overrides)
        made.append(crew)
        return crew

    yield make
    for crew in made:
        crew.mcp.close()
