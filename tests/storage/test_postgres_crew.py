"""A whole crew on Postgres and a Chroma server: two instances with their own empty data dirs share
everything through the servers, and no SQLite file appears in either data dir."""

from __future__ import annotations

import json

import pytest

from crew.engine.service import Crew
from crew.models.fake import FakeCrewModel
from crew.settings import ROLES, Settings
from tests.servers import run_cli

pytestmark = pytest.mark.timeout(600)


def _crew(tmp_path, name, url, chroma, embedder) -> Crew:
    settings = Settings(data_dir=tmp_path / name, model="fake", web_search=False, database_url=url,
                        chroma_host=chroma.host, chroma_port=chroma.port)
    model = FakeCrewModel()
    return Crew.from_settings(settings, models={r: model for r in ROLES}, embedder=embedder)


def test_two_instances_share_chats_documents_and_traces_with_no_sqlite_on_disk(tmp_path, postgres_server,
                                                                            chroma_server, embedder):
    url = postgres_server.create_database("whole_crew")
    a = _crew(tmp_path, "a", url, chroma_server, embedder)
    b = _crew(tmp_path, "b", url, chroma_server, embedder)
    tea = b"# Tea\n\nGreen tea holds about 30 mg of caffeine per cup, code TEA-4711.\n"
    assert a.ingest("pg", "tea.md", tea).status == "ok"
    assert [d.name for d in b.library().documents("pg")] == ["tea.md"]  # B lists A's upload
    assert b.memory.workspace("pg").search_documents("TEA-4711", k=1)[0].source == "tea.md"  # keywords in Postgres
    result = b.run_turn("pg", None, "How much caffeine is in green tea?").run()
    assert result.status == "done"
    (chat,) = a.chats.list("pg")  # A lists B's chat, its turn and its trace
    assert chat.chat_id == result.chat_id and [t.status for t in a.chats.turns("pg", chat.chat_id)] == ["done"]
    assert a.traces.export("pg", result.turn_id)["turn"]["status"] == "done"
    assert b.checkpointer.get_tuple({"configurable": {"thread_id": result.turn_id, "checkpoint_ns": ""}}) is not None
    # The CLI on a third, empty data dir reads the same traces and searches the same keywords.
    env = {"CREW_DATABASE_URL": url, "CHROMA_HOST": chroma_server.host, "CHROMA_PORT": str(chroma_server.port),
           "CREW_DATA_DIR": str(tmp_path / "c")}
    traces = run_cli("traces", "--workspace", "pg", "--json", env=env)
    assert traces.returncode == 0, traces.stderr
    assert [d["turn"]["turn_id"] for d in json.loads(traces.stdout)] == [result.turn_id]
    found = run_cli("search", "TEA-4711", "--workspace", "pg", "--json", env=env)
    assert found.returncode == 0 and json.loads(found.stdout)[0]["source"] == "tea.md", found.stderr
    for name in ("a", "b", "c"):
        assert list((tmp_path / name).rglob("*.sqlite")) == [], name
    # The originals of uploads live in Postgres too: B, whose data dir never saw the file, re-indexes A's upload.
    (doc,) = b.library().documents("pg")
    assert b.library().original("pg", doc.doc_id) == tea
    [redone] = b.reindex("pg").run()
    assert (redone.file, redone.status, redone.doc_id) == ("tea.md", "ok", doc.doc_id)
    assert a.memory.workspace("pg").search_documents("TEA-4711", k=1)[0].doc_id == doc.doc_id
    for name in ("a", "b", "c"):
        assert not (tmp_path / name / "originals").exists(), name
