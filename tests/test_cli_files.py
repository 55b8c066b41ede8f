"""Output files, the terminal and Ctrl-C in ``symgrad check`` and ``symgrad train``.

In-process through ``main(argv)`` (the ``cli`` fixture) where that shows the
behaviour; real processes, with memory, file-size and time limits set by the
harness, for what only a process shows: Ctrl-C, a full disk (/dev/full, a
file-size limit), bytes in argv that are not UTF-8, an ASCII-only stdout.
"""

from __future__ import annotations

import json
import os
import re
import resource
import select
import signal
import stat
import subprocess
import sys
import time
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from symgrad.cli.terminal import escape

pytest.importorskip("matplotlib")

PNG = b"\x89PNG\r\n\x1a\n"
ENV = {**os.environ, "PYTHONIOENCODING": "utf-8", "COLUMNS": "80"}
MEMORY = 3 * 2**30
#: Control characters that must never reach a terminal raw.
RAW = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
POINTS = "x,y\n" + "".join(f"{x},{2 * x + 0.1 * (-1) ** x}\n" for x in range(-5, 6))


def limits(fsize=None):
    """preexec_fn: memory (and file size) limits; Ctrl-C raises KeyboardInterrupt."""

    def apply():
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))
        if fsize is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))
        signal.signal(signal.SIGINT, signal.SIG_DFL)

    return apply


def symgrad_process(*args, cwd, fsize=None, env=ENV, stdout=subprocess.PIPE, timeout=120):
    return subprocess.run([sys.executable, "-m", "symgrad", *args], cwd=cwd, env=env,
                          stdout=stdout, stderr=subprocess.PIPE, timeout=timeout,
                          preexec_fn=limits(fsize))


def one_error_line(stderr: str) -> str:
    assert stderr.endswith("\n") and stderr.count("\n") == 1, stderr
    assert "Traceback" not in stderr
    return stderr


@pytest.fixture
def folder(tmp_path):
    (tmp_path / "points.csv").write_text(POINTS, encoding="utf-8")
    return tmp_path


TRAIN = ("train", "1-1", "--data", "points.csv", "--epochs", "50", "--backend", "numpy")
CHECK = ("check", "2-2-1")
COMMANDS = pytest.mark.parametrize("command", [TRAIN, CHECK], ids=["train", "check"])


# ------------------------------------------------------------------- --plot

@COMMANDS
def test_existing_plot_is_kept_without_force(cli, folder, command):
    (folder / "run.png").write_bytes(b"my figure")
    r = cli(*command, "--plot", "run.png", cwd=folder)
    assert r.returncode == 2 and r.stdout == ""
    assert "--plot 'run.png' already exists; pass --force" in one_error_line(r.stderr)
    assert (folder / "run.png").read_bytes() == b"my figure"


@COMMANDS
def test_force_replaces_an_existing_plot(cli, folder, command):
    (folder / "run.png").write_bytes(b"my figure")
    r = cli(*command, "--plot", "run.png", "--force", cwd=folder)
    assert r.returncode == 0, r.stderr
    assert r.stdout.endswith("plot: run.png\n")
    assert (folder / "run.png").read_bytes().startswith(PNG)
    assert sorted(p.name for p in folder.iterdir()) == ["points.csv", "run.png"]  # no temp


@COMMANDS
@pytest.mark.parametrize("force", [[], ["--force"]], ids=["plain", "force"])
@pytest.mark.parametrize("victim_exists", [True, False], ids=["link", "dangling-link"])
def test_a_symbolic_link_is_never_followed(cli, folder, command, force, victim_exists):
    victim = folder / "victim.txt"
    if victim_exists:
        victim.write_text("precious")
    (folder / "run.png").symlink_to(victim)
    r = cli(*command, "--plot", "run.png", *force, cwd=folder)
    assert r.returncode == 2 and r.stdout == ""
    assert "is a symbolic link (symgrad does not write through links)" in one_error_line(r.stderr)
    assert (folder / "run.png").is_symlink()
    assert victim.read_text() == "precious" if victim_exists else not victim.exists()


