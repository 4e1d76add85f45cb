"""What an index folder survives, met as an operator meets it: `python -m bot index` and `ask` as processes.

Builds at once, a build killed with -9, bytes changed inside a file, a damaged CURRENT, a giant article, a
read-only folder, a full disk: each ends in a good index or one line naming what is wrong, and the index
that was there keeps answering. The step under test runs as a process; the set-up around it runs in this
one (main()), which costs no interpreter start-up.
"""

from __future__ import annotations

import contextlib
import os
import resource
import shutil
import signal
import subprocess
import sys

import pytest

from bot.cli import main
from tests.conftest import ROOT, SAMPLE_CORPUS, write
from tests.test_cli import QUESTION, run


def env(**settings: str) -> dict[str, str]:
    """The test's environment (isolated by conftest) as the process's, when the process starts."""
    return {**os.environ, "PYTHONPATH": str(ROOT), **settings}


STRIPS = (
    "---\ntitle: Fentanyl Test Strips\nurl: https://example.org/strips\n---\n\n"
    "Fentanyl test strips show whether a drug contains fentanyl before it is used.\n"
)


def build(index, corpus=SAMPLE_CORPUS, **kwargs) -> subprocess.CompletedProcess:
    return run("index", "--corpus", str(corpus), "--index", str(index), **kwargs)


def build_here(index, corpus=SAMPLE_CORPUS) -> None:
    assert main(["index", "--corpus", str(corpus), "--index", str(index)]) == 0


def current(index) -> str:
    return (index / "CURRENT").read_text().strip()


def assert_one_line(result: subprocess.CompletedProcess, *expected: str) -> None:
    assert result.returncode == 1 and result.stdout == "", result.stdout
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr
    for text in expected:
        assert text in result.stderr, result.stderr


def assert_answers(index, capsys) -> None:
    capsys.readouterr()
    assert main(["ask", "--index", str(index), QUESTION]) == 0
    assert "still in detoxification" in capsys.readouterr().out


