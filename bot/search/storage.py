"""The index folder on disk: one build at a time, a pointer swapped atomically, every file checksummed.

`CURRENT` names the live build (a `build-*` folder). A build is written into a `.building-*` folder, synced,
renamed, and only then does `CURRENT` change (write a temporary file, sync, rename over): a reader sees the
old build or the new one, never half of one. Builds into one folder take turns on an OS lock (flock on
`.lock`), which the kernel releases when the process ends, however it ends: while a build holds it no other
build runs, so any `.building-*` folder it finds was left by a build that was killed, and is removed. The
manifest records each file's size and sha256 (and its own): damage that keeps a file's size is refused
at load, naming the file.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import mmap
import os
import shutil
import threading
import time
from pathlib import Path
from typing import Callable, Iterator

from bot.errors import BotError

try:
    import fcntl
except ImportError:  # no flock (Windows): builds into one folder are not kept apart
    fcntl = None  # type: ignore[assignment]

POINTER = "CURRENT"
LOCK = ".lock"
WORK_PREFIX = ".building-"
_POINTER_TMP = f".{POINTER}.tmp"
_CHUNK = 1 << 20
_WHY = {
    errno.ENOSPC: "the disk is full",
    errno.EDQUOT: "the disk quota is used up",
    errno.EROFS: "the file system is read-only",
    errno.EACCES: "no permission to write there",
    errno.EPERM: "no permission to write there",
    errno.EFBIG: "a file would exceed the size this process may write",
}


class IndexLoadError(BotError):
    """An index that cannot be used; the message names the file and what to do."""


class IndexWriteError(BotError):
    """A build that could not be written (read-only folder, full disk, another build); nothing was changed."""


def write_failure(index_dir: Path, error: OSError) -> IndexWriteError:
    why = _WHY.get(error.errno or 0, error.strerror or str(error))
    detail = f" ({error.strerror})" if error.strerror and why != error.strerror else ""
    return IndexWriteError(f"cannot write the index in {index_dir}: {why}{detail}; the index there is unchanged")


def rebuild_hint(index_dir: Path) -> str:
    return f"rebuild the index with: python -m bot index --index {index_dir}"


# --- one build at a time ----------------------------------------------------------------------------


@contextlib.contextmanager
def build_lock(index_dir: Path, wait_seconds: float, say: Callable[[str], None]) -> Iterator[None]:
    """Hold the folder's build lock; wait up to wait_seconds for a build already running, then give up."""
    try:
        index_dir.mkdir(parents=True, exist_ok=True)
        fd = _open_lock(index_dir / LOCK)
    except OSError as e:
        raise write_failure(index_dir, e) from None
    try:
        if fcntl is not None:
            _acquire(fd, index_dir, wait_seconds, say)
        with contextlib.suppress(OSError):  # who holds it, for a build that has to wait: nice to have
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(fd)  # releases the lock


def _open_lock(path: Path) -> int:
    try:
        return os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except PermissionError as refused:
        try:
            return os.open(path, os.O_RDONLY)  # another user's lock file in a folder shared for writing
        except OSError:
            raise refused from None


def _acquire(fd: int, index_dir: Path, wait_seconds: float, say: Callable[[str], None]) -> None:
    deadline = time.monotonic() + wait_seconds
    waiting = False
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            pass
        except OSError as e:  # a file system without locks
            raise write_failure(index_dir, e) from None
        holder = _holder(fd)
        if time.monotonic() >= deadline:
            raise IndexWriteError(
                f"another build{holder} is writing the index in {index_dir} and has not finished "
                f"after {wait_seconds:g} s (BOT_BUILD_WAIT_SECONDS); the index there is unchanged"
            )
        if not waiting:
            say(f"waiting for another build{holder} of {index_dir} to finish (at most {wait_seconds:g} s)")
            waiting = True
        time.sleep(min(0.1, max(0.0, deadline - time.monotonic())))


