"""Memory behaves the same on the embedded client and on a real `chroma run` server."""

import pytest

from crew.retrieval.memory import Chunk, Memory, chroma_client


@pytest.fixture(params=["embedded", "server"])
def memory(request, tmp_path, embedder):
    if request.param == "server":
        server = request.getfixturevalue("chroma_server")
        client = chroma_client(tmp_path, server.host, server.port)
    else:
        client = chroma_client(tmp_path)
    return Memory(client, embedder, prefix=f"t{abs(hash(request.node.name)) % 10**8}")


def test_add_search_delete_round_trip(memory):
    ws = memory.workspace("alpha")
    ws.add("documents", [Chunk("Oolong tea is partly oxidised.", "tea.md", "d1", 0, page=2),
                         Chunk("Espresso is brewed under pressure.", "coffee.md", "d2", 0, page=5)])
    hits = ws.search("oxidised tea", k=1)
    assert [(h.source, h.page) for h in hits] == [("tea.md", 2)]
    assert ws.delete_document("d1") == 1
    assert ws.count("documents") == 1
    assert all(h.source != "tea.md" for h in ws.search("oxidised tea", k=5))


def test_workspaces_never_see_each_other(memory):
    a, b = memory.workspace("team-a"), memory.workspace("team-b")
    a.add("documents", [Chunk("Project Falcon budget is 12 million.", "a.md", "da", 0)])
    b.add("documents", [Chunk("Project Falcon launch date is March.", "b.md", "db", 0)])
    assert {h.source for h in a.search("Project Falcon", k=10)} == {"a.md"}
    assert {h.source for h in b.search("Project Falcon", k=10)} == {"b.md"}
    assert a.delete_document("db") == 0  # another workspace's document cannot be deleted
    assert b.count("documents") == 1
