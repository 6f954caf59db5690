"""MinHash signatures: the packed computation gives exactly the values of the formula."""
import random

from meetings.ingest import neardup


def _by_the_formula(text):
    hashes = neardup.shingles(text)
    return [min((a * h + b) % neardup._PRIME for h in hashes) for a, b in neardup._COEFFS]


def test_signature_is_the_minhash_formula_on_any_text():
    rng = random.Random(7)
    words = [f"w{i}" for i in range(200)] + ["Seoul", "Rubio", "talks", "É", "한국"]
    texts = ["", "one", "a b c d e", "the same word " * 3000]
    texts += [" ".join(rng.choice(words) for _ in range(rng.randrange(0, 400))) for _ in range(50)]
    for text in texts:
        assert neardup.signature(text) == _by_the_formula(text)


def test_copies_are_similar_and_different_stories_are_not():
    story = " ".join(f"word{i}" for i in range(300))
    copy = story.replace("word17 ", "").replace("word200", "WORD200 extra")
    other = " ".join(f"term{i}" for i in range(300))
    assert neardup.similarity(neardup.signature(story), neardup.signature(copy)) >= neardup.THRESHOLD
    assert neardup.similarity(neardup.signature(story), neardup.signature(other)) < 0.1
