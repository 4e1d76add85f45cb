"""The systemd unit in deploy/: systemd's own checker finds nothing wrong with it."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

UNIT = ROOT / "deploy" / "recovery-answers-bot.service"


def _verify(text: str, tmp_path: Path) -> subprocess.CompletedProcess:
    if shutil.which("systemd-analyze") is None:
        pytest.fail("systemd-analyze is needed (Debian: apt-get install systemd)")
    env_file = tmp_path / "bot.env"
    env_file.write_text("TELEGRAM_BOT_TOKEN=\n", encoding="utf-8")
    # the unit as installed, with the project where this checkout is (the venv's python is executable here)
    venv = Path(sys.executable).parent.parent
    text = (
        text.replace("/opt/recovery-answers-bot/.venv", str(venv))
        .replace("/opt/recovery-answers-bot", str(ROOT))
        .replace("/etc/recovery-answers-bot.env", str(env_file))
    )
    unit = tmp_path / UNIT.name
    unit.write_text(text, encoding="utf-8")
    return subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, timeout=60)


def test_the_unit_verifies_clean(tmp_path):
    result = _verify(UNIT.read_text(encoding="utf-8"), tmp_path)
    assert result.returncode == 0 and not (result.stdout + result.stderr).strip(), result.stdout + result.stderr


def test_the_unit_runs_as_its_own_user_checks_first_and_restarts_on_failure():
    text = UNIT.read_text(encoding="utf-8")
    for line in (
        "DynamicUser=yes",
        "Restart=on-failure",
        "StateDirectory=recovery-answers-bot",
        "ExecStartPre=/opt/recovery-answers-bot/.venv/bin/python -m bot check",
        "ExecStart=/opt/recovery-answers-bot/.venv/bin/python -m bot run",
    ):
        assert line in text.splitlines(), line
    assert text.index("-m bot check") < text.index("ExecStart=")


def test_the_checker_would_catch_a_broken_unit(tmp_path):
    broken = UNIT.read_text(encoding="utf-8").replace("python -m bot run", "python-gone -m bot run")
    result = _verify(broken, tmp_path)
    assert result.returncode != 0 and "python-gone" in result.stdout + result.stderr
