"""Reduce words to their stems for the keyword index, in the language of the text (Snowball stemmers).

SQLite's FTS5 stems English only (`porter`), so Spanish "paquetes" never met "paquete" and
"instalación" never met "instalar". Here text is analysed in Python before FTS5 sees it: split into
the words FTS5's `unicode61` tokenizer would find, lower-cased, accents folded ("informacion" finds
"información"), and each word stemmed by the Snowball stemmer of the text's language (PyStemmer;
py3langid picks the language of each chunk). Folding comes before stemming on both sides, so a
question typed without accents stems like the text that has them.

A question is stemmed in its own language. Stemming its words both ways (English and Spanish, each
form a search term) was tried on the labelled sets and lost: keyword recall@5 0.618 against 0.649
(English questions 0.663 vs 0.694, Spanish 0.606 vs 0.667), the extra forms crowding out real terms.
Across languages keywords meet only on shared names ("dpkg", "apt"), which stemming leaves alone;
the embeddings carry a question to a page in the other language.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from functools import lru_cache

# py3langid codes -> Snowball algorithms in PyStemmer: the languages our people write (the stopwords
# of crew.keywords are these two as well). Language is told between these only: among all of
# py3langid's, one-word questions came out wrong ("instalacion" Catalan, "installing" Finnish) and
# were stemmed by a stemmer the text never saw; between the two they come out right.
STEMMERS = {"en": "english", "es": "spanish"}
WORD = re.compile(r"[^\W_]+")  # a run of letters and digits: what FTS5's unicode61 calls a token
_local = threading.local()  # PyStemmer's stemmers are not thread-safe: one set per thread


def fold(text: str) -> str:
    """Lower-case and strip accents the way the FTS5 tokenizer does."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _stemmer(language: str):
    stemmers = getattr(_local, "stemmers", None)
    if stemmers is None:
        stemmers = _local.stemmers = {}
    if language not in stemmers:
        import Stemmer

        stemmers[language] = Stemmer.Stemmer(STEMMERS[language]) if language in STEMMERS else None
    return stemmers[language]


@lru_cache(maxsize=1)
def _identifier():
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE)
    identifier.set_languages(sorted(STEMMERS))
    return identifier


@lru_cache(maxsize=1024)  # a search asks it of the same question four times
def language_of(text: str) -> str:
    """The language code of a text, "en" or "es" ("en" for text with no letters to tell by)."""
    return _identifier().classify(text[:2000])[0] if WORD.search(text) else "en"


def stem_words(words: list[str], language: str) -> list[str]:
    """Stem folded words with the stemmer of a language (unchanged for one we do not stem)."""
    stemmer = _stemmer(language)
    return stemmer.stemWords(words) if stemmer is not None else list(words)


def analyze(text: str, language: str | None = None) -> str:
    """The text as the keyword index stores it: folded, stemmed words separated by spaces, in order."""
    return " ".join(stem_words(WORD.findall(fold(text)), language or language_of(text)))


def query_tokens(word: str, language: str) -> tuple[str, ...]:
    """The stemmed tokens of one query word (several for "os.path" or "INV-2093")."""
    return tuple(stem_words(WORD.findall(fold(word)), language))
