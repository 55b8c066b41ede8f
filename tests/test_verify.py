"""Tests for symgrad.claims.verify and symgrad.claims.diagnose: verdicts, diagnoses, compare."""

import time

import pytest
import sympy as sp

from symgrad import Network, ParseError
from symgrad.claims.compare import compare
from symgrad.claims.parse import parse_claim
from symgrad.claims.verify import verify, verify_expression
from symgrad.derive import gradients

SEED = Network([2, 2, 1])
S = SEED.symbols
TANH = Network([2, 2, 1], activation="tanh")
T = TANH.symbols
SIG = Network([2, 3, 1], activation="sigmoid", bias=True)
G = SIG.symbols


def recompute(net, verdict, of, param, claimed):
    """Independent check of a counterexample: exact subs of its values into both sides."""
    ce = verdict.counterexample
    point = {net.symbols[name]: sp.nsimplify(v, rational=True) for name, v in ce["values"].items()}
    key = "loss" if of in ("L", "C") else of
    true = gradients(net, key, method="diff")[param]
    claimed = claimed.subs(net.intermediate_definitions)
    c, t = claimed.subs(point).evalf(30), true.subs(point).evalf(30)
    assert not c.free_symbols and not t.free_symbols, "counterexample leaves a symbol free"

    def number(v):   # JSON: an int, a float, or the string of a value beyond floats
        return sp.Integer(v) if isinstance(v, int) else sp.Float(v, 30)

    assert abs(c - number(ce["claimed"])) <= 1e-9 * max(1, abs(c))
    assert abs(t - number(ce["true"])) <= 1e-9 * max(1, abs(t))
    assert abs(c - t) > 1e-9 * max(1, abs(c), abs(t))


def test_seed_claim_missing_factor_w211():
    v = verify_expression(SEED, "z21", S["w111"], S["x1"])
    assert v.correct is False
    assert v.diagnosis.kind == "missing-factor"
    assert "w211" in v.diagnosis.detail and "output weight" in v.diagnosis.detail
    assert v.true == "x1*w211"
    assert v.counterexample == {"values": {"x1": 1, "w211": 2}, "claimed": 1, "true": 2}
    recompute(SEED, v, "z21", S["w111"], S["x1"])


def test_seed_question_cost_claim_is_sign_and_missing_factor():
    # dC/dw111 = (1/m) sum_i (y - y') x_{i1}: the summand is (y - z21)*x1
    rhs = (S["y"] - S["z21"]) * S["x1"]
    v = verify_expression(SEED, "C", S["w111"], rhs, per_sample_mean=True)
    assert v.correct is False
    assert v.diagnosis.kind == "sign+missing-factor"
    assert "w211" in v.diagnosis.detail and "sign" in v.diagnosis.detail
    recompute(SEED, v, "C", S["w111"], rhs)


ANSWER = [("w111", "x1*w211"), ("w121", "x1*w212"), ("w112", "x2*w211"),
          ("w122", "x2*w212"), ("w211", "z11"), ("w212", "z12")]


@pytest.mark.parametrize("param,rhs", ANSWER)
def test_seed_answer_six_derivatives_are_proved(param, rhs):
    expr = sp.Mul(*(S[n] for n in rhs.split("*")))
    v = verify_expression(SEED, "z21", S[param], expr)
    assert v.correct and v.method == "proved symbolically" and v.diagnosis is None


SEED_ANSWER_FORMS = {
    "plain": ["dz_b/dw111 = x1*w211", "dz_b/dw121 = x1*w212", "dz_b/dw112 = x2*w211",
              "dz_b/dw122 = x2*w212", "dz_b/dw211 = z11", "dz_b/dw212 = z12"],
    "latex": [r"\frac{\partial z_b}{\partial w_{111}} = x_1w_{211}",
              r"\frac{\partial z_b}{\partial w_{121}} = x_1w_{212}",
              r"$\frac{\partial z_b}{\partial w_{112}} = x_2 w_{211}$",
              r"\frac{\partial z_b}{\partial w_{122}} = x_{2} \cdot w_{212}",
              r"\frac{\partial z_b}{\partial w_{211}} = z_{11}",
              r"\frac{\partial z_b}{\partial w_{212}} = z_{12}"],
    "unicode": ["∂z_b/∂w₁₁₁ = x₁w₂₁₁", "∂z_b/∂w₁₂₁ = x₁·w₂₁₂", "∂z_b/∂w₁₁₂ = x₂ × w₂₁₁",
                "∂z_b/∂w₁₂₂ = x₂w₂₁₂", "∂z_b/∂w₂₁₁ = z₁₁", "∂z_b/∂w₂₁₂ = z₁₂"],
}


