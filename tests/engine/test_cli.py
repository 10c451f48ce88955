"""The command-line contract: JSON on stdout only, one-line errors, exit codes 0/1/2."""

import json

import pytest

from tests.servers import run_cli


def assert_one_line_error(out, *words):
    assert out.returncode == 2, out.stderr
    assert "Traceback" not in out.stderr
    lines = [l for l in out.stderr.strip().splitlines() if l.startswith("crew:")]
    assert len(lines) == 1, out.stderr
    for w in words:
        assert w in lines[0]


def test_ingest_search_and_run_with_the_fake_model(tmp_path):
    doc = tmp_path / "tea.md"
    doc.write_text("# Tea\n\nA cup of green tea has about 30 mg of caffeine.\n\n## Origin\n\nGreen tea comes from China.\n")
    out = run_cli("ingest", str(doc), "--workspace", "w1", "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == [{"file": "tea.md", "status": "ok", "chunks": 2, "error": ""}]

    out = run_cli("search", "caffeine", "--workspace", "w1", "-k", "1", "--json")
    rows = json.loads(out.stdout)
    assert len(rows) == 1 and "30 mg" in rows[0]["text"]
    assert set(rows[0]) >= {"text", "source", "page", "score", "chunk_id"}

    out = run_cli("run", "How much caffeine is in green tea?", "--workspace", "w1", "--model", "fake", "--json")
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)  # stdout holds exactly one JSON document
    assert set(doc) >= {"answer", "citations", "steps", "limit_hit", "trace_id"}
    assert "30 mg" in doc["answer"]
    assert {c["source"] for c in doc["citations"]} == {"tea.md"}
    assert all(set(c) == {"n", "source", "page", "url", "chunk_id"} for c in doc["citations"])
    assert [s["agent"] for s in doc["steps"]] == ["coordinator", "researcher", "writer", "critic"]
    assert all(set(s) == {"agent", "kind", "ms", "tokens_in", "tokens_out"} for s in doc["steps"])

    other = json.loads(run_cli("search", "caffeine", "--workspace", "w2", "--json").stdout)
    assert other == []  # another workspace sees nothing


def test_run_prints_the_answer_s_notes_such_as_the_documents_language(tmp_path):
    doc = tmp_path / "te.md"
    doc.write_text("# Té\n\nUna taza de té verde tiene unos 30 mg de cafeína, la mitad que una taza de café.\n")
    assert run_cli("ingest", str(doc), "--workspace", "es").returncode == 0
    out = run_cli("run", "How much caffeine is in a cup of green tea?", "--workspace", "es", "--model", "fake")
    assert out.returncode == 0, out.stderr
    notes = [line for line in out.stdout.splitlines() if line.startswith("note: ")]
    assert any("The passages found are in Spanish" in n for n in notes), out.stdout


def test_partial_ingest_exits_1_and_keeps_the_good_files(tmp_path):
    good = tmp_path / "good.txt"
    good.write_text("Some real text about oolong tea.")
    out = run_cli("ingest", str(good), str(tmp_path / "missing.txt"), str(tmp_path), "--json")
    assert out.returncode == 1
    rows = json.loads(out.stdout)
    assert [r["status"] for r in rows] == ["ok", "error", "error"]
    assert "cannot read" in rows[1]["error"]
    assert "Traceback" not in out.stderr
    assert json.loads(run_cli("search", "oolong", "--json").stdout)[0]["source"] == "good.txt"


@pytest.mark.parametrize(
    "args, words",
    [
        (("run", "goal", "--model", "nosuch:model"), ("unknown model provider", "nosuch")),
        (("run", "goal", "--model", "local:/nowhere/model.gguf"), ("GGUF model file not found", "/nowhere/model.gguf")),
        (("run", "   ", "--model", "fake"), ("goal is empty",)),
        (("run", "goal", "--model", "fake", "--workspace", "../etc"), ("bad workspace name",)),
        (("search", "", "--json"), ("query is empty",)),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args, words):
    assert_one_line_error(run_cli(*args), *words)


def test_bad_setting_in_the_environment_is_one_line():
    assert_one_line_error(run_cli("run", "goal", "--model", "fake", env={"CREW_MAX_REVISIONS": "lots"}), "max_revisions")


def test_search_finds_documents_like_the_page_and_findings_only_when_asked(tmp_path, embedder):
    from crew.retrieval.english import EnglishEmbedder
    from crew.retrieval.memory import Chunk, Memory, chroma_client

    doc = tmp_path / "tea.md"
    doc.write_text("# Tea\n\nA cup of green tea has about 30 mg of caffeine.\n")
    assert run_cli("ingest", str(doc), "--json").returncode == 0
    memory = Memory(chroma_client(tmp_path / "data"), embedder, english=EnglishEmbedder())  # as the app builds it
    memory.workspace("default").add("findings", [Chunk(
        "Matcha holds about 70 mg of caffeine per serving.", "example.org", "web-1", 0, url="https://example.org/m")])
    page = [(h.kind, h.source) for h in memory.workspace("default").search_documents("caffeine", k=5)]
    memory.keywords.close()
    del memory

    plain = json.loads(run_cli("search", "caffeine", "-k", "5", "--json").stdout)
    assert [(h["kind"], h["source"]) for h in plain] == page == [("documents", "tea.md")]
    both = json.loads(run_cli("search", "caffeine", "-k", "5", "--findings", "--json").stdout)
    assert sorted((h["kind"], h["url"]) for h in both) == [("documents", ""), ("findings", "https://example.org/m")]
