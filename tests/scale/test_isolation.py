"""Many workspaces, one process, one store: turns run at once and nothing crosses over."""

from concurrent.futures import ThreadPoolExecutor

import pytest

from crew.models.fake import FakeCrewModel
from crew.engine.service import Crew
from crew.settings import ROLES, Settings


@pytest.fixture(params=["embedded", "server"])
def crew(request, tmp_path):
    extra = {}
    if request.param == "server":
        server = request.getfixturevalue("chroma_server")
        extra = {"chroma_host": server.host, "chroma_port": server.port}
    settings = Settings(data_dir=tmp_path / "data", model="fake", web_search=False, **extra)
    model = FakeCrewModel(delay=0.2)
    return Crew.from_settings(settings, models={r: model for r in ROLES})


def test_ten_turns_in_ten_workspaces_at_once(crew, caplog):
    names = [f"ws{i}-{crew.settings.chroma_host or 'local'}" for i in range(10)]
    for i, ws in enumerate(names):
        # Every workspace holds a passage on the same topic, marked with its own code.
        crew.ingest(ws, f"falcon-{i}.md", f"Project Falcon status report: the code word is FALCON-{i:03d}.".encode())

    def turn(ws):
        t = crew.run_turn(ws, "chat", "What is the Project Falcon code word?")
        return ws, t.run()

    with ThreadPoolExecutor(max_workers=10) as pool:
        results = dict(pool.map(turn, names))

    for i, ws in enumerate(names):
        r = results[ws]
        assert r.status == "done", (ws, r.error)
        assert r.citations, ws
        assert {c["source"] for c in r.citations} == {f"falcon-{i}.md"}
        assert f"FALCON-{i:03d}" in r.answer
        others = [f"FALCON-{j:03d}" for j in range(10) if j != i]
        assert not any(o in r.answer for o in others)
    assert "database is locked" not in caplog.text

    # Trace lists and document lists are per workspace too.
    for i, ws in enumerate(names):
        turns = crew.traces.turns(ws)
        assert len(turns) == 1 and turns[0]["workspace"] == ws
        assert [d.name for d in crew.documents(ws)] == [f"falcon-{i}.md"]


def test_chat_lists_and_documents_stay_in_their_workspace(crew):
    from crew.storage.chats import ChatNotFound, ChatStore
    from crew.storage.files import DataFiles

    store = ChatStore(DataFiles(crew.settings.data_dir).chats)
    a, b = store.create("alpha", "Falcon budget"), store.create("beta", "Falcon launch")
    assert [c.title for c in store.list("alpha")] == ["Falcon budget"]
    assert store.get("beta", a.chat_id) is None  # another workspace's chat cannot be read...
    assert store.turns("beta", a.chat_id) == []
    with pytest.raises(ChatNotFound):
        store.rename("beta", a.chat_id, "taken over")  # ...renamed
    assert store.get("alpha", a.chat_id).title == "Falcon budget"
    with pytest.raises(ChatNotFound):
        store.delete("beta", a.chat_id)  # ...or deleted
    assert [c.chat_id for c in store.list("alpha")] == [a.chat_id]
    assert [c.chat_id for c in store.list("beta")] == [b.chat_id]

    doc = crew.ingest("alpha", "falcon.md", b"Project Falcon: the budget is 12 million.")
    assert doc.status == "ok"
    assert crew.documents("beta") == []
    assert crew.delete_document("beta", doc.doc_id) is False  # not beta's to delete
    assert [d.name for d in crew.documents("alpha")] == ["falcon.md"]
    assert crew.memory.workspace("beta").search("Falcon budget", k=5) == []
