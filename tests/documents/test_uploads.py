"""Background uploads: files are added one after another by a worker, and anyone can watch them move."""

from __future__ import annotations

import threading
import time

import pytest

from crew.documents.ingest import IngestResult
from crew.documents.uploads import CANCELLED, Uploads


class SteppedIngest:
    """An ingest that moves only when the test says so, and records the order files came in."""

    def __init__(self) -> None:
        self.order: list[str] = []
        self.step = threading.Semaphore(0)
        self.reported = threading.Semaphore(0)

    def __call__(self, workspace, name, data, progress):
        self.order.append(name)
        for stage, fraction in (("parsing", 0.1), ("embedding", 0.5), ("embedding", 0.9)):
            self.step.acquire(timeout=10)
            progress(stage, fraction)
            self.reported.release()
        self.step.acquire(timeout=10)  # and one more step to finish
        if name.startswith("bad"):
            raise OSError("disk full")
        return IngestResult(name, "ok", chunks=len(data), size=len(data))

    def advance(self) -> None:
        self.step.release()
        assert self.reported.acquire(timeout=10)

    def run_out(self) -> None:
        for _ in range(50):
            self.step.release()


def test_a_file_moves_stage_by_stage_and_keeps_its_result():
    uploads, ingest = Uploads(), SteppedIngest()
    job = uploads.submit("ws", [("a.md", b"abc")], ingest)
    f = job.files[0]
    assert (f.stage, f.fraction, f.result) == ("waiting", 0.0, None)
    seen = []
    for _ in range(3):
        ingest.advance()
        seen.append((f.stage, f.fraction))
    assert seen == [("parsing", 0.1), ("embedding", 0.5), ("embedding", 0.9)]
    assert f.result is None and uploads.running("ws") == [job]
    ingest.run_out()
    assert uploads.wait(job.job_id, timeout=10)
    assert f.result.status == "ok" and f.result.chunks == 3 and (f.stage, f.fraction) == ("done", 1.0)
    assert f.data is None  # the bytes are let go once the file is in
    assert uploads.running("ws") == [] and uploads.get(job.job_id) is job


def test_files_are_added_one_at_a_time_in_order_and_a_failure_does_not_stop_the_rest():
    uploads, ingest = Uploads(), SteppedIngest()
    first = uploads.submit("ws", [("a.md", b"a"), ("bad.md", b"b")], ingest)
    second = uploads.submit("ws", [("c.md", b"c")], ingest)
    assert uploads.running("ws") == [first, second] and uploads.running("other") == []
    ingest.advance()
    assert second.files[0].stage == "waiting"  # not started while the first job runs
    ingest.run_out()
    assert uploads.wait(second.job_id, timeout=10)
    assert ingest.order == ["a.md", "bad.md", "c.md"]
    bad = first.files[1].result
    assert bad.status == "error" and "could not add the file" in bad.error and "disk full" in bad.error
    assert second.files[0].result.status == "ok"


def test_finished_jobs_are_forgotten_after_a_while():
    uploads = Uploads(keep_s=0)
    job = uploads.submit("ws", [("a.md", b"a")], lambda ws, name, data, progress: IngestResult(name, "ok"))
    assert uploads.wait(job.job_id, timeout=10)
    uploads.submit("ws", [("b.md", b"b")], lambda ws, name, data, progress: IngestResult(name, "ok"))
    assert uploads.get(job.job_id) is None


@pytest.mark.parametrize("name", ["../../etc/passwd", "a\x1b[31mred.md"])
def test_names_are_made_safe_before_anyone_shows_them(name):
    uploads = Uploads()
    job = uploads.submit("ws", [(name, b"x")], lambda ws, n, data, progress: IngestResult(n, "ok"))
    assert "/" not in job.files[0].name and "\x1b" not in job.files[0].name
    assert uploads.wait(job.job_id, timeout=10)


def test_a_real_crew_adds_the_files_in_the_background(settings):
    from crew.engine.service import Crew
    from tests.documents import makers

    crew = Crew.from_settings(settings)
    uploads = Uploads()
    job = uploads.submit("default", [("survey.pdf", makers.pdf(["One.", "Two.", "The code is KESTREL-5521."])),
                                     ("empty.txt", b"")], crew.ingest)
    assert uploads.wait(job.job_id, timeout=60)
    survey, empty = (f.result for f in job.files)
    assert survey.status == "ok" and survey.pages == 3
    assert empty.status == "error" and "empty" in empty.error
    assert [d.name for d in crew.documents("default")] == ["survey.pdf"]
    assert crew.search_documents("default", "KESTREL-5521")[0].page == 3


def test_cancel_stops_the_file_midway_and_skips_the_rest():
    uploads, ingest = Uploads(), SteppedIngest()
    job = uploads.submit("ws", [("a.md", b"a"), ("b.md", b"b")], ingest)
    ingest.advance()  # a.md is being read
    uploads.cancel(job.job_id)
    ingest.run_out()
    assert uploads.wait(job.job_id, timeout=10)
    a, b = (f.result for f in job.files)
    assert a.status == b.status == "error" and a.error == b.error == CANCELLED
    assert ingest.order == ["a.md"]  # b.md never started


def test_a_cancelled_upload_leaves_nothing_in_a_real_crew(settings):
    from crew.engine.service import Crew
    from tests.documents import makers

    crew = Crew.from_settings(settings)
    uploads = Uploads()
    pages = [f"Page {i}: tide tables and weather notes for the harbour, week {i}. " * 20 for i in range(60)]
    job = uploads.submit("default", [("long.pdf", makers.pdf(pages)), ("next.md", b"# Next\n\nText.\n")], crew.ingest)
    while job.files[0].stage != "embedding":  # some batches are stored when the cancel lands
        time.sleep(0.01)
    uploads.cancel(job.job_id)
    assert uploads.wait(job.job_id, timeout=60)
    assert [f.result.error for f in job.files] == [CANCELLED, CANCELLED]
    assert crew.documents("default") == [] and crew.search_documents("default", "tide tables") == []
    ws = crew.memory.workspace("default")
    assert ws.count() == 0 and ws.keyword_count() == 0