@pytest.mark.parametrize("form", sorted(SEED_ANSWER_FORMS))
def test_seed_answer_accepted_in_every_notation(form):
    verdicts = verify(SEED, SEED_ANSWER_FORMS[form], aliases={"z_b": "z21"})
    assert [v.correct for v in verdicts] == [True] * 6
    assert {v.method for v in verdicts} == {"proved symbolically"}
    assert [v.parameter for v in verdicts] == [p for p, _ in ANSWER]


def test_identities_as_text():
    for claim in ["dz21/dw111 = w211*x1*sech(z11)^2", "dz21/dw111 = w211 x1 (1 - tanh(z11)**2)"]:
        assert verify(TANH, claim)[0].correct
    sig = Network([2, 2, 1], activation="sigmoid")
    for claim in ["dz21/dw111 = w211 x1 sigma(z11)(1 - sigma(z11))",
                  "dz21/dw111 = w211 x1 exp(-z11)/(1 + exp(-z11))^2"]:
        [v] = verify(sig, claim)
        assert v.correct and v.method == "proved symbolically"


def test_verify_expression_reads_text_with_the_claim_parser_never_as_python():
    assert verify_expression(SEED, "z21", S["w111"], "x_1 w_{211}").correct is True
    assert verify_expression(SEED, "z21", "w111", "w211*x1").correct is True
    with pytest.raises(ParseError):
        verify_expression(SEED, "z21", S["w111"], "__import__('os').getcwd()")
    with pytest.raises(ParseError):
        verify_expression(SEED, "z21", S["w111"], "x1.__class__")
    assert verify_expression(SEED, "z21", S["w211"], 0).status == "wrong"


@pytest.mark.parametrize("call", [
    lambda: verify(SEED, None),
    lambda: verify(SEED, 42),
    lambda: verify(SEED, [None], errors="raise"),
    lambda: verify(None, "dz21/dw111 = x1"),
    lambda: verify(SEED, "dz21/dw111 = x1", aliases=["z_b=z21"]),
    lambda: verify_expression(SEED, "z21", S["w111"], None),
    lambda: verify_expression(SEED, "z21", S["w111"], [S["x1"]]),
    lambda: verify_expression(SEED, "z21", S["w111"], sp.Eq(S["x1"], 1)),
    lambda: verify_expression(SEED, None, S["w111"], S["x1"]),
    lambda: compare(SEED, None, "x1"),
    lambda: compare(SEED, "x1", object()),
    lambda: compare(SEED, ("L",), "x1"),
    lambda: compare(None, "x1", "x1"),
], ids=["claims None", "claims int", "claim None", "net None", "aliases list",
        "expr None", "expr list", "expr Eq", "of None", "compare None", "compare object",
        "compare short pair", "compare net None"])
def test_wrong_types_are_symgrad_type_errors(call):
    from symgrad import SpecTypeError

    with pytest.raises(SpecTypeError, match="must be"):
        call()


def test_wrong_parameters_are_spec_errors():
    from symgrad import SpecError

    with pytest.raises(SpecError, match="not a parameter"):
        verify_expression(SEED, "z21", "w999", S["x1"])
    with pytest.raises(SpecError, match="not a parameter"):
        compare(SEED, ("L", S["x1"]), "x1")


def test_an_unreadable_item_of_a_list_is_reported_like_any_unreadable_claim():
    verdicts = verify(SEED, ["dz21/dw111 = x1", None], errors="report")
    assert [v.status for v in verdicts] == ["wrong", "unreadable"]
    assert "must be a string" in verdicts[1].error


def test_invalid_claims_raise_or_report():
    with pytest.raises(ParseError):
        verify(SEED, "dz21/dw999 = 3")
    bad, good = verify(SEED, ["dz21/dw999 = 3", "dz21/dw111 = w211 x1"], errors="report")
    assert bad.correct is None and "w999" in bad.error
    assert good.correct is True and good.error is None


