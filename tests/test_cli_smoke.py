"""A few real ``symgrad`` processes: what only a process shows.

The rest of the command line is tested through ``main(argv)`` in-process (the
``cli`` fixture of tests/conftest.py), which is what these run too; here are the
parts in between: ``python -m symgrad`` and the console script start, ``sys.exit``
carries the exit code, output reaches real pipes, and a reader that goes away
(``symgrad ... | head -1``) is not an error.
"""

import os
import shutil
import subprocess
import sys

import pytest

from symgrad import __version__

ENV = {**os.environ, "PYTHONIOENCODING": "utf-8", "COLUMNS": "80"}


def python_m_symgrad(*args):
    return subprocess.run([sys.executable, "-m", "symgrad", *args], capture_output=True,
                          text=True, encoding="utf-8", env=ENV, timeout=120)


def test_version():
    r = python_m_symgrad("--version")
    assert (r.returncode, r.stdout, r.stderr) == (0, f"symgrad {__version__}\n", "")


def test_console_script_runs_the_same_main():
    exe = shutil.which("symgrad")
    if exe is None:
        pytest.skip("no 'symgrad' console script on PATH (pip install -e . puts one there)")
    r = subprocess.run([exe, "--version"], capture_output=True, text=True, env=ENV,
                       timeout=60)
    assert (r.returncode, r.stdout, r.stderr) == (0, f"symgrad {__version__}\n", "")


def test_check_exits_0():
    r = python_m_symgrad("check", "2-2-1")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("symgrad check: 2-2-1, linear, no bias, 6 weights\n")
    assert "OK: all 6 gradients agree" in r.stdout and r.stderr == ""


def test_wrong_claim_exits_1_with_its_report_on_stdout():
    r = python_m_symgrad("verify", "2-2-1", "dz21/dw111 = x1")
    assert r.returncode == 1, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == "\u2717 dz21/dw111 = x1"
    assert lines[1] == "    true:           x1*w211"
    assert "counterexample: x1=1, w211=2 (other symbols any value): claimed 1, true 2" \
        in r.stdout
    assert r.stderr == ""


def test_bad_input_exits_2_with_one_line_and_no_traceback():
    r = python_m_symgrad("check", "2-x-1")
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1 and r.stderr.startswith("symgrad: ")
    assert "bad architecture '2-x-1'" in r.stderr and "Traceback" not in r.stderr
    assert r.stdout == ""


def test_reader_going_away_is_not_an_error():
    """``symgrad check 2-2-1 | head -0``: stdout's reader is gone before the first
    write (the read end is closed at once; importing SymPy alone takes longer)."""
    proc = subprocess.Popen([sys.executable, "-m", "symgrad", "check", "2-2-1"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV)
    proc.stdout.close()
    try:
        err = proc.stderr.read().decode("utf-8", "replace")
        code = proc.wait(timeout=120)
    finally:
        proc.stderr.close()
        if proc.poll() is None:
            proc.kill()
    assert code == 0, err
    assert err == ""
