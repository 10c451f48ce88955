"""The runner on a stand-in crew: the order of progress calls, Stop in the middle of a turn."""

from __future__ import annotations

import threading
from types import SimpleNamespace

from crew.evaluation.questions import Question
from crew.evaluation.runner import Evaluation
from crew.engine.service import TurnResult

QUESTIONS = [Question(1, "first?", "a.md", (), ("alpha",)), Question(2, "second?", "a.md", (), ("beta",)),
             Question(3, "third?", None)]


class GroundedResult(TurnResult):
    """The engine's JSON with the fields the lead is adding (sentences, not_found)."""

    def to_json(self):
        return {**super().to_json(), "not_found": not self.citations,
                "sentences": [{"text": self.answer, "citations": [1], "support": 0.9, "supported": True}]}


class StandInTurn:
    def __init__(self, goal: str, block: threading.Event | None) -> None:
        self.goal, self.block, self.stopped = goal, block, threading.Event()

    def cancel(self) -> None:
        self.stopped.set()

    def run(self) -> TurnResult:
        if self.block is not None:
            self.block.set()  # the turn is running now
            assert self.stopped.wait(10)
            return GroundedResult("t", answer="Stopped.", status="stopped")
        return GroundedResult("t", answer=f"alpha says {self.goal} [1]", citations=[{"n": 1, "source": "a.md", "page": 0}],
                              status="done")


class StandInCrew:
    """Search finds a.md first; the turn blocks (until cancelled) on the question named in `block_on`."""

    def __init__(self, block_on: str | None = None) -> None:
        self.block_on, self.started, self.goals = block_on, threading.Event(), []

    def search_documents(self, workspace, query, k):
        return [SimpleNamespace(source="a.md", page=0, text="alpha beta gamma delta")][:k]

    def run_turn(self, workspace, chat_id, goal, *, settings=None, models=None, save_chat=True):
        assert save_chat is False  # evaluation turns stay out of the chat history
        self.goals.append(goal)
        return StandInTurn(goal, self.started if goal == self.block_on else None)


def test_every_question_is_searched_and_run_with_progress_in_order():
    crew, calls = StandInCrew(), []
    results = Evaluation(crew, "w", QUESTIONS, k=3, detect=lambda text: "en").run(
        lambda done, total, q: calls.append((done, total, q.text if q else None)))
    assert calls == [(0, 3, "first?"), (1, 3, "second?"), (2, 3, "third?"), (3, 3, None)]
    assert crew.goals == ["first?", "second?", "third?"]
    assert [r.rank for r in results] == [1, 1, None]
    assert [r.term_rate for r in results] == [1.0, 0.0, None]
    assert results[0].facts.sentences == 1 and results[0].facts.supported == 1 and not results[0].facts.not_found
    assert [r.language for r in results] == ["en"] * 3


def test_cancel_stops_the_running_turn_and_skips_the_rest():
    crew = StandInCrew(block_on="second?")
    evaluation = Evaluation(crew, "w", QUESTIONS, detect=lambda text: None)
    threading.Thread(target=lambda: crew.started.wait(10) and evaluation.cancel(), daemon=True).start()
    results = evaluation.run()
    assert evaluation.cancelled
    assert [r.question.text for r in results] == ["first?"]  # the stopped turn is not scored
    assert crew.goals == ["first?", "second?"]  # the third never started


def test_languages_said_in_the_file_win_over_detection():
    said = [Question(1, "first?", "a.md", (), ("alpha",), language="en", source_language="es"),
            Question(2, "second?", "a.md", (), ("beta",), language="es")]
    results = Evaluation(StandInCrew(), "w", said, answers=False, detect=lambda text: "es").run()
    assert [r.language for r in results] == ["cross", "es"]


def test_retrieval_only_runs_no_turn():
    crew = StandInCrew()
    results = Evaluation(crew, "w", QUESTIONS, answers=False, detect=lambda text: None).run()
    assert crew.goals == [] and all(r.answer is None and r.facts is None for r in results)
