"""The command line: `index`, `ask`, `chat`. A thin shell over the core; its JSON is a public contract."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Sequence

from bot.analysis import Analyzer
from bot.config import Config, ConfigError
from bot.corpus import CorpusError
from bot.engine import open_answerer, report_build
from bot.index import IndexLoadError, build_index

PROG = "python -m bot"
DEFAULT_SAFETY_SET = Path("tests/data/safety_messages.jsonl")


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

    ask = commands.add_parser("ask", help="answer a question as the bot would")
    source = ask.add_mutually_exclusive_group()
    source.add_argument("--corpus", type=Path, help="answer from these articles (indexed once, then reused)")
    source.add_argument("--index", type=Path, help="answer from this built index")
    ask.add_argument("--top-k", type=int, metavar="N", help="passages in the answer (default: BOT_TOP_K or 3)")
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

    safety_eval = commands.add_parser("eval-safety", help="measure crisis triage on a labelled set")
    safety_eval.add_argument("file", nargs="?", type=Path, default=DEFAULT_SAFETY_SET,
                             help=f"JSON Lines of {{\"text\", \"label\"}} (default: {DEFAULT_SAFETY_SET})")
    safety_eval.add_argument("--json", action="store_true", help="print the figures as JSON")

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
        if getattr(args, "top_k", None) is not None and not 1 <= args.top_k <= 10:
            raise ConfigError(f"--top-k must be between 1 and 10, got {args.top_k}")
        return {"index": _index, "ask": _ask, "chat": _chat, "run": _run,
                "eval-safety": _eval_safety}[args.command](args, config)
    except (ConfigError, CorpusError, IndexLoadError) as e:
        _stderr(f"{PROG}: error: {e}")
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


def _index(args: argparse.Namespace, config: Config) -> int:
    corpus = args.corpus or config.corpus
    index = args.index or config.index
    _, report = build_index(corpus, index, Analyzer(config.analyzer), config.index_settings)
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
    from bot.telegram_app import build_application, run

    log = logging.getLogger("bot")
    answerer = open_answerer(config, say=log.info)
    run(config, build_application(config, answerer), webhook=args.webhook)
    return 0


def _eval_safety(args: argparse.Namespace, config: Config) -> int:
    from bot.engine import safety_rules
    from bot.safety_eval import evaluate, read_set

    if not args.file.is_file():
        raise ConfigError(f"labelled set not found: {args.file}")
    try:
        rows = read_set(args.file)
    except ValueError as e:
        raise ConfigError(str(e)) from None
    report = evaluate(rows, safety_rules(config))
    if args.json:
        print(json.dumps(report.as_dict(), ensure_ascii=False))
    else:
        print(f"{args.file}: {len(rows)} messages")
        print("\n".join(report.lines()))
    return 0
