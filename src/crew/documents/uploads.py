"""Add files in the background, so a person can leave the page while a long upload goes on.

A web page's script stops whenever the person clicks elsewhere; an upload the script ran itself
would stop with it (rolled back, but lost). Here a submit becomes an `UploadJob` that one worker
thread per process carries out, file after file: ingest is CPU-bound, and two files at once on
two cores only make both slower. Any page can look at a job and see each file's stage, fraction
and, once done, its result; finished jobs stay readable for a while so the person who left finds
the summaries when they come back.
"""

from __future__ import annotations

import queue
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Callable

from crew.documents.ingest import IngestResult, Progress, safe_name

# (workspace, file name, bytes, progress) -> result; `Crew.ingest` fits.
Ingest = Callable[[str, str, bytes, Progress], IngestResult]
CANCELLED = "cancelled; nothing of it is stored"


class UploadCancelled(BaseException):
    """Raised from the progress callback to stop a file midway. A BaseException, so that ingest
    rolls the file back and lets it through instead of reporting it as a bad file."""


@dataclass
class FileUpload:
    """One file of a job, as the pages show it."""

    name: str
    size: int
    stage: str = "waiting"  # waiting, then ingest's stages: parsing, chunking, embedding, done
    fraction: float = 0.0
    result: IngestResult | None = None
    data: bytes | None = field(default=None, repr=False)  # dropped once the file is in


@dataclass
class UploadJob:
    """The files of one submit, added in order."""

    job_id: str
    workspace: str
    files: list[FileUpload]
    submitted_at: float
    ingest: Ingest = field(repr=False)
    finished_at: float | None = None
    cancel_requested: bool = False

    @property
    def done(self) -> bool:
        return self.finished_at is not None


class Uploads:
    """The process's upload jobs and the worker that carries them out."""

    def __init__(self, keep_s: float = 3600.0) -> None:
        self._keep_s = keep_s
        self._jobs: dict[str, UploadJob] = {}
        self._queue: queue.Queue[UploadJob] = queue.Queue()
        self._lock = threading.Lock()
        self._worker: threading.Thread | None = None

    def submit(self, workspace: str, files: list[tuple[str, bytes]], ingest: Ingest) -> UploadJob:
        """Queue files for a workspace, to be added by `ingest`; returns at once with the job to watch."""
        job = UploadJob(uuid.uuid4().hex[:16], workspace,
                        [FileUpload(safe_name(name), len(data), data=data) for name, data in files], time.time(), ingest)
        with self._lock:
            self._forget_old()
            self._jobs[job.job_id] = job
            if self._worker is None or not self._worker.is_alive():
                self._worker = threading.Thread(target=self._work, name="crew-uploads", daemon=True)
                self._worker.start()
        self._queue.put(job)
        return job

    def get(self, job_id: str) -> UploadJob | None:
        with self._lock:
            return self._jobs.get(job_id)

    def cancel(self, job_id: str) -> None:
        """Stop a job: the file being added is rolled back, the ones after it are not started."""
        if (job := self.get(job_id)) is not None:
            job.cancel_requested = True

    def running(self, workspace: str) -> list[UploadJob]:
        """The workspace's jobs not finished yet, oldest first."""
        with self._lock:
            return [j for j in self._jobs.values() if j.workspace == workspace and not j.done]

    def wait(self, job_id: str, timeout: float | None = None) -> bool:
        """Block until a job is done (for the command line and tests); False on timeout."""
        end = None if timeout is None else time.monotonic() + timeout
        while (job := self.get(job_id)) is not None and not job.done:
            if end is not None and time.monotonic() > end:
                return False
            time.sleep(0.05)
        return True

    def _forget_old(self) -> None:
        cutoff = time.time() - self._keep_s
        for job_id in [j.job_id for j in self._jobs.values() if j.done and j.finished_at < cutoff]:
            del self._jobs[job_id]

    def _work(self) -> None:
        while True:
            job = self._queue.get()
            for f in job.files:
                self._add(job, f)
            job.finished_at = time.time()

    @staticmethod
    def _add(job: UploadJob, f: FileUpload) -> None:
        def moved(stage: str, fraction: float) -> None:
            if job.cancel_requested:
                raise UploadCancelled
            f.stage, f.fraction = stage, fraction

        try:
            if job.cancel_requested:
                raise UploadCancelled
            f.result = job.ingest(job.workspace, f.name, f.data or b"", moved)
        except UploadCancelled:
            f.result = IngestResult(f.name, "error", error=CANCELLED, size=f.size)
        except Exception as exc:  # ingest reports bad files itself; this is the store failing
            f.result = IngestResult(f.name, "error", error=f"could not add the file: {type(exc).__name__}: {exc}",
                                    size=f.size)
        f.stage, f.fraction, f.data = "done", 1.0, None
