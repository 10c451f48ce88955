"""The Traces and Settings pages (AppTest): spans with token counts, and settings that reach the next turn."""

from __future__ import annotations

import json

from crew.engine.agents.coordinator import Plan
from crew.engine.agents.critic import Review
from pages.common.crew_access import MODELS_HOOK
from tests.ui.conftest import TEA
from tests.ui.test_chat_page import agents, assistant


def test_the_traces_page_shows_the_turns_spans_with_token_counts(scripted):
    app = scripted(coordinator=[Plan(subquestions=["a", "b"])], writer=["Green tea [1]."],
                   critic=[Review(decision="approve")])
    app.ask("What is green tea?", upload=("tea.md", TEA))
    calls = [c for m in app.models.values() for c in m.calls]
    assert len(calls) == 3  # plan, draft, verdict

    at = app.at.switch_page("pages/3_Traces.py").run()
    assert not at.exception, at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Model calls"] == "3" and metrics["Tool calls"] == "2" and metrics["Steps"] == "5"
    assert int(metrics["Tokens in"].replace(",", "")) > 0 and int(metrics["Tokens out"].replace(",", "")) > 0
    assert metrics["Est. cost"] == "\\$0"  # escaped: a metric value is Markdown, "$" would start a formula

    spans = at.dataframe[0].value
    assert list(spans["kind"]) == ["turn", "step", "llm", "step", "tool", "step", "tool", "step", "llm", "step", "llm"]
    assert list(spans["agent"])[1:] == ["coordinator"] * 2 + ["researcher"] * 4 + ["writer"] * 2 + ["critic"] * 2
    llm = spans[spans["kind"] == "llm"]
    assert (llm["tokens_in"] > 0).all() and (llm["tokens_out"] > 0).all()
    assert int(metrics["Tokens in"].replace(",", "")) == int(llm["tokens_in"].sum())
    assert spans["span"].iloc[2].startswith("        llm ")  # indented under its step
    assert at.get("arrow_vega_lite_chart") or at.get("vega_lite_chart"), "no timeline chart"
    assert [b.label for b in at.download_button] == ["Download JSON"]


def test_the_traces_page_opens_the_turn_a_chat_links_to(scripted):
    app = scripted(coordinator=[Plan(subquestions=["x"]), Plan(subquestions=["y"])], writer=["one", "two"],
                   critic=[Review(decision="approve")] * 2)
    app.ask("First goal")
    app.ask("Second goal")
    links = [p for p in assistant(app.at, 0).get("page_link")]
    turn_id = links[0].proto.query_string.split("=")[1]
    app.at.query_params["turn"] = turn_id
    at = app.at.switch_page("pages/3_Traces.py").run()
    assert "First goal" in at.selectbox(key="trace_turn").format_func(at.selectbox(key="trace_turn").value)


def test_settings_changes_reach_the_next_turn(scripted):
    critic = [Review(decision="revise", notes=["more"])] * 3
    app = scripted(coordinator=[Plan(subquestions=["q"])] * 2, writer=["d1", "d2", "d3"], critic=critic)
    at = app.at.switch_page("pages/4_Settings.py").run()
    assert not at.exception, at.exception
    at.number_input(key="set-max_revisions").set_value(0)
    at.number_input(key="set-token_budget").set_value(12_000)
    at.selectbox(key="set-provider-writer").set_value("fake")
    at.text_input(key="set-model-writer").set_value("?delay=0")
    next(b for b in at.button if b.label == "Apply to the next turn").click().run()
    assert not at.exception, at.exception
    assert [s.value for s in at.success] == ["Applied: your next turn uses these settings."]

    at.switch_page("app.py").run()
    app.ask("A goal")
    used = app.seen[-1]
    assert used.max_revisions == 0 and used.token_budget == 12_000
    assert used.model_for("writer") == "fake?delay=0" and used.model_for("critic") == "local"
    # With no revision rounds left, the critic's "revise" ends the turn at its first draft.
    assert agents(app) == ["Coordinator", "Researcher", "Writer", "Critic"]
    answer = assistant(app.at)
    assert any("**max\\_revisions** limit" in w.value for w in answer.warning)
    assert "d1" in [m.value for m in answer.markdown]


def test_settings_show_api_keys_masked_and_never_whole(scripted, monkeypatch):
    secret = "sk-test-0123456789abcdef"
    monkeypatch.setenv("OPENAI_API_KEY", secret)
    app = scripted()
    at = app.at.switch_page("pages/4_Settings.py").run()
    keys = at.dataframe[0].value
    row = keys[keys["Variable"] == "OPENAI_API_KEY"].iloc[0]
    assert row["Value"] == "sk-…cdef" and row["From"] == "environment"
    assert keys[keys["Variable"] == "ANTHROPIC_API_KEY"].iloc[0]["Value"] == "not set"
    page = json.dumps([str(e) for e in at.main] + [str(e) for e in at.sidebar] + [keys.to_json()])
    assert secret not in page and secret[3:-4] not in page


