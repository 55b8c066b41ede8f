"""Fixtures and Hypothesis profiles for tests/ (the root conftest.py covers doctests too).

Hypothesis profiles
-------------------
``SYMGRAD_HYPOTHESIS_PROFILE`` picks one (default ``default``):

``default``   100 examples as the unit; the counts the tests have always run
``quick``     a fifth of that, for the inner loop
``thorough``  ten times as many, before a release or after touching a reference

A test that needs more or fewer examples than the unit states them as a share of
the loaded profile's count, ``settings.default.max_examples`` (``3 * UNIT`` is 300 in
the default profile, 60 in quick), so every profile scales every test by the same
factor.  Otherwise tests pass ``settings(...)`` only for what is really theirs, such
as a suppressed health check.

The command line in-process
---------------------------
The ``cli`` fixture runs ``symgrad.cli.main.main(argv)`` in this process and returns
a :class:`subprocess.CompletedProcess` (``returncode``, ``stdout``, ``stderr``), as
``subprocess.run([sys.executable, "-m", "symgrad", ...], capture_output=True,
text=True)`` would, without paying the SymPy import for every call.
tests/test_cli_smoke.py keeps a few real processes.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import settings

#: The unit of examples per test in each profile.
PROFILE_EXAMPLES = {"default": 100, "quick": 20, "thorough": 1000}

for _name, _count in PROFILE_EXAMPLES.items():
    # Every property test here builds SymPy expressions or compiles gradients: the
    # time of one example varies too much for a deadline to mean anything.
    settings.register_profile(_name, max_examples=_count, deadline=None)

PROFILE = os.environ.get("SYMGRAD_HYPOTHESIS_PROFILE", "default")
if PROFILE not in PROFILE_EXAMPLES:
    raise pytest.UsageError(f"SYMGRAD_HYPOTHESIS_PROFILE={PROFILE!r}: use one of "
                            f"{', '.join(PROFILE_EXAMPLES)}")
settings.load_profile(PROFILE)


def pytest_report_header(config):
    return f"hypothesis profile: {PROFILE} ({settings.default.max_examples} examples per unit)"


def run_main(argv, capsys, monkeypatch, *, cwd=None, env=None) -> subprocess.CompletedProcess:
    """Run ``main(argv)`` with captured output; ``SystemExit`` (``--help``,
    ``--version``) becomes the return code, as in a real process."""
    from symgrad.cli.main import main

    argv = [str(a) for a in argv]
    capsys.readouterr()                       # drop whatever the test printed before
    with monkeypatch.context() as patch:
        if cwd is not None:
            patch.chdir(cwd)
        for key, value in (env or {}).items():
            patch.setenv(key, value)
        try:
            code = main(argv)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    out, err = capsys.readouterr()
    return subprocess.CompletedProcess(["symgrad", *argv], code, out, err)


@pytest.fixture
def cli(capsys, monkeypatch):
    """``cli(*args, cwd=None, env=None)``: ``symgrad ARGS`` run in-process."""

    def run(*args, cwd=None, env=None):
        return run_main(args, capsys, monkeypatch, cwd=cwd, env=env)

    return run


@pytest.fixture(scope="session")
def built_site(tmp_path_factory, worker_id) -> Path:
    """The documentation site, built once per run with ``mkdocs build --strict`` (a few
    seconds; pytest-xdist workers share one build through a lock file); the folder
    holding it.  The build's output is in the failure."""
    pytest.importorskip("mkdocs")
    import fcntl

    root = Path(__file__).resolve().parent.parent
    shared = tmp_path_factory.getbasetemp()
    if worker_id != "master":          # every worker's base folder sits in a common one
        shared = shared.parent
    site, done = shared / "docs-site", shared / "docs-site.built"
    with open(shared / "docs-site.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.exists():
            env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "NO_COLOR": "1"}
            run = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict",
                                  "--quiet", "-f", str(root / "mkdocs.yml"), "-d", str(site)],
                                 cwd=root, env=env, capture_output=True, text=True,
                                 timeout=300)
            assert run.returncode == 0, run.stdout + run.stderr
            done.write_text("ok")
    return site
