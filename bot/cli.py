"""The command line: `crawl`, `index`, `ask`, `chat`, `run`, `check`, `stats`, ... A thin shell over the core;
its JSON is a public contract."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Sequence

from bot.errors import BotError
from bot.config import MAX_TOP_K, Config, ConfigError
from bot.engine import build, make_analyzer, open_answerer, report_build

PROG = "python -m bot"
DEFAULT_SAFETY_SET = Path("evalsets/safety/blind7.jsonl")
ABLATIONS = ("stemming", "stopwords", "synonyms", "spelling", "titles")


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line naming what is wrong."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog=PROG, description="Answers questions about addiction treatment from a site's "
                                            "articles, quoting and citing them.")
    parser.add_argument("--env-file", help="settings file (default: .env if present)")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    index = commands.add_parser("index", help="build the index from the articles")
    index.add_argument("--corpus", type=Path, help="folder or file of articles (default: BOT_CORPUS or corpus/)")
    index.add_argument("--index", type=Path, help="where to write the index (default: BOT_INDEX or index/)")

    crawl = commands.add_parser("crawl", help="read a site's articles into the corpus (again: only what changed)")
    crawl.add_argument("site", nargs="?", help="the site's address or its sitemap's, e.g. https://www.opium.org "
                                               "(default: BOT_SITE)")
    crawl.add_argument("--corpus", type=Path, help="folder the articles are kept in (default: BOT_CORPUS or corpus/)")
    crawl.add_argument("--delay", type=float, metavar="SECONDS",
                       help="pause between two requests, 0 to 60 (default: BOT_CRAWL_DELAY or 1)")
    crawl.add_argument("--max-pages", type=int, metavar="N", help="fetch at most N pages this time")
    crawl.add_argument("--timeout", type=float, metavar="SECONDS", help="longest a request may take (default: 20)")
    crawl.add_argument("--json", action="store_true", help="print the outcome as one JSON object")

    ask = commands.add_parser("ask", help="answer a question as the bot would")
    source = ask.add_mutually_exclusive_group()
    source.add_argument("--corpus", type=Path, help="answer from these articles (indexed once, then reused)")
    source.add_argument("--index", type=Path, help="answer from this built index")
    ask.add_argument("--top-k", type=int, metavar="N", help=f"passages in the answer, 1 to {MAX_TOP_K} (default: BOT_TOP_K or 3)")
    ask.add_argument("--json", action="store_true", help="print the answer as JSON (JSON Lines with '-')")
    ask.add_argument("question", help="the question, or '-' to read one question a line from standard input")

    run = commands.add_parser("run", help="run the Telegram bot (long polling, or --webhook)")
    run.add_argument("--webhook", action="store_true", help="serve a webhook instead of long polling")
    run.add_argument("--listen", help="webhook: address to listen on (default: TELEGRAM_WEBHOOK_LISTEN)")
    run.add_argument("--port", type=int, help="webhook: port to listen on (default: TELEGRAM_WEBHOOK_PORT)")
    run.add_argument("--webhook-url", help="webhook: the public URL Telegram posts to (default: TELEGRAM_WEBHOOK_URL)")
    run.add_argument("--url-path", help="webhook: the path served (default: TELEGRAM_WEBHOOK_PATH)")
    run.add_argument("--secret-token", help="webhook: the secret every request must carry "
                                            "(default: TELEGRAM_WEBHOOK_SECRET; the environment keeps it out of ps)")

    evaluation = commands.add_parser("eval", help="measure retrieval on a labelled question set")
    evaluation.add_argument("--corpus", type=Path, required=True, help="the articles (folder or file)")
    evaluation.add_argument("--questions", type=Path, required=True,
                            help="JSON Lines of {\"id\", \"question\", \"relevant\": [article ids]}")
    evaluation.add_argument("--k", type=int, default=10, help="also report the measures at this depth")
    evaluation.add_argument("--top-k", type=int, metavar="N", default=None,
                            help=f"passages each answer is asked for, as ask --top-k (default 20, at most {MAX_TOP_K})")
    evaluation.add_argument("--json", action="store_true", help="print the figures as JSON")
    evaluation.add_argument("--without", default="", metavar="PARTS",
                            help=f"switch parts of the analysis off, comma-separated: {', '.join(ABLATIONS)}")

    calibration = commands.add_parser("calibrate", help="measure where the no-answer threshold belongs")
    calibration.add_argument("--corpus", type=Path, default=Path("corpus"), help="the articles (default: corpus/)")
    calibration.add_argument("--in-scope", type=Path, default=Path("evalsets/answers/sample_questions.jsonl"),
                             help="questions the articles answer, with their relevant articles")
    calibration.add_argument("--out-of-scope", type=Path, default=Path("evalsets/answers/sample_out_of_scope.jsonl"),
                             help="questions the articles do not answer")
    calibration.add_argument("--json", action="store_true", help="print the table as JSON")

    safety_eval = commands.add_parser("eval-safety", help="measure crisis triage on labelled sets and real text")
    safety_eval.add_argument("file", nargs="*", type=Path,
                             help="JSON Lines of {\"text\", \"label\", \"lost_tolerance\"} "
                                  f"(default: {DEFAULT_SAFETY_SET}, the last blind set measured)")
    safety_eval.add_argument("--real", choices=("test", "dev", "all", "none"), default="test",
                             help="which split of the real text (consumer questions, SciFact claims) to measure "
                                  "(default: test, the held-out one)")
    safety_eval.add_argument("--shared", type=Path, help="the shared data sets (default: ../shared/data)")
    safety_eval.add_argument("--json", action="store_true", help="print the figures as JSON")

    train_safety = commands.add_parser("train-safety", help="fit the crisis model offline (needs the train extra)")
    train_safety.add_argument("--out", type=Path, help="where to write the weights (default: the package's own)")
    train_safety.add_argument("--shared", type=Path, help="the shared data sets (default: ../shared/data)")

    check = commands.add_parser("check", help="is this deployment ready? one line a point, exit 0 when all hold")
    check.add_argument("--json", action="store_true", help='print {"ready": bool, "checks": [...]} as JSON')

    stats = commands.add_parser("stats", help="the helpful / not helpful counts (BOT_DATABASE)")
    stats.add_argument("--json", action="store_true", help='print {"feedback": {...}} as JSON')

    chat = commands.add_parser("chat", help="an interactive console session")
    chat.add_argument("--corpus", type=Path, help="folder or file of articles")
    chat.add_argument("--index", type=Path, help="a built index")
    chat.add_argument("--top-k", type=int, metavar="N", help="passages in an answer")
    return parser


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        config = Config.from_env(env_file=args.env_file)
        if getattr(args, "top_k", None) is not None and not 1 <= args.top_k <= MAX_TOP_K:
            raise ConfigError(f"--top-k must be between 1 and {MAX_TOP_K}, got {args.top_k}")
        return {"crawl": _crawl, "index": _index, "ask": _ask, "chat": _chat, "run": _run, "eval": _eval,
                "calibrate": _calibrate, "eval-safety": _eval_safety, "train-safety": _train_safety, "stats": _stats,
                "check": _check}[args.command](args, config)
    except BotError as e:
        _stderr(f"{PROG}: error: {e}")
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


def _crawl(args: argparse.Namespace, config: Config) -> int:
    import dataclasses

    from bot.corpus.crawl import crawl
    from bot.progress import progress_bar

    site = args.site or config.site
    if not site:
        raise ConfigError(f"crawl needs the site's address: {PROG} crawl https://www.opium.org (or set BOT_SITE)")
    if args.delay is not None and not 0 <= args.delay <= 60:
        raise ConfigError(f"--delay must be between 0 and 60 seconds, got {args.delay:g}")
    if args.max_pages is not None and args.max_pages < 1:
        raise ConfigError(f"--max-pages must be 1 or more, got {args.max_pages}")
    if args.timeout is not None and not 0.1 <= args.timeout <= 600:
        raise ConfigError(f"--timeout must be between 0.1 and 600 seconds, got {args.timeout:g}")
    chosen = {"delay": args.delay, "timeout": args.timeout, "max_pages": args.max_pages}
    settings = dataclasses.replace(config.crawl, **{k: v for k, v in chosen.items() if v is not None})
    report = crawl(site, args.corpus or config.corpus, settings, progress=progress_bar(enabled=not args.json))
    if args.json:
        print(json.dumps(report.as_json(), ensure_ascii=False))
        return 0
    for kind, problems in (("failed", report.failed), ("skipped", report.skipped)):
        for url, reason in problems:
            _stderr(f"{kind} {url}: {reason}")
    print(report.summary())
    return 0


def _index(args: argparse.Namespace, config: Config) -> int:
    from bot.progress import progress_bar

    corpus = args.corpus or config.corpus
    index = args.index or config.index
    _, report = build(config, corpus, index, make_analyzer(config), say=_stderr, progress=progress_bar())
    report_build(report, _stderr)
    print(f"{report.summary()} -> {index}")
    return 0


def _ask(args: argparse.Namespace, config: Config) -> int:
    answerer = open_answerer(config, args.corpus, args.index, say=_stderr)
    questions = (line.rstrip("\r\n") for line in sys.stdin) if args.question == "-" else [args.question]
    for question in questions:
        answer = answerer.answer(question, args.top_k)
        if args.json:
            print(json.dumps(answer.to_json(), ensure_ascii=False), flush=True)
        else:
            print(answer.message + ("\n" if args.question == "-" else ""), flush=True)
    return 0


def _chat(args: argparse.Namespace, config: Config) -> int:
    answerer = open_answerer(config, args.corpus, args.index, say=_stderr)
    interactive = sys.stdin.isatty()
    if interactive:
        print("Ask a question about addiction or its treatment (Ctrl-D or 'quit' to leave).")
    while True:
        try:
            question = input("> " if interactive else "")
        except EOFError:
            break
        if question.strip().lower() in ("quit", "exit"):
            break
        print(answerer.answer(question, args.top_k).message + "\n", flush=True)
    return 0


def _run(args: argparse.Namespace, config: Config) -> int:
    import dataclasses
    import logging

    from bot.logs import configure_logging

    overrides = {"webhook_listen": args.listen, "webhook_port": args.port, "webhook_url": args.webhook_url,
                 "webhook_path": args.url_path.strip("/") if args.url_path else None,
                 "webhook_secret": args.secret_token}
    telegram = dataclasses.replace(config.telegram, **{k: v for k, v in overrides.items() if v is not None})
    config = dataclasses.replace(config, telegram=telegram)
    token = telegram.require_token()
    if args.webhook:
        telegram.require_webhook()
    configure_logging(config.log_level, secrets=[token, telegram.webhook_secret])
    from bot.telegram.app import build_application
    from bot.telegram.running import run

    from bot.refresh import first_crawl

    log = logging.getLogger("bot")
    first_crawl(config, log.info)  # BOT_SITE and a corpus never crawled: read the site first
    answerer = open_answerer(config, say=log.info)
    run(config, build_application(config, answerer), webhook=args.webhook)
    return 0


def _check(args: argparse.Namespace, config: Config) -> int:
    from bot.checks import run_checks

    checks = run_checks(config)
    ready = all(c.ok for c in checks)
    if args.json:
        print(json.dumps({"ready": ready, "checks": [c.to_json() for c in checks]}, ensure_ascii=False))
    else:
        print("\n".join(c.line() for c in checks))
        print("ready to serve" if ready else "not ready: fix the lines marked FAIL")
    return 0 if ready else 1


def _stats(args: argparse.Namespace, config: Config) -> int:
    from bot.state.feedback import FeedbackStore, empty_counts

    if config.database.exists() or config.feedback_file.is_file():  # a look at the counts creates no database
        counts = FeedbackStore.open(config.database, legacy=config.feedback_file).counts()
    else:
        counts = empty_counts()
    if args.json:
        print(json.dumps({"feedback": counts}, ensure_ascii=False))
        return 0
    print(f"feedback: {counts['helpful']} helpful, {counts['unhelpful']} not helpful ({config.database})")
    for name, pair in sorted(counts["articles"].items(), key=lambda item: (-sum(item[1].values()), item[0])):
        print(f"  {pair['helpful']:6} helpful {pair['unhelpful']:6} not helpful  {name}")
    return 0


def _eval_safety(args: argparse.Namespace, config: Config) -> int:
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
        rows = [m for m in data.consumer_questions(shared) + data.scifact_claims(shared)
                if args.real == "all" or m.split == args.real]
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
            print(f"  {name:28} {d['messages']:5} messages: {sum(report.alarms.values())} emergency "
                  f"({d['emergency_rate']:.2%}), concern or above {d['concern_rate']:.2%}")
            for label, text, _ in report.false_alarms:
                print(f"    emergency [{label}]: {text[:160]}")
    return 0


def _shared_data(args: argparse.Namespace, hint: str) -> Path:
    from bot.safety import data

    shared = args.shared or data.SHARED
    if not (shared / "consumer-questions" / "questions.jsonl").is_file():
        raise ConfigError(f"the shared data sets are not at {shared} ({hint})")
    return shared


def _train_safety(args: argparse.Namespace, config: Config) -> int:
    from bot.engine import safety_phrases
    from bot.safety.training import default_folder, has_scikit_learn, train

    if not has_scikit_learn():
        raise ConfigError('train-safety needs scikit-learn: pip install -e ".[train]"')

    shared = _shared_data(args, "--shared")
    out = args.out or default_folder()
    meta = train(out, safety_phrases(config), shared, say=_stderr)
    print(f"wrote {out}: thresholds {meta['thresholds']}; dev split: {meta['dev']['emergencies_caught']:.1%} of "
          f"emergencies caught, {meta['dev']['real_emergency_rate']:.2%} emergency replies on real text")
    return 0


def _without(config: Config, parts: str) -> Config:
    """The configuration with parts of the analysis switched off, for an ablation."""
    import dataclasses

    chosen = [p.strip() for p in parts.split(",") if p.strip()]
    unknown = [p for p in chosen if p not in ABLATIONS]
    if unknown:
        raise ConfigError(f"--without: unknown part {unknown[0]!r} (choose from {', '.join(ABLATIONS)})")
    analyzer = dataclasses.replace(config.analyzer, stemmer="none" if "stemming" in chosen else config.analyzer.stemmer,
                                   stopwords="stopwords" not in chosen and config.analyzer.stopwords,
                                   synonyms="synonyms" not in chosen and config.analyzer.synonyms)
    index = dataclasses.replace(config.index_settings, index_titles="titles" not in chosen)
    answer = dataclasses.replace(config.answer, spelling="spelling" not in chosen)
    return dataclasses.replace(config, analyzer=analyzer, index_settings=index, answer=answer)


def _eval(args: argparse.Namespace, config: Config) -> int:
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
    print(f"{args.questions}: {figures['questions']} questions over {args.corpus}"
          + (f" (without {args.without})" if args.without else ""))
    print(f"  {'':24}" + "".join(f"{n:>10}" for n in names))
    print(f"  {f'answers (ask --top-k {depth})':24}" + "".join(f"{figures[n]:10.4f}" for n in names))
    if "retrieval_only" in figures:
        print(f"  {'retrieval only':24}" + "".join(f"{figures['retrieval_only'][n]:10.4f}" for n in names))
    if figures["questions"]:
        print(f"  in scope answered {figures['answered']:.1%}, right article first {figures['right_first']:.1%}")
    if "phrased" in figures:
        print(f"  top passage holds the answer {figures['phrase_first']:.1%} "
              f"(in the first three {figures['phrase_top3']:.1%}) of {figures['phrased']}")
    if "out_of_scope" in figures:
        print(f"  out of scope declined {figures['declined']:.1%} of {figures['out_of_scope']}")
    print(f"  emergency replies {figures['emergency']:.1%}")
    return 0


def _calibrate(args: argparse.Namespace, config: Config) -> int:
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
    print("BOT_MIN_KEYNESS  BOT_MIN_COVERAGE  in scope, right article first  in scope, answered  out of scope, answered")
    for row in result["rows"]:
        mark = "  <- chosen" if (row["threshold"], row["keyness"]) == (result["chosen"], result["chosen_keyness"]) else ""
        print(f"{row['keyness']:15.1f}  {row['threshold']:16.2f}  {row['in_scope_right']:29.1%}"
              f"  {row['in_scope_answered']:18.1%}  {row['out_of_scope_answered']:22.1%}{mark}")
    print(f"chosen: BOT_MIN_COVERAGE={result['chosen']} BOT_MIN_KEYNESS={result['chosen_keyness']} "
          f"(now {config.answer.min_coverage} and {config.answer.min_keyness})")
    return 0
