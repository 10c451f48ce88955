"""Turns on the scripted model whose researcher calls a real MCP server, over stdio and over loopback
HTTP: the tool is offered with its description, called through the gate, fenced, cited and
remembered; and every way a server can fail is a failed call in the step while the turn goes on."""

from __future__ import annotations

import http.server
import threading

import pytest

from crew.engine.agents.coordinator import Plan
from crew.engine.agents.critic import Review
from crew.settings import McpServer
from tests.doubles import ScriptedChatModel
from tests.tools.conftest import stdio_server

QUESTION = "In which office room does Ada Lovelace work?"
LABEL = "directory.lookup_employee: Ada Lovelace"


def act(action: str, argument: str = "") -> dict:
    return {"action": action, "argument": argument}


def crew_models(researcher: list, draft: str = "Ada Lovelace works in room 42 [1].") -> dict:
    return {"coordinator": [Plan(subquestions=[QUESTION])], "researcher": ScriptedChatModel(responses=researcher),
            "writer": [draft], "critic": [Review(decision="approve")]}


def tool_results(events, name: str | None = None):
    return [e for e in events if e.kind == "tool_result" and (name is None or e.data["tool"] == name)]


@pytest.fixture(params=["stdio", "http"])
def directory(request, directory_stdio):
    return directory_stdio if request.param == "stdio" else request.getfixturevalue("directory_http")


def test_a_turn_calls_the_mcp_tool_and_cites_it(mcp_crew, directory):
    models = crew_models([act("directory.lookup_employee", "Ada Lovelace"), act("done")])
    crew = mcp_crew(models, {"directory": directory})
    turn = crew.run_turn("w", None, QUESTION)
    events = list(turn)
    result = turn.result

    assert result.status == "done", result.error
    # The tool was offered with its name and the server's description, and the reply schema only
    # allows the tools offered.
    researcher = models["researcher"]
    prompt = researcher.calls[0]["messages"][0].content
    assert "directory.lookup_employee" in prompt and "Look up a person in the company directory" in prompt
    assert "directory.convert_units" in prompt and "JSON object with value (number)" in prompt
    # Through the gate: a tool span under the researcher's step, with the arguments given.
    calls = [e for e in events if e.kind == "tool_call" and e.text == "directory.lookup_employee"]
    assert len(calls) == 1 and calls[0].data["args"] == {"argument": "Ada Lovelace"}
    [ok] = tool_results(events, "directory.lookup_employee")
    assert ok.data["ok"] is True and ok.data["hits"] == 1 and ok.parent_id == calls[0].parent_id
    # The writer saw the reply fenced as data, numbered like any passage.
    writer_prompt = crew.models["writer"].calls[0]["messages"][-1].content
    fenced = writer_prompt[writer_prompt.index("<<<"):writer_prompt.index(">>>")]
    assert "room 42" in fenced and LABEL in fenced
    # Cited as `[n] tool: argument`.
    assert result.answer == "Ada Lovelace works in room 42 [1]."
    assert [(c["n"], c["source"], c["url"]) for c in result.citations] == [(1, LABEL, "")]
    assert "extension is 4242" in result.citations[0]["text"]
    # Remembered among the workspace's findings, as web results are.
    hits = crew.memory.workspace("w").search_documents("Ada Lovelace office room", k=5, with_findings=True)
    assert any(h.kind == "findings" and h.source == LABEL and "room 42" in h.text for h in hits)
    # And in the trace: a tool span named after the tool.
    spans = crew.traces.spans("w", result.turn_id)
    assert any("directory.lookup_employee" in s["name"] and s["status"] == "ok" for s in spans), spans


