"""The tests' judge of Telegram HTML: without the library they fail, saying how to fetch it; never skip."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT


def test_without_the_library_the_fake_bot_api_fails_saying_how_to_fetch_it():
    code = (
        "import pathlib, tests.tdlib as t\n"
        "t.LIBRARY = pathlib.Path('/nonexistent/libtdjson.so')\n"
        "from tests.fake_bot_api import FakeBotAPI\nFakeBotAPI()\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode != 0
    assert "TdlibMissing" in result.stderr and ".venv/bin/python tests/tdlib/fetch.py" in result.stderr, result.stderr


def test_the_judge_counts_as_telegram_does():
    from tests import tdlib

    parsed = tdlib.parse_html('<b>1.</b> \U0001f48a &amp; <a href="https://e.org/">link</a>')
    assert (parsed.text, parsed.units, len(parsed.entities), parsed.links()) == (
        "1. \U0001f48a & link",
        12,
        2,
        ["https://e.org/"],
    )
