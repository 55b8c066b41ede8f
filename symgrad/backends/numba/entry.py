"""One cache entry's files: the checksum record, atomic writes, the per-key lock.

:mod:`symgrad.backends.numba.cache` decides where entries live and when to
rebuild one; this module knows what an entry is made of:

- the kernel ``symgrad_kernel_<key>.py``;
- numba's index (``.nbi``) and data (``.nbc``) files of its functions in
  ``__pycache__/symgrad_kernel_<key>.*``;
- the record ``symgrad_kernel_<key>.sha256``: one ``<sha256>  <file>`` line per
  file, the kernel first, as ``sha256sum`` prints them (``sha256sum -c
  symgrad_kernel_<key>.sha256`` in the cache directory checks an entry by hand);
- the lock file ``symgrad_kernel_<key>.lock`` (empty; only locked).

Nothing here imports numba.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

#: Seconds a process waits for another one that holds an entry's lock (building
#: that kernel) before it goes ahead without it: atomic writes keep that safe,
#: it only costs duplicate work.
LOCK_WAIT = 120.0
#: Bytes of a record read at most (a record lists about a dozen files).
RECORD_MAX = 1 << 16
#: Entries unused for this many days are deleted when another kernel is built
#: (:func:`prune`; loading an entry marks it used).
PRUNE_DAYS = 60
_HEX = "0123456789abcdef"


def write_atomically(path: Path, data: str | bytes) -> None:
    """Write ``data`` (``str`` as UTF-8) to ``path``: other processes see all of it or nothing.

    The bytes go to a private temporary file (mode 0600) in the same directory,
    which :func:`os.replace` then moves over ``path``.
    """
    fd, part = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data.encode("utf-8") if isinstance(data, str) else data)
        os.replace(part, path)
    except BaseException:
        Path(part).unlink(missing_ok=True)
        raise


def sha256(data: bytes) -> str:
    """The hexadecimal SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


class Entry:
    """The files of one key in one cache directory."""

    def __init__(self, where: Path, key: str) -> None:
        self.where = where
        self.stem = f"symgrad_kernel_{key}"
        self.kernel = where / f"{self.stem}.py"
        self.record = where / f"{self.stem}.sha256"
        self.lock = where / f"{self.stem}.lock"

    def numba_files(self) -> list[Path]:
        """numba's index and data files of this kernel (not its temporary files)."""
        found = (self.where / "__pycache__").glob(f"{self.stem}.*")
        return sorted(p for p in found if p.suffix in (".nbi", ".nbc"))

    def record_text(self, kernel: bytes) -> str:
        """The record of this entry now, given the kernel's bytes."""
        lines = [f"{sha256(kernel)}  {self.kernel.name}"]
        lines += [f"{sha256(p.read_bytes())}  __pycache__/{p.name}" for p in self.numba_files()]
        return "\n".join(lines) + "\n"

    def save_record(self, kernel: bytes) -> None:
        """Write the record (atomically), unless the one on disk already says the same."""
        text = self.record_text(kernel)
        try:
            if self.record.read_text(encoding="ascii") == text:
                os.utime(self.record)           # the entry was used now (see prune)
                return
        except (OSError, UnicodeDecodeError):
            pass
        write_atomically(self.record, text)

    def verified(self) -> tuple[bytes | None, str | None]:
        """``(kernel bytes, None)`` when the record vouches for every file it lists.

        Otherwise ``(None, why)``: the entry must be rebuilt, and ``why`` says what
        is wrong (``"the kernel file does not match its checksum"``), or is
        ``None`` when there is nothing worth reporting: no record, as for an entry
        that is absent or whose build was interrupted.
        """
        try:
            with open(self.record, "rb") as f:
                raw = f.read(RECORD_MAX + 1)
        except FileNotFoundError:
            return None, None
        try:
            listed = self._parse(raw)
        except ValueError as exc:
            return None, f"its checksum record {exc}"
        kernel = b""
        for digest, name in listed:
            short = name.removeprefix(f"__pycache__/{self.stem}.")
            what = "the kernel file" if name == self.kernel.name else f"numba's file {short}"
            try:
                data = (self.where / name).read_bytes()
            except FileNotFoundError:
                return None, f"{what} is missing"
            if sha256(data) != digest:
                return None, f"{what} does not match its checksum"
            if name == self.kernel.name:
                kernel = data
        return kernel, None

    def _listable(self, name: str) -> bool:
        """Whether ``name`` may appear in this entry's record (nothing outside the entry)."""
        if name == self.kernel.name:
            return True
        folder, _, base = name.partition("/")
        return (folder == "__pycache__" and base.startswith(f"{self.stem}.")
                and "/" not in base and "\\" not in base and base.endswith((".nbi", ".nbc")))

    def _parse(self, raw: bytes) -> list[tuple[str, str]]:
        """``[(sha256, file name)]`` of a record, kernel first; ValueError says what is wrong."""
        if len(raw) > RECORD_MAX:
            raise ValueError("is too long")
        try:
            lines = raw.decode("ascii").splitlines()
        except UnicodeDecodeError:
            raise ValueError("is not text") from None
        listed = []
        for number, line in enumerate(lines, 1):
            digest, sep, name = line.partition("  ")
            if not sep or len(digest) != 64 or digest.strip(_HEX) or not self._listable(name):
                raise ValueError(f"has a bad line {number}")
            listed.append((digest, name))
        if not listed or listed[0][1] != self.kernel.name:
            raise ValueError("does not start with the kernel file")
        return listed

    def discard(self) -> None:
        """Delete the record and numba's files, temporary ones too.

        The kernel file stays for the caller to replace: another process may be
        importing it right now, and numba looks the file up while it compiles.
        """
        for path in [self.record, *(self.where / "__pycache__").glob(f"{self.stem}.*")]:
            try:
                path.unlink(missing_ok=True)
            except OSError:
                pass                # the rebuild replaces it atomically anyway


