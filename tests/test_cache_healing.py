"""The kernel cache heals: a damaged entry is rebuilt once, with one line of note;
and ``f.raw`` refuses arguments it would read past instead of crashing.

Two layers.  The record (symgrad.backends.numba.entry) is tested here on small
files: every kind of damage is named, the lock excludes, writes are atomic.  The
whole load is tested in child processes (a kernel imported in this process is
served from memory), each on a copy of one cache directory built once: damage a
file, load again, and the child must compute the same numbers as the numpy
backend, print one note on stderr, and find the entry sound when it loads again.
``f.raw``'s refusals run in a child too, so that a check that lets a bad shape
through crashes the child, not the test run.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from symgrad import Network, compile_gradients
from symgrad.backends.numba.entry import Entry, locked, write_atomically

KEY = "0123456789abcdef01234567"
HAS_NUMBA = importlib.util.find_spec("numba") is not None


# --- the record, on small files ---------------------------------------------------------

@pytest.fixture
def entry(tmp_path):
    """An entry with a kernel, two numba files, numba's leftover temporary file, another
    key's file, and a record written for all of it."""
    (tmp_path / "__pycache__").mkdir()
    e = Entry(tmp_path, KEY)
    e.kernel.write_bytes(b"P = 6\n" * 40)
    for name, data in (("run_serial-9.py311.nbi", b"index" * 30),
                       ("run_serial-9.py311.1.nbc", b"machine code" * 50),
                       ("run_serial-9.py311.nbi.tmp.ab12", b"half written")):
        (tmp_path / "__pycache__" / f"{e.stem}.{name}").write_bytes(data)
    (tmp_path / "__pycache__" / "symgrad_kernel_ffff.run_serial-9.py311.nbi").write_bytes(b"x")
    e.save_record(e.kernel.read_bytes())
    return e


def numba_file(e, suffix):
    return next(p for p in e.numba_files() if p.suffix == suffix)


def test_the_record_lists_the_kernel_then_numbas_files_as_sha256sum_does(entry):
    lines = entry.record.read_text().splitlines()
    names = [line.split("  ", 1)[1] for line in lines]
    assert names[0] == entry.kernel.name
    assert sorted(names[1:]) == [f"__pycache__/{p.name}" for p in entry.numba_files()]
    assert len(names) == 3                           # no temporary file, no other key
    for line, name in zip(lines, names):
        assert line == f"{hashlib.sha256((entry.where / name).read_bytes()).hexdigest()}  {name}"
    assert entry.verified() == (entry.kernel.read_bytes(), None)
    if shutil.which("sha256sum"):                    # the format is sha256sum's own
        check = subprocess.run(["sha256sum", "-c", entry.record.name], cwd=entry.where,
                               capture_output=True, text=True, timeout=30)
        assert check.returncode == 0, check.stdout + check.stderr


def test_an_unchanged_record_is_not_rewritten(entry):
    before = entry.record.stat().st_ino
    entry.save_record(entry.kernel.read_bytes())
    assert entry.record.stat().st_ino == before
    numba_file(entry, ".nbc").write_bytes(b"recompiled")
    entry.save_record(entry.kernel.read_bytes())
    assert entry.record.stat().st_ino != before and entry.verified()[1] is None


def _cut(path):
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _flip(path):
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x5A                     # one byte: same size, same start
    path.write_bytes(bytes(data))


KERNEL, NBI, NBC = "the kernel file", "numba's file run_serial-9.py311.nbi", \
    "numba's file run_serial-9.py311.1.nbc"
