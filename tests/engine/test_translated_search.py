"""A question in another language than the documents is searched again in theirs, translated by the researcher's model."""

from __future__ import annotations

import pytest

from crew.engine.agents.coordinator import Plan
from crew.engine.agents.critic import Review
from crew.engine.agents.researcher import ResearchAction, Translation
from crew.engine.runtime import Policy
from crew.retrieval.fusion import merge_searches
from crew.settings import Settings
from tests.doubles import ScriptedChatModel

TEA = "Una taza de té verde tiene unos 30 mg de cafeína, la mitad que una taza de café."
CHMOD = "La orden chmod cambia los permisos de lectura, escritura y ejecución de un archivo."


def crew_for(make_crew, remember, researcher, goal="What does chmod change on a file?", **settings):
    """A crew whose plan is the goal itself, over a Spanish guide of two passages (one found a search, by default)."""
    crew = make_crew({"coordinator": [Plan(subquestions=[goal])], "researcher": researcher,
                      "writer": ["Respuesta [1]."], "critic": [Review(decision="approve")]}, **{"top_k": 1, **settings})
    remember(crew, "w", TEA, CHMOD, source="guia.pdf")
    return crew


def notes(crew, goal):
    turn = crew.run_turn("w", "t", goal)
    list(turn)
    assert turn.result.status == "done", turn.result.error
    return " ".join(turn.result.notes)


def searches(events):
    return [e.data["args"]["query"] for e in events if e.kind == "tool_call" and e.text == "search_memory"]


def test_a_question_in_another_language_is_searched_again_translated_and_that_search_counts_most(make_crew, remember):
    # The scripted "translation" names the other passage, so only the translated search can bring it.
    researcher = ScriptedChatModel(responses=[Translation(text="¿Cuánta cafeína tiene una taza de té verde?"),
                                              ResearchAction(action="done")])
    crew = crew_for(make_crew, remember, researcher, translate_questions="on")
    events = list(crew.run_turn("w", "t", "What does chmod change on a file?"))
    assert searches(events) == ["What does chmod change on a file?", "¿Cuánta cafeína tiene una taza de té verde?"]
    asked = researcher.calls[0]["messages"]
    assert "into Spanish" in asked[0].content and "What does chmod change on a file?" in asked[-1].content
    findings = [e for e in events if e.kind == "findings"]
    assert findings and findings[0].data["count"] == 1


def test_the_merged_passages_are_the_translated_search_s_first(make_crew, remember):
    researcher = ScriptedChatModel(responses=[Translation(text="¿Cuánta cafeína tiene una taza de té verde?"),
                                              ResearchAction(action="done")])
    crew = crew_for(make_crew, remember, researcher, translate_questions="on")
    turn = crew.run_turn("w", "t", "What does chmod change on a file?")
    list(turn)
    assert [c["text"] for c in turn.result.citations] == [TEA]


@pytest.mark.parametrize("setting", ["off", "auto"])  # auto: the fake model cannot translate
def test_without_translation_the_question_is_searched_once(make_crew, remember, setting):
    researcher = ScriptedChatModel(responses=[ResearchAction(action="done")])
    crew = crew_for(make_crew, remember, researcher, translate_questions=setting)
    events = list(crew.run_turn("w", "t", "What does chmod change on a file?"))
    assert searches(events) == ["What does chmod change on a file?"]
    assert not any("into Spanish" in c["messages"][0].content for c in researcher.calls)


def test_a_question_in_the_documents_language_is_not_translated(make_crew, remember):
    researcher = ScriptedChatModel(responses=[ResearchAction(action="done")])
    crew = crew_for(make_crew, remember, researcher, "¿Qué cambia la orden chmod en un archivo?", translate_questions="on")
    events = list(crew.run_turn("w", "t", "¿Qué cambia la orden chmod en un archivo?"))
    assert searches(events) == ["¿Qué cambia la orden chmod en un archivo?"]


