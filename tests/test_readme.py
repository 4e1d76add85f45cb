"""The README's quick start is what a newcomer runs and what CI runs: keep them the same and true."""

from __future__ import annotations

import re

from tests.conftest import ROOT


def quick_start_commands() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return [block.strip() for block in re.findall(r"```bash\n(.*?)```", section, re.S)]


def test_quick_start_has_exactly_two_commands():
    commands = quick_start_commands()
    assert len(commands) == 2
    assert all("\n" not in c for c in commands), "each command is one copy-paste line"
    assert "python -m bot ask" in commands[0] or "python -m bot chat" in commands[0]
    assert "pytest" in commands[1]


def test_ci_runs_the_readmes_test_command():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert quick_start_commands()[1] in ci.splitlines()


def test_readme_documents_every_cli_command_and_json_key():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for text in [
        "python -m bot crawl",
        "## Your site",
        '"unchanged"',
        '"removed"',
        '"skipped"',
        "python -m bot index",
        "python -m bot ask",
        "python -m bot chat",
        "--json",
        "--top-k",
        '"answered"',
        '"crisis"',
        '"citations"',
        '"chunk_id"',
        '"link"',
        '"passage"',
        '"score"',
    ]:
        assert text in readme, text