def _holder(fd: int) -> str:
    with contextlib.suppress(OSError, ValueError):
        pid = int(os.pread(fd, 32, 0).decode("ascii").strip())
        return f" (pid {pid})"
    return ""


def remove_leftovers(index_dir: Path) -> list[str]:
    """Under the build lock no other build runs: a .building-* folder is a killed build's. Their names."""
    removed = []
    for leftover in sorted(index_dir.glob(WORK_PREFIX + "*")):
        shutil.rmtree(leftover, ignore_errors=True)
        if not leftover.exists():
            removed.append(leftover.name)
    with contextlib.suppress(OSError):
        (index_dir / _POINTER_TMP).unlink(missing_ok=True)
    return removed


# --- the pointer ------------------------------------------------------------------------------------


def current_or_none(index_dir: Path) -> Path | None:
    """current_build(), or None when CURRENT is damaged too (a build replacing it need not keep the old one)."""
    try:
        return current_build(index_dir)
    except IndexLoadError:
        return None


def current_build(index_dir: Path) -> Path | None:
    """The build CURRENT names; None when there is no CURRENT. A CURRENT that names no build is an error."""
    path = index_dir / POINTER
    try:
        with open(path, "rb") as f:
            data = f.read(4096)
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as e:
        raise IndexLoadError(f"{path} cannot be read ({e.strerror or e})") from None
    try:
        name = data.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise IndexLoadError(
            f"{path} is damaged (not UTF-8 text, so it names no build); {rebuild_hint(index_dir)}"
        ) from None
    if not name.startswith("build-") or "/" in name or "\\" in name or not name.isprintable():
        raise IndexLoadError(
            f"{path} is damaged (it should name a build-* folder, it holds {name[:60]!r}); {rebuild_hint(index_dir)}"
        )
    build = index_dir / name
    if not build.is_dir():
        raise IndexLoadError(f"{path} names {name}, which is not in {index_dir}; {rebuild_hint(index_dir)}")
    return build


