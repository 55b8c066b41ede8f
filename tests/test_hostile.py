"""Hostile input, end to end: every case ends within limits, with a verdict or one line.

Each case runs ``python -m symgrad`` in a subprocess whose address space the harness
limits to 1.5 GB (``RLIMIT_AS``) and which it kills after 10 s.  symgrad must
come back by itself well inside both: exit 0, 1, 2 or 5, no traceback, no
"internal error", and on stderr one line per problem, each starting with
``symgrad:``.  In a batch, the claims next to a hostile one keep their verdicts.

Some cases are refused by the claim parser, others get through and are decided
(or run out of their budget); either is fine here, as long as the process ends
well.  A few representative cases run in the inner loop; the whole corpus is
marked slow.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

resource = pytest.importorskip("resource")

#: The harness's limits: symgrad must end by itself inside them.
ADDRESS_SPACE = int(1.5 * 2 ** 30)
HARNESS_SECONDS = 10
#: Exit codes that mean "ended well": ok, wrong, bad input, undecided.
GOOD_EXITS = {0, 1, 2, 5}

SUM9 = "(x1+x2+w111+w112+w121+w122+w211+w212+y)"
N30 = "123456789012345678901234567890"
CORRECT = "dz21/dw111 = w211*x1"
ALIAS_CHAIN = [a for i in range(1, 31)
               for a in ("--alias", f"q{i}=" + ("x1+w211" if i == 1 else f"q{i - 1}*q{i - 1}"))]


def limited(*args: str) -> subprocess.CompletedProcess:
    """``python -m symgrad ARGS`` under the harness's memory and time limits."""
    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))

    env = {k: v for k, v in os.environ.items() if k != "SYMGRAD_IN_PROCESS"}
    env["PYTHONIOENCODING"] = "utf-8"
    try:
        return subprocess.run([sys.executable, "-m", "symgrad", *args], capture_output=True,
                              text=True, timeout=HARNESS_SECONDS, preexec_fn=limit, env=env)
    except subprocess.TimeoutExpired:
        pytest.fail(f"symgrad {' '.join(args)[:120]} ran past the harness's "
                    f"{HARNESS_SECONDS} s")


def ended_well(done: subprocess.CompletedProcess, *, problems: int = 1) -> None:
    """Exit 0/1/2/5, no traceback, at most ``problems`` stderr lines, each ``symgrad: ...``."""
    where = f"exit {done.returncode}\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
    assert done.returncode in GOOD_EXITS, where
    assert "Traceback" not in done.stdout + done.stderr, where
    assert "internal error" not in done.stderr, where
    lines = done.stderr.splitlines()
    assert len(lines) <= problems, where
    assert all(line.startswith("symgrad: ") for line in lines), where
    if done.returncode in (0, 1):
        assert done.stdout.strip(), where


def verify(*claims: str, options=()) -> list:
    return ["verify", "2-2-1", *options, *claims]


