"""Multi-step derivations (``symgrad verify --derivation``, ``symgrad.verify_derivation``).

Which step is right is decided here independently: the 2-2-1 linear network is
written out by hand in SymPy, differentiated with ``sympy.diff``, and every step's
right side is built by hand as an expression; symgrad's verdicts must agree.
"""

import io
import json
import os
import re
import resource
import subprocess
import sys

import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from symgrad import Network, ParseError
from symgrad.claims.steps import MAX_STEPS, read_steps, verify_derivation

x1, x2, y, w111, w112, w121, w122, w211, w212 = sp.symbols(
    "x1 x2 y w111 w112 w121 w122 w211 w212")
Z11 = w111 * x1 + w112 * x2
Z12 = w121 * x1 + w122 * x2
YHAT = w211 * Z11 + w212 * Z12
TRUE_DL_DW111 = sp.diff((YHAT - y) ** 2 / 2, w111)      # the per-sample summand of dC/dw111


def truly_right(summand) -> bool:
    return sp.expand(summand - TRUE_DL_DW111) == 0


#: The seed question's derivation of dC/dw111 (its sign slip, then its lost w211),
#: with each step's summand built by hand.
SEED = r"""% dC/dw111, 2-2-1 linear network
\begin{align*}
\frac{\partial C}{\partial w_{111}}
  &= \frac{1}{m} \sum_{i=1}^m (y'_i - y_i) \cdot w_{211} \cdot 1 \cdot x_{i1} \\
  &= \frac{1}{m} \sum_{i=1}^m (y_i - y'_i) \, w_{211} x_{i1} \\
  &= \frac{1}{m} \sum_{i=1}^m (y_i - y'_i) \, x_{i1}
\end{align*}
"""
SEED_SUMMANDS = [(YHAT - y) * w211 * x1, (y - YHAT) * w211 * x1, (y - YHAT) * x1]
SEED_LINES = [4, 5, 6]


@pytest.fixture(scope="module")
def net():
    return Network([2, 2, 1])


def test_seed_derivation_names_its_first_wrong_step(net):
    result = verify_derivation(net, SEED)
    expected = ["correct" if truly_right(s) else "wrong" for s in SEED_SUMMANDS]
    assert [s.status for s in result.steps] == expected == ["correct", "wrong", "wrong"]
    assert [s.line for s in result.steps] == SEED_LINES
    assert result.first_wrong_step == expected.index("wrong") + 1
    assert result.correct is False
    assert (result.of, result.with_respect_to) == ("C", "w111")
    assert "sign" in result.steps[1].verdict.diagnosis.kind
    assert "missing factor w211" in result.steps[2].verdict.diagnosis.detail
    assert "the mistake enters here" in result.steps[1].relation
    assert "further mistake" in result.steps[2].relation


SEED_PER_SAMPLE = r"""\begin{align*}
\frac{\partial L}{\partial w_{111}}
  &= \frac{\partial L}{\partial y'} \frac{\partial y'}{\partial w_{111}} \\
  &= (y - y') \frac{\partial y'}{\partial w_{111}} \\
  &= (y - y') \frac{\partial z_{11}}{\partial w_{111}} \\
  &= (y - y') x_1
\end{align*}"""


def test_seed_derivation_with_derivative_symbols(net):
    dl_dyhat = sp.diff((YHAT - y) ** 2 / 2, w111) / sp.diff(YHAT, w111)
    hand = [dl_dyhat * sp.diff(YHAT, w111), (y - YHAT) * sp.diff(YHAT, w111),
            (y - YHAT) * sp.diff(Z11, w111), (y - YHAT) * x1]
    right = [truly_right(h) for h in hand]
    assert right == [True, False, False, False]
    result = verify_derivation(net, SEED_PER_SAMPLE)
    assert [s.status for s in result.steps] == ["correct" if r else "wrong" for r in right]
    assert [s.line for s in result.steps] == [3, 4, 5, 6]
    assert result.first_wrong_step == 2
    assert sp.expand(hand[1] - hand[2]) != 0 and sp.expand(hand[2] - hand[3]) == 0
    assert [s.relation.split(" ")[0] for s in result.steps[1:]] == ["the", "differs", "follows"]


