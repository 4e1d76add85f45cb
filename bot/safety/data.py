"""The labelled messages triage is trained, tuned and measured on, and how they are split.

Written sets (evalsets/safety/*.jsonl, {"text", "label", "lost_tolerance"}) are messages people wrote for
this project. Real sets come from ../shared/data: the consumer health questions (with the few dozen that
mention a crisis labelled by hand in evalsets/safety/consumer_labels.jsonl), MedQuAD's questions and
sentences, and SciFact's abstracts. Every message falls in one split by a hash of its id or text, so a
held-out split stays held out whoever trains.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

from bot.corpus.jsonl import records

EMERGENCY_LABELS = ("overdose", "suicide", "withdrawal")
PLAIN_LABELS = ("informational", "ordinary")  # no emergency and no concern
LABELS = EMERGENCY_LABELS + ("concern",) + PLAIN_LABELS
ROOT = Path(__file__).resolve().parents[2]
EVALSETS = ROOT / "evalsets" / "safety"
SHARED = ROOT.parent / "shared" / "data"
# written by people who saw neither phrases nor model; never trained on
BLIND_SETS = ("blind43.jsonl",)
WRITTEN_SETS = (
    "written_train.jsonl",
    "written_train_a.jsonl",
    "written_train_b.jsonl",
    "written_train_c.jsonl",
    "written_train_d.jsonl",
    "written_train_e.jsonl",  # 500 short messages (1-7 words): "tonight works for me", "hes not breathing"
    # 600 everyday messages, calm questions and concern that sound like a crisis (late thanks, pets and pills)
    "written_train_f.jsonl",
    "phrases_set.jsonl",
    "blind2.jsonl",
    "blind4.jsonl",
    "blind3.jsonl",
    "blind5.jsonl",
    "blind6.jsonl",
    "blind7.jsonl",
    # blind8-20 were measured once each (README Safety has their figures), their misses read; then learned from
    "blind8.jsonl",
    "blind9.jsonl",
    "blind10.jsonl",
    "blind11.jsonl",
    "blind12.jsonl",
    "blind13.jsonl",
    "blind14.jsonl",
    "blind15.jsonl",
    "blind16.jsonl",
    "blind17.jsonl",
    "blind18.jsonl",
    "blind19.jsonl",
    "blind20.jsonl",
    "blind21.jsonl",
    "blind22.jsonl",
    "blind23.jsonl",
    "blind24.jsonl",
    "blind25.jsonl",
    "blind26.jsonl",
    "blind27.jsonl",
    "blind28.jsonl",
    "blind29.jsonl",
    "blind30.jsonl",
    "blind31.jsonl",
    "blind32.jsonl",
    "blind33.jsonl",
    "blind34.jsonl",
    "blind35.jsonl",
    "blind36.jsonl",
    "blind37.jsonl",
    "blind38.jsonl",
    "blind39.jsonl",
    "blind40.jsonl",
    "blind41.jsonl",
    "blind42.jsonl",
    # its everyday messages with a risk word in them ("that joke killed me") counted twice: they are outnumbered
    "written_train_d.jsonl",
)


@dataclass(frozen=True)
class Message:
    text: str
    label: str  # one of LABELS
    lost_tolerance: bool
    source: str  # the file, or the consumer questions' own source name
    split: str  # train, dev or test

    @property
    def target(self) -> str:
        """The model's class: informational and ordinary are both "none" to it."""
        return self.label if self.label in EMERGENCY_LABELS + ("concern",) else "none"


def split_of(key: str, train: int, dev: int) -> str:
    """train / dev / test by the first byte of a hash: the same key lands in the same split everywhere."""
    bucket = hashlib.sha256(key.encode("utf-8")).digest()[0] * 100 // 256
    return "train" if bucket < train else "dev" if bucket < train + dev else "test"


def read_set(path: Path, split: str | None = None) -> list[Message]:
    """A labelled file; `split` None splits it 80/20 into train and dev by text."""
    out = []
    for number, record in records(path, ("text", "label")):
        label = record["label"]
        if label not in LABELS:
            raise ValueError(f"{path}:{number}: unknown label {label!r} (expected one of {', '.join(LABELS)})")
        text = str(record["text"])
        out.append(
            Message(text, label, bool(record.get("lost_tolerance", False)), path.name, split or split_of(text, 80, 20))
        )
    return out


def consumer_questions(shared: Path = SHARED) -> list[Message]:
    """The 5,676 real questions: 60% train, 20% dev, 20% held out, labelled by hand where they mention a crisis.

    Split by text, not id: the same question is often in the set twice under two sources' ids.
    """
    labels = {r["id"]: r for _, r in records(EVALSETS / "consumer_labels.jsonl", ("id", "label"))}
    out = []
    for _, r in records(shared / "consumer-questions" / "questions.jsonl", ("id", "question")):
        hand = labels.get(r["id"], {})
        out.append(
            Message(
                r["question"],
                hand.get("label", "ordinary"),
                bool(hand.get("lost_tolerance", False)),
                r.get("source", "consumer"),
                split_of(" ".join(r["question"].split()), 60, 20),
            )
        )
    return out


def medquad_questions(shared: Path = SHARED, every: int = 4) -> list[Message]:
    rows = list(records(shared / "medquad" / "questions_template.jsonl", ("id", "question")))
    return [
        Message(r["question"], "ordinary", False, "medquad-questions", split_of(r["id"], 60, 20))
        for _, r in rows[::every]
    ]


def scifact_claims(shared: Path = SHARED) -> list[Message]:
    """The 300 test claims: held out whole (the model trains on abstracts' sentences instead)."""
    return [
        Message(r["question"], "ordinary", False, "scifact-claims", "test")
        for _, r in records(shared / "scifact" / "questions.jsonl", ("id", "question"))
    ]


def sentences(path: Path, source: str, limit: int, every: int) -> list[Message]:
    """Ordinary sentences of articles: odd text, so the model knows what text unlike a chat looks like."""
    out = []
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f):
            if number % every:
                continue
            text = json.loads(line).get("text", "")
            for sentence in re.split(r"(?<=[.!?])\s+|\n+", text)[:6]:
                if 30 <= len(sentence) <= 400:
                    out.append(Message(sentence, "ordinary", False, source, "train"))
            if len(out) >= limit:
                break
    return out[:limit]


QUESTION_SETS = ("sample_questions.jsonl", "sample_out_of_scope.jsonl", "dev.jsonl")


def question_sets() -> list[Message]:
    """Questions written for answer quality: short, everyday, none of them a crisis."""
    folder = EVALSETS.parent / "answers"
    return [
        Message(str(r["question"]), "ordinary", False, name, split_of(str(r["question"]), 80, 20))
        for name in QUESTION_SETS
        for _, r in records(folder / name, ("question",))
    ]


def training_messages(shared: Path = SHARED) -> list[Message]:
    """Everything the model learns from or is tuned on (train and dev splits), blind sets excluded."""
    blind = {m.text.lower() for name in BLIND_SETS for m in read_set(EVALSETS / name)}
    # independent writers sometimes write the same short message ("hi"): a blind one is never learned
    out = [m for name in WRITTEN_SETS for m in read_set(EVALSETS / name)] + question_sets()
    out = [m for m in out if m.text.lower() not in blind]
    out += consumer_questions(shared) + medquad_questions(shared)
    out += sentences(shared / "medquad" / "articles.jsonl", "medquad-sentences", 3000, 3)
    out += sentences(shared / "scifact" / "articles.jsonl", "scifact-sentences", 3000, 2)
    return out
