"""Name the language a goal is written in, so every agent can be told to answer in it.

py3langid ships its model inside the package (no download); the model loads on first use.
"""

from __future__ import annotations

from functools import lru_cache

NAMES = {
    "en": "English", "es": "Spanish", "fr": "French", "de": "German", "pt": "Portuguese", "it": "Italian",
    "nl": "Dutch", "ca": "Catalan", "gl": "Galician", "eu": "Basque", "pl": "Polish", "ru": "Russian",
    "uk": "Ukrainian", "tr": "Turkish", "ar": "Arabic", "zh": "Chinese", "ja": "Japanese", "ko": "Korean",
    "hi": "Hindi", "sv": "Swedish", "da": "Danish", "no": "Norwegian", "fi": "Finnish", "cs": "Czech",
    "el": "Greek", "he": "Hebrew", "ro": "Romanian", "hu": "Hungarian", "id": "Indonesian", "vi": "Vietnamese",
}


@lru_cache(maxsize=1)
def _identifier():
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    # Only the languages the agents can be told to answer in: over all 97 of the model's, a short question spreads
    # its probability over look-alikes ("¿Qué es sudo?": Spanish 0.37, under the bar, so a Spanish person got an
    # English answer; 0.58 among these; "What does enumerate do?" 0.30 -> 0.59).
    identifier.set_languages(list(NAMES))
    return identifier


def detect(text: str) -> str | None:
    """Return the English name of the text's language, or None when unsure."""
    if len(text.strip()) < 3:
        return None
    code, prob = _identifier().classify(text)
    return NAMES.get(code) if prob >= 0.5 else None
