"""How good the answers are, measured through the path a user meets (via ir-measures).

Every question goes through `Answerer.answer()`, as `ask` sends it: triage, intents, the no-answer
threshold and the per-article limit included. Articles are ranked by the order of their citations; a
declined question ranks nothing. The old figure, articles ranked by their best chunk with nothing
declined, stays beside it as "retrieval only", so a loss at the answer's gates shows as the difference.
"""

from __future__ import annotations

import re
from pathlib import Path

from bot.answering.answer import Answer, Answerer
from bot.corpus.jsonl import records

MEASURES = ("ndcg@10", "recall@1", "recall@3", "recall@10", "mrr@10")
DEPTH = 20  # passages asked for: at most two come from one article, so this ranks at least ten articles


def read_questions(path: Path) -> list[dict]:
    out = []
    for _, r in records(path, ("id", "question", "relevant")):
        q = {"id": str(r["id"]), "question": str(r["question"]), "relevant": [str(x) for x in r["relevant"] or []]}
        if r.get("phrase"):
            q["phrase"] = str(r["phrase"])
        out.append(q)
    return out


def _normal(text: str) -> str:
    text = text.casefold().replace("\u2019", "'").replace("\u2018", "'").replace("\u201c", '"').replace("\u201d", '"')
    return re.sub(r"\s+", " ", text).strip()


def holds(passage: str, phrase: str) -> bool:
    """Whether a quoted passage holds the words that answer (case, quotes and spacing aside)."""
    return _normal(phrase) in _normal(passage)


def ranked_articles(answer: Answer) -> list[str]:
    """The articles of an answer's citations, in the order first cited."""
    return list(dict.fromkeys(c.article_id for c in answer.citations))


def _measures(k: int):
    from ir_measures import RR, R, nDCG

    measures = {"ndcg@10": nDCG @ 10, "recall@1": R @ 1, "recall@3": R @ 3, "recall@10": R @ 10, "mrr@10": RR @ 10}
    if k != 10:
        measures.update({f"ndcg@{k}": nDCG @ k, f"recall@{k}": R @ k, f"mrr@{k}": RR @ k})
    return measures


def ir_figures(runs: dict[str, list[str]], judged: list[dict], k: int = 10) -> dict:
    """The IR measures of ranked article ids per question id, against the questions' relevant articles."""
    import ir_measures

    qrels = [ir_measures.Qrel(q["id"], doc, 1) for q in judged for doc in q["relevant"]]
    # scores strictly decreasing by rank, so ties cannot be reordered by the evaluator
    run = [
        ir_measures.ScoredDoc(qid, doc, float(len(docs) - i))
        for qid, docs in runs.items()
        for i, doc in enumerate(docs)
    ]
    measures = _measures(k)
    values = ir_measures.calc_aggregate(list(measures.values()), qrels, run) if run else {}
    return {name: round(float(values.get(measure, 0.0)), 4) for name, measure in measures.items()}


def evaluate(
    answerer: Answerer, questions: list[dict], k: int = 10, depth: int = DEPTH, retrieval_only: bool = True
) -> dict:
    """The answer path's figures; questions without relevant articles count as out of scope."""
    pairs = [(q, answerer.answer(q["question"], top_k=depth)) for q in questions]
    judged = [(q, a) for q, a in pairs if q["relevant"]]
    unjudged = [(q, a) for q, a in pairs if not q["relevant"]]
    out = ir_figures({q["id"]: ranked_articles(a) for q, a in judged}, [q for q, _ in judged], k)
    out["questions"] = len(judged)
    out["depth"] = depth
    if judged:
        out["answered"] = _share(a.answered for _, a in judged)
        out["right_first"] = _share(bool(a.citations) and a.citations[0].article_id in q["relevant"] for q, a in judged)
    phrased = [(q, a) for q, a in judged if q.get("phrase")]
    if phrased:
        out["phrased"] = len(phrased)
        out["phrase_first"] = _share(
            bool(a.citations) and holds(a.citations[0].passage, q["phrase"]) for q, a in phrased
        )
        out["phrase_top3"] = _share(any(holds(c.passage, q["phrase"]) for c in a.citations[:3]) for q, a in phrased)
    if unjudged:
        out["out_of_scope"] = len(unjudged)
        out["declined"] = _share(not a.answered for _, a in unjudged)
    out["emergency"] = _share(a.crisis for _, a in pairs)
    if retrieval_only and judged:
        out["retrieval_only"] = ir_figures(
            {q["id"]: [doc for doc, _ in answerer.rank_articles(q["question"], max(k, 10))] for q, _ in judged},
            [q for q, _ in judged],
            k,
        )
    return out


def _share(flags) -> float:
    flags = list(flags)
    return round(sum(map(bool, flags)) / len(flags), 4) if flags else 0.0