def test_several_arguments_are_one_json_object_checked_against_the_schema(mcp_crew, directory_stdio):
    models = crew_models([
        act("directory.convert_units", "ten km in miles"),  # not an object
        act("directory.convert_units", '{"value": "ten", "from_unit": "km", "to_unit": "mi"}'),  # wrong type
        act("directory.convert_units", '{"value": 10, "from_unit": "km"}'),  # missing to_unit
        act("directory.convert_units", '{"value": 10, "from_unit": "km", "to_unit": "mi"}'),
        act("done"),
    ], draft="10 km is 6.21 mi [1].")
    crew = mcp_crew(models, {"directory": directory_stdio}, research_steps=5)
    turn = crew.run_turn("w", None, "How many miles are 10 km?")
    events = list(turn)
    results = tool_results(events, "directory.convert_units")
    assert [r.data["ok"] for r in results] == [False, False, False, True]
    assert "takes value, from_unit, to_unit: give them as one JSON object" in results[0].text
    assert "value: 'ten' is not of type 'number'" in results[1].text
    assert "'to_unit' is a required property" in results[2].text
    assert turn.result.status == "done"
    assert turn.result.citations[0]["source"] == "directory.convert_units: value=10, from_unit=km, to_unit=mi"
    assert "10 km is 6.21 mi." in turn.result.citations[0]["text"]


def test_a_server_that_is_down_is_a_failed_call_and_the_turn_goes_on(mcp_crew, directory_stdio):
    down = McpServer(transport="streamable_http", url="http://127.0.0.1:9/mcp")  # the discard port: refused
    models = crew_models([act("directory.lookup_employee", "Ada Lovelace"), act("done")])
    crew = mcp_crew(models, {"wiki": down, "directory": directory_stdio})
    turn = crew.run_turn("w", None, QUESTION)
    events = list(turn)
    [failed] = tool_results(events, "MCP server wiki")
    assert failed.data["ok"] is False
    assert "MCP server wiki is unavailable, its tools are left out" in failed.text and "ConnectError" in failed.text
    assert "wiki." not in models["researcher"].calls[0]["messages"][0].content
    assert tool_results(events, "directory.lookup_employee")[0].data["ok"] is True
    assert turn.result.status == "done" and turn.result.citations[0]["source"] == LABEL


def test_a_slow_server_times_out_is_retried_then_the_turn_goes_on(mcp_crew, directory_stdio):
    models = crew_models([act("directory.slow", "30"), act("directory.lookup_employee", "Ada Lovelace"), act("done")])
    crew = mcp_crew(models, {"directory": directory_stdio}, mcp_timeout_s=1.0, retry_attempts=2)
    # Connected beforehand, with time to spare: starting the server on a loaded machine may itself take 1 s.
    crew.mcp.tools("directory", directory_stdio, timeout=60, max_bytes=crew.settings.mcp_max_bytes)
    turn = crew.run_turn("w", None, QUESTION)
    events = list(turn)
    [slow] = tool_results(events, "directory.slow")
    assert slow.data["ok"] is False
    assert slow.text == "the MCP server directory failed after 2 attempts: McpTimeout: no answer within 1 s"
    assert tool_results(events, "directory.lookup_employee")[0].data["ok"] is True
    assert turn.result.status == "done" and turn.result.answer == "Ada Lovelace works in room 42 [1]."


@pytest.mark.parametrize("transport", ["stdio", "http"])
def test_a_100_mb_reply_is_refused_unread_and_the_turn_goes_on(mcp_crew, directory_stdio, transport, request):
    server = directory_stdio if transport == "stdio" else request.getfixturevalue("directory_http")
    models = crew_models([act("directory.huge", "100"), act("directory.lookup_employee", "Ada Lovelace"), act("done")])
    crew = mcp_crew(models, {"directory": server}, mcp_max_bytes=1_000_000)
    turn = crew.run_turn("w", None, QUESTION)
    events = list(turn)
    [huge] = tool_results(events, "directory.huge")
    assert huge.data["ok"] is False
    assert "directory.huge: the server's reply is larger than 1,000,000 bytes; not read" in huge.text
    # The connection was closed and opened again for the next call.
    assert tool_results(events, "directory.lookup_employee")[0].data["ok"] is True
    assert turn.result.status == "done" and turn.result.citations[0]["source"] == LABEL
    assert max(len(e.text) for e in events) < 10_000


