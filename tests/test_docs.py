"""The documentation: its examples run, its CLI reference matches --help, it builds.

How examples are found (docs/index.md, "How the examples are checked", says the same):

* A fenced block whose first line starts with ``>>>`` is a Python session.  The
  sessions of one page run in order in one namespace as doctests
  (NORMALIZE_WHITESPACE, ELLIPSIS).
* A fenced block whose first line starts with ``$ `` is a shell session.  Every
  ``$`` line is a command and the lines below it, up to the next ``$`` line, are
  its output.  A ``symgrad`` command with output is run through
  ``symgrad.cli.main.main(argv)`` in this process (the ``cli`` fixture of
  tests/conftest.py, as ``python -m symgrad`` would run it, with COLUMNS=80 and
  NO_COLOR=1) in a temporary directory holding the example files (``points.csv``,
  ``homework.tex``), and what it prints (stdout, then stderr) must match: a line
  ``...`` stands for any number of lines, ``...`` inside a line for any text.
  ``echo $?`` shows the previous command's exit code.  A command
  without output is not run, but its arguments must parse.
* A ``json`` block right after a shell block whose last command shows no output is
  that command's output, compared as JSON.
* A ``python`` block without prompts must compile.  Other blocks are not run.

docs/testing-your-backprop.md (python blocks executed, text blocks compared) and
docs/claims.md (its tables) have their own tests too; their blocks do not use
prompts, so nothing runs twice.
"""

from __future__ import annotations

import doctest
import os
import re
import shlex
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
PAGES = sorted(DOCS.glob("*.md")) + [ROOT / "README.md"]
FENCE = re.compile(r"^(?P<indent>[ ]*)(?P<fence>```+|~~~+)(?P<info>[^\n]*)\n"
                   r"(?P<body>.*?)^(?P=indent)(?P=fence)[ ]*$", re.M | re.S)
SHELL_OPERATORS = {">", ">>", "<", "|", "&&", "||", ";", "2>", "2>&1", "&"}
#: The terminal the examples assume.  In-process runs write to pytest's capture,
#: which is UTF-8 (what PYTHONIOENCODING=utf-8 gives a real process).
TERMINAL = {"COLUMNS": "80", "NO_COLOR": "1"}
ENV = {**os.environ, **TERMINAL, "PYTHONIOENCODING": "utf-8"}

#: Files the shell examples read.  points.csv: 13 points near y = 3x (x = -1.5 .. 1.5,
#: alternating +-0.5 off the line), so that a cost shown in docs/cli.md is reproducible.
EXAMPLE_FILES = {
    "points.csv": "x,y\n" + "".join(f"{x / 4},{3 * x / 4 + 0.5 * (-1) ** x}\n"
                                    for x in range(-6, 7)),
    "homework.tex": ("% homework.tex\n\\begin{align}\n"
                     "  \\frac{\\partial z_b}{\\partial w_{111}} &= x_1 w_{211} \\\\\n"
                     "  \\frac{\\partial z_b}{\\partial w_{211}} &= z_{11}\n\\end{align}\n"),
    "notes.txt": "dz21/dw111 = w211*x1\nsince z21 reaches w111 through z11 only\n",
    # docs/derivations.md shows this file in full; a test checks they are the same.
    "seed-derivation.tex": (
        "% seed-derivation.tex: dL/dw111 for one sample, as the question has it\n"
        "\\begin{align*}\n\\frac{\\partial L}{\\partial w_{111}}\n"
        "  &= \\frac{\\partial L}{\\partial y'} \\frac{\\partial y'}{\\partial w_{111}} \\\\\n"
        "  &= (y - y') \\frac{\\partial y'}{\\partial w_{111}} \\\\\n"
        "  &= (y - y') \\frac{\\partial z_{11}}{\\partial w_{111}} \\\\\n"
        "  &= (y - y') x_1\n\\end{align*}\n"),
    # docs/matrix.md shows this file in full; a test checks they are the same.
    "backprop.py": (
        "# backprop.py: the backward pass of a 2-3-1 tanh network, samples as columns\n"
        "dZ2 = A2 - Y\n"
        "dW2 = 1./m * np.dot(dZ2, A1.T)\n"
        "db2 = 1./m * np.sum(dZ2, axis=1, keepdims=True)\n"
        "dZ1 = np.dot(W2.T, dZ2) * (1 - np.power(A1, 2))\n"
        "dW1 = 1./m * np.dot(dZ1, X.T)\n"
        "db1 = 1./m * np.sum(dZ1, axis=1)\n"),
}


