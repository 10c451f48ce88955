"""Run an evaluation in the background, so a page can redraw its progress bar and offer Stop.

A page script is rerun on every click; an evaluation it ran itself would block the page until
the last question. Here the evaluation runs on its own thread and the page reads a snapshot.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from crew.evaluation.metrics import QuestionResult
from crew.evaluation.runner import Evaluation
from crew.engine.runtime import describe


@dataclass
class EvaluationJob:
    """One evaluation running on a thread; its progress fields are updated as questions finish."""

    evaluation: Evaluation
    total: int
    label: str = ""  # what is being evaluated, e.g. the question file's name
    done: int = 0
    current: str = ""  # the question running now
    results: list[QuestionResult] = field(default_factory=list)
    error: str | None = None
    started_at: float = field(default_factory=time.time)
    finished_at: float | None = None
    _thread: threading.Thread | None = field(default=None, repr=False)

    @classmethod
    def start(cls, evaluation: Evaluation, label: str = "") -> "EvaluationJob":
        job = cls(evaluation, total=len(evaluation.questions), label=label)
        job._thread = threading.Thread(target=job._work, name="crew-evaluation", daemon=True)
        job._thread.start()
        return job

    @property
    def finished(self) -> bool:
        return self.finished_at is not None

    @property
    def stopped(self) -> bool:
        return self.evaluation.cancelled

    def stop(self) -> None:
        """Cancel the running turn and skip the questions after it; the finished ones stay."""
        self.evaluation.cancel()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the job is finished (tests, scripts); False on timeout."""
        if self._thread is not None:
            self._thread.join(timeout)
        return self.finished

    def _progress(self, done: int, total: int, question) -> None:
        self.done, self.current = done, question.text if question is not None else ""

    def _work(self) -> None:
        try:
            self.results = self.evaluation.run(self._progress)
        except Exception as exc:  # the store or the model failing: say so on the page
            self.error = describe(exc)
        finally:
            self.finished_at = time.time()