def test_tanh_and_sigmoid_identities_accepted():
    v = verify_expression(TANH, "z21", T["w111"], T["w211"] * T["x1"] * sp.sech(T["z11"]) ** 2)
    assert v.correct and v.method == "proved symbolically"
    z = G["z11"]
    claim = G["w211"] * sp.exp(-z) / (1 + sp.exp(-z)) ** 2 * (G["z21"] - G["y"])
    v = verify_expression(SIG, "L", G["b11"], claim)
    assert v.correct
    claim = G["w211"] * G["a11"] * (1 - G["a11"]) * G["x2"] * (G["a21"] - G["y"])
    assert verify_expression(SIG, "L", G["w112"], claim).correct


# (network, claim, expected kind, words in the detail)
WRONG = [
    ("seed", "dL/dw111 = w211*x1*(y - z21)", "sign", ["sign"]),
    ("seed", "dL/dw111 = 2*w211*x1*(z21 - y)", "scale", ["1/2", "half-squared"]),
    ("seed", "dz21/dw111 = w212*x1", "wrong-parameter", ["w121"]),
    ("seed", "dz21/dw112 = w212*x1", "transposed-index", ["w121"]),
    ("seed", "dz21/dw111 = x1", "missing-factor", ["w211", "output weight"]),
    ("seed", "dz21/dw211 = w211*z11", "extra-factor", ["w211"]),
    ("seed", "dz21/dw211 = x1 + z12", "other", []),
    ("tanh", "dz21/dw211 = z11", "pre-activation", ["z11", "a11"]),
    ("tanh", "dz21/dw111 = w211*x1", "pre-activation", ["derivative", "tanh"]),
    ("tanh", "dz21/dw111 = w211*x1*(1 - z11^2)", "pre-activation", ["z11"]),
    ("seed", "dL/dw111 = -x1*(z21 - y)", "sign+missing-factor", ["w211"]),
    ("seed", "dL/dw111 = -2*w211*x1*(z21 - y)", "sign+scale", []),
    ("seed", r"\frac{∂C}{w_{111}} = \frac{1}{m} \sum_{i=1}^m (y-y')x_{i1}",
     "sign+missing-factor", ["w211", "sign"]),
]


@pytest.mark.parametrize("which,text,kind,words", WRONG, ids=[f"{w[2]}:{w[1]}" for w in WRONG])
def test_each_diagnosis_kind(which, text, kind, words):
    net = {"seed": SEED, "tanh": TANH}[which]
    [v] = verify(net, text)
    assert v.correct is False
    assert v.diagnosis.kind == kind, v.diagnosis
    for word in words:
        assert word in v.diagnosis.detail
    claim = parse_claim(text, net)
    recompute(net, v, claim.of, claim.parameter, claim.rhs)


def test_transposed_convention_throughout():
    # someone who names weights w{l}{k}{j} writes our dz21/dw121 = x1*w212 as
    # "dz21/dw112 = x1*w221"; on a 2-2-2-1 net both names exist in our order too
    net = Network([2, 2, 2, 1])
    [v] = verify(net, "dz21/dw112 = x1*w221")
    assert v.diagnosis.kind == "transposed-index" and "w{l}{k}{j}" in v.diagnosis.detail
    [ok] = verify(net, "dz21/dw112 = x1*w221", weight_template="w{l}{k}{j}")
    assert ok.correct


def test_cost_without_mean_is_checked_per_sample_with_a_note():
    v = verify_expression(SEED, "C", S["w211"], S["z11"] * (S["z21"] - S["y"]))
    assert v.correct and any("m = 1" in note for note in v.notes)


def test_verdict_dict_has_the_contract_keys():
    v = verify_expression(SEED, "z21", S["w111"], S["x1"])
    d = v.to_dict()
    for key in ("claim", "of", "parameter", "correct", "method", "true", "diagnosis",
                "counterexample"):
        assert key in d
    assert set(d["diagnosis"]) == {"kind", "detail"}
    assert set(d["counterexample"]) == {"values", "claimed", "true"}
    ok = verify_expression(SEED, "z21", S["w111"], S["x1"] * S["w211"]).to_dict()
    assert ok["diagnosis"] is None and ok["counterexample"] is None and ok["correct"] is True


def test_weight_template_renames_the_report():
    v = verify_expression(SEED, "z21", S["w121"], S["x1"], weight_template="w{l}{k}{j}")
    assert v.parameter == "w112" and v.true == "x1*w221"


