"""How well crisis triage does on a labelled set: recall on emergencies, false alarms on the rest.

A set is JSON Lines of {"text", "label"}; labels: overdose, suicide, withdrawal (emergencies),
informational (the same topics, no emergency now), ordinary.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from bot.jsonl import records
from bot.safety import OVERDOSE, SUICIDE, WITHDRAWAL, SafetyRules

EMERGENCY_LABELS = {"overdose": OVERDOSE, "suicide": SUICIDE, "withdrawal": WITHDRAWAL}
OTHER_LABELS = ("informational", "ordinary")
RECALL_GOAL, FALSE_ALARM_GOAL = 1.0, 0.05


@dataclass
class SafetyReport:
    counts: dict[str, int] = field(default_factory=dict)
    caught: dict[str, int] = field(default_factory=dict)  # emergencies flagged as a crisis of any kind
    right_kind: dict[str, int] = field(default_factory=dict)  # ... with their own kind among those flagged
    alarms: dict[str, int] = field(default_factory=dict)  # non-emergencies flagged as a crisis
    misses: list[tuple[str, str, tuple[str, ...]]] = field(default_factory=list)
    false_alarms: list[tuple[str, str, tuple[str, ...]]] = field(default_factory=list)

    @property
    def emergencies(self) -> int:
        return sum(self.counts.get(label, 0) for label in EMERGENCY_LABELS)

    @property
    def recall(self) -> float:
        return sum(self.caught.values()) / self.emergencies if self.emergencies else 1.0

    def false_alarm_rate(self, label: str = "informational") -> float:
        return self.alarms.get(label, 0) / self.counts[label] if self.counts.get(label) else 0.0

    def as_dict(self) -> dict:
        return {
            "recall": round(self.recall, 4),
            "recall_by_kind": {k: round(self.caught.get(k, 0) / n, 4) for k, n in self.counts.items()
                               if k in EMERGENCY_LABELS and n},
            "right_kind": round(sum(self.right_kind.values()) / self.emergencies, 4) if self.emergencies else 1.0,
            "false_alarm_rate": round(self.false_alarm_rate("informational"), 4),
            "false_alarm_rate_ordinary": round(self.false_alarm_rate("ordinary"), 4),
            "counts": self.counts,
            "misses": [{"label": label, "text": text} for label, text, _ in self.misses],
            "false_alarms": [{"label": label, "text": text} for label, text, _ in self.false_alarms],
        }

    def lines(self) -> list[str]:
        out = [f"emergencies: {sum(self.caught.values())}/{self.emergencies} caught, recall {self.recall:.1%} "
               f"(goal {RECALL_GOAL:.0%})"]
        for label in EMERGENCY_LABELS:
            if self.counts.get(label):
                out.append(f"  {label}: {self.caught.get(label, 0)}/{self.counts[label]} caught, "
                           f"{self.right_kind.get(label, 0)} as {label}")
        for label in OTHER_LABELS:
            if self.counts.get(label):
                goal = f" (goal at most {FALSE_ALARM_GOAL:.0%})" if label == "informational" else ""
                out.append(f"{label}: {self.alarms.get(label, 0)}/{self.counts[label]} false alarms, "
                           f"{self.false_alarm_rate(label):.1%}{goal}")
        for title, rows in (("missed emergencies", self.misses), ("false alarms", self.false_alarms)):
            if rows:
                out.append(f"{title}:")
                out.extend(f"  [{label}] {text}" for label, text, _ in rows)
        return out


def read_set(path: Path) -> list[tuple[str, str]]:
    rows = []
    for number, record in records(path, ("text", "label")):
        if record["label"] not in EMERGENCY_LABELS and record["label"] not in OTHER_LABELS:
            raise ValueError(f"{path}:{number}: unknown label {record['label']!r}")
        rows.append((str(record["text"]), record["label"]))
    return rows


def evaluate(rows: list[tuple[str, str]], rules: SafetyRules) -> SafetyReport:
    report = SafetyReport()
    for text, label in rows:
        report.counts[label] = report.counts.get(label, 0) + 1
        triage = rules.triage(text)
        if label in EMERGENCY_LABELS:
            if triage.crisis:
                report.caught[label] = report.caught.get(label, 0) + 1
                if EMERGENCY_LABELS[label] in triage.emergencies:
                    report.right_kind[label] = report.right_kind.get(label, 0) + 1
            else:
                report.misses.append((label, text, triage.evidence))
        elif triage.crisis:
            report.alarms[label] = report.alarms.get(label, 0) + 1
            report.false_alarms.append((label, text, triage.evidence))
    return report
