"""`crew migrate` copies a real single-user data dir (SQLite files, embedded Chroma, originals) into a real
Postgres and a real `chroma run` server; a crew opened on the target with an empty data dir answers as the
source did: chats, traces, library, keyword search, vector search, re-index from the copied originals."""

from __future__ import annotations

import json

import pytest

from crew.engine.service import Crew
from crew.models.fake import FakeCrewModel
from crew.settings import ROLES, Settings
from tests.documents import makers
from tests.servers import run_cli

pytestmark = pytest.mark.timeout(600)

TEA = b"# Tea\n\nGreen tea holds about 30 mg of caffeine per cup, code TEA-4711.\n\n## Storage\n\nKeep it dry.\n"
BIRDS = ["Ospreys nest near water.", "Kestrels hover over fields.", "The kestrel ringing code is KESTREL-5521."]
QUERIES = ("How much caffeine is in green tea?", "kestrel ringing code", "TEA-4711", "ospreys nest")


def _crew(data_dir, embedder, **target) -> Crew:
    settings = Settings(data_dir=data_dir, model="fake", web_search=False, **target)
    model = FakeCrewModel()
    return Crew.from_settings(settings, models={r: model for r in ROLES}, embedder=embedder)


def _answers(crew: Crew) -> dict:
    """What a person sees of the workspace: chats and turns, traces, the library, searches of each kind."""
    ws = crew.memory.workspace("mig")
    chats = crew.chats.list("mig")
    seen = {
        "chats": [(c.chat_id, c.title) for c in chats],
        "turns": [(t.turn_id, t.status, t.answer) for c in chats for t in crew.chats.turns("mig", c.chat_id)],
        "traces": [(t["turn_id"], t["status"], t["tokens_in"]) for t in crew.traces.turns("mig")],
        "spans": {t["turn_id"]: [(s["span_id"], s["name"], s["status"]) for s in crew.traces.spans("mig", t["turn_id"])]
                  for t in crew.traces.turns("mig")},
        "library": [(d.doc_id, d.name, d.chunks, d.status) for d in crew.library().documents("mig")],
    }
    for mode in ("keyword", "vector", "hybrid"):
        seen[mode] = {q: [(h.chunk_id, h.source, h.page) for h in ws.search(q, k=3, mode=mode)] for q in QUERIES}
    return seen


def test_migrate_copies_a_data_dir_and_a_crew_on_the_target_answers_the_same(tmp_path, postgres_server,
                                                                           chroma_server, embedder):
    source_dir = tmp_path / "single"
    source = _crew(source_dir, embedder)
    assert source.ingest("mig", "tea.md", TEA).status == "ok"
    assert source.ingest("mig", "birds.pdf", makers.pdf(BIRDS)).status == "ok"
    result = source.run_turn("mig", None, "How much caffeine is in green tea?").run()
    assert result.status == "done"
    before = _answers(source)
    assert before["keyword"]["TEA-4711"][0][1] == "tea.md" and before["vector"]["kestrel ringing code"]
    checkpoints = source.checkpointer.conn.execute("SELECT count(*) FROM checkpoints").fetchone()[0]
    assert checkpoints > 0

    url = postgres_server.create_database("migrated")
    target = ["--from", str(source_dir), "--database-url", url, "--chroma-host", chroma_server.host,
              "--chroma-port", str(chroma_server.port)]
    out = run_cli("migrate", *target, "--json", env={"CREW_DATABASE_URL": "", "CHROMA_HOST": ""})
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    counts = {c["what"]: (c["source"], c["target"]) for c in report["counts"]}
    assert report["ok"] and all(s == t for s, t in counts.values())
    assert counts["chats"] == (1, 1) and counts["documents"] == (2, 2) and counts["originals"] == (2, 2)
    assert counts["checkpoints"] == (checkpoints, checkpoints) and counts["spans"][0] > 3
    vectors = [v for k, v in counts.items() if k.startswith("vectors ") and "_documents_mig_" in k]
    assert len(vectors) == 1 and vectors[0][0] > 2
    assert "chats: 1/1 rows" in out.stderr and "vectors of" in out.stderr  # progress as it goes

    empty = tmp_path / "fresh"
    migrated = _crew(empty, embedder, database_url=url, chroma_host=chroma_server.host, chroma_port=chroma_server.port)
    assert _answers(migrated) == before
    # The turn's LangGraph checkpoint came along: the copied state is the source's.
    config = {"configurable": {"thread_id": result.turn_id, "checkpoint_ns": ""}}
    assert migrated.checkpointer.get_tuple(config).checkpoint["id"] == source.checkpointer.get_tuple(config).checkpoint["id"]
    # The originals came along: the target re-indexes without the source's disk.
    assert sorted((r.file, r.status) for r in migrated.reindex("mig").run()) == [("birds.pdf", "ok"), ("tea.md", "ok")]
    assert list(empty.rglob("*.sqlite")) == [] and not (empty / "originals").exists()

    # A second run finds the target full and refuses before writing anything.
    again = run_cli("migrate", *target, env={"CREW_DATABASE_URL": "", "CHROMA_HOST": ""})
    assert again.returncode == 2 and "the target is not empty" in again.stderr and "chats" in again.stderr
    assert [c.chat_id for c in migrated.chats.list("mig")] == [before["chats"][0][0]]


def test_migrate_without_a_target_says_what_to_name(tmp_path):
    out = run_cli("migrate", "--from", str(tmp_path), env={"CREW_DATABASE_URL": "", "CHROMA_HOST": ""})
    assert out.returncode == 2 and "--database-url" in out.stderr and "Traceback" not in out.stderr
