"""``symgrad verify`` and ``symgrad compare`` as a user runs them: through ``main(argv)``
in-process (the ``cli`` fixture of tests/conftest.py), except where only a real process
shows the behaviour (the terminal's encoding)."""

import json
import os
import subprocess
import sys

import pytest

from symgrad.cli.verify import claims_from_text


@pytest.fixture
def run(cli):
    return cli


def run_process(*args, env=None):
    full_env = dict(os.environ, **(env or {}))
    return subprocess.run([sys.executable, "-m", "symgrad", *args], capture_output=True,
                          text=True, env=full_env, timeout=120)


def test_correct_claim_exits_0(run):
    r = run("verify", "2-2-1", r"\frac{\partial z_{21}}{\partial w_{111}} = x_1 w_{211}")
    assert r.returncode == 0, r.stderr
    assert "dz21/dw111 = x1*w211" in r.stdout and "proved symbolically" in r.stdout


def test_wrong_claim_exits_1_with_true_diagnosis_counterexample(run):
    r = run("verify", "2-2-1", "dz21/dw111 = x1")
    assert r.returncode == 1
    lines = r.stdout.splitlines()
    assert lines[0].endswith("dz21/dw111 = x1")
    assert "true:           x1*w211" in r.stdout
    assert "missing factor w211" in r.stdout
    assert "counterexample: x1=1, w211=2 (other symbols any value): claimed 1, true 2" in r.stdout
    assert r.stderr == ""


def test_invalid_claim_exits_2_and_others_are_still_checked(run):
    r = run("verify", "2-2-1", "dz21/dw111 = w211*x1", "dz21/dw999 = 3", "dz21/dw211 = z11")
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1 and "claim 2" in r.stderr and "w999" in r.stderr
    assert "Traceback" not in r.stderr
    assert r.stdout.count("\u2713") == 2  # both readable claims reported


def test_a_wrong_claim_outranks_an_unreadable_one(run):
    """Exit precedence: any wrong claim 1, else any unreadable 2, else any undecided 5."""
    r = run("verify", "2-2-1", "dz21/dw111 = w211*x1", "dz21/dw999 = 3", "dz21/dw111 = x1")
    assert r.returncode == 1
    assert r.stderr.count("\n") == 1 and "claim 2" in r.stderr
    assert r.stdout.count("dz21/dw111") == 2


def test_no_claims_and_bad_file_are_usage_errors(run, tmp_path):
    assert run("verify", "2-2-1").returncode == 2
    r = run("verify", "2-2-1", "--file", str(tmp_path / "missing.txt"))
    assert r.returncode == 2 and "missing.txt" in r.stderr and "Traceback" not in r.stderr
    binary = tmp_path / "b.txt"
    binary.write_bytes(b"dz21/dw111 = x1 \xff\xfe\n")
    r = run("verify", "2-2-1", "--file", str(binary))
    assert r.returncode == 2 and "UTF-8" in r.stderr


TEX = r"""% homework 3: the seed network, output named z_b
\begin{align}
  \frac{\partial z_b}{\partial w_{111}} &= x_1 w_{211} \\ % chain rule
  \frac{\partial z_b}{\partial w_{121}} &= x_1 w_{212} \\
  \frac{\partial z_b}{\partial w_{211}} &= z_{11} \label{eq:w211} \\
  \frac{\partial z_b}{\partial w_{212}} &= x_1 \nonumber
\end{align}
"""


def test_file_with_latex_align_and_alias(run, tmp_path):
    path = tmp_path / "homework.tex"
    path.write_text(TEX, encoding="utf-8")
    r = run("verify", "2-2-1", "--file", str(path), "--alias", "z_b=z21")
    assert r.returncode == 1, r.stderr
    assert r.stdout.count("\u2713") == 3 and r.stdout.count("\u2717") == 1
    assert "dz_b/dw212 = x1" in r.stdout and "true:           z12" in r.stdout


def test_file_line_numbers_in_errors(run, tmp_path):
    path = tmp_path / "claims.md"
    path.write_text("# my claims\n\n- dz21/dw111 = w211*x1\n- dz21/dw111 = w211**\n",
                    encoding="utf-8")
    r = run("verify", "2-2-1", "--file", str(path))
    assert r.returncode == 2
    assert f"{path}:4:" in r.stderr and r.stderr.count("\n") == 1


def test_json_schema(run, tmp_path):
    r = run("verify", "2-2-1", "dz21/dw111 = x1", "dz21/dw211 = z11", "dz21/dw0 = 1", "--json")
    assert r.returncode == 1
    data = json.loads(r.stdout)
    assert list(data) == ["claims"] and len(data["claims"]) == 3
    wrong, right, bad = data["claims"]
    keys = {"claim", "of", "parameter", "correct", "method", "true", "diagnosis",
            "counterexample"}
    assert keys <= set(wrong) and keys <= set(right) and keys <= set(bad)
    assert wrong["correct"] is False and wrong["of"] == "z21" and wrong["parameter"] == "w111"
    assert wrong["diagnosis"] == {"kind": "missing-factor", "detail": wrong["diagnosis"]["detail"]}
    assert wrong["counterexample"] == {"values": {"x1": 1, "w211": 2}, "claimed": 1, "true": 2}
    assert right["correct"] is True and right["method"] == "proved symbolically"
    assert right["diagnosis"] is None and right["counterexample"] is None
    assert bad["correct"] is None and bad["error"]
    assert [c["status"] for c in data["claims"]] == ["wrong", "correct", "unreadable"]