def test_compare_seed_conditions_and_symmetry():
    c = compare(SEED, ("L", S["w111"]), ("L", S["w121"]))
    assert not c.equal
    assert c.conditions == ["x1 = 0", "w211 = w212", "the prediction is exact (y = z21)"]
    assert "stay identical" in c.symmetry and "dL/dw112 = dL/dw122" in c.symmetry
    # the concrete tie, checked independently with sympy.diff
    g = gradients(SEED, "loss", method="diff")
    tie = {S["w121"]: S["w111"], S["w122"]: S["w112"], S["w212"]: S["w211"]}
    for p, q in [("w111", "w121"), ("w112", "w122"), ("w211", "w212")]:
        assert sp.expand(g[S[p]].subs(tie) - g[S[q]].subs(tie)) == 0
    # and the conditions: the difference vanishes under each one
    diff = g[S["w111"]] - g[S["w121"]]
    assert diff.subs(S["x1"], 0) == 0 and diff.subs(S["w212"], S["w211"]) == 0
    assert sp.expand(diff.subs(S["y"], SEED.output)) == 0


def test_compare_equal_and_different_layers():
    c = compare(SEED, ("z21", S["w111"]), S["x1"] * S["w211"])
    assert c.equal and c.method == "proved symbolically" and c.symmetry is None
    c = compare(SEED, ("L", S["w111"]), ("L", S["w211"]))
    assert not c.equal and c.symmetry is None
    assert "z11 = x1*w211" in c.conditions


def test_speed_of_one_verdict_is_printed(capsys):
    net = Network([2, 3, 1], activation="tanh")
    n = net.symbols
    start = time.perf_counter()
    v = verify_expression(net, "L", n["w111"], n["w211"] * n["x1"] * (n["z21"] - n["y"]))
    elapsed = time.perf_counter() - start
    assert v.correct is False and v.diagnosis.kind == "pre-activation"
    with capsys.disabled():
        print(f"\n2-3-1 tanh wrong-claim verdict with diagnosis: {elapsed * 1000:.0f} ms")


x1, x2, w111, w112, w211 = (T[n] for n in ("x1", "x2", "w111", "w112", "w211"))
LONG_SUM = x1 + x2 + w111 + w112 + w211


@pytest.mark.parametrize("rhs", [
    sp.exp(sp.exp(sp.exp(sp.exp(sp.exp(x1))))),        # exp(10**84700) at x1 = 5/2
    LONG_SUM ** 30,                                    # 5**30 terms if expanded
    sp.cosh(sp.sinh(sp.cosh(sp.exp(w211)))) * sp.exp(x1) ** 64,
    LONG_SUM ** -64,                                   # cancel would expand the denominator
    x1 / LONG_SUM ** 32,
    x1 ** x1 ** x1 ** x1 ** x1,                        # 3**3**3**3 at x1 = 3: exact, huge
    sp.Integer(10) ** 600 * x1,                        # ratio to the truth beyond floats
    sp.Mul(*[sp.Integer(123456789012345678901234567890)] * 20),
], ids=["exp5", "sum^30", "cosh-exp^64", "sum^-64", "x/sum^32", "tower", "10^600", "product"])
def test_hostile_but_valid_expressions_are_decided_wrong_with_a_counterexample(rhs):
    """Built in SymPy, past the parser's limits: the decision guards its own steps."""
    [v] = [verify_expression(TANH, "z21", w111, rhs)]
    assert v.status == "wrong" and v.counterexample is not None and v.diagnosis is not None
    recompute(TANH, v, "z21", w111, rhs)


def test_values_beyond_double_range_are_out_of_range_not_undefined():
    from symgrad.claims.points import OUT_OF_RANGE, evaluate, same_value

    tower = x1 ** x1 ** x1 ** x1 ** x1
    assert evaluate(tower, {x1: sp.Integer(3)}) is OUT_OF_RANGE
    assert evaluate(tower, {x1: sp.Integer(1)}) == 1
    assert evaluate(sp.cosh(x1 ** 64), {x1: sp.Rational(5, 2)}) is OUT_OF_RANGE
    assert same_value(OUT_OF_RANGE, OUT_OF_RANGE) is None
    assert same_value(OUT_OF_RANGE, sp.Integer(1)) is None