WRONG, RECORD = " does not match its checksum", "its checksum record "
DAMAGE = {  # what is done to the entry -> what the note says
    "kernel truncated": (lambda e: _cut(e.kernel), KERNEL + WRONG),
    "kernel garbled": (lambda e: _flip(e.kernel), KERNEL + WRONG),
    "kernel deleted": (lambda e: e.kernel.unlink(), KERNEL + " is missing"),
    "index truncated": (lambda e: _cut(numba_file(e, ".nbi")), NBI + WRONG),
    "index garbled": (lambda e: _flip(numba_file(e, ".nbi")), NBI + WRONG),
    "data truncated": (lambda e: numba_file(e, ".nbc").write_bytes(b""), NBC + WRONG),
    "data garbled": (lambda e: _flip(numba_file(e, ".nbc")), NBC + WRONG),
    "data deleted": (lambda e: numba_file(e, ".nbc").unlink(), NBC + " is missing"),
    "record garbled": (lambda e: e.record.write_bytes(os.urandom(64) + b"\xff"),
                       RECORD + "is not text"),
    "record truncated": (lambda e: e.record.write_bytes(e.record.read_bytes()[:70]),
                         RECORD + "has a bad line 1"),
    "record emptied": (lambda e: e.record.write_bytes(b""),
                       RECORD + "does not start with the kernel file"),
    "record huge": (lambda e: e.record.write_bytes(b"0" * (1 << 20)), RECORD + "is too long"),
    "record points outside": (
        lambda e: e.record.write_text(e.record.read_text() + f"{'0' * 64}  ../../etc/passwd\n"),
        RECORD + "has a bad line 4"),
}


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_every_kind_of_damage_is_found_and_named(entry, damage):
    do, why = DAMAGE[damage]
    do(entry)
    assert entry.verified() == (None, why)


def test_no_record_means_rebuild_with_nothing_to_report(entry):
    entry.record.unlink()
    assert entry.verified() == (None, None)


def test_discard_deletes_the_record_and_numbas_files_and_leaves_the_rest(entry):
    others = sorted(p.name for p in entry.where.rglob("*ffff*"))
    entry.discard()
    assert not entry.record.exists()
    assert not list((entry.where / "__pycache__").glob(f"{entry.stem}.*"))   # .tmp too
    assert entry.kernel.exists()                     # replaced by the caller, never missing
    assert sorted(p.name for p in entry.where.rglob("*ffff*")) == others


def test_atomic_writes_leave_a_private_file_and_no_temporary(tmp_path):
    target = tmp_path / "k.py"
    target.write_text("old")
    write_atomically(target, "new text")
    write_atomically(target, b"\x00bytes")
    assert target.read_bytes() == b"\x00bytes" and os.listdir(tmp_path) == ["k.py"]
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


@pytest.mark.skipif(importlib.util.find_spec("fcntl") is None, reason="no flock here")
def test_the_lock_excludes_a_second_holder_until_released(tmp_path):
    path = tmp_path / "k.lock"
    with locked(path) as first:
        with locked(path, wait=0.2) as second:       # another open file: flock refuses it
            assert (first, second) == (True, False)
    with locked(path, wait=0.2) as again:
        assert again
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


# --- whole loads, in child processes ----------------------------------------------------

#: Address space of a child: a cold numba compile peaks near 0.55 GB.
MEMORY = 3 << 30
NET = Network([2, 2, 1])
PROBLEM = ([0.5, -1.0, 2.0, 0.25, 1.5, -0.75], [[1.0, 2.0], [-1.0, 0.5]], [1.0, -2.0])

#: Compiles the 2-2-1 net, prints its numbers, then loads the entry once more from
#: disk (the in-memory copy dropped): a sound record gives no second note.
CHILD = textwrap.dedent(f"""
    import json, sys
    import numpy as np
    from symgrad import Network
    from symgrad.backends.numba import cache
    from symgrad.backends.numba.backend import compile_numba
    {{setup}}
    f = compile_numba(Network([2, 2, 1]))
    cost, grad = f(*(np.array(a) for a in {PROBLEM!r}))
    cache._loaded.clear()
    again = compile_numba(Network([2, 2, 1]))
    print(json.dumps({{"cost": cost, "grad": grad.tolist(),
                      "again": again(*(np.array(a) for a in {PROBLEM!r}))[0]}}))
""")


def _limit_memory():
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))


def start(cache_dir, setup="", *argv, code=CHILD):
    """A child process (``python -c CODE``, or ``python -m symgrad ARGV``) on ``cache_dir``."""
    env = dict(os.environ, SYMGRAD_CACHE_DIR=str(cache_dir))
    env.pop("NUMBA_CACHE_DIR", None)
    command = ["-m", "symgrad", *argv] if argv else ["-c", code.replace("{setup}", setup)]
    return subprocess.Popen([sys.executable, *command], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, preexec_fn=_limit_memory)


