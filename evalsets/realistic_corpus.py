"""Build the realistic evaluation corpus: MedQuAD's substance-use and mental-health pages, the sample
articles, and unrelated health pages, so that "not covered" is calibrated and measured on a corpus of
the size and mix an operator's site has, not on six articles.

    python evalsets/realistic_corpus.py OUT_DIR [--shared ../shared/data]

Deterministic: the same shared data gives the same corpus. The pages are read from ../shared/data and
written to OUT_DIR (never into the repository).
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOPICAL = re.compile(
    r"\b(alcohol|drug|drugs|opioid|heroin|cocaine|methamphetamine|marijuana|inhalants|steroids|smok\w*|tobacco|"
    r"e-cigarettes|nicotine|caffeine|poisoning|delirium|depression|anxiety|bipolar|mental|panic|stress|"
    r"post-traumatic|schizophrenia|suicide|eating disorders|gambling|dual diagnosis|pain relievers|"
    r"sleep disorders|underage drinking|substance)\b",
    re.I,
)
NOT_TOPICAL = {"MPlusHealthTopics_0000590"}  # Medicare Prescription Drug Coverage: insurance, not drugs
SENIOR_HEALTH = [
    "NIHSeniorHealth_0000002",
    "NIHSeniorHealth_0000055",
    "NIHSeniorHealth_0000060",
    "NIHSeniorHealth_0000014",
    "NIHSeniorHealth_0000005",
]
UNRELATED_EVERY = 4  # every fourth other MedlinePlus topic page: about 230 pages on everything else


def select(articles: list[dict]) -> list[dict]:
    topical, unrelated = [], []
    for a in articles:
        if a["id"] in SENIOR_HEALTH:
            topical.append(a)
        elif not a["id"].startswith("MPlusHealthTopics_"):
            continue
        elif TOPICAL.search(a["title"]) and a["id"] not in NOT_TOPICAL:
            topical.append(a)
        else:
            unrelated.append(a)
    return topical + unrelated[::UNRELATED_EVERY]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "data")
    args = parser.parse_args(argv)
    source = args.shared / "medquad" / "articles.jsonl"
    if not source.exists():
        print(f"error: {source} not found (the shared data sets)", file=sys.stderr)
        return 1
    articles = [json.loads(line) for line in source.read_text(encoding="utf-8").splitlines() if line.strip()]
    chosen = select(articles)
    args.out.mkdir(parents=True, exist_ok=True)
    with open(args.out / "medquad.jsonl", "w", encoding="utf-8") as f:
        for a in chosen:
            f.write(json.dumps({k: a[k] for k in ("id", "title", "url", "text")}, ensure_ascii=False) + "\n")
    sample = args.out / "sample"
    if sample.exists():
        shutil.rmtree(sample)
    shutil.copytree(ROOT / "corpus", sample)
    print(f"{len(chosen)} MedQuAD pages and the sample articles -> {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
