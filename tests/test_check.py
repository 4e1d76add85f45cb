"""`python -m bot check`: one line a point, exit 0 only when the deployment is ready; never the token."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from tests.conftest import ROOT, SAMPLE_CORPUS
from tests.fake_bot_api import FakeBotAPI


@pytest.fixture(scope="module")
def fake():
    with FakeBotAPI() as server:
        yield server


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    index = tmp_path_factory.mktemp("built") / "index"
    result = subprocess.run(
        [sys.executable, "-m", "bot", "index", "--corpus", str(SAMPLE_CORPUS), "--index", str(index)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return index


def _check(tmp_path, fake, index, token=FakeBotAPI.TOKEN, database=None, site=""):
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "TELEGRAM_BOT_TOKEN": token,
        "TELEGRAM_API_BASE_URL": fake.base_url,
        "BOT_INDEX": str(index),
        "BOT_DATABASE": str(database or tmp_path / "state" / "bot.sqlite3"),
        "BOT_SITE": site,
    }
    result = subprocess.run(
        [sys.executable, "-m", "bot", "check", "--json"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "Traceback" not in result.stdout + result.stderr, result.stderr
    assert token not in result.stdout + result.stderr and token.split(":")[-1] not in result.stdout + result.stderr
    report = json.loads(result.stdout)
    return result.returncode, report["ready"], {c["name"]: c for c in report["checks"]}


def test_a_ready_deployment_passes_every_point(tmp_path, fake, built):
    code, ready, checks = _check(tmp_path, fake, built)
    assert code == 0 and ready, checks
    assert set(checks) >= {"token", "index", "database"} and all(c["ok"] for c in checks.values())
    assert "checksums match" in checks["index"]["detail"]


def test_a_rejected_token_fails_its_line_without_showing_it(tmp_path, fake, built):
    code, ready, checks = _check(tmp_path, fake, built, token="123456789:" + "B" * 35)
    assert code == 1 and not ready
    assert not checks["token"]["ok"] and "refuses the token" in checks["token"]["detail"]
    assert checks["index"]["ok"] and checks["database"]["ok"]


@pytest.mark.slow  # a process each: CI runs them with -m slow
def test_a_damaged_index_fails_its_line_naming_the_file(tmp_path, fake, built):
    import shutil

    index = tmp_path / "index"
    shutil.copytree(built, index)
    build = index / (index / "CURRENT").read_text(encoding="utf-8").strip()
    target = next(p for p in sorted(build.glob("*.npy")) if np.load(p, allow_pickle=False).size)
    data = bytearray(target.read_bytes())
    data[-1] ^= 0xFF  # same size, other bytes
    target.write_bytes(bytes(data))
    code, ready, checks = _check(tmp_path, fake, index)
    assert code == 1 and not checks["index"]["ok"] and target.name in checks["index"]["detail"], checks
    assert checks["token"]["ok"] and checks["database"]["ok"]


@pytest.mark.slow  # a process each: CI runs them with -m slow
def test_an_unwritable_database_fails_its_line(tmp_path, fake, built):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the state folder should be", encoding="utf-8")
    code, ready, checks = _check(tmp_path, fake, built, database=blocker / "bot.sqlite3")
    assert code == 1 and not checks["database"]["ok"] and "bot.sqlite3" in checks["database"]["detail"], checks
    assert checks["token"]["ok"] and checks["index"]["ok"]


@pytest.mark.slow  # a process and a small web server
def test_the_site_is_checked_when_one_is_set(tmp_path, fake, built):
    import http.server
    import socket
    import threading

    class Robots(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            self.send_response(200 if self.path == "/robots.txt" else 404)
            self.end_headers()
            self.wfile.write(b"User-agent: *\nDisallow:\n")

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Robots)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        code, ready, checks = _check(tmp_path, fake, built, site=f"http://127.0.0.1:{server.server_port}")
        assert code == 0 and checks["site"]["ok"] and "robots.txt answered 200" in checks["site"]["detail"]
    finally:
        server.shutdown()
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    code, ready, checks = _check(tmp_path, fake, built, site=f"http://127.0.0.1:{closed}")
    assert code == 1 and not checks["site"]["ok"] and "cannot be reached" in checks["site"]["detail"]
    assert "site" not in _check(tmp_path, fake, built)[2]  # no BOT_SITE: no such point