RIGHT = """dL/dw111 = (yhat - y) * w211 * x1
         = (w211*z11 + w212*z12 - y) * w211 * x1
         = (w211*(w111*x1 + w112*x2) + w212*(w121*x1 + w122*x2) - y) w211 x1
         = w211^2 x1^2 w111 + w211^2 x1 x2 w112 + w211 w212 x1 (w121 x1 + w122 x2) - y w211 x1
"""
RIGHT_HAND_BUILT = [
    (YHAT - y) * w211 * x1,
    (w211 * Z11 + w212 * Z12 - y) * w211 * x1,
    (w211 * Z11 + w212 * Z12 - y) * w211 * x1,
    w211**2 * x1**2 * w111 + w211**2 * x1 * x2 * w112 + w211 * w212 * x1 * Z12 - y * w211 * x1,
]


def test_fully_right_derivation(net, cli, tmp_path):
    assert all(truly_right(e) for e in RIGHT_HAND_BUILT)
    result = verify_derivation(net, RIGHT)
    assert [s.status for s in result.steps] == ["correct"] * 4
    assert result.correct is True and result.first_wrong_step is None
    assert all(s.relation is None for s in result.steps)
    (tmp_path / "right.txt").write_text(RIGHT, encoding="utf-8")
    done = cli("verify", "2-2-1", "--derivation", "right.txt", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("\u2713 step") == 4 and "every step is right" in done.stdout
    assert done.stderr == ""


COMPENSATING = """dL/dw111 = (yhat - y) * w211 * x1
= (y - yhat) * w211 * x1
= (yhat - y) * x1 * w211
"""


def test_compensating_mistakes_are_named(net, cli, tmp_path):
    hand = [(YHAT - y) * w211 * x1, (y - YHAT) * w211 * x1, (YHAT - y) * x1 * w211]
    assert [truly_right(e) for e in hand] == [True, False, True]
    result = verify_derivation(net, COMPENSATING)
    assert [s.status for s in result.steps] == ["correct", "wrong", "correct"]
    assert result.first_wrong_step == 2 and result.correct is False
    assert result.steps[2].relation.startswith("undoes the mistake of step 2")
    (tmp_path / "d.txt").write_text(COMPENSATING, encoding="utf-8")
    done = cli("verify", "2-2-1", "--derivation", "d.txt", cwd=tmp_path)
    assert done.returncode == 1
    assert "undoes the mistake of step 2" in done.stdout
    assert done.stdout.rstrip().endswith("first wrong step: step 2 (line 2)\n"
                                         "the right chain: symgrad derive 2-2-1 w111 --of loss")
    assert done.stdout.count("the right chain:") == 1      # once, not under every step


def test_a_wrong_step_that_follows_from_a_wrong_one_carries_it(net):
    text = ("dL/dw111 = (y - yhat) * w211 * x1\n= -(yhat - y) * x1 * w211\n"
            "= w211*x1*y - w211*x1*yhat")
    hand = [(y - YHAT) * w211 * x1, -(YHAT - y) * x1 * w211, w211 * x1 * y - w211 * x1 * YHAT]
    assert not any(truly_right(e) for e in hand)
    assert sp.expand(hand[0] - hand[1]) == 0 and sp.expand(hand[1] - hand[2]) == 0
    result = verify_derivation(net, text)
    assert [s.status for s in result.steps] == ["wrong"] * 3
    assert result.first_wrong_step == 1
    assert [s.relation for s in result.steps[1:]] == [
        "follows from step 1, carrying its mistake over",
        "follows from step 2, carrying its mistake over"]


@pytest.mark.parametrize("environment,equals", [("align", "&="), ("align*", "&="),
                                                ("eqnarray", "&=&")])
def test_latex_blocks(net, environment, equals):
    text = (f"\\begin{{{environment}}}\n"
            f"\\frac{{\\partial z_{{21}}}}{{\\partial w_{{111}}}} {equals} w_{{211}} x_1 "
            "\\nonumber \\\\\n"
            f"  {equals} x_1 \\label{{eq:wrong}} \\\\\n"
            f"  {equals} x_1 \\cdot w_{{211}} \\\\ {equals} w_{{211}} x_{{1}}\n"
            f"\\end{{{environment}}}\n")
    truth = sp.diff(YHAT, w111)
    hand = [w211 * x1, x1, x1 * w211, w211 * x1]
    result = verify_derivation(net, text)
    assert [s.status for s in result.steps] == [
        "correct" if sp.expand(h - truth) == 0 else "wrong" for h in hand]
    assert [s.line for s in result.steps] == [2, 3, 4, 4]
    assert result.first_wrong_step == 2


def test_rows_may_end_in_punctuation(net):
    text = "\\frac{\\partial z_{21}}{\\partial w_{211}} &= z_{11}, \\\\ &= w_{111} x_1;\n"
    result = verify_derivation(net, text)
    assert sp.diff(YHAT, w211) == Z11 != w111 * x1
    assert [(s.line, s.text, s.status) for s in result.steps] == [
        (1, "\\frac{\\partial z_{21}}{\\partial w_{211}}  = z_{11}", "correct"),
        (1, "= w_{111} x_1", "wrong")]


def test_derivative_alone_on_the_first_line(net):
    text = ("\\begin{aligned}\n\\frac{\\partial z_{21}}{\\partial w_{211}}\n"
            "&= z_{11} \\\\\n&= z_{12}\n\\end{aligned}")
    result = verify_derivation(net, text)
    assert sp.diff(YHAT, w211) == Z11
    assert [(s.line, s.status) for s in result.steps] == [(3, "correct"), (4, "wrong")]


def test_a_row_starting_with_an_operator_continues_the_step(net, cli, tmp_path):
    text = ("dz21/dw111 = w211\n       * x1\n= x1 w211\n  + x2 w211 - x2 w211\n"
            "= w211 x1\n  + w212 *) x1\n")
    result = verify_derivation(net, text, errors="report")
    assert [(s.line, s.status) for s in result.steps] == [
        (1, "correct"), (3, "correct"), (5, "unreadable")]
    assert result.steps[1].text == "= x1 w211 + x2 w211 - x2 w211"
    (tmp_path / "d.txt").write_text(text, encoding="utf-8")
    done = cli("verify", "2-2-1", "--derivation", "d.txt", cwd=tmp_path)
    [line] = done.stderr.splitlines()
    column = "  + w212 *) x1".index(")") + 1          # on line 6, the continuation row
    assert done.returncode == 2 and "line 6: " in line and f"column {column}" in line, line


def test_a_step_may_repeat_the_left_side(net):
    text = ("\\frac{\\partial z_{21}}{\\partial w_{211}} &= z_{11} \\\\\n"
            "\\frac{\\partial z_{21}}{\\partial w_{211}} &= w_{111} x_1 + w_{112} x_2 \\\\\n"
            "\\frac{\\partial z_{21}}{\\partial w_{211}} &= w_{111} x_1")
    hand = [Z11, w111 * x1 + w112 * x2, w111 * x1]
    truth = sp.diff(YHAT, w211)
    result = verify_derivation(net, text)
    assert [s.status for s in result.steps] == [
        "correct" if sp.expand(h - truth) == 0 else "wrong" for h in hand]
    assert result.first_wrong_step == 3
    _, steps = read_steps("dz21/dw211 = z11\ndz21/dw111 = x1 w211\n= w211*x1")
    assert [(s.lhs, s.claim) for s in steps] == [          # another derivative, continued
        ("dz21/dw211", "dz21/dw211 = z11"), ("dz21/dw111", "dz21/dw111 = x1 w211"),
        ("dz21/dw111", "dz21/dw111 = w211*x1")]


def test_unreadable_step_exit_2_names_line_and_column(cli, tmp_path):
    bad = " = (yhat - y) * x_1 +* 3"
    text = "dL/dw111 = (yhat - y)*w211*x1\n" + bad + "\n"
    (tmp_path / "d.txt").write_text(text, encoding="utf-8")
    done = cli("verify", "2-2-1", "--derivation", "d.txt", cwd=tmp_path)
    assert done.returncode == 2
    [line] = done.stderr.splitlines()
    column = bad.index("+*") + 2          # 1-based column of the stray '*'
    assert line.startswith("symgrad: d.txt: step 2, line 2:")
    assert f"column {column};" in line, line
    assert "Traceback" not in done.stderr


def test_unreadable_step_raises_or_reports_in_python(net):
    text = "dz21/dw111 = w211*x1\n= x1 )"
    with pytest.raises(ParseError, match=r"^line 2: .*column 6"):
        verify_derivation(net, text)
    result = verify_derivation(net, text, errors="report")
    assert [s.status for s in result.steps] == ["correct", "unreadable"]
    assert result.correct is None and result.first_wrong_step is None


@pytest.mark.parametrize("text,where", [
    ("dz21/dw111 = x1\nw211*x1\n", "line 2, column 1"),
    ("\n\n   w211*x1\n", "line 3, column 4"),
    ("% nothing\n", "empty"),
])
def test_text_that_is_not_a_derivation(text, where, cli, tmp_path):
    with pytest.raises(ParseError, match=where):
        read_steps(text)
    (tmp_path / "d.txt").write_text(text, encoding="utf-8")
    done = cli("verify", "2-2-1", "--derivation", "d.txt", cwd=tmp_path)
    assert done.returncode == 2 and done.stdout == ""
    [line] = done.stderr.splitlines()
    assert "d.txt" in line and where in line


def test_json_schema(cli, tmp_path):
    (tmp_path / "seed.tex").write_text(SEED, encoding="utf-8")
    done = cli("verify", "2-2-1", "--derivation", "seed.tex", "--json", cwd=tmp_path)
    assert done.returncode == 1
    data = json.loads(done.stdout)["derivation"]
    assert (data["of"], data["with_respect_to"]) == ("C", "w111")
    assert data["first_wrong_step"] == 2 and data["correct"] is False
    steps = data["steps"]
    assert [s["step"] for s in steps] == [1, 2, 3]
    assert [s["line"] for s in steps] == SEED_LINES
    assert [s["status"] for s in steps] == ["correct", "wrong", "wrong"]
    assert [s["correct"] for s in steps] == [True, False, False]
    for s in steps:
        assert {"step", "line", "text", "status", "correct", "method", "diagnosis",
                "counterexample"} <= set(s)
        assert s["text"] in SEED
    assert steps[0]["counterexample"] is None and steps[0]["diagnosis"] is None
    ce = steps[1]["counterexample"]
    values = {sp.Symbol(k): v for k, v in ce["values"].items()}
    assert SEED_SUMMANDS[1].subs(values) == ce["claimed"]
    assert TRUE_DL_DW111.subs(values) == ce["true"]


def test_stdin(cli, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(COMPENSATING.encode())))
    done = cli("verify", "2-2-1", "--derivation", "-")
    assert done.returncode == 1
    assert "first wrong step: step 2 (line 2)" in done.stdout


