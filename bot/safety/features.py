"""What the crisis model reads of a message: word and character n-grams of the message as the rules read
it (slang replaced, typos mended). One definition for training and serving, so the weights written by
`train-safety` mean the same thing when they are applied without scikit-learn.
"""

from __future__ import annotations

CHAR_SIZES = (3, 4, 5)
MAX_WORDS = 300  # a long message is read from its start: emergencies are said early, and cost stays flat


def grams(text: str) -> list[str]:
    """Words, word pairs and the 3-5 character pieces of each word (which carry typos and word families)."""
    words = text.split()[:MAX_WORDS]
    out = ["w " + w for w in words]
    out += ["b " + a + " " + b for a, b in zip(words, words[1:])]
    for w in words:
        padded = f"<{w}>"
        for n in CHAR_SIZES:
            out += ["c " + padded[i : i + n] for i in range(max(1, len(padded) - n + 1))]
    return out
