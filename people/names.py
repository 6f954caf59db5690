"""Name keys: the normalised form two spellings of one name share.

Follows the corpus scoring contract: casefold, strip accents, drop every non-letter, so
"Park Yoon-Joo", "park yoonjoo" and "PARK Yoon Joo" all have the key "parkyoonjoo".
"""

from __future__ import annotations

import unicodedata


def normalize_name(s: str) -> str:
    """Return the lookup key of a name: casefolded, accent-free, letters only."""
    if not s:
        return ""
    if s.isascii():  # nothing to decompose or recompose: the same key, several times faster
        return "".join(filter(str.isalpha, s.lower()))
    decomposed = unicodedata.normalize("NFKD", s.casefold())
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    # Recompose so scripts that NFKD splits into letters (Hangul syllables -> jamo) keep
    # one key per written form.
    recomposed = unicodedata.normalize("NFC", stripped)
    return "".join(c for c in recomposed if c.isalpha())