def test_derivation_is_not_mixed_with_claims(cli, tmp_path):
    (tmp_path / "d.txt").write_text(RIGHT, encoding="utf-8")
    done = cli("verify", "2-2-1", "--derivation", "d.txt", "dz21/dw111 = x1", cwd=tmp_path)
    assert done.returncode == 2 and len(done.stderr.splitlines()) == 1


def test_missing_file_is_one_line(cli, tmp_path):
    done = cli("verify", "2-2-1", "--derivation", "nowhere.txt", cwd=tmp_path)
    assert done.returncode == 2
    [line] = done.stderr.splitlines()
    assert "nowhere.txt" in line


def test_user_weight_names(net):
    text = "dz21/dw121 = w221*x1\n= w211 x2"  # w{l}{k}{j}: the user's w121, w221 are w112, w212
    assert sp.diff(YHAT, w112) == w211 * x2 and sp.diff(YHAT, w121) == w212 * x1
    result = verify_derivation(net, text, weight_template="w{l}{k}{j}")
    assert result.with_respect_to == "w121"
    assert [s.status for s in result.steps] == ["wrong", "correct"]
    assert result.steps[1].relation.startswith("undoes the mistake of step 1")


def test_the_facade_offers_it():
    import symgrad

    assert symgrad.verify_derivation is verify_derivation
    assert "verify_derivation" in symgrad.__all__


