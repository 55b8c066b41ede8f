"""Tests for symgrad.claims.equivalence: bounded proofs, numeric decisions, counterexamples."""

import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from symgrad import Network
from symgrad.claims.equivalence import (
    DISPROVED,
    PROVED,
    constant_ratio,
    counterexample,
    decide,
    evaluate,
    prove_equal,
    random_points,
    same_value,
)
from symgrad.derive import gradients
from symgrad.network import relu, step

z, x = sp.symbols("z x", real=True)
sigma = 1 / (1 + sp.exp(-z))


def test_tanh_and_sigmoid_identities_are_proved():
    assert prove_equal(1 - sp.tanh(z) ** 2, sp.sech(z) ** 2)
    assert prove_equal(sigma * (1 - sigma), sp.exp(-z) / (1 + sp.exp(-z)) ** 2)
    assert decide(sp.sech(z) ** 2, 1 - sp.tanh(z) ** 2).method == PROVED


def test_a_true_difference_is_not_proved_and_has_a_counterexample():
    assert not prove_equal(1 - sp.tanh(z) ** 2, sp.sech(z))
    d = decide(sp.sech(z), 1 - sp.tanh(z) ** 2)
    assert not d.equal and d.method == DISPROVED
    point = d.counterexample.values
    # recompute independently with floats
    zf = float(point[z])
    import math
    assert abs(1 / math.cosh(zf) - float(d.counterexample.claimed)) < 1e-12
    assert abs((1 - math.tanh(zf) ** 2) - float(d.counterexample.true)) < 1e-12


def test_counterexample_prefers_small_integers_and_names_only_relevant_symbols():
    net = Network([2, 2, 1])
    x1, w211 = net.symbols["x1"], net.symbols["w211"]
    ce = counterexample(x1, w211 * x1, all_symbols=net.inputs + net.parameters)
    assert set(ce.values) == {x1, w211}
    assert all(v.is_Integer and -2 <= v <= 3 for v in ce.values.values())
    # exact independent recomputation with subs
    assert x1.subs(ce.values) == ce.claimed
    assert (w211 * x1).subs(ce.values) == ce.true
    assert ce.claimed != ce.true
    assert ce.text() == "x1=1, w211=2 (other symbols any value): claimed 1, true 2"


def test_step_and_heaviside_differ_only_at_the_kink():
    # step(z) is 0 at 0 (symgrad's convention relu'(0) = 0), Heaviside(z) is 1/2 there
    d = decide(step(z), sp.Heaviside(z))
    assert d.equal is False and d.counterexample.values == {z: 0}
    assert d.counterexample.on_kink and d.counterexample.true == sp.Rational(1, 2)
    assert "wrong only at a kink" in d.note and "relu'(0) = 0" in d.note
    assert decide(relu(z), sp.Piecewise((z, z > 0), (0, True))).equal


def test_evaluate_undefined_and_exact():
    assert evaluate(sp.log(x), {x: sp.Integer(-1)}) is None
    assert evaluate(1 / x, {x: sp.Integer(0)}) is None
    assert evaluate(x ** 2 / 3, {x: sp.Rational(1, 2)}) == sp.Rational(1, 12)
    assert same_value(sp.Rational(1, 3), sp.Float(1, 50) / 3) is True
    assert same_value(sp.Integer(1), sp.Integer(2)) is False
    assert same_value(None, sp.Integer(2)) is False


def test_random_points_have_both_signs():
    pts = random_points({x, z}, 40, seed=3)
    values = [p[x] for p in pts]
    assert any(v < 0 for v in values) and any(v > 0 for v in values)
    assert all(sp.Rational(1, 4) <= abs(v) <= sp.Rational(5, 2) for v in values)


def test_constant_ratio():
    pts = random_points({x, z}, 4)
    assert constant_ratio(-sp.Rational(1, 2) * x * z, x * z, pts) == -sp.Rational(1, 2)
    assert constant_ratio(x * z, x, pts) is None


