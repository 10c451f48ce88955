"""A full disk and a read-only data dir, on a real small tmpfs: the command line keeps its contract
(exactly one JSON document on stdout, one line on stderr naming the part and what to do, exit 1,
no traceback), nothing half-written shows, and everything works again once the fault is cleared.
"""

from __future__ import annotations

import json

import pytest

from tests.servers import run_cli

pytestmark = pytest.mark.timeout(600)

TEA = "# Green tea\n\nGreen tea contains catechins and about 30 mg of caffeine per cup.\n"


def big_markdown(sections: int = 300) -> str:
    """Far more chunks than fit in the room a test leaves: each section is one chunk, with a rare word."""
    words = "tea coffee leaf water cup caffeine green black oolong brew steep kettle pot sugar milk".split()
    return "\n\n".join(f"# Part {i}\n\n" + " ".join(words[(i * 7 + j) % len(words)] for j in range(120)) + " zanzibarite"
                       for i in range(sections))


def one_document(out) -> object:
    """The whole of stdout is one JSON document; stderr has no traceback."""
    assert "Traceback" not in out.stderr, out.stderr
    return json.loads(out.stdout)


def assert_names_the_disk(text: str, data_dir, problem: str) -> None:
    assert f"data dir {data_dir}" in text and problem in text and "CREW_DATA_DIR" in text, text


@pytest.fixture
def data(small_disk, tmp_path):
    """A data dir on the small disk holding one document, and a file to add."""
    env = {"CREW_DATA_DIR": str(small_disk.path / "data")}
    doc = tmp_path / "tea.md"
    doc.write_text(TEA)
    first = run_cli("ingest", str(doc), "--json", env=env)
    assert first.returncode == 0, first.stderr
    return env, small_disk.path / "data", tmp_path


def test_disk_full_run_and_ingest_print_one_json_document_and_recover(small_disk, data):
    env, data_dir, files = data
    (files / "coffee.md").write_text("# Coffee\n\nA cup of coffee holds about 95 mg of caffeine.\n")
    small_disk.fill()

    run = run_cli("run", "How much caffeine is in green tea?", "--model", "fake", "--json", env=env)
    assert run.returncode == 1
    doc = one_document(run)
    assert doc["part"] == "data dir" and doc["where"] == str(data_dir)
    assert_names_the_disk(doc["error"], data_dir, "is full")
    assert run.stderr.strip().splitlines()[-1] == f"crew: {doc['error']}"

    ingest = run_cli("ingest", str(files / "coffee.md"), "--json", env=env)
    assert ingest.returncode == 1  # the documented code: some files failed to ingest
    (row,) = one_document(ingest)
    assert row["file"] == "coffee.md" and row["status"] == "error" and row["chunks"] == 0
    assert_names_the_disk(row["error"], data_dir, "is full")

    small_disk.free()
    again = run_cli("ingest", str(files / "coffee.md"), "--json", env=env)
    assert again.returncode == 0 and one_document(again)[0]["status"] == "ok"
    answer = run_cli("run", "How much caffeine is in green tea?", "--model", "fake", "--json", env=env)
    assert answer.returncode == 0 and "30 mg" in one_document(answer)["answer"]


def test_disk_filling_up_midway_through_a_file_leaves_nothing_half_written(small_disk, data):
    env, data_dir, files = data
    big = files / "big.md"
    big.write_text(big_markdown())
    small_disk.fill(leave=1024 * 1024)  # room to start, not to store 300 chunks

    out = run_cli("ingest", str(big), "--json", env=env)
    assert out.returncode == 1
    (row,) = one_document(out)
    assert row["status"] == "error" and row["chunks"] == 0
    assert_names_the_disk(row["error"], data_dir, "is full")

    small_disk.free()
    hits = one_document(run_cli("search", "zanzibarite", "-k", "5", "--json", env=env))
    assert [h["source"] for h in hits if h["source"] == "big.md"] == []  # no stray chunk of the failed file
    stored = run_cli("ingest", str(big), "--json", env=env)
    assert stored.returncode == 0, stored.stderr
    assert one_document(stored) == [{"file": "big.md", "status": "ok", "chunks": 300, "error": ""}]
    hits = one_document(run_cli("search", "zanzibarite", "-k", "5", "--json", env=env))
    assert [h["source"] for h in hits] == ["big.md"] * 5


def test_read_only_data_dir_is_one_clear_message_for_every_command(small_disk, data):
    env, data_dir, files = data
    assert run_cli("run", "What is in green tea?", "--model", "fake", "--json", env=env).returncode == 0
    small_disk.read_only()

    # Reading the traces needs no write: SQLite may open the file read-only (the run left no WAL), and
    # then the last trace is shown; if it cannot, the same one message names the read-only disk.
    traces = run_cli("traces", "--last", "--json", env=env)
    if traces.returncode == 0:
        assert one_document(traces)["turn"]["status"] == "done"
    else:
        assert traces.returncode == 1 and one_document(traces)["part"] == "data dir", traces.stderr
    for args in (("search", "caffeine"), ("run", "What is in green tea?", "--model", "fake")):
        out = run_cli(*args, "--json", env=env)
        assert out.returncode == 1, (args, out.stderr)
        doc = one_document(out)
        assert doc["part"] == "data dir", args
        assert_names_the_disk(doc["error"], data_dir, "is read-only")
    out = run_cli("ingest", str(files / "tea.md"), "--json", env=env)
    assert out.returncode == 1
    assert_names_the_disk(one_document(out)[0]["error"], data_dir, "is read-only")
    text = run_cli("search", "caffeine", env=env)  # without --json: the one line on stderr, nothing on stdout
    assert text.returncode == 1 and text.stdout == "" and "Traceback" not in text.stderr
    assert text.stderr.strip().splitlines()[-1].startswith(f"crew: the data dir {data_dir} is read-only")

    small_disk.writable()
    hits = one_document(run_cli("search", "caffeine", "--json", env=env))
    assert hits and hits[0]["source"] == "tea.md"


def test_a_chroma_start_that_failed_is_not_kept_for_the_process(small_disk, data):
    """chromadb keeps one system per folder per process: one whose start failed must not be handed out again."""
    from crew.faults import explain
    from crew.retrieval.memory import chroma_client

    env, data_dir, _ = data
    small_disk.read_only()
    with pytest.raises(Exception) as failed:
        chroma_client(data_dir)
    assert explain(failed.value, data_dir).kind == "read_only"
    small_disk.writable()
    (documents,) = chroma_client(data_dir).list_collections()  # what the ingest stored, reachable again
    assert documents.name.startswith("crew_documents_default") and documents.count() == 1
