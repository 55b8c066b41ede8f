"""Diagnoses on evidence, counterexamples off kinks, proofs on ReLU nets (issue 15).

Truth is computed here: each network's expressions are written out in SymPy
(ReLU as a Piecewise) and differentiated with ``sympy.diff``; nothing is read
from symgrad's own derivation.
"""

from __future__ import annotations

import json

import sympy as sp

from symgrad import Network, verify
from symgrad.claims.equivalence import prove_equal
from symgrad.claims.proof.cases import prove_by_cases
from symgrad.network import relu, step

X1, X2, W111, W112 = sp.symbols("x1 x2 w111 w112", real=True)


def _relu(z):
    return sp.Piecewise((z, z > 0), (0, True))


def _one(arch, claim, **options):
    (v,) = verify(Network(arch, **options), claim)
    return v


def _at(v, expr, symbols):
    """``expr`` (written here) at the verdict's counterexample."""
    values = {s: sp.nsimplify(v.counterexample["values"][s.name], rational=True)
              for s in symbols}
    return expr.xreplace(values)


def test_relu_diagnosis_agrees_with_its_counterexample():
    # issue: "claimed = 1*true [scale]" beside claimed -1, true 0
    v = _one([2, 3, 3, 1], "da11/dw111 = x1", activation="relu")
    z11 = W111 * X1 + W112 * X2
    true = sp.diff(_relu(z11), W111)                       # x1 where z11 > 0, else 0
    assert v.correct is False and v.diagnosis.kind == "pre-activation"
    assert "relu'(z11)" in v.diagnosis.detail
    ce = v.counterexample
    assert _at(v, z11, (X1, X2, W111, W112)) != 0           # off the kink
    assert _at(v, true, (X1, X2, W111, W112)) == ce["true"]
    assert _at(v, X1, (X1,)) == ce["claimed"]
    # the stated relation: true = claimed * relu'(z11)
    assert ce["claimed"] * (1 if _at(v, z11, (X1, X2, W111, W112)) > 0 else 0) == ce["true"]


def test_sign_is_split_out_of_other_kinds():
    assert _one([2, 2, 1], "dL/dw211 = y - a21").diagnosis.kind == "sign+missing-factor"
    v = _one([2, 3, 1], "dL/dw111 = (y - a21)*w211*x1", activation="tanh")
    assert v.diagnosis.kind == "sign+pre-activation"


def test_missing_activation_derivative_for_softplus_and_bce():
    v = _one([2, 2, 1], "dL/dw111 = (a21 - y)*w211*x1", activation="softplus")
    assert v.diagnosis.kind == "pre-activation" and "softplus" in v.diagnosis.detail
    v = _one([2, 2, 1], "dL/dw211 = (a21 - y)/(a21*(1 - a21))*a11", activation="sigmoid",
             output_activation="sigmoid", loss="bce")
    assert v.diagnosis.kind == "pre-activation" and "z21" in v.diagnosis.detail


def test_tiny_constant_is_a_scale():
    v = _one([2, 2, 1], "dz21/dw211 = a11*(1 + 1/10**40)")
    c = 1 + sp.Rational(1, 10**40)
    assert v.diagnosis.kind == "scale" and f"claimed = {c}*true" in v.diagnosis.detail


def test_json_gives_exact_rationals_beside_floats(cli):
    r = cli("verify", "2-2-1", "--json", "dz21/dw211 = a11 + x1/10**20")
    ce = json.loads(r.stdout)["claims"][0]["counterexample"]
    claimed = sp.Rational(ce["exact"]["claimed"])
    x = {k: sp.Integer(v) for k, v in ce["values"].items()}
    z11 = x["w111"] * x["x1"] + x["w112"] * x["x2"]
    assert claimed == z11 + x["x1"] / sp.Integer(10) ** 20 and ce["true"] == z11
    assert ce["claimed"] == float(claimed) and "true" not in ce["exact"]
    r = cli("compare", "2-2-1", "--json", "z11 + x1/10**20", "z11")
    ce = json.loads(r.stdout)["counterexample"]
    assert sp.Rational(ce["exact"]["first"]) == claimed and ce["first"] == float(claimed)


