"""The few sentences of an article that answer the question: what the user reads first.

The sentence that repeats a question's words is often not its answer: "Another common problem is binge
drinking." comes before the number of drinks, "Signs of problem gambling include" before the signs. So a
passage is chosen by the question's words (rare ones first) and by what kind of answer the question wants
(a number for "how many", a frequency for "how often", a phone number for "hotline", a definition for
"what is"), then grown: forward when it introduces a list, a number or a definition, or only restates the
question; back when it opens with a pronoun whose referent is in the sentence before ("It cannot be taken").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable

from bot.search.analysis import Analyzer
from bot.search.chunking import sentence_spans

MAX_SENTENCES = 3
MAX_CHARS = 700  # grown passages stop here (at a sentence), so a reply stays short
LIST_ITEMS = 8
SHORT_CHARS = 250  # a passage shorter than this takes the sentences after it, up to this length
FOLLOW_CHARS = 900  # how far past its chunk a passage may grow, to take the list or sentence it introduces
CONTEXT_SHARE = 0.3  # a question word only in the heading or title counts this much for a sentence under it
# a sentence's cosine with the question, as a share of its rarest word (ten spent sets: 1, 3, 5, 8 put the
# phrase in the top passage for 415, 422, 425, 428 of 715 questions; above 3, a sentence holding none of the
# question's words can outweigh one that holds them, which no user would understand)
MEANING_SHARE = 3.0
CUE_BONUS = 0.4  # a sentence of the kind of answer wanted counts as this share of the question's rarest word
# ... and a sentence saying two things may not be taken together, asked whether they may ("can i take vivitrol while
# on subs": "It cannot be taken while a person is still in detoxification..."), outweighs the rarest word itself:
# a passage naming both medicines in another relation ("not as well tolerated as methadone or buprenorphine")
# answers nothing of what was asked
TOGETHER_BONUS = 2.0
# a passage this short takes the next sentence of its paragraph when that holds a question's word or the kind of
# answer wanted (sixteen spent sets, 1,135 questions: the phrase in the top passage 688 -> 726 with SHORT_CHARS 250;
# the top passage's median 235 -> 293 characters; blind16, measured once after: 75.7%)
ASKED_NEXT_CHARS = 500

# A sentence that opens like this leans on the one before it ("It cannot be taken while...").
_LEANS_BACK = re.compile(
    r"^[\"'\u201c\u2018(]*(it|its|this|that|these|those|they|their|them|he|she|his|her|"
    r"such|however|but|also|so|thus|therefore|instead|otherwise)\b",
    re.I,
)
# ...and one that ends like this introduces what follows ("Symptoms include:", "such as").
_INTRODUCES = re.compile(
    r"(:|\b(include|includes|including|are|is|such as|following|as follows|like|these|"
    r"involve|involves|cause|causes|may|can)\s*[.:]?)\s*$",
    re.I,
)
_ITEM = re.compile(r"^\s*([-*\u2022\u2013\u2014]|\d{1,2}[.)])\s+")
_NUMBER = r"\d|\b(one|two|three|four|five|six|seven|eight|nine|ten|twelve|fifteen|twenty|half|dozen)\b"


@dataclass(frozen=True)
class Cue:
    """A kind of question, and what a sentence answering it holds."""

    asks: re.Pattern[str]
    holds: re.Pattern[str]
    bonus: float = CUE_BONUS  # its share of the question's rarest word


CUES = (
    Cue(
        re.compile(r"\bhow (often|many times|frequently)\b|\bevery day\b|\bdaily\b", re.I),
        re.compile(r"\b(times?|daily|weekly|monthly|every|once|twice|per (day|week|month)|a (day|week|month))\b", re.I),
    ),
    Cue(
        re.compile(r"\bhow (many|much)\b|\b(limit|amount|dose|dosage|percent|bac|rate|odds|chance)\b", re.I),
        re.compile(_NUMBER, re.I),
    ),
    Cue(
        re.compile(r"\b(numbers?|hotline|phone|helpline|lifeline|quitline|text line)\b|\bcall\b", re.I),
        re.compile(r"\d{3}[-. )]\s?\d{3}|\(\d{3}\)|\b1-8\d\d\b|\d{3}-\d{4}|\b[A-Z]{4}-[A-Z]{3}\b"),
    ),
    Cue(
        re.compile(r"\bhow long\b|\bwhat age\b|\bwhen (do|does|will|is|are|should|can)\b", re.I),
        re.compile(_NUMBER + r"|\b(days?|weeks?|months?|years?|hours?|minutes?|ages?|teens?|lifelong)\b", re.I),
    ),
    Cue(
        re.compile(r"^\W*(what|who)('?s| is| are| was)\b|\bwhat does .* mean\b|\bmeaning of\b|\bdefin", re.I),
        re.compile(r"\b(is an?|are|refers? to|means?|is called|also called|also known as|known as|is the)\b", re.I),
    ),
    Cue(
        re.compile(r"\bmade (from|of|out of)\b|\bcome from\b|\bcomes from\b", re.I),
        re.compile(r"\bmade (from|of)\b|\bcomes? from\b|\bderived\b|\bextract", re.I),
    ),
    Cue(
        re.compile(r"\b(signs?|symptoms?|side effects?|effects|risks?|dangers?|types?|kinds?|warning signs)\b", re.I),
        re.compile(r"\b(include|includes|including|such as|signs?|symptoms?)\b|:\s*$", re.I),
    ),
    Cue(
        re.compile(
            r"\b(while (on|taking|using|still on|im on|i'?m on|i am on|he'?s on|she'?s on)|at the same time|together|"
            r"mix|mixing|combine|combining|on top of|interact\w*)\b",
            re.I,
        ),
        re.compile(
            r"\b(cannot|can ?not|can'?t|should not|shouldn'?t|must not|mustn'?t|never|not) (be )?"
            r"(taken|take|used|use|combined|mixed|started|given)\b|\binteract\w*|\bprecipitat\w*|"
            r"\btriggers? (a |an )?withdrawal",
            re.I,
        ),
        TOGETHER_BONUS,
    ),
)


def cues_for(question: str) -> tuple[Cue, ...]:
    return tuple(c for c in CUES if c.asks.search(question))


def cue_bonus(sentence: str, cues: tuple[Cue, ...]) -> float:
    """How much a sentence is of the kind of answer the cues want: the largest bonus of those it holds, else 0."""
    return max((c.bonus for c in cues if c.holds.search(sentence)), default=0.0)


def scored_passage(
    text: str,
    start: int,
    end: int,
    query_weights: dict[str, float],
    analyzer: Analyzer,
    max_sentences: int = MAX_SENTENCES,
    cues: tuple[Cue, ...] = (),
    follow_to: int | None = None,
    context: frozenset[str] = frozenset(),
    sentences: Callable[[int, int], list[tuple[int, int]]] | None = None,
    terms_of: Callable[[int, int], frozenset[str]] | None = None,
    cued: Callable[[int, int], float] | None = None,
    near: Callable[[int, int], float] | None = None,
) -> tuple[int, int, float]:
    """Span of the sentences that answer best, and how well: the question's weight covered (`context`: the
    terms of the section heading and title over them, which say what "the drug" is), a cue's kind of answer;
    then grown to what the sentences introduce or lean on, up to `follow_to` (the next heading). Fewer
    sentences win ties. `sentences(start, end)`: the sentences of text[start:end] (the index keeps them);
    `terms_of(start, end)`: the terms of text[start:end] (the answerer keeps them); `cued(start, end)`: whether
    text[start:end] holds what one of `cues` looks for (the answerer keeps that too); `near(start, end)`: how
    close text[start:end] is to the question in meaning (a cosine), when semantic reranking is on."""
    if sentences is None:
        sentences = lambda s_, e_: sentence_spans(text, s_, e_)  # noqa: E731
    follow = min(len(text), end + FOLLOW_CHARS) if follow_to is None else max(end, min(follow_to, end + FOLLOW_CHARS))
    spans = sentences(start, follow) or [(start, end)]
    inside = sum(1 for s, _ in spans if s < end) or 1  # a passage starts inside its chunk
    sentence_terms = (
        [terms_of(s, e) for s, e in spans]
        if terms_of is not None
        else [frozenset(analyzer.terms(text[s:e])) for s, e in spans]
    )
    if not cues:
        cued_at = [0.0] * len(spans)
    elif cued is not None:
        cued_at = [cued(s, e) for s, e in spans]
    else:
        cued_at = [cue_bonus(text[s:e], cues) for s, e in spans]
    # only the question's terms weigh anything: the sums run over those few, not every word of the sentences
    asked = frozenset(query_weights)
    near_at = [near(s, e) for s, e in spans] if near is not None else None
    best, (first, last) = best_run(
        [terms & asked for terms in sentence_terms],
        cued_at,
        inside,
        query_weights,
        context & asked,
        max_sentences,
        near_at,
    )
    last = _grow(text, spans, sentence_terms, set(query_weights), first, last)
    last = _carry_on(text, spans, sentence_terms, set(query_weights), cued_at, first, last)
    # "It cannot be taken..." needs the sentence that says what "it" is: reach back while the first
    # sentence leans on the one before it (twice at most), even before the chunk
    for _ in range(2):
        if not _LEANS_BACK.match(text[spans[first][0] : spans[first][1]]):
            break
        if first > 0:
            first -= 1
            continue
        before = [sp for sp in sentences(max(0, start - FOLLOW_CHARS), start) if sp[1] <= start]
        if before and "\n\n" not in text[before[-1][1] : start]:
            spans, last = [before[-1]] + spans, last + 1
        break
    begin = spans[first][0]
    return begin, spans[last][1], best[0]


def best_run(
    asked_in: list[frozenset[str]],
    cued_at: list[float],
    inside: int,
    query_weights: dict[str, float],
    context_asked: frozenset[str],
    max_sentences: int = MAX_SENTENCES,
    near_at: list[float] | None = None,
) -> tuple[tuple[float, int, int], tuple[int, int]]:
    """The run of up to max_sentences sentences, starting among the first `inside`, that weighs most: the
    question's terms it holds (`asked_in`, per sentence), those only in the heading or title over it, the largest
    cue bonus among its sentences (`cued_at`: each sentence's, 0 for none).
    With `near_at` (each sentence's cosine with the question), the run's closest sentence adds MEANING_SHARE of
    the question's rarest word per unit of cosine. Ties go to fewer sentences, then the earlier. Returns
    ((weight, -extra sentences, -first), (first, last))."""
    top = max(query_weights.values(), default=0.0)
    best = (-1.0, 0, 0)
    best_span = (0, 0)
    weigh = query_weights.__getitem__  # sums below add in the same order as sum(query_weights[t] for t in ...)
    for first in range(inside):
        covered: set[str] = set()
        cue = 0.0  # the largest cue bonus in the run
        closest = -1.0
        for last in range(first, min(first + max_sentences, len(asked_in))):
            had = len(covered)
            covered |= asked_in[last]
            nearer = near_at is not None and near_at[last] > closest
            if last > first and len(covered) == had and cued_at[last] <= cue and not nearer:
                continue  # the same weight as one sentence fewer, which wins the tie: it cannot be the best
            cue = max(cue, cued_at[last])
            if near_at is not None:
                closest = max(closest, near_at[last])
            weight = sum(map(weigh, covered))
            if context_asked:  # else that share adds 0.0, which leaves a sum of weights as it is
                weight += CONTEXT_SHARE * sum(map(weigh, context_asked - covered))
            weight = weight + cue * top + (MEANING_SHARE * top * closest if near_at is not None else 0.0)
            key = (round(weight, 9), -(last - first), -first)
            if key > best:
                best, best_span = key, (first, last)
    return best, best_span


def _carry_on(
    text: str,
    spans: list[tuple[int, int]],
    terms: list[frozenset[str]],
    asked: set[str],
    cued_at: list[bool],
    first: int,
    last: int,
) -> int:
    """The next sentences of the paragraph too, while the passage stays short and each holds a question's word or
    the kind of answer wanted: the answer is often the sentence after the one that repeats the question."""
    while (
        last + 1 < len(spans)
        and spans[last + 1][1] - spans[first][0] <= ASKED_NEXT_CHARS
        and _same_block(text, spans, last + 1)
        and (terms[last + 1] & asked or cued_at[last + 1])
    ):
        last += 1
    return last


def _same_block(text: str, spans: list[tuple[int, int]], i: int) -> bool:
    """No blank line (a new paragraph or section) between sentence i-1 and sentence i."""
    return "\n\n" not in text[spans[i - 1][1] : spans[i][0]]


def _grow(
    text: str, spans: list[tuple[int, int]], terms: list[set[str]], asked: set[str], first: int, last: int
) -> int:
    """The last sentence, grown over the list, number or sentence the passage introduces."""

    def sentence(i: int) -> str:
        return text[spans[i][0] : spans[i][1]]

    def size(upto: int) -> int:
        return spans[upto][1] - spans[first][0]

    if last + 1 >= len(spans):
        return last
    if size(last) < SHORT_CHARS:
        # "Quitting smoking is important for your health." alone answers nothing: what follows it in the
        # section does ("Soon after you quit, your circulation begins to improve"), even past a paragraph
        while last + 1 < len(spans) and size(last) < SHORT_CHARS and size(last + 1) <= MAX_CHARS:
            last += 1
        return last
    if _INTRODUCES.search(sentence(last)):  # ends with ":" or "include", "such as", ...
        # a list or what "include" announces: its items, or the one sentence it leads into
        i = last + 1
        if _ITEM.match(sentence(i)):
            items = 0
            while i < len(spans) and _ITEM.match(sentence(i)) and items < LIST_ITEMS and size(i) <= MAX_CHARS:
                last, i, items = i, i + 1, items + 1
            return last
        if size(i) <= MAX_CHARS and _same_block(text, spans, i):
            return i
        return last
    if last == first:
        new = terms[last] - asked
        # a short sentence that only restates the question ("Another common problem is binge drinking.")
        if (
            (len(new) <= 3 or len(sentence(last)) < 70)
            and _same_block(text, spans, last + 1)
            and size(last + 1) <= MAX_CHARS
        ):
            return last + 1
    return last