@pytest.mark.parametrize("name, words", [
    ("dir.png", "'dir.png' is a directory"),
    ("no/such/run.png", "the directory 'no/such' does not exist"),
    ("run.jpg", "give a file name ending in .png"),
    ("/proc/run.png", "'/proc/run.png' cannot be created: No such file or directory"),
])
def test_unwritable_plot_names_are_refused_before_any_work(cli, folder, name, words):
    (folder / "dir.png").mkdir()
    r = cli(*TRAIN, "--plot", name, cwd=folder)
    assert r.returncode == 2 and r.stdout == ""
    assert words in one_error_line(r.stderr)


@pytest.mark.parametrize("force", [[], ["--force"]], ids=["plain", "force"])
def test_a_fifo_is_never_opened_or_replaced(cli, folder, force):
    os.mkfifo(folder / "pipe.png")      # opening it for writing would wait for a reader
    r = cli(*TRAIN, "--plot", "pipe.png", *force, cwd=folder)
    assert r.returncode == 2
    assert "--plot 'pipe.png' is not a regular file" in one_error_line(r.stderr)
    assert stat.S_ISFIFO(os.lstat(folder / "pipe.png").st_mode)


def test_plot_in_an_unwritable_place_fails_before_a_long_training(folder):
    """Formerly the error came after training as exit 4; --epochs 10**9 would not end."""
    r = symgrad_process(*TRAIN[:-4], "--epochs", str(10**9), "--backend", "numpy",
                        "--plot", "/proc/run.png", cwd=folder, timeout=120)
    assert r.returncode == 2 and r.stdout == b""
    assert b"cannot be created" in r.stderr and r.stderr.count(b"\n") == 1


@pytest.mark.parametrize("bad", [["--lr", "0"], ["--init", "zero"]], ids=["lr", "init"])
def test_reserved_plot_is_removed_when_the_run_fails(cli, folder, bad):
    r = cli(*TRAIN, *bad, "--plot", "run.png", cwd=folder)
    assert r.returncode == 2 and r.stdout == ""
    one_error_line(r.stderr)
    assert not (folder / "run.png").exists()


@pytest.mark.slow
@pytest.mark.parametrize("command", [TRAIN, ("check", "2-2-1", "--activation", "tanh")],
                         ids=["train", "check"])
def test_late_write_failure_prints_the_report_then_one_line(folder, command):
    """A file-size limit below the PNG's size: the figure cannot be written."""
    r = symgrad_process(*command, "--plot", "run.png", cwd=folder, fsize=4000)
    out, err = r.stdout.decode(), r.stderr.decode()
    assert r.returncode == 6, err
    assert out.startswith(f"symgrad {command[0]}: ") and "plot:" not in out
    assert ("symgrad: error: cannot write the plot 'run.png' (nothing was left there): "
            "File too large") in one_error_line(err)
    assert not (folder / "run.png").exists()


@pytest.mark.slow
def test_late_write_failure_in_json_says_no_plot(folder):
    r = symgrad_process(*TRAIN, "--json", "--plot", "run.png", cwd=folder, fsize=4000)
    assert r.returncode == 6
    assert json.loads(r.stdout)["plot"] is None


# ------------------------------------------------------------- stdout fails

@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full")
@pytest.mark.parametrize("args", [["check", "2-2-1"], ["check", "2-2-1", "--json"],
                                  ["--help"], ["train", "--help"]],
                         ids=["check", "json", "help", "train-help"])
def test_a_full_disk_is_one_line_and_exit_6(tmp_path, args):
    with open("/dev/full", "w") as full:
        r = symgrad_process(*args, cwd=tmp_path, stdout=full)
    assert r.returncode == 6
    assert r.stderr == b"symgrad: error: cannot write the output: No space left on device\n"


def test_an_ascii_terminal_gets_escapes_not_a_crash(folder):
    (folder / "d.csv").write_text("\u2202x,\u0177\n1,2\n2,4\n", encoding="utf-8")
    r = symgrad_process("train", "1-1", "--data", "d.csv", "--backend", "numpy", cwd=folder,
                        env={**ENV, "PYTHONIOENCODING": "ascii"})
    assert r.returncode == 0, r.stderr
    assert b"input \\u2202x, target \\u0177" in r.stdout