# (id, argv): one hostile claim or comparison each
CORPUS = [
    # power towers
    ("tower-6", verify("dz21/dw111 = x1^x1^x1^x1^x1^x1")),
    ("tower-python", verify("dz21/dw111 = x1**x1**x1**x1**x1")),
    ("tower-latex", verify(r"\frac{\partial z_{21}}{\partial w_{111}} = "
                           r"x_1^{x_1^{x_1^{x_1^{x_1}}}}")),
    ("tower-numbers", verify("dz21/dw111 = 2^2^2^2^2^2")),
    ("tower-nines", verify("dz21/dw111 = 9^9^9^9*x1")),
    ("tower-of-sums", verify("dz21/dw111 = (x1+1)^(x2+1)^(w111+1)^(w211+1)")),
    ("power-of-power", verify("dz21/dw111 = x1^(x1^64)")),
    ("huge-exponent", verify("dz21/dw111 = w211^999999999")),
    ("float-exponent", verify("dz21/dw111 = x1^1e308")),
    # huge powers of long sums
    ("sum^-64", verify(f"dz21/dw111 = {SUM9}^{{-64}}")),
    ("x/sum^32", verify(f"dz21/dw111 = x1/{SUM9}^{{32}}")),
    ("sum^64", verify(f"dz21/dw111 = {SUM9}^64")),
    ("sum^30/sum^29", verify(f"dz21/dw111 = w211*x1*{SUM9}^{{30}}/{SUM9}^{{29}}")),
    ("nested-powers", verify("dz21/dw111 = ((x1+x2+w111+w112)^8 + (w121+w122+w211+w212)^8)^8")),
    ("product-of-sums", verify("dz21/dw111 = " + "*".join(
        f"(x1+w{l}{j}{k})" for l in (1, 2) for j in (1, 2) for k in (1, 2) for _ in range(4)))),
    # nested growing functions
    ("cosh-sinh-5", verify("dz21/dw111 = cosh(sinh(cosh(sinh(cosh(x1^64)))))")),
    ("cosh-sinh-8", verify("dz21/dw111 = sinh(cosh(sinh(cosh(sinh(cosh(sinh(cosh(x1))))))))")),
    ("exp-5", verify("dz21/dw111 = exp(exp(exp(exp(exp(x1)))))")),
    ("exp-of-power", verify("dz21/dw111 = e^(x1^64)*w211")),
    ("tanh-20", verify("dz21/dw111 = " + "tanh(" * 20 + "x1" + ")" * 20)),
    ("identity-huge", verify("dz21/dw111 = w211*x1*(cosh(x1^64)^2 - sinh(x1^64)^2)")),
    ("sigmoid-tower", verify("dz21/dw111 = sigmoid(x1^x1^x1)*w211",
                             options=("--activation", "sigmoid"))),
    # huge numbers
    ("product-20x30-digits", verify("dz21/dw111 = " + "*".join([N30] * 20))),
    ("product-200x30-digits", verify("dz21/dw111 = " + "*".join([N30] * 200))),
    ("ten^600", verify("dz21/dw111 = 10^{600}*x1")),
    ("one-over-big", verify(f"dz21/dw111 = x1/{N30}^40")),
    ("long-integer", verify("dz21/dw111 = " + "9" * 5000)),
    ("factorial", verify("dz21/dw111 = factorial(10^9)")),
    # aliases and text
    ("alias-chain", verify("dz21/dw111 = q30", options=ALIAS_CHAIN)),
    ("alias-cycle", verify("dz21/dw111 = p", options=("--alias", "p=q", "--alias", "q=p"))),
    ("deep-brackets", verify("dz21/dw111 = " + "(" * 5000 + "x1" + ")" * 5000)),
    ("python-code", verify("dz21/dw111 = __import__('os').system('echo hi')")),
    ("nul-bytes", verify("dz21/dw111 = x1\x01w211")),
    # compare
    ("compare-tower", ["compare", "2-2-1", "x1^x1^x1^x1^x1", "x1"]),
    ("compare-sums", ["compare", "2-2-1", f"{SUM9}^{{-64}}", f"x1/{SUM9}^{{32}}"]),
    ("compare-cosh", ["compare", "2-2-1", "cosh(sinh(cosh(sinh(cosh(x1^64)))))", "x1"]),
    ("compare-powers", ["compare", "2-2-1",
                        "((x1+x2+w111+w112)^8 + (w121+w122+w211+w212)^8)^8", "x1"]),
    # matrix claims: long chains of signs, transposes, powers and terms
    ("matrix-signs", ["verify", "2-3-1", "dL/dW1 = " + "-" * 900 + "W1"]),
    ("matrix-transposes", ["verify", "2-3-1", "dL/dW1 = W1" + "^T" * 950]),
    ("matrix-power-tower", ["verify", "2-3-1", "dL/dW1 = W1" + "^2" * 450]),
    ("matrix-long-sum", ["verify", "2-3-1", "dL/dW1 = " + "+".join(["W1"] * 490)]),
    # numpy code: nested calls, power towers through np.power, a long argument list
    ("numpy-nested-dot", ["verify", "2-3-1", "dL/dW1 = " + "np.dot(" * 300 + "W1"
                          + ", W1)" * 300]),
    ("numpy-power-tower", ["verify", "2-3-1", "dL/dW1 = " + "np.power(" * 200 + "W1"
                           + ", 64)" * 200]),
    ("numpy-many-arguments", ["verify", "2-3-1", "dL/dW1 = np.sum(" + ", ".join(["W1"] * 400)
                              + ")"]),
    # a three-layer network, a long hostile right side
    ("three-layers", ["verify", "2-3-3-1", "--activation", "tanh",
                      "dL/dw111 = (1-a11^2)*(1-a21^2)*(1-a31^2)*" + f"{SUM9}^{{-40}}"]),
]