def test_a_true_identity_with_huge_intermediate_values_is_not_called_wrong():
    """cosh(x1^64)**2 - sinh(x1^64)**2 = 1, but beyond double range for |x1| > 3:
    those points prove nothing either way; it is proved or undecided, never wrong."""
    rhs = w211 * x1 * (sp.cosh(x1 ** 64) ** 2 - sp.sinh(x1 ** 64) ** 2)
    v = verify_expression(SEED, "z21", S["w111"], rhs.xreplace(
        {T[n]: S[n] for n in ("x1", "w211")}))
    assert v.status in ("correct", "undecided"), v
    nested = S["x1"]
    for f in (sp.cosh, sp.sinh) * 4:      # beyond double range at every point tried
        nested = f(nested)
    w = verify_expression(SEED, "z21", S["w111"], nested)
    assert w.status == "undecided" and "random points" in w.method


def test_a_minus_absorbed_by_a_factor_is_not_a_sign_error():
    # linear output: the claim has an extra z21*(1 - z21), written as -(z21 - 1)*z21
    [v] = verify(SEED, "dL/dw211 = -z11*(z21 - y)*z21*(z21 - 1)")
    assert v.diagnosis.kind == "extra-factor", v.diagnosis


@pytest.mark.parametrize("arch, act, claim, missing, has_fprime", [
    pytest.param([2, 3, 3, 1], "sigmoid", "dL/dw111 = x1*a11*(1-a11)", "dL/da11", True,
                 marks=pytest.mark.slow),   # ~2 s; the b12 case below also has f'(z)
    ([2, 3, 3, 1], "tanh", "dz31/dw111 = x1", "dz31/da11", False),
    ([2, 3, 1], "tanh", "dL/db12 = 1 - a12**2", "dL/da12", True),
])
def test_chain_rule_stopped_at_the_neuron(arch, act, claim, missing, has_fprime):
    net = Network(arch, activation=act, bias=True)
    (v,) = verify(net, claim)
    assert v.correct is False
    assert v.diagnosis.kind == "missing-factor"
    assert missing in v.diagnosis.detail and "the chain rule stops at neuron" in v.diagnosis.detail
    # The named factor really is what is missing, computed independently with
    # sympy.diff: claim * d(of)/da (* f'(z) when the claim lacks it) == the truth.
    l, j = int(missing[-2]), int(missing[-1])
    of_loss = claim.startswith("dL")
    a, z = sp.symbols("A_probe Z_probe", real=True)
    hidden, pre = net.a(l, j), net.z(l, j)
    target = net.loss if of_loss else net.output
    factor = sp.diff(target.xreplace({hidden: a}), a).xreplace({a: hidden})
    if not has_fprime:
        factor *= sp.diff(hidden.xreplace({pre: z}), z).xreplace({z: pre})
    parsed = parse_claim(claim, net)
    true = gradients(net, of="loss" if of_loss else "output", method="diff")[parsed.parameter]
    product = parsed.rhs.xreplace(net.intermediate_definitions) * factor
    rng = __import__("random").Random(1)
    point = {s: sp.Rational(rng.randint(-9, 9), 7)
             for s in true.free_symbols | product.free_symbols}
    assert abs(sp.N((product - true).xreplace(point), 30)) < 1e-20


# ------------------------------------------- undecided: budgets and per-claim isolation

TANH_231 = Network([2, 3, 1], activation="tanh")
NUMERIC_ONLY = "dL/dw111 = w211*x1*sech(z11)^2*(z21 - y)"   # correct, not proved cheaply


def snapshots(net, text):
    """Every report one real decision makes, and its verdict (in this process)."""
    from symgrad import budget
    from symgrad.claims.verify import _claim_task

    budget.remember(net)
    seen = []
    options = {"aliases": None, "weight_template": "w{l}{j}{k}", "points": 12, "seed": 0}
    verdict = budget.run_here(_claim_task, net.spec, text, options, on_progress=seen.append)
    return seen, verdict


def test_a_decision_stopped_at_each_stage_says_what_was_known():
    from symgrad.claims.verify import stopped

    why = "ran out of time (5 s)"
    seen, verdict = snapshots(TANH_231, NUMERIC_ONLY)
    assert verdict.status == "correct" and "not proved" in verdict.method
    first, agreed = (stopped(NUMERIC_ONLY, s, why) for s in seen)
    assert first.status == agreed.status == "undecided"
    assert first.method == "the work ran out of time (5 s) before any evaluation finished"
    assert agreed.method == "equal at 12 random points; the symbolic proof ran out of time (5 s)"
    assert agreed.true == verdict.true and agreed.claim == verdict.claim
    seen, verdict = snapshots(SEED, "dz21/dw111 = x1")
    assert verdict.status == "wrong"
    cut = [stopped("dz21/dw111 = x1", s, why) for s in seen][-1]
    assert cut.status == "wrong" and cut.diagnosis is None
    assert cut.counterexample == verdict.counterexample
    assert cut.notes == ("no diagnosis: the diagnosis ran out of time (5 s)",)
    assert stopped("text", None, why).to_dict()["status"] == "undecided"


