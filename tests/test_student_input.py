"""Claims as students type them: structure hints, sample sums, primes, Unicode subscripts.

Truth: sympy.diff on the 2-2-1 loss written out here (see tests/test_notation.py).
"""

from __future__ import annotations

import pytest
import sympy as sp

from symgrad import Network
from symgrad.claims.parse import parse_claim
from symgrad.claims.verify import verify
from symgrad.errors import ParseError

NET = Network([2, 2, 1])
S = {n: sp.Symbol(n, real=True) for n in
     ("x1", "x2", "y", "w111", "w112", "w121", "w122", "w211", "w212")}
Z21 = S["w211"] * (S["w111"] * S["x1"] + S["w112"] * S["x2"]) \
    + S["w212"] * (S["w121"] * S["x1"] + S["w122"] * S["x2"])
LOSS = (S["y"] - Z21) ** 2 / 2


def real(expr):
    return expr.xreplace(NET.intermediate_definitions).xreplace(
        {NET.symbols[n]: s for n, s in S.items()})


def test_bare_z_on_a_one_output_net_suggests_the_output():
    with pytest.raises(ParseError, match=r"did you mean 'z21' \(the output\) or 'yhat'"):
        parse_claim("dz/dw111 = x1", NET)
    # and the suggestion is right: dz21/dw111 is w211*x1
    assert sp.expand(sp.diff(Z21, S["w111"]) - S["w211"] * S["x1"]) == 0
    [v] = verify(NET, "dz21/dw111 = w211 x1")
    assert v.correct is True


@pytest.mark.parametrize("rhs", [
    "(1/m) sum_i (y_i' - y_i)*w211*x_i1",
    "(1/m) sum_i (y'_i - y_i)*w211*x_i1",
    "(1/m)Σᵢ(y′ᵢ − yᵢ)w₂₁₁xᵢ₁",
    "\\frac{1}{m}\\sum_{i=1}^{m} (y_i' - y_i) w_{211} x_{i1}",
])
def test_sample_sums_with_primes_and_unicode_subscripts(rhs):
    truth = sp.diff(LOSS, S["w111"])
    claim = parse_claim("∂C/∂w₁₁₁ = " + rhs, NET)
    assert claim.per_sample_mean and claim.parameter == NET.symbols["w111"]
    assert sp.expand(real(claim.rhs) - truth) == 0
    [v] = verify(NET, "∂C/∂w₁₁₁ = " + rhs)
    assert v.correct is True


def test_the_seed_question_in_unicode_is_read_and_answered_in_its_symbols():
    text = "∂C/∂w₁₁₁ = (1/m)Σᵢ(yᵢ − y′ᵢ)xᵢ₁"
    claim = parse_claim(text, NET)
    assert sp.expand(real(claim.rhs) - (S["y"] - Z21) * S["x1"]) == 0
    [v] = verify(NET, text)
    assert v.correct is False
    assert "y'" in v.true and "z21" not in v.true       # answered with the claim's y'


@pytest.mark.parametrize("rhs, hint", [
    ("mean((y - yhat)*x1)", r"\\frac\{1\}\{m\}\\sum_\{i=1\}\^\{m\}"),
    ("E[(y - yhat)*x1]", r"batch mean \\frac\{1\}\{m\}"),
    ("\\bar{x_1}", r"\\frac\{1\}\{m\}\\sum"),
    ("\\mathbb{E}[x_1]", r"\\frac\{1\}\{m\}\\sum"),
])
def test_means_point_to_the_supported_form(rhs, hint):
    with pytest.raises(ParseError, match=hint):
        parse_claim("dC/dw111 = " + rhs, NET)


@pytest.mark.parametrize("number, shown", [("1e5", "10\\*\\*5"), ("2.5e-3", "2.5\\*10\\*\\*-3"),
                                           ("3E+2", "3\\*10\\*\\*2")])
def test_scientific_notation_is_refused_with_the_power_of_ten(number, shown):
    with pytest.raises(ParseError, match=f"scientific notation .* is not read.*write {shown}$"):
        parse_claim(f"dz21/dw111 = {number} x1", NET)


def test_a_prime_after_a_subscript_is_the_output():
    truth = sp.diff(LOSS, S["w211"])
    claim = parse_claim("dL/dw211 = (y_1' - y) z11", NET)
    assert sp.expand(real(claim.rhs) - truth) == 0


def test_the_seeds_combined_mistake_gets_a_telling_counterexample_reason_and_command(cli):
    claimed = (S["y"] - Z21) * S["x1"]                 # the seed's summand
    truth = sp.diff(LOSS, S["w111"])
    [v] = verify(NET, "∂C/∂w₁₁₁ = (1/m)Σᵢ(yᵢ − y′ᵢ)xᵢ₁")
    assert "sign" in v.diagnosis.kind and "missing" in v.diagnosis.kind
    point = {S[name]: sp.Integer(value) for name, value in v.counterexample["values"].items()}
    assert point[S["w211"]] != 1                       # the missing factor moves too
    c, t = claimed.subs(point), truth.subs(point)
    assert (c, t) == (v.counterexample["claimed"], v.counterexample["true"])
    assert c != t and c != -t                          # not only a sign
    assert v.reason == "L = (y - y')**2/2 gives dL/dy' = y' - y (not y - y')"
    assert v.see == "symgrad derive 2-2-1 w111 --of cost"
    r = cli(*v.see.split()[1:])
    assert r.returncode == 0 and "w211" in r.stdout


def test_every_sign_mistake_says_why_and_right_claims_get_no_command():
    [wrong, right] = verify(NET, ["dL/dw211 = (y - ŷ) z11", "dL/dw211 = (ŷ - y) z11"])
    assert sp.expand(sp.diff(LOSS, S["w211"]) - (Z21 - S["y"]) * (
        S["w111"] * S["x1"] + S["w112"] * S["x2"])) == 0
    assert wrong.diagnosis.kind == "sign" and "ŷ - y" in wrong.reason
    assert "ŷ" in wrong.true
    assert right.correct is True and "the right chain" not in right.to_text()


def test_answers_in_forward_order_read_back_as_the_truth():
    net = Network([2, 3, 1], activation="tanh")
    x1, x2, y = (sp.Symbol(n, real=True) for n in ("x1", "x2", "y"))
    w = {n: sp.Symbol(n, real=True) for n in
         ("w111", "w112", "w121", "w122", "w131", "w132", "w211", "w212", "w213")}
    hidden = [sp.tanh(w[f"w1{j}1"] * x1 + w[f"w1{j}2"] * x2) for j in (1, 2, 3)]
    out = sum(w[f"w21{j}"] * h for j, h in zip((1, 2, 3), hidden))
    truth = sp.diff((y - out) ** 2 / 2, w["w112"])
    [v] = verify(net, "dL/dw112 = 0")
    # forward order, as tables write it: the input, f'(z11), the output weight, dL/dyhat
    assert v.true.startswith("x2*(1 - a11**2)*w211*(z21 - y)")
    from symgrad.claims.parse import parse_expression
    back = parse_expression(v.true, net).xreplace(net.intermediate_definitions)
    back = back.xreplace({net.symbols[n]: s for n, s in {**w, "x1": x1, "x2": x2, "y": y}.items()})
    assert sp.simplify(back - truth) == 0