def swap_pointer(index_dir: Path, name: str) -> None:
    """Point CURRENT at a build: the rename is the moment the new build goes live."""
    tmp = index_dir / _POINTER_TMP
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(name + "\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, index_dir / POINTER)
    with contextlib.suppress(OSError):  # the swap is done; this only makes it survive a power cut sooner
        sync_folder(index_dir, files=False)


def sync_folder(folder: Path, files: bool = True) -> None:
    """Flush a folder's files and its entries to disk, so a crash after the swap finds them whole."""
    if files:
        for path in folder.iterdir():
            fd = os.open(path, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
    with contextlib.suppress(OSError):  # some systems cannot open a folder to sync it
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


# --- checksums ----------------------------------------------------------------------------------------


def describe_files(folder: Path) -> dict[str, dict]:
    """Each file's size and sha256, for the manifest."""
    return {p.name: {"bytes": p.stat().st_size, "sha256": _sha256(p)} for p in sorted(folder.iterdir())}


def seal(manifest: dict) -> dict:
    """The manifest with a checksum of its own content, so a changed setting or checksum is noticed too."""
    plain = json.loads(json.dumps(manifest, ensure_ascii=False))  # as it will read back: tuples as lists
    return {**plain, "sha256": _manifest_digest(plain)}


def check_seal(manifest: dict, path: Path, index_dir: Path) -> None:
    if manifest.get("sha256") != _manifest_digest(manifest):
        raise IndexLoadError(f"{path} is damaged (its contents do not match its checksum); {rebuild_hint(index_dir)}")


def verify_files(build: Path, files: object, required: tuple[str, ...], index_dir: Path, checksums: bool) -> None:
    """Every file the loader opens is listed, there, of its size and (with checksums) its sha256."""
    check_digests(check_sizes(build, files, required, index_dir, checksums), index_dir)


def check_sizes(
    build: Path, files: object, required: tuple[str, ...], index_dir: Path, checksums: bool
) -> list[tuple[Path, str | None]]:
    """Every file the loader opens is listed, there and of its size; the (file, sha256) pairs left to check
    (none without checksums)."""
    manifest = build / "manifest.json"
    if not isinstance(files, dict):
        raise IndexLoadError(f"{manifest} lists no files; {rebuild_hint(index_dir)}")
    for name in required:
        if name not in files:
            raise IndexLoadError(f"{manifest} does not list {name}; {rebuild_hint(index_dir)}")
    pending = []
    for name in required:
        entry = files[name]
        size, digest = (
            (entry, None)
            if not checksums
            else ((entry.get("bytes"), entry.get("sha256")) if isinstance(entry, dict) else (None, None))
        )
        path = build / name
        try:
            actual = path.stat().st_size
        except FileNotFoundError:
            raise IndexLoadError(f"{path} is missing; {rebuild_hint(index_dir)}") from None
        except OSError as e:
            raise IndexLoadError(f"{path} cannot be read ({e.strerror or e}); {rebuild_hint(index_dir)}") from None
        if actual != size:
            raise IndexLoadError(
                f"{path} is {actual} bytes, expected {size} (truncated or changed); {rebuild_hint(index_dir)}"
            )
        if checksums:
            pending.append((path, digest))
    return pending


def check_digests(pending: list[tuple[Path, str | None]], index_dir: Path) -> None:
    for path, digest in pending:
        try:
            same = _sha256(path) == digest
        except OSError as e:
            raise IndexLoadError(f"{path} cannot be read ({e.strerror or e}); {rebuild_hint(index_dir)}") from None
        if not same:
            raise IndexLoadError(
                f"{path} is damaged (its contents do not match the build's sha256); {rebuild_hint(index_dir)}"
            )


class Verification:
    """The sha256 of a build's files, checked now or on a second thread while the process goes on starting.

    hashlib lets go of the interpreter while it hashes, so with a core free the 0.1 s of hashing 100 MB
    overlaps the rest of a start (the crisis phrases, the analyzer). wait() returns once every file has
    matched, or raises the IndexLoadError naming the first that did not: whoever answers from the build
    waits first, so nothing is answered from a file before its sha256 matched.
    """

    def __init__(self, pending: list[tuple[Path, str | None]], index_dir: Path, background: bool) -> None:
        self._error: IndexLoadError | None = None
        self._thread: threading.Thread | None = None
        if not pending:
            return
        if not background:
            check_digests(pending, index_dir)
            return
        self._thread = threading.Thread(target=self._run, args=(pending, index_dir), name="index-sha256", daemon=True)
        self._thread.start()

    def _run(self, pending: list[tuple[Path, str | None]], index_dir: Path) -> None:
        try:
            check_digests(pending, index_dir)
        except IndexLoadError as e:
            self._error = e
        except Exception as e:  # never lost on the thread: said when waited for
            self._error = IndexLoadError(f"the index's files could not be checked ({type(e).__name__}: {e})")

    def wait(self) -> None:
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if self._error is not None:
            raise self._error


def _sha256(path: Path) -> str:
    """The file's sha256, read through a memory map: no copy into Python (a sixth faster at 100 MB)."""
    with open(path, "rb") as f:
        try:
            view = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        except (ValueError, OSError):  # empty, or a file that cannot be mapped: read it
            digest = hashlib.sha256()
            while block := f.read(_CHUNK):
                digest.update(block)
            return digest.hexdigest()
        with view:
            return hashlib.sha256(view).hexdigest()


def _manifest_digest(manifest: dict) -> str:
    rest = {k: v for k, v in manifest.items() if k != "sha256"}
    return hashlib.sha256(json.dumps(rest, sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()


# --- JSON -------------------------------------------------------------------------------------------


def write_json(path: Path, value) -> None:
    path.write_text(json.dumps(value, ensure_ascii=False, indent=1), encoding="utf-8")


def read_json(path: Path, index_dir: Path):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise IndexLoadError(f"{path} is missing; {rebuild_hint(index_dir)}") from None
    except (OSError, ValueError) as e:
        raise IndexLoadError(f"{path} cannot be read ({e}); {rebuild_hint(index_dir)}") from None
