"""The embedded model, really run, uses an MCP tool: one short turn from the command line."""

from __future__ import annotations

import json
import sys

import pytest

from tests.servers import run_cli
from tests.tools.conftest import HERE

pytestmark = pytest.mark.slow


def test_the_embedded_models_researcher_calls_the_directory_and_cites_it():
    env = {
        "CREW_MCP_SERVERS": json.dumps({"directory": {
            "transport": "stdio", "command": sys.executable, "args": [str(HERE / "directory_server.py"), "stdio"],
            "tools": ["lookup_employee"]}}),
        "CREW_RESEARCH_STEPS": "1", "CREW_MAX_REVISIONS": "0",  # as short as a turn gets
    }
    out = run_cli("run", "In which office room does Ada Lovelace work?", "--workspace", "team", "--json",
                  env=env, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads(out.stdout)
    # The tiny model chose the directory (the only tool offered besides "done") and the answer cites its reply.
    cited = [c for c in result["citations"] if c["source"].startswith("directory.lookup_employee: ")]
    assert cited, result
    trace = json.loads(run_cli("traces", "--last", "--workspace", "team", "--json").stdout)
    calls = [s for s in trace["spans"] if "directory.lookup_employee" in s["span"]]
    assert calls and calls[0]["status"] == "ok", trace["spans"]