# -- hostile input: a real process under the harness's memory and time limits --------
ADDRESS_SPACE = 1536 * 1024 * 1024
HARNESS_SECONDS = 60


def limited(*args: str) -> subprocess.CompletedProcess:
    """``python -m symgrad ARGS`` with its address space and wall time capped by the harness."""
    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))

    env = {k: v for k, v in os.environ.items() if k != "SYMGRAD_IN_PROCESS"}
    env["PYTHONIOENCODING"] = "utf-8"
    return subprocess.run([sys.executable, "-m", "symgrad", *args], capture_output=True,
                          text=True, timeout=HARNESS_SECONDS, preexec_fn=limit, env=env)


def test_hostile_steps_end_with_verdicts_or_one_line_each(tmp_path):
    power = "= w211*x1 + (x1+x2+w111+w112+w121+w122+w211+w212+y)^60\n"
    path = tmp_path / "hostile.txt"
    path.write_text("dz21/dw111 = w211*x1\n" + power + "= x1\n" + "= " + "(" * 5000 + "\n",
                    encoding="utf-8")
    done = limited("verify", "2-2-1", "--derivation", str(path))
    assert done.returncode == 1, done.stderr        # step 4 is wrong, whatever else happens
    lines = done.stderr.splitlines()
    assert len(lines) == 2 and all(line.startswith("symgrad: ") for line in lines)
    assert "step 2, line 2:" in lines[0] and "step 4, line 4:" in lines[1]
    assert "Traceback" not in done.stderr
    assert "first wrong step: step 3 (line 3)" in done.stdout