# ------------------------------------------------------------------ escaping

EVIL = "x\x1b[31m\u202e"


def test_csv_header_names_are_escaped_in_the_report(cli, folder):
    (folder / "evil.csv").write_text(f"{EVIL},y\n1,2\n2,4.5\n3,6\n", encoding="utf-8")
    r = cli("train", "1-1", "--data", "evil.csv", "--backend", "numpy", cwd=folder)
    assert r.returncode == 0, r.stderr
    assert "input x\\x1b[31m\\u202e, target y" in r.stdout
    assert not RAW.search(r.stdout + r.stderr)


def test_csv_names_are_escaped_in_error_lines(cli, folder):
    name = "e\x1b]0;owned\x07.csv"
    (folder / name).write_text(f"{EVIL},y\n1,2,3\n", encoding="utf-8")
    r = cli("train", "1-1", "--data", name, cwd=folder)
    assert r.returncode == 2
    line = one_error_line(r.stderr)
    assert "e\\x1b]0;owned\\x07.csv, line 2: 3 values" in line
    assert "(x\\x1b[31m\\u202e,y)" in line
    assert not RAW.search(r.stdout + line[:-1])


def test_arguments_are_escaped_in_usage_errors(cli):
    r = cli("check", "2-2-1", "\x1b[2J")
    assert r.returncode == 2
    assert "unrecognized arguments: \\x1b[2J" in one_error_line(r.stderr)


def test_ordinary_unicode_is_kept(cli, folder):
    (folder / "u.csv").write_text("\u2202x,\u0177\n1,2\n2,4\n", encoding="utf-8")
    r = cli("train", "1-1", "--data", "u.csv", "--backend", "numpy", cwd=folder)
    assert "u.csv: 2 samples, input \u2202x, target \u0177" in r.stdout


def test_other_commands_are_escaped_at_the_boundary(cli, tmp_path):
    """verify prints the --file name raw in its error lines; main()'s stderr escapes it."""
    name = "c\x1b[2J.txt"
    (tmp_path / name).write_text("dz21/dw111 = = x1\n", encoding="utf-8")
    r = cli("verify", "2-2-1", "--file", name, cwd=tmp_path)
    assert r.returncode == 2
    assert "c\\x1b[2J.txt:1: a claim has one '='" in r.stderr
    assert "\x1b" not in r.stdout + r.stderr


class _Stream:
    """A text stream standing in for a disk: ``fail`` is what a write raises."""

    encoding = "ascii"

    def __init__(self, fail=None):
        self.fail, self.text = fail, ""

    def write(self, text):
        if self.fail is not None:
            raise self.fail
        text.encode(self.encoding)
        self.text += text
        return len(text)

    def flush(self):
        pass


def test_guarded_stream_escapes_and_reports():
    from symgrad.cli.terminal import GuardedStream, OutputError

    ok = _Stream()
    guarded = GuardedStream(ok, "the output")
    guarded.write("a\x1b[1mb\tc\r\n\u2202\n")
    assert ok.text == "a\\x1b[1mb\tc\\r\n\\u2202\n"       # ASCII stream: backslash escape
    with pytest.raises(OutputError, match="^cannot write the output: No space left on device$"):
        GuardedStream(_Stream(OSError(28, "No space left on device")), "the output").write("x")
    with pytest.raises(BrokenPipeError):
        GuardedStream(_Stream(BrokenPipeError(32, "Broken pipe")), "the output").write("x")


def test_file_names_that_are_not_utf8_are_escaped(folder):
    """argv bytes that are not UTF-8 arrive as lone surrogates; printed raw, they crash."""
    name = b"\xff\x1b.csv"
    with open(os.path.join(os.fsencode(folder), name), "w") as f:
        f.write(POINTS)
    r = subprocess.run([sys.executable, "-m", "symgrad", "train", "1-1", "--data", name,
                        "--backend", "numpy"], cwd=folder, env=ENV, capture_output=True,
                       timeout=120, preexec_fn=limits())
    assert r.returncode == 0, r.stderr
    assert b"data: \\udcff\\x1b.csv: 11 samples" in r.stdout
    assert b"\x1b" not in r.stdout + r.stderr


