"""The command line is a contract other tools rely on: its commands, options, JSON keys and exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from bot.cli import main
from tests.conftest import ROOT, SAMPLE_CORPUS, write
from tests.fake_bot_api import FakeBotAPI

CITATION_KEYS = {
    "rank",
    "article_id",
    "chunk_id",
    "title",
    "section",
    "url",
    "link",
    "passage",
    "score",
    "excerpt",
    "highlights",
}
ANSWER_KEYS = {
    "question",
    "answered",
    "crisis",
    "citations",
    "message",
    "disclaimer",
    "helpline",
    "lead",
    "note",
    "showing_results_for",
    "triage",
    "related",
}
QUESTION = "can i take naltrexone while im still detoxing?"


def run(*args: str, stdin: str | None = None, cwd=ROOT) -> subprocess.CompletedProcess:
    """The real entry point, as a user or another tool runs it."""
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=120,
    )


@pytest.fixture
def index_dir(tmp_path):
    folder = tmp_path / "index"
    assert main(["index", "--corpus", str(SAMPLE_CORPUS), "--index", str(folder)]) == 0
    return folder


def test_ask_json_is_the_documented_contract(tmp_path, index_dir):
    result = run("ask", "--index", str(index_dir), "--json", QUESTION)
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert set(answer) >= ANSWER_KEYS
    assert answer["question"] == QUESTION and answer["answered"] is True and answer["crisis"] is False
    assert answer["citations"] and all(set(c) >= CITATION_KEYS for c in answer["citations"])
    first = answer["citations"][0]
    assert first["rank"] == 1 and isinstance(first["score"], float)
    assert first["article_id"] == "naltrexone-as-an-opium-addiction-treatment"
    assert "still in detoxification" in first["passage"]
    assert answer["helpline"] in answer["message"] and answer["disclaimer"] in answer["message"]


def test_ask_reads_one_question_a_line_and_writes_json_lines(index_dir, capsys, monkeypatch):
    import io

    monkeypatch.setattr(sys, "stdin", io.StringIO(f"{QUESTION}\nwhat is the weather in paris\n\nkratom\n"))
    assert main(["ask", "--index", str(index_dir), "--json", "-"]) == 0
    lines = capsys.readouterr().out.splitlines()
    answers = [json.loads(line) for line in lines]
    assert [a["question"] for a in answers] == [QUESTION, "what is the weather in paris", "", "kratom"]
    assert [a["answered"] for a in answers] == [True, False, False, True]


def test_ask_plain_text_is_the_message(index_dir, capsys):
    assert main(["ask", "--index", str(index_dir), "--top-k", "1", QUESTION]) == 0
    out = capsys.readouterr().out
    assert "still in detoxification" in out and "1-800-662-4357" in out
    assert "\n2. " not in out


def test_ask_with_corpus_builds_once_then_reuses(tmp_path, capsys):
    corpus = tmp_path / "articles"
    write(corpus / "m.md", "---\ntitle: Methadone\nurl: https://example.org/m\n---\n\nMethadone is taken daily.\n")
    assert main(["ask", "--corpus", str(corpus), "methadone"]) == 0
    assert "building the index" in capsys.readouterr().err
    assert main(["ask", "--corpus", str(corpus), "methadone"]) == 0
    assert "building" not in capsys.readouterr().err
    write(corpus / "n.md", "---\ntitle: Naloxone\nurl: https://example.org/n\n---\n\nNaloxone reverses an overdose.\n")
    write(
        corpus / "b.md",
        "---\ntitle: Buprenorphine\nurl: https://example.org/b\n---\n\nBuprenorphine is a partial agonist.\n",
    )
    assert main(["ask", "--corpus", str(corpus), "--json", "naloxone overdose"]) == 0
    captured = capsys.readouterr()
    assert "corpus changed" in captured.err
    assert json.loads(captured.out)["citations"][0]["article_id"] == "n"


def test_named_index_tells_when_its_corpus_changed(tmp_path, capsys):
    corpus = tmp_path / "articles"
    write(corpus / "m.md", "---\ntitle: Methadone\nurl: https://example.org/m\n---\n\nMethadone is taken daily.\n")
    assert main(["index", "--corpus", str(corpus), "--index", str(tmp_path / "ix")]) == 0
    write(corpus / "m.md", "---\ntitle: Methadone\nurl: https://example.org/m\n---\n\nMethadone is taken once a day.\n")
    capsys.readouterr()
    assert main(["ask", "--index", str(tmp_path / "ix"), "methadone"]) == 0
    assert "changed since this index was built" in capsys.readouterr().err


def test_index_prints_a_one_line_summary_and_each_skipped_file(tmp_path):
    corpus = tmp_path / "articles"
    write(corpus / "good.md", "---\ntitle: Good\nurl: https://example.org/g\n---\n\nBuprenorphine eases withdrawal.\n")
    write(corpus / "empty.md", "")
    write(corpus / "lines.jsonl", '{"id": "x", "title": "X", "url": "https://e.org/x", "text": "Naloxone."}\n{broken\n')
    result = run("index", "--corpus", str(corpus), "--index", str(tmp_path / "ix"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().startswith("indexed 2 articles, ")
    assert "skipped 2" in result.stdout and result.stdout.count("\n") == 1
    assert "empty.md: empty file" in result.stderr
    assert "lines.jsonl:2: not valid JSON" in result.stderr


def test_default_run_builds_the_sample_index_in_the_configured_place(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("BOT_CORPUS", str(SAMPLE_CORPUS))
    monkeypatch.setenv("BOT_INDEX", str(tmp_path / "ix"))
    assert main(["ask", "--json", QUESTION]) == 0
    assert json.loads(capsys.readouterr().out)["answered"]
    assert (tmp_path / "ix" / "CURRENT").exists()


@pytest.mark.parametrize(
    "args, expected",
    [
        (["ask", "--corpus", "/no/such/folder", "x"], "corpus not found: /no/such/folder"),
        (["index", "--corpus", "/no/such/folder", "--index", "{tmp}/ix"], "corpus not found: /no/such/folder"),
        (["ask", "--index", "{tmp}/nothing", "x"], "no index in"),
        (["index", "--corpus", "{tmp}/empty", "--index", "{tmp}/ix"], "no usable articles"),
        (["ask", "--frobnicate", "x"], "unrecognized arguments: --frobnicate"),
        (["ask", "--top-k", "0", "--index", "{tmp}/ix", "x"], "--top-k must be between 1 and 50"),
        (["ask"], "the following arguments are required: question"),
        (["run"], "TELEGRAM_BOT_TOKEN is not set"),
        (["--env-file", "{tmp}/bad.env", "run"], "TELEGRAM_BOT_TOKEN does not look like a bot token"),
        (["--env-file", "{tmp}/good.env", "run", "--webhook"], "TELEGRAM_WEBHOOK_URL must be set"),
    ],
)
def test_errors_are_one_clear_line_without_traceback(tmp_path, args, expected, capsys):
    """In-process, so ten cases cost no ten interpreter start-ups; the next test does one as a process."""
    (tmp_path / "empty").mkdir()
    (tmp_path / "bad.env").write_text("TELEGRAM_BOT_TOKEN=12345\n")
    (tmp_path / "good.env").write_text(f"TELEGRAM_BOT_TOKEN={FakeBotAPI.TOKEN}\n")
    try:
        code = main([a.replace("{tmp}", str(tmp_path)) for a in args])
    except SystemExit as e:
        code = e.code
    out, err = capsys.readouterr()
    assert code != 0
    assert out == ""
    assert expected in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err


def test_an_error_in_a_real_process_is_one_line_and_no_traceback(tmp_path):
    result = run("ask", "--index", str(tmp_path / "nothing"), "x")
    assert result.returncode != 0 and result.stdout == ""
    assert "no index in" in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_bad_setting_is_named(monkeypatch, capsys):
    monkeypatch.setenv("BOT_TOP_K", "lots")
    assert main(["ask", "x"]) == 1
    assert "BOT_TOP_K must be a whole number, got 'lots'" in capsys.readouterr().err


def test_chat_answers_each_line_until_end_of_input(index_dir):
    result = run("chat", "--index", str(index_dir), stdin=f"{QUESTION}\nquit\nnever asked\n")
    assert result.returncode == 0, result.stderr
    assert "still in detoxification" in result.stdout
    assert result.stdout.count("1-800-662-4357") == 1


def test_every_command_has_help(capsys):
    for command in ("index", "ask", "chat", "run", "eval", "calibrate", "eval-safety", "train-safety"):
        with pytest.raises(SystemExit) as exit_:
            main([command, "--help"])
        assert exit_.value.code == 0 and "usage:" in capsys.readouterr().out, command


def test_an_index_without_its_articles_is_used_and_a_damaged_one_is_named(tmp_path, monkeypatch, capsys):
    index = tmp_path / "ix"
    assert main(["index", "--corpus", str(SAMPLE_CORPUS), "--index", str(index)]) == 0
    monkeypatch.setenv("BOT_CORPUS", str(tmp_path / "no-articles-here"))
    monkeypatch.setenv("BOT_INDEX", str(index))
    capsys.readouterr()
    assert main(["ask", "--json", QUESTION]) == 0
    assert json.loads(capsys.readouterr().out)["answered"]
    build = index / (index / "CURRENT").read_text().strip()
    (build / "docs.npy").write_bytes((build / "docs.npy").read_bytes()[:100])
    assert main(["ask", QUESTION]) == 1
    assert "docs.npy" in capsys.readouterr().err
