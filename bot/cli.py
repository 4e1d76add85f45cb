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
from bot.measure_commands import (
    ABLATIONS,
    DEFAULT_SAFETY_SET,
    calibrate_thresholds,
    eval_answers,
    eval_safety,
    train_safety,
)

PROG = "python -m bot"


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line naming what is wrong."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        description="Answers questions about addiction treatment from a site's articles, quoting and citing them.",
    )
    parser.add_argument("--env-file", help="settings file (default: .env if present)")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    index = commands.add_parser("index", help="build the index from the articles")
    index.add_argument("--corpus", type=Path, help="folder or file of articles (default: BOT_CORPUS or corpus/)")
    index.add_argument("--index", type=Path, help="where to write the index (default: BOT_INDEX or index/)")

    crawl = commands.add_parser("crawl", help="read a site's articles into the corpus (again: only what changed)")
    crawl.add_argument(
        "site", nargs="?", help="the site's address or its sitemap's, e.g. https://www.opium.org (default: BOT_SITE)"
    )
    crawl.add_argument("--corpus", type=Path, help="folder the articles are kept in (default: BOT_CORPUS or corpus/)")
    crawl.add_argument(
        "--delay",
        type=float,
        metavar="SECONDS",
        help="pause between two requests, 0 to 60 (default: BOT_CRAWL_DELAY or 1)",
    )
    crawl.add_argument("--max-pages", type=int, metavar="N", help="fetch at most N pages this time")
    crawl.add_argument("--timeout", type=float, metavar="SECONDS", help="longest a request may take (default: 20)")
    crawl.add_argument("--json", action="store_true", help="print the outcome as one JSON object")

    ask = commands.add_parser("ask", help="answer a question as the bot would")
    source = ask.add_mutually_exclusive_group()
    source.add_argument("--corpus", type=Path, help="answer from these articles (indexed once, then reused)")
    source.add_argument("--index", type=Path, help="answer from this built index")
    ask.add_argument(
        "--top-k", type=int, metavar="N", help=f"passages in the answer, 1 to {MAX_TOP_K} (default: BOT_TOP_K or 3)"
    )
    ask.add_argument("--json", action="store_true", help="print the answer as JSON (JSON Lines with '-')")
    ask.add_argument("question", help="the question, or '-' to read one question a line from standard input")

    run = commands.add_parser("run", help="run the Telegram bot (long polling, or --webhook)")
    run.add_argument("--webhook", action="store_true", help="serve a webhook instead of long polling")
    run.add_argument("--listen", help="webhook: address to listen on (default: TELEGRAM_WEBHOOK_LISTEN)")
    run.add_argument("--port", type=int, help="webhook: port to listen on (default: TELEGRAM_WEBHOOK_PORT)")
    run.add_argument("--webhook-url", help="webhook: the public URL Telegram posts to (default: TELEGRAM_WEBHOOK_URL)")
    run.add_argument("--url-path", help="webhook: the path served (default: TELEGRAM_WEBHOOK_PATH)")
    run.add_argument(
        "--secret-token",
        help="webhook: the secret every request must carry "
        "(default: TELEGRAM_WEBHOOK_SECRET; the environment keeps it out of ps)",
    )

    evaluation = commands.add_parser("eval", help="measure retrieval on a labelled question set")
    evaluation.add_argument("--corpus", type=Path, required=True, help="the articles (folder or file)")
    evaluation.add_argument(
        "--questions", type=Path, required=True, help='JSON Lines of {"id", "question", "relevant": [article ids]}'
    )
    evaluation.add_argument("--k", type=int, default=10, help="also report the measures at this depth")
    evaluation.add_argument(
        "--top-k",
        type=int,
        metavar="N",
        default=None,
        help=f"passages each answer is asked for, as ask --top-k (default 20, at most {MAX_TOP_K})",
    )
    evaluation.add_argument("--json", action="store_true", help="print the figures as JSON")
    evaluation.add_argument(
        "--without",
        default="",
        metavar="PARTS",
        help=f"switch parts of the analysis off, comma-separated: {', '.join(ABLATIONS)}",
    )

    calibration = commands.add_parser("calibrate", help="measure where the no-answer threshold belongs")
    calibration.add_argument("--corpus", type=Path, default=Path("corpus"), help="the articles (default: corpus/)")
    calibration.add_argument(
        "--in-scope",
        type=Path,
        default=Path("evalsets/answers/sample_questions.jsonl"),
        help="questions the articles answer, with their relevant articles",
    )
    calibration.add_argument(
        "--out-of-scope",
        type=Path,
        default=Path("evalsets/answers/sample_out_of_scope.jsonl"),
        help="questions the articles do not answer",
    )
    calibration.add_argument("--json", action="store_true", help="print the table as JSON")

    safety_eval = commands.add_parser("eval-safety", help="measure crisis triage on labelled sets and real text")
    safety_eval.add_argument(
        "file",
        nargs="*",
        type=Path,
        help='JSON Lines of {"text", "label", "lost_tolerance"} '
        f"(default: {DEFAULT_SAFETY_SET}, the last blind set measured)",
    )
    safety_eval.add_argument(
        "--real",
        choices=("test", "dev", "all", "none"),
        default="test",
        help="which split of the real text (consumer questions, SciFact claims) to measure "
        "(default: test, the held-out one)",
    )
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
        return {
            "crawl": _crawl,
            "index": _index,
            "ask": _ask,
            "chat": _chat,
            "run": _run,
            "eval": eval_answers,
            "calibrate": calibrate_thresholds,
            "eval-safety": eval_safety,
            "train-safety": train_safety,
            "stats": _stats,
            "check": _check,
        }[args.command](args, config)
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

    overrides = {
        "webhook_listen": args.listen,
        "webhook_port": args.port,
        "webhook_url": args.webhook_url,
        "webhook_path": args.url_path.strip("/") if args.url_path else None,
        "webhook_secret": args.secret_token,
    }
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