@pytest.mark.parametrize("text,code,says", [
    ("dz21/dw111 = w211*x1\n" + "= x1*w211\n" * (MAX_STEPS + 5), 2, "the limit is"),
    ("dz21/dw111 = w211*x1\n= x1*w211\n", 5, "undecided"),
], ids=["too-many-steps", "no-time"])
def test_too_many_steps_and_no_time(text, code, says, tmp_path):
    path = tmp_path / "d.txt"
    path.write_text(text, encoding="utf-8")
    done = limited("verify", "2-2-1", "--derivation", str(path), "--timeout", "0.001")
    assert done.returncode == code, done.stderr
    [line] = done.stderr.splitlines()
    assert line.startswith("symgrad: ") and says in line


# -- any sequence of steps: statuses, first wrong step and relations from hand-built truth --
FORMS = [("(yhat - y)*w211*x1", (YHAT - y) * w211 * x1),
         ("w211*x1*(w211*z11 + w212*z12 - y)", w211 * x1 * (w211 * Z11 + w212 * Z12 - y)),
         ("x1 w211 (a21 - y)", x1 * w211 * (YHAT - y)),
         ("(y - yhat)*w211*x1", (y - YHAT) * w211 * x1),
         ("-(yhat - y) * x1 * w211", -(YHAT - y) * x1 * w211),
         ("(yhat - y)*x1", (YHAT - y) * x1),
         ("x1*w211", x1 * w211)]


