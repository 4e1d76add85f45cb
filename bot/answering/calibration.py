"""Where to draw the line between "here is what our articles say" and "I couldn't find an answer".

Measured, not guessed: questions the articles answer (in scope) and questions they don't (out of scope)
are answered at each pair of thresholds (BOT_MIN_COVERAGE, BOT_MIN_KEYNESS); the pair kept is the one that
cites a right article first for the most in-scope questions while answering at most MAX_ANSWERED_OFF_TOPIC
of the out-of-scope ones (then: the most answered, the fewest off-topic answers, the stricter pair). Calibrate on a realistic corpus (hundreds of pages, some about other things), not on six
articles: on a tiny corpus every threshold looks good.
"""

from __future__ import annotations

import dataclasses

from bot.answering.answer import Answerer
from bot.answering.evaluation import evaluate

COVERAGES = tuple(round(0.05 * i, 2) for i in range(2, 14))
KEYNESSES = (0.0, 0.3, 0.5, 0.7, 0.9, 1.1)
MAX_ANSWERED_OFF_TOPIC = 0.15  # the goal is at most 20% on questions nobody tuned on: a margin for that


def calibrate(
    answerer: Answerer,
    in_scope: list[dict],
    out_of_scope: list[dict],
    coverages: tuple[float, ...] = COVERAGES,
    keynesses: tuple[float, ...] = KEYNESSES,
) -> dict:
    in_scope = [q for q in in_scope if q["relevant"]]
    out_of_scope = [q for q in out_of_scope if not q["relevant"]]
    rows = []
    for keyness in keynesses:
        for threshold in coverages:
            settings = dataclasses.replace(answerer.settings, min_coverage=threshold, min_keyness=keyness)
            trial = Answerer(answerer.index, settings, answerer.safety)
            inside = evaluate(trial, in_scope, depth=settings.top_k, retrieval_only=False)
            outside = evaluate(trial, out_of_scope, depth=settings.top_k, retrieval_only=False)
            rows.append(
                {
                    "threshold": threshold,
                    "keyness": keyness,
                    "in_scope_right": inside.get("right_first", 0.0),
                    "in_scope_answered": inside.get("answered", 0.0),
                    "out_of_scope_answered": round(1 - outside.get("declined", 1.0), 4),
                }
            )
    allowed = [r for r in rows if r["out_of_scope_answered"] <= MAX_ANSWERED_OFF_TOPIC] or rows
    best = max(
        allowed,
        key=lambda r: (
            round(r["in_scope_right"], 9),
            round(r["in_scope_answered"], 9),
            -round(r["out_of_scope_answered"], 9),
            r["threshold"],
            r["keyness"],
        ),
    )
    return {
        "chosen": best["threshold"],
        "chosen_keyness": best["keyness"],
        "in_scope": len(in_scope),
        "out_of_scope": len(out_of_scope),
        "rows": rows,
    }
