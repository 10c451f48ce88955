"""What calling a tool over MCP costs against calling the same function directly.

    .venv/bin/python bench/mcp_overhead.py [--calls 300] [--json]

The function is the test directory server's `lookup_employee` (tests/tools/directory_server.py).
Measured in one run, on the same function and arguments: the direct Python call; the call through
the crew's MCP connection (McpHub: thread hop to its event loop, JSON-RPC, the server process or
its HTTP endpoint on loopback) over stdio and over streamable HTTP; and the researcher's whole path
(McpToolbox: argument checked against the input schema, reply turned into a finding) over stdio.
Connecting (starting the stdio server, the HTTP session) is timed once and reported apart.
"""

from __future__ import annotations

import argparse
import importlib.util
import logging
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx
from _report import report

from crew.engine.tools.mcp import McpHub
from crew.engine.tools.mcp_toolbox import McpToolbox
from crew.settings import McpServer

SERVER = Path(__file__).resolve().parents[1] / "tests" / "tools" / "directory_server.py"
LIMIT = 1_000_000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def timed(fn, n: int) -> list[float]:
    out = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--calls", type=int, default=300)
    p.add_argument("--json", action="store_true")
    a = p.parse_args()

    spec = importlib.util.spec_from_file_location("directory_server", SERVER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    direct = module.direct_lookup
    # Importing the server's SDK set up its own logging; the client's per-request lines are noise here.
    for name in ("httpx", "httpx2", "mcp"):
        logging.getLogger(name).setLevel(logging.WARNING)

    port = free_port()
    http_proc = subprocess.Popen([sys.executable, str(SERVER), "http", str(port)], stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/mcp"
    for _ in range(200):
        try:
            httpx.get(url, timeout=0.5)
            break
        except httpx.HTTPError:
            time.sleep(0.1)
    servers = {"stdio": McpServer(transport="stdio", command=sys.executable, args=(str(SERVER), "stdio")),
               "http": McpServer(transport="streamable_http", url=url)}
    hub = McpHub()
    try:
        connect = {}
        for name, config in servers.items():
            t = time.perf_counter()
            hub.tools(name, config, timeout=30, max_bytes=LIMIT)
            connect[name] = time.perf_counter() - t

        args = {"name": "Ada Lovelace"}
        expected = direct("Ada Lovelace")

        def over(name: str):
            def call() -> None:
                reply = hub.call(name, servers[name], "lookup_employee", args, timeout=30, max_bytes=LIMIT)
                assert reply.content[0].text == expected
            return call

        box = McpToolbox(hub, {"stdio": servers["stdio"]}, timeout=30, max_bytes=LIMIT)
        tool = next(t for t in hub.tools("stdio", servers["stdio"], timeout=30, max_bytes=LIMIT)
                    if t.name == "lookup_employee")

        def through_toolbox() -> None:
            assert box.call(tool, "Ada Lovelace").hits[0].text == expected

        for fn in (over("stdio"), over("http"), through_toolbox):  # warm-up
            timed(fn, 20)
        samples = {
            "direct call": timed(lambda: direct("Ada Lovelace"), a.calls),
            "MCP over stdio": timed(over("stdio"), a.calls),
            "MCP over streamable HTTP": timed(over("http"), a.calls),
            "researcher's path over stdio (schema check + finding)": timed(through_toolbox, a.calls),
        }
    finally:
        hub.close()
        http_proc.terminate()
        http_proc.wait(10)

    base = statistics.median(samples["direct call"])
    rows, figures = [], {}
    for name, values in samples.items():
        med, p95 = statistics.median(values), sorted(values)[int(0.95 * len(values)) - 1]
        rows.append((f"{name}: median / p95 (ms)", f"{med * 1000:.3f} / {p95 * 1000:.3f}",
                     f"{med / base:,.0f}x the direct call" if name != "direct call" else "baseline"))
        figures[name] = {"median_ms": med * 1000, "p95_ms": p95 * 1000, "ratio": med / base}
    for name, seconds in connect.items():
        rows.append((f"connect + list tools, {name} (ms, once)", f"{seconds * 1000:.0f}", "per server, then kept"))
        figures[f"connect_{name}_ms"] = seconds * 1000
    report(f"MCP tool call overhead ({a.calls} calls each)", rows, figures, a.json)


if __name__ == "__main__":
    main()