def blocks(page: Path):
    """``(line number, info string, body)`` of every fenced block of a page."""
    text = page.read_text(encoding="utf-8")
    for m in FENCE.finditer(text):
        indent = len(m.group("indent"))
        body = "\n".join(line[indent:] for line in m.group("body").splitlines())
        yield text.count("\n", 0, m.start()) + 1, m.group("info").strip(), body


def kind(body: str) -> str | None:
    first = next((line for line in body.splitlines() if line.strip()), "")
    if first.startswith(">>>"):
        return "pycon"
    if first.startswith("$ "):
        return "shell"
    return None


def _name(page: Path) -> str:
    return page.relative_to(ROOT).as_posix()


def _cases(which):
    return [pytest.param(page, line, body, id=f"{_name(page)}:{line}")
            for page in PAGES for line, info, body in blocks(page) if which(info, body)]


# ---------------------------------------------------------------- Python sessions

def _pages_with_sessions():
    return [pytest.param(p, id=_name(p)) for p in PAGES
            if any(kind(b) == "pycon" for _, _, b in blocks(p))]


@pytest.mark.parametrize("page", _pages_with_sessions())
def test_python_sessions(page, workdir, monkeypatch):
    """Every >>> block of the page, in order, in one namespace, as a doctest (in the
    folder holding the example files, which a page may open)."""
    monkeypatch.chdir(workdir)
    parser = doctest.DocTestParser()
    runner = doctest.DocTestRunner(
        optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS)
    globs, report = {"__name__": "docs"}, []
    for line, _, body in blocks(page):
        if kind(body) == "pycon":
            test = parser.get_doctest(body, globs, f"{_name(page)}:{line}", str(page), line)
            runner.run(test, out=report.append, clear_globs=False)
            globs = test.globs   # DocTest copies the namespace; carry it to the next block
    assert not runner.failures, "".join(report)


@pytest.mark.parametrize("page,line,body",
                         _cases(lambda info, body: kind(body) is None and info == "python"))
def test_python_blocks_compile(page, line, body):
    compile(body, f"{_name(page)}:{line}", "exec")


# ----------------------------------------------------------------- shell sessions

def commands(body: str):
    """``[(command, shown output lines), ...]`` of a shell block."""
    found = []
    for line in body.splitlines():
        if line.startswith("$ "):
            found.append((line[2:], []))
        elif found:
            found[-1][1].append(line)
    return [(cmd, out[:-1] if out and not out[-1].strip() else out) for cmd, out in found]


def symgrad_args(command: str):
    """The arguments after ``symgrad`` (up to a shell operator), or None."""
    words = shlex.split(command)
    if words[:3] == ["python", "-m", "symgrad"]:
        words = ["symgrad"] + words[3:]
    if words[:1] != ["symgrad"]:
        return None
    args = []
    for w in words[1:]:
        if w in SHELL_OPERATORS:
            break
        args.append(w)
    return args


def matches(shown: list, printed: list) -> bool:
    """Do the printed lines match the shown ones (``...`` lines and in-line ``...``)?"""
    if not shown:
        return not printed
    head, rest = shown[0], shown[1:]
    if head.strip() == "...":
        return any(matches(rest, printed[i:]) for i in range(len(printed) + 1))
    if not printed:
        return False
    want, got = head.rstrip(), printed[0].rstrip()
    same = doctest._ellipsis_match(want, got) if "..." in want else want == got
    return same and matches(rest, printed[1:])


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    path = tmp_path_factory.mktemp("docs-examples")
    for name, text in EXAMPLE_FILES.items():
        (path / name).write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("page,line,body", _cases(lambda info, body: kind(body) == "shell"))