def finish(child):
    out, err = child.communicate(timeout=300)
    return subprocess.CompletedProcess(child.args, child.returncode, out, err)


def run(cache_dir, setup="", *argv):
    return finish(start(cache_dir, setup, *argv))


def assert_right_numbers(out):
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout)
    cost, grad = compile_gradients(NET)(*(np.array(a) for a in PROBLEM))
    assert np.allclose([got["cost"], got["again"]], cost, rtol=1e-12, atol=0)
    assert np.allclose(got["grad"], grad, rtol=1e-12, atol=0)


NOTE = "symgrad: note: the cached kernel for 2-2-1 was damaged ("


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """A cache directory holding the 2-2-1 kernel, its numba files and its record."""
    if not HAS_NUMBA:
        pytest.skip("needs the 'fast' extra (numba)")
    where = tmp_path_factory.mktemp("built") / "cache"
    out = run(where)
    assert_right_numbers(out)
    assert out.stderr == ""                          # a first build is not a repair
    return where


def copy_of(built, tmp_path):
    """A copy of the built cache directory (times and modes kept) and its entry."""
    where = Path(shutil.copytree(built, tmp_path / "cache"))
    kernel = next(where.glob("symgrad_kernel_*.py"))
    entry = Entry(where, kernel.stem.removeprefix("symgrad_kernel_"))
    assert entry.verified()[0] is not None
    return entry


def serial(e, suffix):
    """numba's index or data file of the kernel's serial driver."""
    return next(p for p in e.numba_files() if ".run_serial-" in p.name and p.suffix == suffix)


def rerecord(e):
    """Record the damage as if it were sound: only the import can find it now."""
    e.save_record(e.kernel.read_bytes())


def _syntax_error(e):
    e.kernel.write_bytes(e.kernel.read_bytes().replace(b"def run_serial(", b"def run_serial(("))


REPAIRS = {  # damage -> (done to the entry, words in the note)
    "kernel truncated": (lambda e: _cut(e.kernel), "the kernel file does not match"),
    "index garbled": (lambda e: _flip(serial(e, ".nbi")), "run_serial-"),
    "data truncated": (lambda e: _cut(serial(e, ".nbc")), ".nbc does not match its checksum"),
    "kernel garbled, recorded": (lambda e: (_syntax_error(e), rerecord(e)), "SyntaxError: "),
    "index truncated, recorded": (lambda e: (_cut(serial(e, ".nbi")), rerecord(e)),
                                  "while loading it"),
    "data garbled, recorded": (lambda e: (serial(e, ".nbc").write_bytes(b"\x80\x05\x95junk"),
                                          rerecord(e)), "while loading it"),
}


@pytest.mark.slow
@pytest.mark.parametrize("damage", list(REPAIRS))
def test_a_damaged_entry_is_rebuilt_once_with_one_note(built, tmp_path, damage):
    entry = copy_of(built, tmp_path)
    do, words = REPAIRS[damage]
    do(entry)
    out = run(entry.where)
    assert_right_numbers(out)
    note, = out.stderr.splitlines()                  # one line: no traceback, no second note
    assert note.startswith(NOTE) and note.endswith("); rebuilt it") and words in note
    assert entry.verified()[0] == entry.kernel.read_bytes()


@pytest.mark.slow
def test_the_command_line_heals_the_cache_and_says_so_once(built, tmp_path):
    entry = copy_of(built, tmp_path)
    _cut(serial(entry, ".nbi"))
    rerecord(entry)                                  # the import itself fails: EOF/unpickling
    first, second = (run(entry.where, "", "check", "2-2-1", "--backend", "numba")
                     for _ in range(2))
    assert (first.returncode, second.returncode) == (0, 0), first.stderr
    assert "numba backend" in first.stdout and first.stdout == second.stdout
    note, = first.stderr.splitlines()
    assert note.startswith(NOTE) and note.endswith("while loading it); rebuilt it")
    assert second.stderr == ""


