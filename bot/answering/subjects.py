"""The medicines and substances a question can be about: a passage about another one is not its answer.

"do i need to be in withdrawal before starting suboxone" is not answered by a sentence about naltrexone,
however well its words match. The list is bot/data/subjects.txt, read through the analyzer so that every
other name of a subject (synonyms.yaml: Suboxone, subs, bupe) is the same subject.
"""

from __future__ import annotations

from importlib import resources

from bot.search.analysis import Analyzer


def subject_terms(analyzer: Analyzer) -> frozenset[str]:
    text = resources.files("bot.data").joinpath("subjects.txt").read_text(encoding="utf-8")
    out = set()
    for line in text.splitlines():
        name = line.split("#", 1)[0].strip()
        if not name:
            continue
        terms = analyzer.terms(name)
        joined = [t for t in terms if "_" in t]  # a phrase concept ("smokeless tobacco") is one subject
        out.update(joined or terms[-1:])
    return frozenset(out)


def named(terms: set[str] | list[str], subjects: frozenset[str]) -> list[str]:
    """The subjects among these terms, in order."""
    return [t for t in dict.fromkeys(terms) if t in subjects]