def test_a_translation_the_model_cannot_give_leaves_the_first_search(make_crew, remember):
    researcher = ScriptedChatModel(responses=["not json", "still not json", ResearchAction(action="done")])
    crew = crew_for(make_crew, remember, researcher, translate_questions="on")
    turn = crew.run_turn("w", "t", "What does chmod change on a file?")
    events = list(turn)
    assert searches(events) == ["What does chmod change on a file?"]
    assert turn.result.status == "done"


@pytest.mark.parametrize("model, setting, translates", [
    ("local", "auto", False), ("fake", "auto", False), ("openai:gpt-4o-mini", "auto", True),
    ("ollama:qwen2.5", "auto", True), ("local", "on", True), ("anthropic:claude-3-5-haiku-latest", "off", False),
])
def test_auto_translates_with_a_provider_s_model_only(model, setting, translates):
    assert Policy.from_settings(Settings(model=model, translate_questions=setting)).translate is translates


def test_the_researcher_s_own_model_decides():
    mixed = Settings(model="local", model_researcher="openai:gpt-4o-mini", translate_questions="auto")
    assert Policy.from_settings(mixed).translate is True
    assert Policy.from_settings(Settings(model="openai:gpt-4o-mini", model_researcher="local")).translate is False


def test_merge_weighs_the_translated_search_most_and_keeps_one_passage_per_place():
    first = [("a", 1), ("b", 2), ("c", 3)]  # (name, page)
    again = [("d", 4), ("b", 2), ("e", 2)]
    merged = merge_searches(first, again, key=lambda h: h[0], place=lambda h: h[1], k=4)
    # b, found by both, first; then the translated search's first (d) before the question's own (a)
    assert [h[0] for h in merged] == ["b", "d", "a", "c"]  # e: page 2 is b's


def test_an_answer_from_passages_in_another_language_says_that_asking_in_theirs_finds_more(make_crew, remember):
    goal = "How much caffeine is in green tea?"
    crew = crew_for(make_crew, remember, [ResearchAction(action="done")], goal, grounded=True, top_k=2)
    assert "The passages found are in Spanish: asked in Spanish" in notes(crew, goal)


def test_no_language_note_when_the_question_was_searched_in_the_documents_language_or_asked_in_it(make_crew, remember):
    goal = "How much caffeine is in green tea?"
    translated = crew_for(make_crew, remember, [Translation(text="¿Cuánta cafeína tiene el té verde?"),
                                                ResearchAction(action="done")], goal, grounded=True, top_k=2,
                          translate_questions="on")
    assert "Spanish" not in notes(translated, goal)
    spanish = "¿Cuánta cafeína tiene el té verde?"
    same = crew_for(make_crew, remember, [ResearchAction(action="done")], spanish, grounded=True, top_k=2)
    assert "pasajes encontrados" not in notes(same, spanish)


def test_the_fake_model_asked_to_translate_gives_nothing_and_the_turn_goes_on(tmp_path, embedder):
    from crew.engine.service import Crew
    from crew.retrieval.memory import Chunk

    crew = Crew.from_settings(Settings(data_dir=tmp_path, model="fake", translate_questions="on", web_search=False),
                              embedder=embedder)
    crew.memory.workspace("w").add("documents", [Chunk(text=TEA, source="guia.pdf", doc_id="d", position=0, page=1)])
    turn = crew.run_turn("w", "t", "How much caffeine is in green tea?")
    events = list(turn)
    assert turn.result.status == "done", turn.result.error
    assert len(searches(events)) >= 1 and not any(e.data["args"].get("translated_from") for e in events
                                                   if e.kind == "tool_call" and e.text == "search_memory")


@pytest.mark.parametrize("reply, usable", [
    ("¿Qué significa MIA en Debian?", True),
    ("What does MIA mean in Debian?", False),  # a copy
    ("¿Qué significa en Debian?", False),  # the question's name is gone
    ("2018-04-30T:57:29.600Z", False),  # a date where a question was
    ("MIA is a term used in Debian for maintainers who are missing in action.", False),  # an answer, in English
    ("", False),
])
def test_only_a_reply_that_is_a_translation_is_searched(reply, usable):
    from crew.engine.agents.researcher import usable_translation

    got = usable_translation("What does MIA mean in Debian?", reply, "es")
    assert (got is not None) is usable and (got is None or got == reply)