@pytest.mark.slow
@pytest.mark.parametrize("wait", ["lock", "no wait"])
def test_two_processes_rebuilding_at_once_both_end_with_a_working_kernel(built, tmp_path,
                                                                          wait):
    entry = copy_of(built, tmp_path)
    _cut(entry.kernel)
    setup = "" if wait == "lock" else (
        "import symgrad.backends.numba.entry as entry; entry.LOCK_WAIT = 0.0")
    children = [start(entry.where, setup) for _ in range(2)]
    outs = [finish(child) for child in children]
    for out in outs:
        assert_right_numbers(out)
        assert all(line.startswith(NOTE) for line in out.stderr.splitlines())
    if wait == "lock":            # the second waited for the first and loaded its repair
        assert sum(len(out.stderr.splitlines()) for out in outs) == 1
        assert entry.verified()[0] == entry.kernel.read_bytes()


@pytest.mark.slow
def test_a_rebuild_that_fails_too_raises_one_clear_error_not_a_loop(built, tmp_path):
    entry = copy_of(built, tmp_path)
    _cut(serial(entry, ".nbi"))
    rerecord(entry)
    setup = textwrap.dedent("""
        from symgrad.backends.numba import source
        calls = []
        def broken(net, method="reverse"):
            calls.append(1)
            return "raise ValueError('the generator is broken')\\n"
        source.kernel_source = broken
        try:
            compile_numba(Network([2, 2, 1]))
        except cache.KernelCacheError as exc:
            print(len(calls), exc)
            sys.exit(0)
    """)
    out = run(entry.where, setup)
    assert out.returncode == 0 and out.stderr == "", out.stderr
    calls, message = out.stdout.strip().split(" ", 1)
    assert calls == "1"                              # one rebuild, no loop
    assert message.startswith("the cached kernel for 2-2-1 failed to load (")
    assert message.endswith("and again after a rebuild (ValueError: the generator is broken); "
                            f"delete {entry.where.resolve()} or set SYMGRAD_CACHE_DIR to "
                            "another directory")


RAW_CHILD = textwrap.dedent("""
    import numpy as np
    from symgrad import Network
    from symgrad.backends.numba.backend import compile_numba
    f = compile_numba(Network([2, 2, 1]))
    p, X, Y = np.linspace(-1, 1, 6), np.ones((3, 2)), np.ones((3, 1))
    big = np.empty((10_000_000, 2))           # read past a 3-row Y, this crashes (measured)
    cases = {
        "right": (p, X, Y),
        "m of X far above Y's": (p, big, Y),
        "m of Y far above X's": (p, X, np.empty((10_000_000, 1))),
        "no rows": (p, X[:0], Y[:0]),
        "P too small": (p[:5], X, Y),
        "P too large": (np.ones(600_000), X, Y),
        "params 2-D": (p.reshape(6, 1), X, Y),
        "X too wide": (p, np.ones((3, 3)), Y),
        "Y 1-D": (p, X, Y[:, 0]),
        "X float32": (p, X.astype(np.float32), Y),
        "params int": (np.arange(6), X, Y),
        "X Fortran order": (p, np.asfortranarray(np.ones((3, 2))), Y),
        "params strided": (np.ones(12)[::2], X, Y),
        "params a list": (p.tolist(), X, Y),
    }
    for name, args in cases.items():
        try:
            cost, grad = f.raw(*args)
            same = f(*args)
            print(name, "|", "ok", cost == same[0] and grad.tolist() == same[1].tolist())
        except Exception as exc:
            print(name, "|", type(exc).__name__, "|", exc)
""")