def test_escape_examples():
    assert escape("a\x1bb\x9bc\x7fd") == "a\\x1bb\\x9bc\\x7fd"
    assert escape("\u202eevil\u2066") == "\\u202eevil\\u2066"
    assert escape("line\u2028two\nthree\ttab") == "line\\u2028two\\nthree\\ttab"
    assert escape("\udcff") == "\\udcff"
    assert escape("\U000e0001") == "\\U000e0001"           # a tag character (Cf)
    assert escape("\u2202\u0177/\u2202w \u2713 \u00e9 \\frac{a}{b}") == \
        "\u2202\u0177/\u2202w \u2713 \u00e9 \\frac{a}{b}"


@given(st.text())
def test_escaped_text_is_printable_and_escaping_is_idempotent(text):
    shown = escape(text)
    assert not [c for c in shown if unicodedata.category(c) in {"Cc", "Cf", "Cs", "Zl", "Zp"}]
    assert escape(shown) == shown


# ---------------------------------------------------------- options, warnings

@pytest.mark.parametrize("args, words", [
    (["--seed", "-1"], "the seed must be a whole number from 0 to 2**64-1"),
    (["--seed", "1.5"], "got '1.5'"),
    (["--samples", "10000000"], "at most 1000000"),
    (["--slope", "1,2,3"], "--slope gives 3 slopes but the 1-1 network has 1 input"),
    (["--noise", "1e308"], "the synthetic targets overflow float64 (inf)"),
], ids=["negative-seed", "float-seed", "samples", "slopes", "overflowing-data"])
def test_train_option_values_are_checked(cli, args, words):
    r = cli("train", "1-1", "--synthetic", *args)
    assert r.returncode == 2 and r.stdout == ""
    assert words in one_error_line(r.stderr)     # and no RuntimeWarning lines


@pytest.mark.parametrize("make", [lambda p: os.mkfifo(p), lambda p: p.symlink_to("/dev/zero")],
                         ids=["fifo", "device"])
def test_data_that_would_never_end_is_refused(cli, tmp_path, make):
    make(tmp_path / "d.csv")
    r = cli("train", "1-1", "--data", "d.csv", cwd=tmp_path)
    assert r.returncode == 2
    line = one_error_line(r.stderr)
    assert "'d.csv'" in line and "symgrad reads data from regular files only" in line


def test_largest_seed_works(cli):
    r = cli("check", "2-2-1", "--seed", str(2**64 - 1), "--batch", "2", "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["seed"] == 2**64 - 1


def test_float_overflow_is_a_note_not_a_raw_warning(cli):
    r = cli("train", "1-1", "--synthetic", "--slope", "1e300", "--backend", "numpy")
    assert "RuntimeWarning" not in r.stderr and "encountered" not in r.stderr
    assert "note: some values overflowed past the largest float64" in r.stdout
    j = cli("train", "1-1", "--synthetic", "--slope", "1e300", "--backend", "numpy", "--json")
    assert any(n.startswith("some values overflowed") for n in json.loads(j.stdout)["notes"])


def test_no_notes_in_an_ordinary_run(cli):
    r = cli(*CHECK, "--json")
    assert "notes" not in json.loads(r.stdout) and r.stderr == ""


# ------------------------------------------------------------------- Ctrl-C

LONG_RUN = ("train", "2-2-1", "--synthetic", "--split", "0.3", "--noise", "0.1",
            "--batch-size", "10", "--epochs", "100000000", "--backend", "numpy")


def interrupt_after_progress(args, cwd, code=None):
    """Run symgrad with stderr on a terminal (so the progress bar shows), press Ctrl-C
    once the bar has appeared, and return (exit code, stdout, terminal text)."""
    master, slave = os.openpty()
    command = [sys.executable, "-m", "symgrad", *args] if code is None else \
        [sys.executable, "-c", code, *args]
    proc = subprocess.Popen(command, cwd=cwd, env=ENV, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=slave, preexec_fn=limits())
    os.close(slave)
    seen = b""
    try:
        deadline = time.monotonic() + 120
        while b" epochs " not in seen:
            assert proc.poll() is None, seen
            assert time.monotonic() < deadline, f"no progress bar: {seen!r}"
            ready, _, _ = select.select([master], [], [], 1.0)
            if ready:
                seen += os.read(master, 4096)
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=120)
        while True:
            ready, _, _ = select.select([master], [], [], 0.5)
            if not ready:
                break
            try:
                chunk = os.read(master, 4096)
            except OSError:       # EIO: the terminal's other side is closed
                break
            if not chunk:
                break
            seen += chunk
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
    return proc.returncode, out.decode(), seen.decode(errors="replace")