@given(st.lists(st.sampled_from(range(len(FORMS))), min_size=1, max_size=4))
@settings(max_examples=max(1, settings.default.max_examples // 5))
def test_any_sequence_of_steps(picks):
    net = Network([2, 2, 1])
    text = "dL/dw111 = " + "\n= ".join(FORMS[i][0] for i in picks)
    hand = [FORMS[i][1] for i in picks]
    right = [truly_right(h) for h in hand]
    result = verify_derivation(net, text)
    assert [s.status for s in result.steps] == ["correct" if r else "wrong" for r in right]
    assert result.first_wrong_step == (right.index(False) + 1 if False in right else None)
    for k in range(1, len(picks)):
        pair, prev = (right[k - 1], right[k]), k
        if pair == (True, False):
            assert result.steps[k].relation.startswith("the mistake enters here")
        elif pair == (False, True):
            assert result.steps[k].relation.startswith(f"undoes the mistake of step {prev}")
        elif pair == (False, False):
            same = sp.expand(hand[k - 1] - hand[k]) == 0
            assert result.steps[k].relation.startswith(
                f"follows from step {prev}" if same else f"differs from step {prev}")
        else:
            assert result.steps[k].relation is None


# -- what `symgrad derive` prints is a derivation, and a right one ----------------------
def chain_rule_block(printed: str) -> str:
    """The chain-rule lines of ``symgrad derive --format text`` and its result line."""
    lines = printed.splitlines()
    start = next(k for k, line in enumerate(lines) if line.startswith("Chain rule:"))
    block = []
    for line in lines[start + 1:]:
        if not line.strip():
            break
        block.append(line)
    result = next(k for k, line in enumerate(lines) if line.startswith("Result"))
    return "\n".join(block + [line for line in lines[result + 1:] if line.strip()])


@pytest.mark.parametrize("arch,param,options", [
    ("2-2-1", "w111", []),
    ("2-2-1", "w211", ["--of", "loss"]),
    ("2-2-2-1", "w111", ["--activation", "tanh"]),
    ("2-2-2-1", "w112", ["--activation", "sigmoid", "--of", "loss", "--bias"]),
    ("2-3-1", "b12", ["--activation", "softplus", "--bias", "--of", "loss"]),
    ("2-2-1", "w121", ["--activation", "tanh", "--output-activation", "sigmoid",
                       "--loss", "bce", "--of", "loss"]),
    ("2-2-1", "w111", ["--activation", "relu"]),
    ("2-2-2-1", "w121", ["--activation", "leaky_relu", "--of", "loss", "--bias"]),
    ("2-2-1", "w111", ["--of", "cost"]),
    ("2-2-2-1", "b11", ["--activation", "relu", "--bias", "--of", "cost"]),
])
def test_every_derivation_derive_prints_verifies(arch, param, options, cli, tmp_path):
    done = cli("derive", arch, param, *options, "--format", "text")
    assert done.returncode == 0, done.stderr
    block = chain_rule_block(done.stdout)
    assert block.count("\n") >= 2             # the product, its factors, the result
    network = [o for o in options if o != "--of" and o not in ("loss", "cost")]
    (tmp_path / "derived.txt").write_text(block, encoding="utf-8")
    checked = cli("verify", arch, *network, "--derivation", "derived.txt", "--json",
                  cwd=tmp_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    data = json.loads(checked.stdout)["derivation"]
    assert data["with_respect_to"] == param and data["first_wrong_step"] is None
    assert all(s["status"] == "correct" for s in data["steps"])


# -- steps with a left side of their own -------------------------------------------------
#: dC/dw111 by way of the per-sample dL/dw111 and the output's delta; step 3 drops w211.
DETOUR = """dC/dw111 = (1/m) sum_i dL_i/dw111
dL/dz21 = yhat - y
dL/dw111 = dL/dz21 * dz21/dw111
         = (yhat - y)*x1
         = (yhat - y)*w211*x1
dC/dw111 = (1/m) sum_i x1[i]*w211*(yhat[i] - y[i])
"""


def test_a_step_may_work_out_another_derivative_on_the_way(net):
    out = sp.Symbol("out")
    assert sp.diff((out - y) ** 2 / 2, out) == out - y               # dL/dz21, by hand
    assert not truly_right((YHAT - y) * x1) and truly_right((YHAT - y) * w211 * x1)
    result = verify_derivation(net, DETOUR)
    assert (result.of, result.with_respect_to) == ("C", "w111")
    assert [s.status for s in result.steps] == ["correct", "correct", "correct", "wrong",
                                                "correct", "correct"]
    assert [s.line for s in result.steps] == [1, 2, 3, 4, 5, 6]
    assert result.first_wrong_step == 4
    # Each step is compared with the last one about the same derivative: step 4 with
    # step 3 (dL/dw111), step 5 with step 4; step 6 (dC/dw111) with step 1.
    assert result.steps[3].relation.startswith("the mistake enters here (step 3")
    assert result.steps[4].relation.startswith("undoes the mistake of step 4")
    assert result.steps[1].relation is None and result.steps[5].relation is None


def test_sample_values_in_brackets_read_inside_a_mean_only(net, cli):
    from symgrad import verify

    [right, wrong] = verify(net, ["dC/dw111 = (1/m) sum_i x1[i]*w211*(yhat[i] - y[i])",
                                  "dC/dw111 = (1/m) sum_i x1[i]*(z21[i] - y[i])"])
    assert (right.correct, wrong.correct) == (True, False)
    for bad, says in [("x1[i]", "x1[i] at column 12: a sample index is only meaningful"),
                      ("(1/m) sum_i w211[i]", "w211 is the same for every sample")]:
        with pytest.raises(ParseError, match=re.escape(says)):
            verify(net, f"dC/dw111 = {bad}")
    done = cli("verify", "2-2-1", "dC/dw111 = x1[i]")
    assert done.returncode == 2
    assert "x1[i] at column 12: a sample index is only meaningful inside" in done.stderr
    done = cli("verify", "2-2-1", "dC/dw111 = x1[2]")
    assert done.returncode == 2 and "looks like indexing" in done.stderr


def test_relu_derivatives_print_as_primes_that_read_back():
    from symgrad import gradients, verify

    relu_net = Network([1, 1, 1], activation="leaky_relu")
    g = gradients(relu_net, of="output")
    printed = str(g[relu_net.symbols["w111"]])
    assert printed == "w211*x1*leaky_relu'(w111*x1)"
    assert verify(relu_net, f"dz21/dw111 = {printed}")[0].method == "proved symbolically"