#: Representative cases for the inner loop (the rest is slow).
FAST = {"tower-6", "sum^-64", "cosh-sinh-5", "product-20x30-digits"}


@pytest.mark.parametrize("args", [
    pytest.param(args, id=name, marks=() if name in FAST else pytest.mark.slow)
    for name, args in CORPUS])
def test_hostile_input_ends_well(args):
    ended_well(limited(*args))


MIXED = [CORRECT, "dz21/dw111 = x1**x1**x1**x1**x1", "dz21/dw211 = z11",
         f"dz21/dw111 = {SUM9}^{{-64}}", "dz21/dw111 = cosh(sinh(cosh(sinh(cosh(x1^64)))))",
         "dz21/dw111 = " + "*".join([N30] * 20), "dz21/dw112 = x2*w211", "dz21/dw999 = 1"]


def test_a_batch_with_hostile_claims_keeps_every_valid_verdict():
    done = limited("verify", "2-2-1", "--timeout", "3", *MIXED)
    ended_well(done, problems=len(MIXED))              # refused claims: a line each
    assert done.returncode in (1, 2)                   # wrong, or refused by the parser
    out = done.stdout
    assert "\u2713 dz21/dw111 = x1*w211   (proved symbolically)" in out
    assert "\u2713 dz21/dw211 = z11   (proved symbolically)" in out
    assert "\u2713 dz21/dw112 = x2*w211   (proved symbolically)" in out
    assert "claim 8" in done.stderr                    # the unreadable one, by number


@pytest.mark.slow
def test_a_file_of_hostile_claims_keeps_every_valid_verdict(tmp_path):
    path = tmp_path / "claims.txt"
    hostile = [args[-1] for name, args in CORPUS
               if args[:2] == ["verify", "2-2-1"] and len(args) == 3]
    lines = [line for h in hostile for line in (h, CORRECT)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    done = limited("verify", "2-2-1", "--timeout", "2", "--json", "--file", str(path))
    ended_well(done, problems=len(lines) + 1)
    import json

    verdicts = json.loads(done.stdout)["claims"]
    assert len(verdicts) == len(lines)
    assert all(v["status"] == "correct" for v in verdicts[1::2])
    assert {v["status"] for v in verdicts} <= {"correct", "wrong", "undecided", "unreadable"}


@pytest.mark.parametrize("args", [
    ["verify", "2-3-3-1", "--activation", "tanh", "--timeout", "0.001", CORRECT,
     "dL/dw111 = x1"],
    pytest.param(["compare", "2-3-3-1", "--activation", "tanh", "--timeout", "0.001",
                  "dL/dw111", "dL/dw121"], marks=pytest.mark.slow),
    ["table", "2-3-3-1", "--activation", "tanh", "--timeout", "0.001"],
    pytest.param(["derive", "2-3-3-1", "w111", "--activation", "tanh", "--timeout", "0.001"],
                 marks=pytest.mark.slow),
], ids=["verify", "compare", "table", "derive"])
def test_an_exhausted_budget_ends_well_with_exit_5(args):
    """The worker is killed; the command reports it in one line and exits 5."""
    done = limited(*args)
    ended_well(done)
    assert done.returncode == 5 and "ran out of time (0.001 s)" in done.stdout + done.stderr


def test_the_seed_claim_keeps_its_verdicts_under_the_harness():
    done = limited("verify", "2-2-1", "dz21/dw111 = x1", CORRECT)
    ended_well(done, problems=0)
    assert done.returncode == 1
    assert done.stdout.startswith("\u2717 dz21/dw111 = x1\n    true:           x1*w211\n")
    assert "counterexample: x1=1, w211=2 (other symbols any value): claimed 1, true 2" \
        in done.stdout
    assert "\u2713 dz21/dw111 = x1*w211   (proved symbolically)" in done.stdout


def test_out_of_memory_message_names_the_option(capsys):
    """The memory limit's own line (the limit itself: tests/test_budget.py)."""
    from symgrad.budget import Budget
    from symgrad.cli.verify import out_of_budget

    assert out_of_budget("table", Budget(memory_mb=64).exceeded("memory")) == 5
    assert capsys.readouterr().err == ("symgrad: table: the symbolic work ran out of memory "
                                       "(64 MB); raise the limit with --memory MB\n")