RAW_REFUSALS = {  # case -> (error, words in its message)
    "m of X far above Y's": ("ShapeError", "Y has shape (3, 1); with 10000000 samples"),
    "m of Y far above X's": ("ShapeError", "Y has shape (10000000, 1); with 3 samples"),
    "no rows": ("ShapeError", "X has shape (0, 2); it needs (m, 2) with m >= 1"),
    "P too small": ("ShapeError", "params has shape (5,); the 2-2-1 network needs (6,)"),
    "P too large": ("ShapeError", "params has shape (600000,)"),
    "params 2-D": ("ShapeError", "params has shape (6, 1)"),
    "X too wide": ("ShapeError", "X has shape (3, 3)"),
    "Y 1-D": ("ShapeError", "Y has shape (3,); with 3 samples it needs (3, 1)"),
    "X float32": ("SpecTypeError", "X has dtype float32, not float64"),
    "params int": ("SpecTypeError", "params has dtype int64, not float64"),
    "X Fortran order": ("SpecTypeError", "X is not C-contiguous"),
    "params strided": ("SpecTypeError", "params is not C-contiguous"),
    "params a list": ("SpecTypeError", "params is a list, not a numpy array"),
}


@pytest.mark.slow
def test_raw_refuses_what_it_would_read_past_with_one_line(built, tmp_path):
    out = finish(start(copy_of(built, tmp_path).where, code=RAW_CHILD))
    assert out.returncode == 0 and out.stderr == "", out.stderr      # no crash, no note
    results = dict(line.split(" | ", 1) for line in out.stdout.splitlines())
    assert results.pop("right") == "ok True"                     # raw and f agree
    assert set(results) == set(RAW_REFUSALS)
    for case, (error, words) in RAW_REFUSALS.items():
        got_error, message = results[case].split(" | ")
        assert (got_error, message.startswith("f.raw: ")) == (error, True), (case, message)
        assert words in message, (case, message)


def test_prune_deletes_entries_unused_for_long_and_spares_the_rest(tmp_path):
    """Entries last used PRUNE_DAYS ago go (kernel, record, numba's files, lock); a
    recent one stays, the one being built stays, and one whose lock another holder
    has stays; an interrupted build (no record) counts by its kernel's time."""
    import time

    from symgrad.backends.numba.entry import PRUNE_DAYS, prune

    (tmp_path / "__pycache__").mkdir()
    now = time.time()
    old = now - (PRUNE_DAYS + 1) * 86400

    def make(key, when, record=True):
        e = Entry(tmp_path, key)
        e.kernel.write_text("# kernel\n")
        numba_file = tmp_path / "__pycache__" / f"{e.stem}.run_serial-9.py311.nbi"
        numba_file.write_bytes(b"index")
        files = [e.kernel, numba_file]
        if record:
            e.record.write_text("record\n")
            files.append(e.record)
        for path in files:
            os.utime(path, (when, when))
        return e

    stale, recent, building, busy = (make("aa", old), make("bb", now), make("cc", old),
                                     make("dd", old))
    orphan = make("ee", old, record=False)
    with locked(busy.lock) as held:
        assert held
        removed = prune(tmp_path, keep="cc", now=now)
    assert sorted(removed) == [stale.stem, orphan.stem]
    assert not stale.kernel.exists() and not stale.record.exists()
    assert not list((tmp_path / "__pycache__").glob(f"{stale.stem}.*"))
    assert not stale.lock.exists() and not orphan.kernel.exists()
    for kept in (recent, building, busy):
        assert kept.kernel.exists() and kept.numba_files()


def test_loading_an_entry_marks_it_used(entry):
    """save_record with nothing to change still touches the record: prune reads it."""
    entry.kernel.write_bytes(b"# kernel\n")
    entry.save_record(b"# kernel\n")
    os.utime(entry.record, (1, 1))
    entry.save_record(b"# kernel\n")
    assert entry.record.stat().st_mtime > 10**9


def test_building_a_kernel_prunes_old_entries(tmp_path):
    import time

    from symgrad.backends.numba import cache
    from symgrad.backends.numba.entry import PRUNE_DAYS

    (tmp_path / "__pycache__").mkdir()
    stale = Entry(tmp_path, "0ld")
    stale.kernel.write_text("# an old kernel\n")
    old = time.time() - (PRUNE_DAYS + 1) * 86400
    os.utime(stale.kernel, (old, old))
    fresh = Entry(tmp_path, "n3w")
    cache._build(fresh, Network([2, 2, 1]), "reverse")      # writes the source, no compile
    assert fresh.kernel.exists() and not stale.kernel.exists()