def test_garbage_on_stdio_is_refused_and_the_turn_goes_on(mcp_crew):
    models = crew_models([act("garbage.lookup_employee", "Ada Lovelace"), act("done")])
    crew = mcp_crew(models, {"garbage": stdio_server("garbage_server.py")})
    turn = crew.run_turn("w", None, QUESTION)
    events = list(turn)
    [bad] = tool_results(events, "garbage.lookup_employee")
    assert bad.data["ok"] is False
    assert "the server wrote something that is not MCP (JSON-RPC): '<html><body>500 Internal Server Error" in bad.text
    assert turn.result.status == "done"


class _NotMcp(http.server.BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 - the handler's name
        body = b"<html>Welcome to our wiki</html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_DELETE = do_POST

    def log_message(self, *args):
        pass


def test_an_http_server_that_is_not_mcp_is_left_out_with_its_reason(mcp_crew, directory_stdio):
    site = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _NotMcp)
    threading.Thread(target=site.serve_forever, daemon=True).start()
    try:
        wiki = McpServer(transport="streamable_http", url=f"http://127.0.0.1:{site.server_port}/mcp")
        models = crew_models([act("directory.lookup_employee", "Ada Lovelace"), act("done")])
        crew = mcp_crew(models, {"wiki": wiki, "directory": directory_stdio})
        turn = crew.run_turn("w", None, QUESTION)
        events = list(turn)
    finally:
        site.shutdown()
        site.server_close()
    [failed] = tool_results(events, "MCP server wiki")
    assert "MCP server wiki is unavailable" in failed.text and "text/html" in failed.text
    assert turn.result.status == "done" and turn.result.citations[0]["source"] == LABEL


def test_a_tool_outside_the_allow_list_is_never_called(mcp_crew):
    only = stdio_server("directory_server.py", "stdio", tools=("lookup_employee",))
    models = crew_models([act("directory.lookup_employee", "Ada Lovelace"), act("done")])
    crew = mcp_crew(models, {"directory": only})
    list(crew.run_turn("w", None, QUESTION))
    prompt = models["researcher"].calls[0]["messages"][0].content
    assert "directory.lookup_employee" in prompt and "directory.huge" not in prompt
    # The reply schema refuses any other tool: a model naming one gets no call.
    crew.models["coordinator"].enqueue(Plan(subquestions=[QUESTION]))
    models["researcher"].enqueue(act("directory.huge", "100"), act("directory.huge", "100"))
    crew.models["writer"].enqueue("nothing")
    crew.models["critic"].enqueue(Review(decision="approve"))
    turn = crew.run_turn("w", None, QUESTION)
    events = list(turn)
    assert not [e for e in events if e.kind == "tool_call" and e.text == "directory.huge"]


def test_a_server_for_another_workspace_is_not_offered(mcp_crew, directory_stdio):
    elsewhere = stdio_server("directory_server.py", "stdio", workspaces=("hr",))
    models = crew_models([act("done")])
    crew = mcp_crew(models, {"directory": elsewhere})
    events = list(crew.run_turn("w", None, QUESTION))
    # No tool to offer in workspace w: the researcher is not even asked for an action.
    assert models["researcher"].calls == []
    assert [e.text for e in events if e.kind == "tool_call"] == ["search_memory"]
    assert [s.name for s in crew.mcp_status(workspace="hr")] == ["directory"]
    assert crew.mcp_status(workspace="w") == []


def test_an_argument_without_a_word_asks_a_text_tool_with_the_question(mcp_crew, directory_stdio):
    # What the embedded model writes when it picks a tool but not its argument.
    models = crew_models([act("directory.lookup_employee", "{{"), act("done")])
    crew = mcp_crew(models, {"directory": directory_stdio})
    turn = crew.run_turn("w", None, QUESTION)
    events = list(turn)
    [call] = [e for e in events if e.kind == "tool_call" and e.text == "directory.lookup_employee"]
    assert call.data["args"] == {"argument": QUESTION}
    assert turn.result.citations[0]["source"] == f"directory.lookup_employee: {QUESTION}"
    assert "room 42" in turn.result.citations[0]["text"]
