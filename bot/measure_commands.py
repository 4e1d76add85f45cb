"""The commands that measure and train: `eval` (answers on labelled questions), `calibrate` (the no-answer
thresholds), `eval-safety` (crisis triage on labelled sets and real text) and `train-safety` (the crisis model).

Apart from bot/cli.py, which parses every command's options and runs the others: each function here takes
the parsed arguments and the configuration, prints its figures, and returns the exit status.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bot.config import MAX_TOP_K, Config, ConfigError
from bot.engine import open_answerer

DEFAULT_SAFETY_SET = Path("evalsets/safety/blind43.jsonl")
ABLATIONS = ("stemming", "stopwords", "synonyms", "spelling", "titles", "meaning")


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def eval_safety(args: argparse.Namespace, config: Config) -> int:
    from bot.engine import safety_rules
    from bot.safety import data
    from bot.safety.evaluation import by_source, evaluate

    files = args.file or [DEFAULT_SAFETY_SET]
    triager = safety_rules(config)
    sets = {}
    for path in files:
        if not path.is_file():
            raise ConfigError(f"labelled set not found: {path}")
        try:
            sets[str(path)] = evaluate(data.read_set(path, split="test"), triager)
        except ValueError as e:
            raise ConfigError(str(e)) from None
    real = {}
    if args.real != "none":
        shared = _shared_data(args, "--shared, or --real none")
        rows = [
            m
            for m in data.consumer_questions(shared) + data.scifact_claims(shared)
            if args.real == "all" or m.split == args.real
        ]
        real = by_source(rows, triager)
    if args.json:
        out = sets[str(files[0])].as_dict()  # one file's figures at the top, as before
        out["sets"] = {name: report.as_dict() for name, report in sets.items()}
        out["real"] = {name: report.as_dict() for name, report in sorted(real.items())}
        print(json.dumps(out, ensure_ascii=False))
        return 0
    for name, report in sets.items():
        print(f"{name}: {sum(report.counts.values())} messages")
        print("\n".join("  " + line for line in report.lines()))
    if real:
        print(f"real text ({args.real} split): emergency replies (goal at most 0.2%) and concern (goal at most 2%)")
        for name, report in sorted(real.items()):
            d = report.as_dict()
            print(
                f"  {name:28} {d['messages']:5} messages: {sum(report.alarms.values())} emergency "
                f"({d['emergency_rate']:.2%}), concern or above {d['concern_rate']:.2%}"
            )
            for label, text, _ in report.false_alarms:
                print(f"    emergency [{label}]: {text[:160]}")
    return 0


def _shared_data(args: argparse.Namespace, hint: str) -> Path:
    from bot.safety import data

    shared = args.shared or data.SHARED
    if not (shared / "consumer-questions" / "questions.jsonl").is_file():
        raise ConfigError(f"the shared data sets are not at {shared} ({hint})")
    return shared


def train_safety(args: argparse.Namespace, config: Config) -> int:
    from bot.engine import safety_phrases
    from bot.safety.training import default_folder, has_scikit_learn, train

    if not has_scikit_learn():
        raise ConfigError('train-safety needs scikit-learn: pip install -e ".[train]"')

    shared = _shared_data(args, "--shared")
    out = args.out or default_folder()
    meta = train(out, safety_phrases(config), shared, say=_stderr)
    print(
        f"wrote {out}: thresholds {meta['thresholds']}; dev split: {meta['dev']['emergencies_caught']:.1%} of "
        f"emergencies caught, {meta['dev']['real_emergency_rate']:.2%} emergency replies on real text"
    )
    return 0


def _without(config: Config, parts: str) -> Config:
    """The configuration with parts of the analysis switched off, for an ablation."""
    import dataclasses

    chosen = [p.strip() for p in parts.split(",") if p.strip()]
    unknown = [p for p in chosen if p not in ABLATIONS]
    if unknown:
        raise ConfigError(f"--without: unknown part {unknown[0]!r} (choose from {', '.join(ABLATIONS)})")
    analyzer = dataclasses.replace(
        config.analyzer,
        stemmer="none" if "stemming" in chosen else config.analyzer.stemmer,
        stopwords="stopwords" not in chosen and config.analyzer.stopwords,
        synonyms="synonyms" not in chosen and config.analyzer.synonyms,
    )
    index = dataclasses.replace(config.index_settings, index_titles="titles" not in chosen)
    answer = dataclasses.replace(config.answer, spelling="spelling" not in chosen)
    semantic = "off" if "meaning" in chosen else config.semantic
    return dataclasses.replace(config, analyzer=analyzer, index_settings=index, answer=answer, semantic=semantic)


def eval_answers(args: argparse.Namespace, config: Config) -> int:
    from bot.answering.evaluation import DEPTH, MEASURES, evaluate, read_questions

    if not args.questions.is_file():
        raise ConfigError(f"questions not found: {args.questions}")
    if not 1 <= args.k <= 1000:
        raise ConfigError(f"--k must be between 1 and 1000, got {args.k}")
    depth = DEPTH if args.top_k is None else args.top_k
    if not 1 <= depth <= MAX_TOP_K:
        raise ConfigError(f"--top-k must be between 1 and {MAX_TOP_K}, got {depth}")
    config = _without(config, args.without)
    try:
        questions = read_questions(args.questions)
    except ValueError as e:
        raise ConfigError(str(e)) from None
    answerer = open_answerer(config, corpus=args.corpus, say=_stderr)
    figures = evaluate(answerer, questions, args.k, depth)
    if args.json:
        print(json.dumps(figures))
        return 0
    names = MEASURES + tuple(n for n in figures.get("retrieval_only", {}) if n not in MEASURES)
    print(
        f"{args.questions}: {figures['questions']} questions over {args.corpus}"
        + (f" (without {args.without})" if args.without else "")
    )
    print(f"  {'':24}" + "".join(f"{n:>10}" for n in names))
    print(f"  {f'answers (ask --top-k {depth})':24}" + "".join(f"{figures[n]:10.4f}" for n in names))
    if "retrieval_only" in figures:
        print(f"  {'retrieval only':24}" + "".join(f"{figures['retrieval_only'][n]:10.4f}" for n in names))
    if figures["questions"]:
        print(f"  in scope answered {figures['answered']:.1%}, right article first {figures['right_first']:.1%}")
    if "phrased" in figures:
        print(
            f"  top passage holds the answer {figures['phrase_first']:.1%} "
            f"(in the first three {figures['phrase_top3']:.1%}) of {figures['phrased']}"
        )
    if "out_of_scope" in figures:
        print(f"  out of scope declined {figures['declined']:.1%} of {figures['out_of_scope']}")
    print(f"  emergency replies {figures['emergency']:.1%}")
    return 0


def calibrate_thresholds(args: argparse.Namespace, config: Config) -> int:
    from bot.answering.calibration import calibrate
    from bot.answering.evaluation import read_questions

    sets = []
    for path in (args.in_scope, args.out_of_scope):
        if not path.is_file():
            raise ConfigError(f"questions not found: {path}")
        try:
            sets.append(read_questions(path))
        except ValueError as e:
            raise ConfigError(str(e)) from None
    answerer = open_answerer(config, corpus=args.corpus, say=_stderr)
    result = calibrate(answerer, sets[0], sets[1])
    if args.json:
        print(json.dumps(result))
        return 0
    print(f"{result['in_scope']} in-scope and {result['out_of_scope']} out-of-scope questions over {args.corpus}")
    print(
        "BOT_MIN_KEYNESS  BOT_MIN_COVERAGE  in scope, right article first  in scope, answered  out of scope, answered"
    )
    for row in result["rows"]:
        mark = (
            "  <- chosen" if (row["threshold"], row["keyness"]) == (result["chosen"], result["chosen_keyness"]) else ""
        )
        print(
            f"{row['keyness']:15.1f}  {row['threshold']:16.2f}  {row['in_scope_right']:29.1%}"
            f"  {row['in_scope_answered']:18.1%}  {row['out_of_scope_answered']:22.1%}{mark}"
        )
    print(
        f"chosen: BOT_MIN_COVERAGE={result['chosen']} BOT_MIN_KEYNESS={result['chosen_keyness']} "
        f"(now {config.answer.min_coverage} and {config.answer.min_keyness})"
    )
    return 0
