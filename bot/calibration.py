"""Where to draw the line between "here is what our articles say" and "I couldn't find an answer".

Measured, not guessed: questions the articles answer (in scope) and questions they don't (out of scope)
are answered at each threshold of BOT_MIN_COVERAGE; the threshold kept is the one that answers the most
in-scope questions with a right article while answering the fewest out-of-scope ones (Youden's J).
"""
from __future__ import annotations

import dataclasses

from bot.answer import Answerer

THRESHOLDS = tuple(round(0.05 * i, 2) for i in range(0, 20))


def calibrate(answerer: Answerer, in_scope: list[dict], out_of_scope: list[dict]) -> dict:
    rows = []
    for threshold in THRESHOLDS:
        trial = Answerer(answerer.index, dataclasses.replace(answerer.settings, min_coverage=threshold),
                         answerer.safety)
        right = answered_in = answered_out = 0
        for q in in_scope:
            answer = trial.answer(q["question"])
            answered_in += answer.answered
            right += any(c.article_id in q["relevant"] for c in answer.citations)
        for q in out_of_scope:
            answered_out += trial.answer(q["question"]).answered
        rows.append({"threshold": threshold, "in_scope_right": right / len(in_scope),
                     "in_scope_answered": answered_in / len(in_scope),
                     "out_of_scope_answered": answered_out / len(out_of_scope)})
    best = max(rows, key=lambda r: (round(r["in_scope_right"] - r["out_of_scope_answered"], 9), -r["threshold"]))
    return {"chosen": best["threshold"], "in_scope": len(in_scope), "out_of_scope": len(out_of_scope), "rows": rows}