def test_shell_sessions(page, line, body, workdir, cli):
    from symgrad.cli.main import build_parser

    status = None
    for command, shown in commands(body):
        if command.strip() == "echo $?":
            assert shown == [str(status)], f"{command}: docs show {shown}, exit code {status}"
            continue
        args = symgrad_args(command)
        if not shown:
            if args is not None:   # not run; but the options must exist
                build_parser().parse_args(args)
            continue
        assert args is not None, f"{_name(page)}:{line}: cannot run {command!r} (show no output)"
        done = cli(*args, cwd=workdir, env=TERMINAL)
        status = done.returncode
        if status == 3:   # EXIT_MISSING: e.g. --plot without matplotlib
            pytest.skip(f"an optional extra is missing: {done.stderr.strip()}")
        printed = (done.stdout + done.stderr).splitlines()
        assert matches(shown, printed), (
            f"{_name(page)}:{line}: $ {command}\n--- docs show:\n" + "\n".join(shown)
            + "\n--- symgrad prints:\n" + "\n".join(printed))


def _json_cases():
    """Shell blocks whose last command shows no output, followed directly by a json block."""
    cases = []
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        found = list(FENCE.finditer(text))
        for this, after in zip(found, found[1:]):
            steps = commands(this.group("body")) if kind(this.group("body")) == "shell" else []
            if (steps and not steps[-1][1] and after.group("info").strip() == "json"
                    and not text[this.end():after.start()].strip()):
                line = text.count("\n", 0, this.start()) + 1
                cases.append(pytest.param(steps[-1][0], after.group("body"),
                                          id=f"{_name(page)}:{line}"))
    return cases


@pytest.mark.parametrize("command,shown", _json_cases())
def test_json_outputs(command, shown, workdir, cli):
    """A json block right after a command is what the command prints, compared as JSON."""
    import json

    done = cli(*symgrad_args(command), cwd=workdir, env=TERMINAL)
    assert json.loads(done.stdout) == json.loads(shown)


def test_matches_rules():
    assert matches(["a", "...", "d"], ["a", "b", "c", "d"])
    assert matches(["a", "...", "d"], ["a", "d"])
    assert matches(["a b ... e"], ["a b c d e"])
    assert not matches(["a", "d"], ["a", "b", "d"])
    assert not matches(["a", "..."], ["b"])
    assert not matches(["a"], ["a", "extra"])


def test_pages_have_examples():
    """Every page written for newcomers shows runnable output."""
    for name in ("index.md", "getting-started.md", "tutorial.md", "cli.md"):
        found = [kind(b) for _, _, b in blocks(DOCS / name)]
        assert "shell" in found or "pycon" in found, name
    tutorial = [kind(b) for _, _, b in blocks(DOCS / "tutorial.md")]
    assert tutorial.count("pycon") >= 3 and tutorial.count("shell") >= 3


# ------------------------------------------------------------ the CLI reference

def _help(cli, *words) -> str:
    """``symgrad WORDS --help`` on an 80-column terminal."""
    done = cli(*words, "--help", env=TERMINAL)
    assert done.returncode == 0, done.stderr
    return done.stdout


def help_options(text: str) -> set:
    """Option strings of an argparse --help text (without -h/--help)."""
    found = set()
    for line in text.splitlines():
        m = re.match(r"^  (-.*?)(?:\s{2,}|$)", line)
        if m:
            found.update(re.findall(r"(?<![\w-])--?[A-Za-z][\w-]*", m.group(1)))
    return found - {"-h", "--help"}


def cli_sections() -> dict:
    """``{heading: section text}`` for every ``## symgrad ...`` section of docs/cli.md."""
    text = (DOCS / "cli.md").read_text(encoding="utf-8")
    parts = [p.split("\n", 1) for p in re.split(r"^## ", text, flags=re.M)[1:]]
    return {head.strip(): body for head, body in parts if head.startswith("symgrad")}


def documented_options(section: str) -> set:
    """Options in the first column of the section's tables: ``| `--seed N` | ...``."""
    return set(re.findall(r"^\| `(--?[A-Za-z][\w-]*)", section, re.M))


def test_help_options_parser():
    text = ("usage: x\n\noptions:\n  -h, --help            show\n  --activation NAME[,NAME...]\n"
            "                        hidden --not-this\n  --bias                give\n")
    assert help_options(text) == {"--activation", "--bias"}


def test_cli_reference_lists_every_command(cli):
    from symgrad.cli.main import COMMANDS

    listed = re.findall(r"^    (\w+)\s", _help(cli).split("COMMAND\n", 2)[-1], re.M)
    assert listed == list(COMMANDS)
    assert sorted(cli_sections()) == sorted(["symgrad"] + [f"symgrad {c}" for c in listed])


def _commands():
    from symgrad.cli.main import COMMANDS

    return list(COMMANDS)