def test_ascii_terminal_does_not_crash():
    """PYTHONIOENCODING=ascii sets up sys.stdout when a process starts: a real one."""
    r = run_process("verify", "2-2-1", "dz21/dw111 = x1", "dz21/dw111 = x1 w211",
            env={"PYTHONIOENCODING": "ascii"})
    assert r.returncode == 1, r.stderr
    assert "WRONG dz21/dw111 = x1" in r.stdout and "OK dz21/dw111" in r.stdout


def test_network_options_reach_the_truth(run):
    r = run("verify", "2-2-1", "--activation", "tanh", "dz21/dw111 = w211 x1 sech(z11)^2")
    assert r.returncode == 0, r.stdout + r.stderr
    r = run("verify", "2-2-1", "--loss", "squared", "dL/dw211 = 2 (z21 - y) z11")
    assert r.returncode == 0, r.stdout + r.stderr
    r = run("verify", "2-2-1", "--weight-name", "w{l}{k}{j}", "dz21/dw112 = x1 w221")
    assert r.returncode == 0, r.stdout + r.stderr


def test_compare_seed_pair(run):
    r = run("compare", "2-2-1", "dL/dw111", "dL/dw121")
    assert r.returncode == 1, r.stderr
    assert "equal exactly when x1 = 0, or w211 = w212, or the prediction is exact" in r.stdout
    assert "stay identical" in r.stdout and "random initialisation" in r.stdout
    r = run("compare", "2-2-1", "dz21/dw111", "x_1 w_{211}", "--json")
    assert r.returncode == 0
    data = json.loads(r.stdout)
    assert data["equal"] is True and data["method"] == "proved symbolically"
    assert run("compare", "2-2-1", "dL/dw111", "w999").returncode == 2


@pytest.mark.parametrize("text,expected", [
    ("", []),
    ("% only a comment\n# heading\n", []),
    ("$$\ndz21/dw111 = x1\n$$\n", [(2, "dz21/dw111 = x1")]),
    ("1. dz21/dw111 = x1,\n", [(1, "dz21/dw111 = x1")]),
    ("a &= b \\\\ c &= d \\\\\n", [(1, "a = b"), (1, "c = d")]),
    ("x = 50\\% of y\n", [(1, "x = 50\\% of y")]),
])
def test_claims_from_text(text, expected):
    assert claims_from_text(text) == expected


# ------------------------------------------------------------- budgets, exit code 5

def test_a_claim_out_of_time_is_undecided_exit_5_and_the_others_keep_their_verdicts(run):
    """A timeout too short for any decision: every claim is undecided, none is lost."""
    r = run("verify", "2-3-3-1", "--activation", "tanh", "--timeout", "0.001",
            "dL/dw111 = x1", "dL/dw211 = a11")
    assert r.returncode == 5, r.stdout + r.stderr
    assert r.stdout.count("undecided:") == 2
    assert "ran out of time (0.001 s)" in r.stdout
    assert r.stderr.count("\n") == 1 and "--timeout SECONDS" in r.stderr


def test_budget_options_are_checked(run):
    for option, value in (("--timeout", "0"), ("--timeout", "soon"), ("--memory", "-5"),
                          ("--timeout", "nan"), ("--memory", "inf")):
        r = run("verify", "2-2-1", option, value, "dz21/dw111 = x1")
        assert r.returncode == 2 and r.stderr.count("\n") == 1, (option, value, r.stderr)
        assert option in r.stderr


def test_a_repeated_alias_is_a_usage_error_naming_it(run):
    r = run("verify", "2-2-1", "--alias", "z_b=z21", "--alias", "z_b=z11", "dz_b/dw211 = z11")
    assert r.returncode == 2 and r.stderr.count("\n") == 1
    assert "--alias z_b" in r.stderr and "twice" in r.stderr


def test_compare_and_table_and_derive_report_an_exhausted_budget(run):
    r = run("compare", "2-3-3-1", "--activation", "tanh", "--timeout", "0.001",
            "dL/dw111", "dL/dw121")
    assert r.returncode == 5 and "undecided" in r.stdout, r.stdout + r.stderr
    assert r.stderr.count("\n") == 1
    for command in (("table", "2-3-3-1", "--of", "loss"), ("derive", "2-3-3-1", "w111")):
        r = run(*command, "--activation", "tanh", "--timeout", "0.001")
        assert r.returncode == 5, (command, r.stdout, r.stderr)
        assert r.stdout == "" and r.stderr.count("\n") == 1
        assert "ran out of time (0.001 s)" in r.stderr and "--timeout SECONDS" in r.stderr


def test_table_and_derive_still_report_bad_input_from_the_worker(run):
    r = run("derive", "2-2-1", "w311")
    assert r.returncode == 2 and "w311" in r.stderr and r.stderr.count("\n") == 1
    r = run("table", "2-2-1", "--format", "html")
    assert r.returncode == 2 and "html" in r.stderr


def test_file_dash_reads_claims_from_standard_input(run, monkeypatch):
    import io

    text = "dz21/dw111 = w211*x1\ndz21/dw111 = x1 +\n"
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(text.encode())))
    r = run("verify", "2-2-1", "--file", "-")
    assert r.returncode == 2
    assert "dz21/dw111 = x1*w211   (proved symbolically)" in r.stdout
    [line] = r.stderr.splitlines()
    assert line.startswith("symgrad: standard input:2: ")
