"""Retrieval quality of the answer path, in the measures the field reports (via ir-measures).

Articles are ranked exactly as the bot ranks them (question understanding, BM25 over chunks, each
article scored by its best chunk), then compared with the questions' relevant articles.
"""
from __future__ import annotations

from pathlib import Path

from bot.answer import Answerer
from bot.jsonl import records

MEASURES = ("ndcg@10", "recall@1", "recall@3", "recall@10", "mrr@10")


def read_questions(path: Path) -> list[dict]:
    return [{"id": str(r["id"]), "question": str(r["question"]), "relevant": [str(x) for x in r["relevant"] or []]}
            for _, r in records(path, ("id", "question", "relevant"))]


def evaluate(answerer: Answerer, questions: list[dict], k: int = 10) -> dict:
    import ir_measures
    from ir_measures import RR, R, nDCG

    judged = [q for q in questions if q["relevant"]]
    qrels = [ir_measures.Qrel(q["id"], doc, 1) for q in judged for doc in q["relevant"]]
    run = []
    for q in judged:
        ranked = answerer.rank_articles(q["question"], max(k, 10))
        # scores strictly decreasing by rank, so ties cannot be reordered by the evaluator
        run += [ir_measures.ScoredDoc(q["id"], doc, float(len(ranked) - i)) for i, (doc, _) in enumerate(ranked)]
    measures = {"ndcg@10": nDCG @ 10, "recall@1": R @ 1, "recall@3": R @ 3, "recall@10": R @ 10, "mrr@10": RR @ 10}
    if k != 10:
        measures.update({f"ndcg@{k}": nDCG @ k, f"recall@{k}": R @ k, f"mrr@{k}": RR @ k})
    values = ir_measures.calc_aggregate(list(measures.values()), qrels, run) if run else {}
    out = {name: round(float(values.get(measure, 0.0)), 4) for name, measure in measures.items()}
    out["questions"] = len(judged)
    return out