@pytest.mark.slow
def test_builds_started_together_take_turns_and_leave_one_good_index(tmp_path, capsys):
    index = tmp_path / "index"
    builds = [
        subprocess.Popen(
            [sys.executable, "-m", "bot", "index", "--corpus", str(SAMPLE_CORPUS), "--index", str(index)],
            cwd=ROOT,
            env=env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    results = [(b.wait(timeout=120), *b.communicate()) for b in builds]
    for code, out, err in results:
        assert code == 0 and "Traceback" not in err, err
        assert out.startswith("indexed 6 articles, ")
    assert not list(index.glob(".building-*"))
    assert len(list(index.glob("build-*"))) <= 2
    assert_answers(index, capsys)


@pytest.mark.slow  # a process each (a few seconds): CI runs them with -m slow
def test_a_build_killed_with_minus_9_leaves_nothing_the_next_build_does_not_remove(tmp_path, capsys):
    index = tmp_path / "index"
    for _ in range(20):  # kill it while it is writing (the window is some milliseconds)
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "index", "--corpus", str(SAMPLE_CORPUS), "--index", str(index)],
            cwd=ROOT,
            env=env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        caught = False
        while process.poll() is None:
            if index.is_dir() and any(name.startswith(".building-") for name in os.listdir(index)):
                process.send_signal(signal.SIGKILL)
                caught = True
                break
        process.wait()
        if caught:
            break
    assert caught, "never caught the build writing"
    left = [p.name for p in index.glob(".building-*")]
    assert left, "the killed build left nothing behind: nothing to test"
    build_here(index)
    assert (
        f"removed 1 unfinished build left in {index} by a build that was stopped ({left[0]})" in capsys.readouterr().err
    )
    assert not list(index.glob(".building-*"))
    assert_answers(index, capsys)


@pytest.mark.slow  # a process each (a few seconds): CI runs them with -m slow
def test_bytes_changed_inside_an_npy_are_refused_naming_it_and_the_configured_index_is_rebuilt(
    tmp_path, capsys, monkeypatch
):
    index = tmp_path / "index"
    build_here(index)
    path = index / current(index) / "weights.npy"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    assert_one_line(
        run("ask", "--index", str(index), QUESTION),
        f"{path} is damaged (its contents do not match the build's sha256); rebuild the index with: "
        f"python -m bot index --index {index}",
    )
    # the bot's own index (BOT_INDEX with its corpus) is rebuilt rather than served damaged
    monkeypatch.setenv("BOT_INDEX", str(index))
    monkeypatch.setenv("BOT_CORPUS", str(SAMPLE_CORPUS))
    capsys.readouterr()
    assert main(["ask", QUESTION]) == 0
    out, err = capsys.readouterr()
    assert "still in detoxification" in out
    assert f"building the index in {index} from {SAMPLE_CORPUS} ({path} is damaged" in err


def test_a_current_that_is_not_utf8_is_one_line(tmp_path):
    index = tmp_path / "index"
    build_here(index)
    (index / "CURRENT").write_bytes(b"\xff\xfe\x00build")
    assert_one_line(
        run("ask", "--index", str(index), QUESTION),
        f"{index / 'CURRENT'} is damaged (not UTF-8 text, so it names no build)",
    )


@pytest.mark.slow
def test_a_giant_one_line_article_is_skipped_with_its_reason_and_the_others_indexed(tmp_path, capsys):
    corpus = tmp_path / "corpus"
    shutil.copytree(SAMPLE_CORPUS, corpus)
    line = "Naltrexone blocks the effects of opioids. It is taken once a day. " * 150_000  # 10 MB, no line break
    write(corpus / "giant.md", "---\ntitle: Giant\nurl: https://example.org/giant\n---\n\n" + line + "\n")
    result = build(tmp_path / "index", corpus)
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    assert result.stdout.startswith("indexed 6 articles, ") and "skipped 1" in result.stdout
    assert (
        f"skipped {corpus / 'giant.md'}: {len(line.strip()):,} characters of text, more than the 1,000,000 an "
        "article may have; split it into smaller articles"
    ) in result.stderr
    assert_answers(tmp_path / "index", capsys)


def test_a_corpus_with_nothing_usable_lists_what_the_error_points_at(tmp_path):
    bad = tmp_path / "bad"
    write(bad / "empty.md", "")
    write(bad / "broken.jsonl", "{broken\n")
    result = build(tmp_path / "index", bad)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines[:2] == [
        f"skipped {bad / 'broken.jsonl'}:1: not valid JSON (Expecting property name enclosed in "
        "double quotes at column 2)",
        f"skipped {bad / 'empty.md'}: empty file",
    ]
    assert lines[2] == f"python -m bot: error: no usable articles in {bad} (2 skipped, each named above)"


@contextlib.contextmanager
def read_only(folder):
    """chmod for a user; root writes through permissions, so for root a read-only bind mount instead."""
    if os.geteuid() != 0:
        folder.chmod(0o555)
        try:
            yield
        finally:
            folder.chmod(0o755)
        return
    if subprocess.run(["mount", "--bind", str(folder), str(folder)], capture_output=True).returncode != 0:
        pytest.skip("running as root without the right to mount: no way to make a folder read-only here")
    try:
        subprocess.run(["mount", "-o", "remount,bind,ro", str(folder)], check=True, capture_output=True)
        yield
    finally:
        subprocess.run(["umount", str(folder)], check=True)


@pytest.mark.slow  # a process each (a few seconds): CI runs them with -m slow
def test_a_read_only_index_folder_is_one_line_and_the_index_keeps_answering(tmp_path, capsys):
    index = tmp_path / "index"
    build_here(index)
    before = current(index)
    with read_only(index):
        result = build(index)
        assert_one_line(
            result, f"python -m bot: error: cannot write the index in {index}: ", "; the index there is unchanged"
        )
        assert "no permission to write there" in result.stderr or "the file system is read-only" in result.stderr
        assert current(index) == before
        assert_answers(index, capsys)


@contextlib.contextmanager
def nearly_full(folder):
    """A tiny tmpfs where mounting is allowed (the disk is really full); else a file size limit (ulimit -f)
    that makes the kernel refuse writes the same way, for a process that is not root."""
    folder.mkdir()
    mounted = (
        os.geteuid() == 0
        and subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=128k", "tmpfs", str(folder)], capture_output=True
        ).returncode
        == 0
    )
    try:
        yield mounted
    finally:
        if mounted:
            subprocess.run(["umount", str(folder)], check=True)


@pytest.mark.slow  # a process each (a few seconds): CI runs them with -m slow
def test_a_full_disk_is_one_line_and_the_index_keeps_answering(tmp_path, capsys):
    index = tmp_path / "disk" / "index"
    with nearly_full(tmp_path / "disk") as mounted:
        build_here(index)
        before = current(index)
        corpus = tmp_path / "corpus"
        shutil.copytree(SAMPLE_CORPUS, corpus)
        write(corpus / "long.md", STRIPS + "Naloxone reverses an opioid overdose in minutes. " * 2_500)  # 120 KB
        limit = (lambda: None) if mounted else (lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (65_536, 65_536)))
        result = subprocess.run(
            [sys.executable, "-m", "bot", "index", "--corpus", str(corpus), "--index", str(index)],
            capture_output=True,
            text=True,
            cwd=ROOT,
            env=env(),
            timeout=120,
            preexec_fn=limit,
        )
        assert_one_line(
            result,
            f"python -m bot: error: cannot write the index in {index}: ",
            "the disk is full (No space left on device)" if mounted else "File too large",
            "; the index there is unchanged",
        )
        assert current(index) == before and not list(index.glob(".building-*"))
        assert_answers(index, capsys)


def test_an_index_from_before_checksums_answers_with_a_note_saying_how_to_rebuild_it(tmp_path, capsys):
    from tests.test_index import as_format_2

    index = tmp_path / "index"
    build_here(index)
    as_format_2(index / current(index))
    capsys.readouterr()
    assert main(["ask", "--index", str(index), QUESTION]) == 0
    out, err = capsys.readouterr()
    assert "still in detoxification" in out
    assert err.strip() == (
        f"note: {index} was built before indexes had checksums, so damage inside its files "
        f"cannot be noticed; rebuild it with: python -m bot index --index {index}"
    )
