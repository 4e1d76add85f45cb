"""`python -m bot train-safety`: fit the crisis model offline and write its weights into the package.

scikit-learn is needed here only (`pip install -e ".[train]"`); serving reads the arrays it writes. The
model learns from the train split (written messages and real text), its thresholds are chosen on the dev
split, and its figures on the held-out test split are written beside the weights.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from importlib import resources
from pathlib import Path

import numpy as np

from bot.safety.data import EMERGENCY_LABELS, PLAIN_LABELS, SHARED, Message, training_messages
from bot.safety.evaluation import SafetyReport
from bot.safety.features import grams
from bot.safety.model import CLASSES, SafetyModel
from bot.safety.rules import SafetyRules
from bot.safety.triage import CONCERN, DEFAULT_THRESHOLDS, decide

C = 32.0  # inverse regularisation: chosen on the dev split among 1, 4, 8, 16, 32 and 64 (32 since blind31 joined)
MAX_FEATURES = 60000
BALANCE = 1.0  # how much rarer classes weigh (see class_weights)
GRID = tuple(round(0.05 * i, 2) for i in range(4, 20))
MIN_EMERGENCY = 0.7  # below it the model alone alarms on everyday phrases ("my veins collapsed")
# what the thresholds must keep on the dev split (the goals are tighter on real text than the issue's)
REAL_EMERGENCY_RATE, REAL_CONCERN_RATE, REAL_TOLERANCE_RATE = 0.0015, 0.012, 0.003
WRITTEN_FALSE_EMERGENCY, WRITTEN_FALSE_CONCERN, WRITTEN_FALSE_TOLERANCE = 0.05, 0.08, 0.06
CONCERN_AS_EMERGENCY = 0.25  # where concern ends and an emergency begins, writers disagree


def _is_real(m: Message) -> bool:
    """Real text carries its data set's source name; written messages the name of their file."""
    return not m.source.endswith(".jsonl")


def has_scikit_learn() -> bool:
    import importlib.util

    return importlib.util.find_spec("sklearn") is not None


def class_weights(targets: list[str], power: float = BALANCE) -> dict[str, float]:
    """Rare classes weigh more, by (share of the largest class) ** power: 1 is scikit-learn's "balanced",
    which lets a few hundred emergencies outweigh thousands of everyday messages on words they share."""
    counts = Counter(targets)
    top = max(counts.values())
    return {k: (top / n) ** power for k, n in counts.items()}