def test_claim_right_on_small_inputs_only_is_wrong():
    v = _one([2, 2, 2, 1], "dz31/dw311 = a21 + relu(x1**2 - 400)", activation="relu")
    assert v.correct is False
    x1 = sp.nsimplify(v.counterexample["values"]["x1"], rational=True)
    assert abs(x1) > 20 and v.counterexample["claimed"] != v.counterexample["true"]


def test_right_relu_claims_are_proved():
    # 2-2-2-1 ReLU, no bias, written out here; the claims are the chain rule by hand
    s = {n: sp.Symbol(n, real=True) for n in
         "x1 x2 w111 w112 w121 w122 w211 w212 w221 w222 w311 w312".split()}
    z1 = [s[f"w1{j}1"] * s["x1"] + s[f"w1{j}2"] * s["x2"] for j in (1, 2)]
    z2 = [s[f"w2{j}1"] * _relu(z1[0]) + s[f"w2{j}2"] * _relu(z1[1]) for j in (1, 2)]
    z3 = s["w311"] * _relu(z2[0]) + s["w312"] * _relu(z2[1])
    claim = ("dz31/dw111 = (w311*relu'(z21)**2*w211 + w312*relu'(z22)*w221)*relu'(z11)*x1")
    (v,) = verify(Network([2, 2, 2, 1], activation="relu"), claim)
    assert v.correct is True and v.method.startswith("proved by case analysis")
    truth = sp.diff(z3, s["w111"])
    for values in ({"x1": 1, "x2": 2}, {"x1": -3, "x2": 1}):      # the claim is right
        point = {s[k]: sp.Integer(v) for k, v in values.items()}
        point.update({w: sp.Rational(3 + i, 4) * (-1) ** i for i, w in enumerate(
            sorted((w for w in s.values() if w.name[0] == "w"), key=str))})
        steps = {f"z{l}{j}": int(bool(z.xreplace(point) > 0)) for l, zs in ((1, z1), (2, z2))
                 for j, z in enumerate(zs, 1)}
        by_hand = ((point[s["w311"]] * steps["z21"] * point[s["w211"]]
                    + point[s["w312"]] * steps["z22"] * point[s["w221"]])
                   * steps["z11"] * point[s["x1"]])
        assert truth.xreplace(point) == by_hand


def test_wrong_only_at_a_kink_names_the_convention():
    v = _one([2, 2, 1], "da11/dw111 = x1*(1 - relu'(-z11))", activation="relu")
    assert v.correct is False
    z11 = _at(v, W111 * X1 + W112 * X2, (X1, X2, W111, W112))
    assert z11 == 0 and any("relu'(0) = 0" in n and "only at a kink" in n for n in v.notes)


def test_case_analysis_is_sound_and_bounded():
    x, y = sp.symbols("x y", real=True)
    assert prove_by_cases(relu(x) - relu(-x), x, prove_equal).proved
    assert prove_by_cases(step(x) * step(-x), sp.S.Zero, prove_equal).proved   # 0 at 0 too
    wrong = prove_by_cases(relu(x) + relu(-x), x, prove_equal)
    assert not wrong.proved and wrong.failed
    # step(x) + step(-x) is 1 except at x = 0 (where both are 0): a kink-only failure
    kink = prove_by_cases(step(x) + step(-x), sp.S.One, prove_equal)
    assert not kink.proved and kink.only_at_kinks
    many = prove_by_cases(relu(x) + relu(y), relu(y) + relu(x) + 0 * x, prove_equal, limit=1)
    assert many.proved or many.stopped        # structurally equal, or stopped honestly
    capped = prove_by_cases(step(x) * relu(y), relu(y) * step(x) ** 2, prove_equal, limit=2)
    assert not capped.proved and "more than 2" in capped.stopped