def test_undecided_verdicts_in_text_and_json():
    from symgrad.claims.verify import stopped

    seen, _ = snapshots(TANH_231, NUMERIC_ONLY)
    v = stopped(NUMERIC_ONLY, seen[-1], "ran out of memory (512 MB)")
    text = v.to_text()
    assert text.startswith("? dL/dw111 = ") and "undecided:      equal at 12" in text
    assert v.to_text(ascii=True).startswith("UNDECIDED dL/dw111")
    data = v.to_dict()
    assert data["status"] == "undecided" and data["correct"] is None and data["error"] is None
    assert str(v) == text


class BrokenNetwork(Network):
    """A network whose definitions cannot be read: every decision on it fails."""

    @property
    def intermediate_definitions(self):
        raise OverflowError("cannot convert Infinity to integer ratio")


def test_an_unexpected_error_in_one_claim_is_that_claims_undecided_verdict():
    from symgrad import budget

    broken = BrokenNetwork([3, 1, 1], bias=True)        # a spec no other test uses
    try:
        verdicts = verify(broken, ["dz21/dw111 = x1", "dz21/dw111 = 2 w211 x1", "dz21/dw0 = 1"],
                          errors="report")
    finally:
        budget._NETWORKS.pop(broken.spec, None)
    assert [v.status for v in verdicts] == ["undecided", "undecided", "unreadable"]
    for v in verdicts[:2]:
        assert "stopped on an unexpected error (OverflowError: cannot convert" in v.method


def test_python_api_timeouts_make_undecided_results_and_keep_every_claim():
    net = Network([2, 3, 3, 1], activation="tanh")
    verdicts = verify(net, ["dL/dw111 = x1", "dL/dw211 = a11"], timeout=0.001)
    assert [v.status for v in verdicts] == ["undecided", "undecided"]
    assert "ran out of time (0.001 s)" in verdicts[0].method
    [bad] = verify(net, ["dL/dw999 = 1"], errors="report", timeout=30)
    assert bad.status == "unreadable" and "w999" in bad.error
    c = compare(net, "dL/dw111", "dL/dw121", timeout=0.001)
    assert c.equal is None and c.status == "undecided" and "ran out of time" in c.method
    assert c.to_dict()["status"] == "undecided" and "undecided:" in c.to_text()
    with pytest.raises(ParseError):
        compare(net, "dL/dw999", "x1", timeout=5)       # unreadable is still an error


def test_python_api_with_a_timeout_gives_the_same_verdicts_as_without():
    claims = ["dz21/dw111 = x1", "dz21/dw111 = w211 x1", "dL/dw211 = z11*(z21 - y)"]
    here = verify(SEED, claims)
    there = verify(SEED, claims, timeout=60)
    assert [v.to_dict() for v in here] == [v.to_dict() for v in there]
    assert [v.status for v in there] == ["wrong", "correct", "correct"]
    a = compare(SEED, "dL/dw111", "dL/dw121")
    b = compare(SEED, "dL/dw111", "dL/dw121", timeout=60)
    assert a.to_dict() == b.to_dict() and b.status == "different"


def test_a_truth_that_names_deltas_says_what_they_are():
    """Deep narrow nets keep long deltas by name in the compact truth; the verdict
    must not show a name it never defines (decided or not)."""
    net = Network([2, 2, 2, 2, 2, 2, 2, 2, 2, 1], activation="tanh")
    [v] = verify(net, "dL/dw111 = x1", timeout=1)
    assert "delta11" in v.true
    assert any(n.startswith("delta11: backprop's delta dL/dz") and "--of loss" in n
               for n in v.notes), v.notes


def test_a_mean_written_with_derivative_symbols_is_shown_once():
    net = Network([2, 2, 1])
    text = r"dC/dw111 = \frac{1}{m} \sum_{i=1}^m dL_i/dz21 * x_{i1} w_{211}"
    [v] = verify(net, text)
    assert v.correct is True
    assert v.claim.count("sum") == 1 and "(1/m)*sum_i(" not in v.claim, v.claim