def fit_sklearn(texts: list[str], targets: list[str], tolerance: list[bool], c: float = C, power: float = BALANCE):
    """The scikit-learn objects: the n-gram weighting, the classes, the lost-tolerance head."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    vectorizer = TfidfVectorizer(analyzer=grams, sublinear_tf=True, min_df=2, max_features=MAX_FEATURES)
    x = vectorizer.fit_transform(texts)
    classes = LogisticRegression(C=c, class_weight=class_weights(targets, power), max_iter=3000).fit(x, targets)
    missing = [k for k in CLASSES if k not in classes.classes_]
    if missing:
        raise ValueError(f"no training message is labelled {missing[0]!r}")
    lost = LogisticRegression(C=c, class_weight="balanced", max_iter=3000).fit(x, tolerance)
    return vectorizer, classes, lost


def export(vectorizer, classes, lost) -> tuple[list[str], np.ndarray, list[float]]:
    """The fitted objects as what SafetyModel reads: n-grams by column, idf and weights, intercepts."""
    vocabulary = [""] * len(vectorizer.vocabulary_)
    for gram, column in vectorizer.vocabulary_.items():
        vocabulary[column] = gram
    order = [list(classes.classes_).index(k) for k in CLASSES]
    weights = np.column_stack([vectorizer.idf_, classes.coef_[order].T, lost.coef_[0]]).astype(np.float32)
    intercept = classes.intercept_[order].tolist() + [float(lost.intercept_[0])]
    return vocabulary, weights, intercept


def _reports(rows, readings, thresholds) -> dict[str, SafetyReport]:
    """What triage says at these thresholds, on real text, on written messages, and on both."""
    reports = {"real": SafetyReport(), "written": SafetyReport(), "all": SafetyReport()}
    for m, (rules, model) in zip(rows, readings):
        t = decide(rules, model, thresholds)
        reports["real" if _is_real(m) else "written"].add(m, t)
        reports["all"].add(m, t)
    return reports


def _within_limits(r: dict[str, SafetyReport]) -> bool:
    real, written, both = r["real"], r["written"], r["all"]
    return (
        real.rate(real.alarms, PLAIN_LABELS) <= REAL_EMERGENCY_RATE
        and written.rate(written.alarms, PLAIN_LABELS) <= WRITTEN_FALSE_EMERGENCY
        and both.rate(both.alarms, (CONCERN,)) <= CONCERN_AS_EMERGENCY
        and real.rate(real.concerns, PLAIN_LABELS) <= REAL_CONCERN_RATE
        and written.rate(written.concerns, PLAIN_LABELS) <= WRITTEN_FALSE_CONCERN
        and real.false_tolerance <= REAL_TOLERANCE_RATE
        and written.false_tolerance <= WRITTEN_FALSE_TOLERANCE
    )


def choose_thresholds(rows, readings) -> dict[str, float]:
    """The lowest thresholds (most caught) whose false alarms on the dev split stay within the limits."""
    t = dict(DEFAULT_THRESHOLDS, emergency=0.99, weak=0.99, concern=0.99, lost_tolerance=0.99)
    for name in ("emergency", "weak", "concern", "lost_tolerance"):
        for value in GRID:
            if name == "emergency" and value < MIN_EMERGENCY:
                continue
            trial = dict(t, **{name: value})
            if name == "emergency":
                trial["weak"] = value
            if _within_limits(_reports(rows, readings, trial)):
                t = trial
                break
    return t


def summary(r: dict[str, SafetyReport]) -> dict:
    real, written, both = r["real"], r["written"], r["all"]
    return {
        "emergencies_caught": round(both.rate(both.caught, EMERGENCY_LABELS), 4),
        "right_kind": round(both.rate(both.right_kind, EMERGENCY_LABELS), 4),
        "concern_at_least": round(both.rate(both.concerns, (CONCERN,)), 4),
        "real_emergency_rate": round(real.rate(real.alarms, PLAIN_LABELS), 4),
        "real_concern_rate": round(real.rate(real.concerns, PLAIN_LABELS), 4),
        "written_false_emergency": round(written.rate(written.alarms, PLAIN_LABELS), 4),
        "lost_tolerance_caught": round(both.tolerance[0] / both.tolerance[1], 4) if both.tolerance[1] else 0.0,
        "counts": dict(both.counts),
    }


def train(
    out: Path, rules: SafetyRules, shared: Path = SHARED, c: float = C, say=print, power: float = BALANCE
) -> dict:
    started = time.monotonic()
    messages = training_messages(shared)
    say(f"{len(messages)} messages; reading them as the rules do")
    readings_rules = [rules.read(m.text) for m in messages]
    train_rows = [(m, r) for m, r in zip(messages, readings_rules) if m.split == "train"]
    say(f"fitting on {len(train_rows)} (train split), C={c}")
    vocabulary, weights, intercept = export(
        *fit_sklearn(
            [r.text for _, r in train_rows],
            [m.target for m, _ in train_rows],
            [m.lost_tolerance for m, _ in train_rows],
            c,
            power,
        )
    )
    meta = {"intercept": intercept, "thresholds": dict(DEFAULT_THRESHOLDS)}
    model = SafetyModel(vocabulary, weights, meta)
    dev = [(m, r) for m, r in zip(messages, readings_rules) if m.split == "dev"]
    dev_readings = [(r, model.read(r.text) if (r.cues or r.tolerance_cue) else None) for _, r in dev]
    thresholds = choose_thresholds([m for m, _ in dev], dev_readings)
    test = [(m, r) for m, r in zip(messages, readings_rules) if m.split == "test"]
    test_readings = [(r, model.read(r.text) if (r.cues or r.tolerance_cue) else None) for _, r in test]
    meta.update(
        {
            "thresholds": thresholds,
            "c": c,
            "balance": power,
            "max_features": MAX_FEATURES,
            "classes": list(CLASSES),
            "trained_on": dict(Counter(f"{m.source}:{m.target}" for m, _ in train_rows)),
            "dev": summary(_reports([m for m, _ in dev], dev_readings, thresholds)),
            "test_real": summary(_reports([m for m, _ in test], test_readings, thresholds)),
            "seconds": round(time.monotonic() - started, 1),
        }
    )
    out.mkdir(parents=True, exist_ok=True)
    (out / "vocabulary.json").write_text(json.dumps(vocabulary, ensure_ascii=False), encoding="utf-8")
    np.save(out / "weights.npy", weights, allow_pickle=False)
    (out / "meta.json").write_text(json.dumps(meta, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return meta


def default_folder() -> Path:
    return Path(str(resources.files("bot.data").joinpath("safety_model")))
