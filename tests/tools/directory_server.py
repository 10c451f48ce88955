"""A real MCP server for the tests: a small company directory and a units converter, built with the
`mcp` SDK's MCPServer (FastMCP), plus tools that misbehave on purpose (slow, huge, garbage).

Run `python directory_server.py stdio` or `python directory_server.py http PORT` (loopback only).
"""

from __future__ import annotations

import os
import sys
import time

import anyio
from mcp.server.mcpserver import MCPServer

PEOPLE = {
    "ada lovelace": "Ada Lovelace is the Chief Analytical Engineer; her office is room 42 and her extension is 4242.",
    "grace hopper": "Grace Hopper leads the Compilers team; her office is room 7 and her extension is 1906.",
}
FACTORS = {("km", "mi"): 0.621371, ("mi", "km"): 1.609344, ("kg", "lb"): 2.204623, ("lb", "kg"): 0.453592}

server = MCPServer("directory")


@server.tool(description="Look up a person in the company directory by name: role, office room and phone extension.")
def lookup_employee(name: str) -> str:
    # A search, as directory APIs do: every person whose full name the text holds.
    text = " ".join(name.lower().split())
    found = [entry for person, entry in PEOPLE.items() if person in text]
    return " ".join(found) or f"Nobody called {name} is in the directory."


@server.tool(description="Convert a value between units: km<->mi, kg<->lb.")
def convert_units(value: float, from_unit: str, to_unit: str) -> str:
    factor = FACTORS.get((from_unit, to_unit))
    if factor is None:
        raise ValueError(f"cannot convert {from_unit} to {to_unit}")
    return f"{value:g} {from_unit} is {value * factor:.2f} {to_unit}."


@server.tool(description="Answer after a while (seconds).")
async def slow(seconds: float) -> str:
    # Async, as a server doing I/O is: a client's notifications/cancelled stops it mid-wait. The
    # tests read what became of each call in the file DIRECTORY_LOG names (when set).
    _log(f"started {seconds:g}")
    try:
        await anyio.sleep(seconds)
    except anyio.get_cancelled_exc_class():
        _log(f"cancelled {seconds:g}")
        raise
    _log(f"finished {seconds:g}")
    return "finally"


def _log(line: str) -> None:
    path = os.environ.get("DIRECTORY_LOG")
    if path:
        with open(path, "a") as out:
            out.write(line + "\n")


@server.tool(description="Return a reply of this many megabytes.")
def huge(megabytes: int) -> str:
    return "x" * (megabytes * 1_000_000)


@server.tool(description="Write something that is not MCP on the server's stdout.")
def garbage() -> str:
    os.write(1, b"<html>this is not JSON-RPC</html>\n")
    time.sleep(30)
    return "never read"


def direct_lookup(name: str) -> str:
    """The same function without MCP, for bench/mcp_overhead.py's baseline."""
    return lookup_employee(name)


if __name__ == "__main__":
    if sys.argv[1] == "stdio":
        server.run("stdio")
    else:
        server.run("streamable-http", host="127.0.0.1", port=int(sys.argv[2]))