def test_three_layer_tanh_derivative_decides_without_hanging():
    net = Network([2, 3, 3, 1], activation="tanh")
    g = gradients(net, "loss")
    gd = gradients(net, "loss", method="diff")
    p = net.weight(1, 2, 1)
    assert decide(gd[p], g[p]).equal
    d = decide(g[net.weight(1, 2, 2)], g[p])
    assert not d.equal
    point = dict(d.counterexample.values)
    for s in net.inputs + net.targets + net.parameters:
        point.setdefault(s, sp.Integer(1))
    a = float(g[net.weight(1, 2, 2)].subs(point).evalf(30))
    b = float(g[p].subs(point).evalf(30))
    assert abs(a - float(d.counterexample.claimed)) < 1e-9
    assert abs(b - float(d.counterexample.true)) < 1e-9 and abs(a - b) > 1e-9


@settings(max_examples=settings.default.max_examples // 4)   # 25 in the default profile
@given(st.lists(st.integers(-3, 3), min_size=4, max_size=4), st.integers(-2, 2))
def test_polynomial_decisions_match_expansion(coeffs, extra):
    net = Network([2, 2, 1])
    x1, x2, w111, w211 = (net.symbols[n] for n in ("x1", "x2", "w111", "w211"))
    a = coeffs[0] * x1 * w211 + coeffs[1] * x2 + coeffs[2] * (w111 + x1) ** 2 + coeffs[3]
    b = sp.expand(a) + extra * x1 * x2 * w111
    d = decide(a, b)
    assert d.equal == (extra == 0)
    if not d.equal:
        ce = d.counterexample
        assert a.subs(ce.values) == ce.claimed and b.subs(ce.values) == ce.true
        assert ce.claimed != ce.true


def test_negative_powers_count_as_expansions():
    """cancel/expand work on a denominator too: (9-term sum)**-64 is not 'small'."""
    from symgrad.claims.equivalence import small_enough

    s = sp.Add(*sp.symbols("a0:9", real=True))
    assert not small_enough(s ** -64) and not small_enough(x / s ** 32)
    assert small_enough(x / (x + z) ** 2)
    assert not prove_equal(s ** -64, s ** -64 + x)


def test_constant_ratio_of_values_beyond_floats_is_none():
    pts = random_points({x}, 3)
    assert constant_ratio(sp.Integer(10) ** 600 * x, x, pts) is None
    assert constant_ratio(x ** x ** x ** x ** x, x, pts) is None


def test_json_numbers_stay_json():
    import json

    from symgrad.claims.points import OUT_OF_RANGE, json_number

    assert json_number(sp.Integer(7)) == 7 and json_number(sp.Rational(1, 4)) == 0.25
    assert json_number(None) is None and json_number(OUT_OF_RANGE) is None
    huge = json_number(sp.Integer(10) ** 2000)
    assert huge == "1.000000000e+2000"
    assert json.loads(json.dumps([huge, json_number(sp.Float("1e500", 50))]))


def test_points_beyond_double_range_leave_the_decision_open():
    nested = x
    for f in (sp.cosh, sp.sinh) * 4:
        nested = f(nested)
    d = decide(nested, x * z)
    assert d.equal is None and not d.proved and "beyond double range" in d.method
    # a small-integer point that can be compared still refutes the pair
    d = decide(x ** x ** x ** x ** x, x * z)
    assert d.equal is False and d.counterexample is not None


def test_memoised_evaluation_matches_evalf():
    expr = sp.tanh(x + z) ** 2 * sp.exp(-sp.tanh(x + z)) + sp.log(1 + sp.exp(x)) / (x - z)
    for point in random_points({x, z}, 6, seed=5):
        expected = expr.xreplace(point).evalf(50)
        got = evaluate(expr, point)
        assert abs(got - expected) <= sp.Float("1e-45") * max(1, abs(expected))
    assert evaluate(sp.sqrt(x), {x: sp.Integer(-4)}) is None          # not real
    assert evaluate(sp.log(x) * 0 + sp.log(x - 1), {x: sp.Integer(1)}) is None