def test_a_bad_model_spec_is_refused_with_a_message(scripted, monkeypatch):
    monkeypatch.setenv("CREW_MODEL", "fake")
    app = scripted()
    app.at.session_state[MODELS_HOOK] = None  # build real models from the specs
    at = app.at.switch_page("pages/4_Settings.py").run()
    at.selectbox(key="set-provider-critic").set_value("openai")
    at.text_input(key="set-model-critic").set_value("")
    next(b for b in at.button if b.label == "Apply to the next turn").click().run()
    assert not at.exception, at.exception
    # Shown literally: the underscore is escaped, so it is not read as emphasis.
    assert [e.value for e in at.error] == ["Not applied: 'openai' names no model: write openai:MODEL\\_NAME"]
    assert "crew_settings_overrides" not in at.session_state


def test_the_settings_page_takes_each_limit_input_from_its_settings_field(scripted):
    import annotated_types
    import pytest
    from pydantic import ValidationError

    from crew.presentation.safe_text import escape_md
    from crew.settings import Settings

    at = scripted().at.switch_page("pages/4_Settings.py").run()
    assert not at.exception, at.exception
    marked = {name: f for name, f in Settings.model_fields.items()
              if isinstance(f.json_schema_extra, dict) and f.json_schema_extra.get("page") == "limits"}
    numbers = {w.key.removeprefix("set-"): w for w in at.number_input}
    toggles = {w.key.removeprefix("set-"): w for w in at.toggle}
    assert set(numbers) | set(toggles) == set(marked) and "timeout_s" in numbers and "web_search" in toggles
    for name, w in toggles.items():
        assert marked[name].annotation is bool and w.label == escape_md(marked[name].title)
    for name, w in numbers.items():
        f, extra = marked[name], marked[name].json_schema_extra
        ge = next(b.ge for b in f.metadata if isinstance(b, annotated_types.Ge))
        le = next((b.le for b in f.metadata if isinstance(b, annotated_types.Le)), None)
        step = extra.get("step", 1)
        assert (w.min, w.max, w.step) == (ge, extra["page_max"] if le is None else le, step), name
        assert (w.label, w.proto.help) == (escape_md(f.title), escape_md(f.description)), name
        assert w.value == getattr(Settings(), name)
        # The page's ends are values Settings takes, and one step beyond them is refused.
        Settings(**{name: ge})
        with pytest.raises(ValidationError):
            Settings(**{name: ge - step})
        if le is not None:
            Settings(**{name: le})
            with pytest.raises(ValidationError):
                Settings(**{name: le + step})


def test_settings_show_where_traces_are_exported_with_the_headers_hidden(scripted, monkeypatch):
    token = "otlp-header-secret-0123456789"
    monkeypatch.setenv("CREW_OTLP_ENDPOINT", "http://127.0.0.1:4318")
    monkeypatch.setenv("CREW_OTLP_HEADERS", f"Authorization=Bearer {token}")
    at = scripted().at.switch_page("pages/4_Settings.py").run()
    assert not at.exception, at.exception
    rows = at.dataframe[1].value
    shown = dict(zip(rows["Variable"], rows["Value"]))
    assert shown == {"CREW_OTLP_ENDPOINT": "http://127.0.0.1:4318", "CREW_OTLP_HEADERS": "set (hidden)",
                     "CREW_OTLP_CONTENT": "off"}
    page = json.dumps([str(e) for e in at.main] + [str(e) for e in at.sidebar] + [rows.to_json()])
    assert token not in page


def test_settings_show_each_mcp_servers_status_and_tools(scripted, monkeypatch):
    import sys

    from tests.tools.conftest import HERE

    monkeypatch.setenv("CREW_MCP_SERVERS", json.dumps({
        "directory": {"transport": "stdio", "command": sys.executable,
                      "args": [str(HERE / "directory_server.py"), "stdio"], "env": {"DIRECTORY_TOKEN": "tok-0123456789"}},
        "wiki": {"transport": "streamable_http", "url": "http://127.0.0.1:9/mcp", "workspaces": ["team"]},
    }))
    at = scripted().at.switch_page("pages/4_Settings.py").run()
    assert not at.exception, at.exception
    servers = next(d.value for d in at.dataframe if "Server" in d.value.columns).set_index("Server")
    assert servers.loc["directory", "Status"] == "connected" and servers.loc["directory", "Workspaces"] == "all"
    assert "lookup_employee" in servers.loc["directory", "Tools"] and servers.loc["directory", "Last error"] == "—"
    assert servers.loc["wiki", "Status"] == "unavailable" and servers.loc["wiki", "Workspaces"] == "team"
    assert "ConnectError" in servers.loc["wiki", "Last error"]
    page = json.dumps([str(e) for e in at.main] + [servers.to_json()])
    assert "tok-0123456789" not in page


def test_pages_are_compiled_without_streamlit_magic(scripted, monkeypatch):
    """The app's config turns magic off: magic parses every page script with ast.parse, which on CPython 3.11 can
    fail while another thread (an upload's worker) builds an AST (python/cpython#106905, a flaky page test)."""
    from streamlit.runtime.scriptrunner import magic

    parsed: list[str] = []
    monkeypatch.setattr(magic, "add_magic", lambda code, path: parsed.append(path) or compile(code, path, "exec"))
    app = scripted()
    for page in ("pages/2_Documents.py", "pages/3_Traces.py"):
        at = app.at.switch_page(page).run()
        assert not at.exception, at.exception
    assert parsed == []
