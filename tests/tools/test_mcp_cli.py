"""`crew tools` lists every tool each role may use, and MCP servers are configured as MCP clients
configure them: CREW_MCP_SERVERS as JSON, or tables in .streamlit/secrets.toml."""

from __future__ import annotations

import json
import sys

import pytest
from pydantic import ValidationError

from crew.engine.tools.mcp import mcp_where
from crew.settings import McpServer, Settings
from tests.servers import run_cli
from tests.tools.conftest import HERE


def servers_json(**servers: dict) -> str:
    return json.dumps(servers)


def test_crew_tools_lists_built_in_and_mcp_tools_per_role(directory_http):
    env = {"CREW_MCP_SERVERS": servers_json(
        directory={"transport": "stdio", "command": sys.executable, "args": [str(HERE / "directory_server.py"), "stdio"]},
        wiki={"transport": "streamable_http", "url": directory_http.url},
        down={"transport": "streamable_http", "url": "http://127.0.0.1:9/mcp"},
        hr={"transport": "stdio", "command": sys.executable, "args": [str(HERE / "directory_server.py"), "stdio"],
            "workspaces": ["hr"]},
    )}
    out = run_cli("tools", "--workspace", "team", "--json", env=env, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    rows = json.loads(out.stdout)
    assert all(set(r) == {"name", "server", "role", "status", "description"} for r in rows)
    by_name = {(r["server"], r["name"]): r for r in rows}
    assert by_name[("built-in", "search_memory")]["status"] == "ok"
    assert by_name[("built-in", "web_search")]["status"] == "off"  # the tests run with web search off
    lookup = by_name[("directory", "directory.lookup_employee")]
    assert lookup["role"] == "researcher" and lookup["status"] == "ok"
    assert lookup["description"].startswith("Look up a person in the company directory")
    assert by_name[("wiki", "wiki.convert_units")]["status"] == "ok"  # the same server over HTTP
    down = by_name[("down", "")]
    assert down["status"].startswith("unavailable: ") and "ConnectError" in down["status"]
    assert not any(r["server"] == "hr" for r in rows)  # kept to workspace hr
    assert {r["role"] for r in rows} == {"researcher"}

    text = run_cli("tools", "--workspace", "hr", env=env, timeout=120)
    assert text.returncode == 0, text.stderr[-2000:]
    assert "hr.lookup_employee" in text.stdout and "unavailable: " in text.stdout


def test_mcp_servers_come_from_the_environment_as_json(monkeypatch):
    monkeypatch.setenv("CREW_MCP_SERVERS", servers_json(
        directory={"transport": "stdio", "command": "python", "args": ["server.py"], "env": {"DIRECTORY_TOKEN": "tok-0123456789"}},
        wiki={"transport": "streamable_http", "url": "http://127.0.0.1:8000/mcp",
              "headers": {"Authorization": "Bearer abcdefghijklmnop"}},
    ))
    servers = Settings().mcp_servers
    assert servers["directory"].args == ("server.py",) and servers["wiki"].url == "http://127.0.0.1:8000/mcp"
    # Keys in env and headers are secrets: not in the settings' text, nor where a server is shown.
    shown = repr(servers) + mcp_where(servers["directory"]) + mcp_where(servers["wiki"])
    assert "tok-0123456789" not in shown and "abcdefghijklmnop" not in shown
    assert mcp_where(servers["directory"]) == "python server.py"


def test_mcp_servers_come_from_secrets_toml(monkeypatch, tmp_path):
    import crew.settings as settings_module

    app = tmp_path / "app"
    (app / ".streamlit").mkdir(parents=True)
    (app / ".streamlit" / "secrets.toml").write_text(
        '[mcp_servers.directory]\ntransport = "stdio"\ncommand = "python"\nargs = ["server.py"]\n'
        'workspaces = ["team"]\n')
    monkeypatch.setattr(settings_module, "APP_DIR", app)
    servers = Settings().mcp_servers
    assert servers["directory"].command == "python" and servers["directory"].workspaces == ("team",)
    assert servers["directory"].serves("team") and not servers["directory"].serves("other")


@pytest.mark.parametrize("bad, says", [
    ({"transport": "stdio"}, "needs a command"),
    ({"transport": "streamable_http", "url": "file:///etc/passwd"}, r"needs an http\(s\) url"),
    ({"transport": "websocket", "url": "ws://127.0.0.1:1"}, "transport"),
    ({"transport": "stdio", "command": "x", "shell": True}, "shell"),
])
def test_a_bad_server_entry_is_refused_with_its_reason(bad, says):
    with pytest.raises(ValidationError, match=says):
        McpServer(**bad)


def test_a_servers_header_key_never_reaches_the_failed_calls_text(mcp_crew):
    from crew.engine.agents.coordinator import Plan
    from crew.engine.agents.critic import Review

    key = "k3y-0f-the-wiki-9f8e7d6c5b4a"
    wiki = McpServer(transport="streamable_http", url=f"http://127.0.0.1:9/mcp?{key}",
                     headers={"Authorization": f"Bearer {key}"})
    crew = mcp_crew({"coordinator": [Plan(subquestions=["q"])], "writer": ["w"], "critic": [Review(decision="approve")]},
                    {"wiki": wiki})
    events = list(crew.run_turn("w", None, "Who runs the wiki?"))
    failed = [e for e in events if e.kind == "tool_result" and not e.data["ok"]]
    assert failed and "MCP server wiki is unavailable" in failed[0].text
    everything = json.dumps([e.to_dict() for e in events], default=str)
    traces = json.dumps(crew.traces.spans("w", events[0].turn_id), default=str)
    assert key not in everything and key not in traces
