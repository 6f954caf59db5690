"""Recognising syndicated copies: MinHash over 5-word shingles with LSH banding.

NLP-NOTES §3.5 measured true copies at an estimated Jaccard of 0.87–0.89 and different
stories about the same people at ≤ 0.02, so a 0.5 threshold separates them widely.
64 permutations in 16 bands of 4 rows put the LSH candidate threshold near (1/16)^(1/4) ≈ 0.5.
"""
from __future__ import annotations

import hashlib
import random
import re

PERMUTATIONS = 64
BANDS = 16
ROWS = PERMUTATIONS // BANDS
SHINGLE = 5
THRESHOLD = 0.5
# Only the first words are shingled (a long story is ~2,000 words; copies share their start),
# so hostile 1 MB input costs about a second, not a minute.
MAX_WORDS = 5000
_PRIME = (1 << 61) - 1
_rng = random.Random(20251121)  # fixed seed: signatures must be stable across processes and releases
_COEFFS = [(_rng.randrange(1, _PRIME), _rng.randrange(0, _PRIME)) for _ in range(PERMUTATIONS)]
_WORD = re.compile(r"\w+", re.UNICODE)
_SLOT = 16  # bytes per shingle in signature()'s packed integer
_LOW64 = (1 << 64) - 1


def shingles(text: str) -> set[int]:
    words = _WORD.findall(text.casefold())[:MAX_WORDS]
    if len(words) < SHINGLE:
        words += [""] * (SHINGLE - len(words))
    return {
        int.from_bytes(hashlib.blake2b(" ".join(words[i : i + SHINGLE]).encode(), digest_size=8).digest(), "big")
        for i in range(len(words) - SHINGLE + 1)
    }


def signature(text: str) -> list[int]:
    """MinHash signature of a text: per permutation, min over shingles of (a*h + b) mod P."""
    hashes = [(h & _PRIME) + (h >> 61) for h in shingles(text)]  # h mod P, give or take P
    # All shingles at once: each sits in its own 128-bit slot of one big integer, so a
    # permutation is a few big-integer operations instead of a Python loop per shingle
    # (~3x faster; the values are exactly those of the formula above).
    count = len(hashes)
    packed = int.from_bytes(b"".join(h.to_bytes(_SLOT, "little") for h in hashes), "little")
    ones = int.from_bytes((1).to_bytes(_SLOT, "little") * count, "little")
    low61, low64, bit61 = ones * _PRIME, ones * _LOW64, ones << 61
    sig = []
    for a, b in _COEFFS:
        x = a * packed + b * ones  # every slot < 2^123: no carry into the next slot
        # x mod P for a Mersenne prime is (x & P) + (x >> 61); twice leaves each slot <= P + 2,
        x = (x & low61) + ((x >> 61) & low64)
        x = (x & low61) + ((x >> 61) & low64)
        # then subtract P from the slots that reached it (their bit 61 is set after + 1).
        x -= (((x + ones) & bit61) >> 61) * _PRIME
        sig.append(min(memoryview(x.to_bytes(count * _SLOT, "little")).cast("Q")[::2]))
    return sig


def bands(sig: list[int]) -> list[str]:
    """One digest per LSH band."""
    return [
        hashlib.blake2b(repr(sig[i * ROWS : (i + 1) * ROWS]).encode(), digest_size=16).hexdigest()
        for i in range(BANDS)
    ]


def similarity(a: list[int], b: list[int]) -> float:
    """Estimated Jaccard similarity of the two texts behind two signatures."""
    return sum(x == y for x, y in zip(a, b, strict=True)) / len(a)
