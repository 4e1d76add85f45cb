"""The layout's rules, checked on the source: dependencies run one way along the data's path.

corpus -> search -> answering -> rendering; safety beside search; telegram and state at the edge; text (the
one normaliser, fuzzy matcher and slang list) under all of them.
python-telegram-bot only in bot/telegram; scikit-learn only in the offline training module.
"""

from __future__ import annotations

import ast
import subprocess
import sys

import pytest

from tests.conftest import ROOT

BOT = ROOT / "bot"
# package -> the bot packages its modules may import (besides their own, bot.data and bot.errors)
ALLOWED = {
    "text": set(),
    "corpus": {"text"},
    "search": {"corpus", "text"},
    "safety": {"corpus", "search", "text"},
    "rendering": set(),
    "answering": {"corpus", "search", "safety", "rendering", "text"},
    "state": set(),
    "telegram": {
        "corpus",
        "search",
        "safety",
        "rendering",
        "answering",
        "state",
        "config",
        "engine",
        "logs",
        "text",
        "refresh",
    },
}
MAX_LINES = 400


def _modules():
    return sorted(p for p in BOT.rglob("*.py"))


def _imports(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "bot":
                yield from (f"bot.{alias.name}" for alias in node.names)
            else:
                yield node.module


def _package(path) -> str:
    parts = path.relative_to(BOT).parts
    return parts[0] if len(parts) > 1 else ""


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_dependencies_run_one_way(path):
    package = _package(path)
    for name in _imports(path):
        top = name.split(".")[0]
        if top == "telegram":
            assert package == "telegram", f"{path.name} imports python-telegram-bot ({name})"
        if top == "sklearn":
            assert path == BOT / "safety" / "training.py", f"{path.name} imports scikit-learn on the serving path"
        if top == "bot" and package in ALLOWED:
            target = name.split(".")[1] if "." in name else ""
            if target in ("", "data", "errors", package):
                continue
            assert target in ALLOWED[package], f"{path.relative_to(ROOT)} ({package}) imports {name}"


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_module_is_over_400_lines(path):
    assert len(path.read_text(encoding="utf-8").splitlines()) <= MAX_LINES


@pytest.mark.slow  # 5 s: a fresh interpreter imports the core
def test_the_core_answers_without_python_telegram_bot_scikit_learn_or_scipy():
    """One process: the core answers with python-telegram-bot made unimportable, and neither the core nor
    `ask` loads scikit-learn or SciPy (installed here: the test extras bring both; nltk reaches for them)."""
    code = (
        "import sys; sys.modules['telegram'] = None\n"
        "from pathlib import Path\n"
        "from bot.search.analysis import Analyzer\nfrom bot.corpus.articles import load_corpus\n"
        "from bot.search.index import SearchIndex\nfrom bot.answering.answer import Answerer\n"
        f"index = SearchIndex.build(load_corpus(Path({str(ROOT / 'corpus')!r})), Analyzer())\n"
        "print(Answerer(index).answer('can i take naltrexone while detoxing').answered)\n"
        "from bot.cli import main\n"
        "main(['ask', '--corpus', " + repr(str(ROOT / "corpus")) + ", 'can i take naltrexone while detoxing'])\n"
        "print(sorted(m for m in ('sklearn', 'scipy') if sys.modules.get(m) is not None), file=sys.stderr)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0].strip() == "True", result.stdout
    assert result.stderr.strip().splitlines()[-1] == "[]", result.stderr


def test_every_error_about_input_is_one_type_caught_in_one_place():
    from bot.config import ConfigError
    from bot.corpus.articles import CorpusError
    from bot.errors import BotError
    from bot.search.index import IndexLoadError, IndexWriteError
    from bot.telegram.buttons import ButtonError

    for error in (ConfigError, CorpusError, IndexLoadError, IndexWriteError, ButtonError):
        assert issubclass(error, BotError), error
    cli = (BOT / "cli.py").read_text(encoding="utf-8")
    assert cli.count("except BotError") == 1 and "except (ConfigError" not in cli


def test_the_readme_architecture_names_every_module():
    readme = (BOT.parent / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Architecture") : readme.index("## Development")]
    unnamed = [str(p.relative_to(BOT)) for p in BOT.rglob("*.py") if p.name != "__init__.py" and p.name not in section]
    assert unnamed == [], f"README's Architecture section does not name {unnamed}"