@pytest.mark.parametrize("command", _commands())
def test_cli_reference_matches_help(command, cli):
    """docs/cli.md documents exactly the options `symgrad <command> --help` lists."""
    section = cli_sections().get(f"symgrad {command}")
    assert section is not None, f"docs/cli.md has no '## symgrad {command}' section"
    real, documented = help_options(_help(cli, command)), documented_options(section)
    assert not real - documented, f"undocumented options of {command}: {sorted(real - documented)}"
    assert not documented - real, f"docs/cli.md documents options {command} lacks: " \
                                  f"{sorted(documented - real)}"


def test_cli_reference_global_options(cli):
    real = help_options(_help(cli))
    assert documented_options(cli_sections()["symgrad"]) == real


# ----------------------------------------------------------------- the site build

@pytest.mark.slow
def test_site_builds_in_strict_mode(built_site):
    site = built_site
    for page in DOCS.glob("*.md"):
        out = site / ("index.html" if page.stem == "index" else f"{page.stem}/index.html")
        assert out.exists(), f"{page.name} was not built"
    api = (site / "api" / "index.html").read_text(encoding="utf-8")
    for anchor in ("symgrad.network.Network", "symgrad.derive.gradients",
                   "symgrad.claims.verify.verify", "symgrad.training.train.train",
                   "symgrad.testing.assertions.assert_backprop_matches"):
        assert f'id="{anchor}"' in api, anchor
    import symgrad

    for name in symgrad.__all__:   # everything `import symgrad` offers has an entry
        assert re.search(rf'id="symgrad\.[\w.]+\.{name}"', api), name
    assert "<blockquote>" not in api      # doctests are code, not quotes
    # The math is MathML made at build time (tests/test_docs_offline.py checks more).
    assert "<math " in (site / "conventions" / "index.html").read_text("utf-8")


def test_no_pipes_in_table_math():
    """A `|` inside $...$ in a Markdown table row splits the cell; write \\lvert, \\rvert."""
    for page in PAGES:
        for number, line in enumerate(page.read_text(encoding="utf-8").splitlines(), 1):
            if line.startswith("|"):
                code_free = re.sub(r"`[^`]*`", "", line)
                bad = [m for m in re.findall(r"\$[^$]+\$", code_free) if "|" in m]
                assert not bad, f"{_name(page)}:{number}: {bad}"


def test_doctest_fences():
    sys.path.insert(0, str(DOCS))
    try:
        griffe_doctests = pytest.importorskip("_griffe_doctests")
    finally:
        sys.path.remove(str(DOCS))
    text = "Intro.\n\n>>> 1 + 1\n2\n\nMore :func:`symgrad.references.check`.\n```\n>>> kept\n```"
    assert griffe_doctests.fence_doctests(text) == (
        "Intro.\n\n```pycon\n>>> 1 + 1\n2\n```\n\nMore :func:`symgrad.references.check`."
        "\n```\n>>> kept\n```")
    role = ":func:`~symgrad.references.check`"
    assert griffe_doctests.ROLE.sub(r"``\1``", role) == "``symgrad.references.check``"


def test_limits_page_states_the_values_the_code_uses():
    """Every row of the limits table names a constant; its value is the code's."""
    import importlib

    text = (DOCS / "limits.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| [^|]+ \| ([^|]+) \| `(symgrad[\w.]+)\.([A-Z_]+)` \|", text, re.M)
    assert len(rows) >= 12, rows
    for value, module, name in rows:
        actual = getattr(importlib.import_module(module), name)
        if name == "SEED_LIMIT":
            assert value.strip() == "0 to 2⁶⁴ - 1" and actual == 2**64
        else:
            assert int(value) == actual, (module, name, value, actual)


def test_example_files_shown_on_a_page_are_the_files_the_examples_read():
    page = (DOCS / "derivations.md").read_text(encoding="utf-8")
    shown = re.search(r"```latex\n(% seed-derivation\.tex.*?)```", page, re.S)
    assert shown and shown.group(1) == EXAMPLE_FILES["seed-derivation.tex"]
    page = (DOCS / "matrix.md").read_text(encoding="utf-8")
    shown = re.search(r"```python\n(# backprop\.py.*?)```", page, re.S)
    assert shown and shown.group(1) == EXAMPLE_FILES["backprop.py"]