@pytest.mark.slow
def test_ctrl_c_prints_the_state_reached_and_exits_130(tmp_path):
    code, out, terminal = interrupt_after_progress([*LONG_RUN, "--plot", "run.png"], tmp_path)
    assert code == 130, (out, terminal)
    stopped = re.search(r"^stopped: interrupted \(Ctrl-C\) after epoch (\d+) of 100000000; "
                        r"this is the state reached$", out, re.M)
    assert stopped, out
    epoch = int(stopped.group(1))
    assert re.search(rf"^cost C: \S+ at the start -> \S+ after {epoch} epochs", out, re.M)
    assert re.search(r"^  w212 +\S+ +-> +\S+$", out, re.M)        # the parameters
    assert out.endswith("plot: run.png\n")
    assert (tmp_path / "run.png").read_bytes().startswith(PNG)
    last = terminal.replace("\r", "\n").strip().splitlines()[-1]
    assert last == (f"symgrad: interrupted (Ctrl-C) after epoch {epoch} of 100000000; "
                    "the report shows the state reached")
    assert "Traceback" not in terminal and "KeyboardInterrupt" not in terminal


@pytest.mark.slow
def test_ctrl_c_with_json_reports_the_state_reached(tmp_path):
    code, out, terminal = interrupt_after_progress([*LONG_RUN, "--json", "--plot", "run.png"],
                                                   tmp_path)
    assert code == 130, (out, terminal)
    report = json.loads(out)
    assert report["stop"] == "interrupted" and report["epochs"] >= 1
    assert len(report["parameters"]) == 6 and report["plot"] == "run.png"
    assert (tmp_path / "run.png").read_bytes().startswith(PNG)
    assert terminal.replace("\r", "\n").strip().splitlines()[-1].endswith(
        "the report shows the state reached")


@pytest.mark.slow
def test_ctrl_c_during_check_removes_the_reserved_plot(tmp_path):
    """The reserved file appearing is the sign that the check has started."""
    proc = subprocess.Popen([sys.executable, "-m", "symgrad", "check", "100-100-1", "--plot",
                             "steps.png"], cwd=tmp_path, env=ENV, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, preexec_fn=limits())
    try:
        deadline = time.monotonic() + 120
        while not (tmp_path / "steps.png").exists():
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the plot file was never reserved"
            time.sleep(0.01)
        # A Ctrl-C that lands inside an extension module's import (numpy's, SymPy's)
        # can be lost there, whatever the program does; press it again, as people do.
        for _ in range(5):
            proc.send_signal(signal.SIGINT)
            try:
                out, err = proc.communicate(timeout=5)
                break
            except subprocess.TimeoutExpired:
                continue
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, err
    assert (out, err) == (b"", b"symgrad: interrupted (Ctrl-C)\n")
    assert not (tmp_path / "steps.png").exists()


def test_a_taken_ctrl_c_ignores_the_next_one_only_in_the_command(monkeypatch):
    """After the first Ctrl-C is taken, the console command ignores further presses at
    once (a second press while the message is printed made the exit a death by SIGINT,
    -2, in CI); main() called in-process leaves the caller's handler alone."""
    from symgrad.cli import main as cli_main
    from symgrad.cli import verify as cli_verify

    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli_verify, "run_verify", interrupted)
    before = signal.getsignal(signal.SIGINT)
    try:
        assert cli_main.main(["verify", "2-2-1", "dz21/dw111 = x1"]) == 130
        assert signal.getsignal(signal.SIGINT) is before
        monkeypatch.setattr(cli_main, "_as_command", True)
        assert cli_main.main(["verify", "2-2-1", "dz21/dw111 = x1"]) == 130
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, before)