@contextlib.contextmanager
def locked(path: Path, wait: float | None = None) -> Iterator[bool]:
    """Hold an exclusive ``flock`` on ``path`` (created with mode 0600) inside the block.

    Yields whether the lock is held: ``False`` where there is no ``flock``
    (Windows), when the file cannot be opened or locked, or when another process
    held it for ``wait`` seconds (default :data:`LOCK_WAIT`).  Closing the file
    releases the lock, and so does the death of the process that holds it.
    """
    try:
        import fcntl
    except ImportError:
        yield False
        return
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o600)
    except OSError:
        yield False
        return
    try:
        deadline = time.monotonic() + (LOCK_WAIT if wait is None else wait)
        held = False
        while not held:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                held = True
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    break
                time.sleep(0.05)
            except OSError:                   # a file system without locks
                break
        yield held
    finally:
        os.close(fd)


def prune(where: Path, keep: str, now: float | None = None, days: float = PRUNE_DAYS) -> list:
    """Delete the entries in ``where`` last used more than ``days`` ago, but ``keep``.

    An entry's last use is the newer of its kernel's and its record's times
    (:meth:`Entry.save_record` touches the record on every load).  Only entries
    whose lock is free are deleted, so no process loses an entry it is checking or
    building; where there is no ``flock`` nothing is deleted.  Returns the stems
    deleted.  A file that cannot be deleted is left; pruning never fails a build.
    """
    cutoff = (time.time() if now is None else now) - days * 86400
    removed = []
    for kernel in sorted(where.glob("symgrad_kernel_*.py")):
        key = kernel.stem.removeprefix("symgrad_kernel_")
        entry = Entry(where, key)
        if key == keep or _last_used(entry) >= cutoff:
            continue
        with locked(entry.lock, wait=0) as held:
            if not held:
                continue
            for path in [entry.record, entry.kernel,
                         *(where / "__pycache__").glob(f"{entry.stem}.*")]:
                with contextlib.suppress(OSError):
                    path.unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            entry.lock.unlink(missing_ok=True)
        removed.append(entry.stem)
    return removed


def _last_used(entry: Entry) -> float:
    times = []
    for path in (entry.kernel, entry.record):
        with contextlib.suppress(OSError):
            times.append(path.stat().st_mtime)
    return max(times, default=float("inf"))         # vanished meanwhile: leave it
