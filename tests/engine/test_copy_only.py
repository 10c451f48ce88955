"""The embedded model's drafted sentences stand only as copies of their passage's words (crew.engine.runtime.COPY_ONLY):
backed 0.6 to under 1, its sentences are garbles, and the answer is quoted instead."""

from __future__ import annotations

from crew.engine.runtime import COPY_SUPPORT, Policy
from crew.grounding.settle import settle
from crew.settings import ROLES, Settings
from tests.engine.test_grounding import ev

# A passage of the Debian Administrator's Handbook (debian-handbook es-ES, sect.apt-get.html) and the sentence
# SmolLM2-135M drafted from it for "¿Se puede pedir a apt que instale un paquete y desinstale otro con una única
# orden?" (bench/quality.py --model local, 2026-12-03): 10 of its 13 content words are the passage's.
APT = ("SUGERENCIA Eliminando e instalando al mismo tiempo\n"
       "Es posible pedirle a apt (o apt-get, o aptitude) que instale ciertos paquetes y elimine otros en la misma línea "
       "de comando agregando un sufijo. Con una orden apt install, agregue «-» a los nombres de paquetes que desee "
       "eliminar.")
GARBLE = ("SUGERENCIA Eliminando e instalando al mismo tiempo Es posible pedirle a apt-get eliminar el lado de la que "
          "está encontrado, no debiélo [1].")
QUESTION = "¿Se puede pedir a apt que instale un paquete y desinstale otro con una única orden?"


def settings(model: str, **more) -> Settings:
    return Settings(model=model, **{f"model_{r}": None for r in ROLES}, **more)


def test_the_embedded_writer_needs_copies_and_a_provider_the_setting():
    assert Policy.from_settings(settings("local")).support_threshold == COPY_SUPPORT
    assert Policy.from_settings(settings("local")).grounded.support == COPY_SUPPORT
    assert Policy.from_settings(settings("local", support_threshold=0.5)).grounded.support == COPY_SUPPORT  # never looser
    for model in ("openai:gpt-4o-mini", "anthropic:claude-3-5-haiku-latest", "ollama:llama3.1", "fake"):
        policy = Policy.from_settings(settings(model))
        assert policy.support_threshold == policy.grounded.support == 0.6
    # The writer's model decides, not the others'.
    mixed = Policy.from_settings(Settings(model="openai:gpt-4o-mini", model_writer="local"))
    assert mixed.grounded.support == COPY_SUPPORT


def test_a_garbled_sentence_of_the_embedded_model_gives_way_to_a_quote():
    at_setting = settle(QUESTION, [ev(APT)], [GARBLE], "Spanish", Policy.from_settings(settings("fake")).grounded)
    assert at_setting.kind == "written" and "debiélo" in at_setting.answer  # what the default threshold lets through
    embedded = settle(QUESTION, [ev(APT)], [GARBLE], "Spanish", Policy.from_settings(settings("local")).grounded)
    assert embedded.kind == "extractive" and "debiélo" not in embedded.answer
    assert "agregando un sufijo." in embedded.answer
