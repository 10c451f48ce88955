"""The language a goal is written in, which every role is told to answer in (crew.models.language)."""

from __future__ import annotations

import pytest

from crew.models.language import detect


@pytest.mark.parametrize("goal, language", [
    # Short questions a person types: over all of langid's 97 languages these fell under the bar (Spanish 0.37-0.49,
    # English 0.30), and the answer came in English.
    ("¿Qué es sudo?", "Spanish"), ("¿Qué es aptitude?", "Spanish"), ("¿Cómo cambio mi contraseña?", "Spanish"),
    ("¿Para qué sirve debian/control?", "Spanish"), ("What does enumerate do?", "English"),
    ("How do I read a CSV file?", "English"), ("Comment lire un fichier ?", "French"),
    ("Wie lese ich eine Datei?", "German"), ("Què és sudo?", "Catalan"),
])
def test_short_questions_are_told_apart(goal, language):
    assert detect(goal) == language


@pytest.mark.parametrize("goal", ["", "ok", "   "])
def test_too_little_text_has_no_language(goal):
    assert detect(goal) is None
