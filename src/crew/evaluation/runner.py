"""Run labelled questions through a Crew: the researcher's search, then a whole turn, per question.

The search is `Crew.search_documents` unless another is passed in (the bench compares modes);
the turn is `Crew.run_turn(...).run()`, exactly what the CLI and the chat run. `cancel()` may
be called from any thread: the running turn stops at once and the questions after it are skipped.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Callable

from crew.evaluation.metrics import QuestionResult, answer_facts, language_group
from crew.evaluation.questions import Question, check_questions, parse_questions

if TYPE_CHECKING:
    from crew.retrieval.memory import Hit
    from crew.engine.service import Crew, Turn
    from crew.settings import Settings

# (workspace, query, k) -> the k best passages.
Search = Callable[[str, str, int], "list[Hit]"]
# (questions done, total, the question now running or None at the end).
Progress = Callable[[int, int, "Question | None"], None]
CHAT_ID = "eval"  # what the evaluation's turns are traced under (they stay out of the chat history)


def load_questions(crew: "Crew", workspace: str, data: bytes, name: str) -> list[Question]:
    """Read a question file and check its labels against the workspace's documents.

    Raises QuestionFileError (one line naming the file and the line) before anything runs.
    """
    questions = parse_questions(data, name)
    pages: dict[str, int] = {}
    for doc in crew.documents(workspace):
        pages[doc.name] = max(pages.get(doc.name, 0), doc.pages)  # the same name twice: either may hold the page
    return check_questions(questions, pages, name, workspace)


def language_code(text: str) -> str | None:
    """"en", "es", ... for a text, or None when unsure (crew.language names languages in English)."""
    from crew.models.language import NAMES, detect

    name = detect(text)
    return next((code for code, n in NAMES.items() if n == name), None)


class Evaluation:
    """One run of questions over a workspace; `run()` returns a result per question finished."""

    def __init__(self, crew: "Crew", workspace: str, questions: list[Question], *, k: int = 5, answers: bool = True,
                 search: Search | None = None, chat_id: str = CHAT_ID,
                 detect: Callable[[str], str | None] = language_code, settings: "Settings | None" = None,
                 models: dict | None = None) -> None:
        if k < 1:
            raise ValueError("k must be at least 1")
        self.crew = crew
        self.workspace = workspace
        self.questions = list(questions)
        self.k = k
        self.answers = answers
        self.search = search or crew.search_documents
        self.chat_id = chat_id
        self.detect = detect
        self.settings = settings  # the asking person's (their models, limits); the crew's by default
        self.models = models
        self._cancel = threading.Event()
        self._turn: "Turn | None" = None
        self._lock = threading.Lock()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def cancel(self) -> None:
        """Stop: the running turn is cancelled and no further question starts."""
        self._cancel.set()
        with self._lock:
            if self._turn is not None:
                self._turn.cancel()

    def run(self, progress: Progress | None = None) -> list[QuestionResult]:
        results: list[QuestionResult] = []
        passages: dict[str, list[str]] = {}  # a document's retrieved text, to tell its language
        total = len(self.questions)
        for done, question in enumerate(self.questions):
            if self.cancelled:
                break
            if progress:
                progress(done, total, question)
            result = self._one(question, passages)
            if result is None:  # stopped midway: an unfinished turn is not scored
                break
            results.append(result)
        for r in results:
            doc = r.question.source
            text = " ".join(passages.get(doc, [])[:3]) if doc else ""
            q = r.question
            r.language = language_group(q.language or self.detect(q.text),
                                        q.source_language or (self.detect(text) if text else None))
        if progress:
            progress(len(results), total, None)
        return results

    def _one(self, question: Question, passages: dict[str, list[str]]) -> QuestionResult | None:
        started = time.perf_counter()
        hits = self.search(self.workspace, question.text, self.k)
        result = QuestionResult(question, self.k, places=[(h.source, h.page) for h in hits],
                                search_ms=(time.perf_counter() - started) * 1000)
        for h in hits:
            if len(passages.setdefault(h.source, [])) < 3:
                passages[h.source].append(h.text)
        if not self.answers:
            return result
        # An evaluation's turns are traced but kept out of the chat history.
        turn = self.crew.run_turn(self.workspace, self.chat_id, question.text, settings=self.settings,
                                  models=self.models, save_chat=False)
        with self._lock:
            if self.cancelled:
                return None
            self._turn = turn
        started = time.perf_counter()
        try:
            turn_result = turn.run()
        finally:
            with self._lock:
                self._turn = None
        if turn_result.status == "stopped" and self.cancelled:
            return None
        data = turn_result.to_json()
        result.seconds = round(time.perf_counter() - started, 3)
        result.answer = turn_result.answer
        result.citations = list(data.get("citations") or [])
        result.facts = answer_facts(data)
        result.status = turn_result.status
        result.error = turn_result.error
        return result
