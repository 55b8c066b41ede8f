"""Property tests: independently computed gradients agree on random networks.

Four references are compared on random architectures (depth 1-4, widths 1-4,
every activation, bias on and off, every loss), parameters and data, all drawn
with :mod:`symgrad.strategies`:

* the compiled symbolic gradient (:func:`symgrad.compile_gradients`),
* the hand-written numpy backprop (:mod:`symgrad.references.backprop`),
* central differences and the complex step (:mod:`symgrad.references.finite_diff`),
* plain ``sympy.diff`` of the nested expression against symbolic reverse mode.
"""

import mpmath
import numpy as np
import pytest
import sympy as sp
from hypothesis import HealthCheck, assume, example, given, note, settings
from hypothesis import strategies as st

from symgrad import Network, compile_gradients, gradients
from symgrad import strategies as sgst
from symgrad.references.backprop import backprop, forward
from symgrad.references.check import relative_errors
from symgrad.references.finite_diff import finite_differences

#: Examples per test are shares of the Hypothesis profile's count (tests/conftest.py; 100
#: in the default profile, where these tests run 150, 100, 100 and 40).  The profile
#: sets deadline=None.
UNIT = settings.default.max_examples
SETTINGS = dict(suppress_health_check=[HealthCheck.too_slow])


def nets(max_depth=4, max_width=4):
    """Depth 1..max_depth, widths 1..max_width, every activation, bias, loss."""
    return sgst.networks(max_depth=max_depth, max_width=max_width)


#: Finite differences are compared where no neuron is saturated (|z| <= 4): deep in
#: saturation the truncation error of a central difference (h**2/6 times the third
#: derivative of C) exceeds the 1e-6 bound on its own.  Backprop and sympy.diff are
#: compared everywhere.
UNSATURATED = 4.0


@st.composite
def problems(draw, max_depth=4, max_width=4, max_preactivation=sgst.MAX_PREACTIVATION):
    # symgrad.strategies.problems rejects draws within kink_margin of a ReLU kink:
    # finite differences across a kink measure a different function.
    net, params, X, y = draw(sgst.problems(networks=nets(max_depth, max_width),
                                           kink_margin=1e-4, min_value=-1.5, max_value=1.5,
                                           max_size=5, max_preactivation=max_preactivation))
    if net.loss_name == "bce":  # keep log(yhat) and log(1 - yhat) well conditioned
        yhat = forward(net.spec, params, X)[1][-1]
        assume(np.all((yhat > 1e-3) & (yhat < 1 - 1e-3)))
    note(repr(net))
    return net, params, X, y


_compiled = {}


def compiled(net):
    if net not in _compiled:
        _compiled[net] = compile_gradients(net)
    return _compiled[net]


@pytest.mark.slow
@settings(max_examples=UNIT * 3 // 2, **SETTINGS)
@given(problems())
@example((Network([2, 2, 1]), np.array([0.5, -1.0, 2.0, 0.25, -1.5, 3.0]),
          np.array([[1.0, 2.0]]), np.array([[1.0]])))
def test_symbolic_equals_backprop(problem):
    net, params, X, y = problem
    c1, g1 = compiled(net)(params, X, y)
    c2, g2 = backprop(net, params, X, y)
    assert abs(c1 - c2) <= 1e-12 * max(1.0, abs(c1))
    rel = relative_errors(g1, g2)
    note(f"symbolic {g1}\nbackprop {g2}")
    assert rel.max(initial=0) <= 1e-10


@settings(**SETTINGS)
@given(problems(max_preactivation=UNSATURATED))
# Found by Hypothesis when the cost floor was 1e-5: central-difference round-off is
# about eps*|C|/h (1.5e-11 here), more than 1e-6 * 1e-5 * max(1, |C|) allowed on
# entries below the floor.  With COST_FLOOR = 1e-4 they pass; kept as regressions.
@example((Network([1, 2, 2, 1], activation=["linear", "relu"], output_activation="sigmoid",
                  bias=True), np.full(13, 1.25), np.array([[0.5]]), np.array([[0.0]])))
@example((Network([1, 1, 1, 1], activation=["sigmoid", "relu"]), np.full(3, 0.01171875),
          np.array([[0.5]]), np.array([[1.5]])))
def test_symbolic_equals_central_differences(problem):
    net, params, X, y = problem
    c, g1 = compiled(net)(params, X, y)
    _, g2 = finite_differences(net, params, X, y, method="central")
    note(f"symbolic {g1}\ncentral  {g2}")
    assert relative_errors(g1, g2, cost=c).max(initial=0) <= 1e-6


@settings(**SETTINGS)
@given(problems(max_preactivation=UNSATURATED))
def test_symbolic_equals_complex_step(problem):
    net, params, X, y = problem
    assume(net.spec.analytic)
    c, g1 = compiled(net)(params, X, y)
    _, g2 = finite_differences(net, params, X, y, method="complex")
    note(f"symbolic {g1}\ncomplex  {g2}")
    # The complex step has no truncation error to speak of, so only rounding is
    # left: an entry that cancels to ~0 (softmax's coupled sums) keeps ~eps times
    # its terms on each side.  Below the floor (1e-3 of the largest entry) 1e-11
    # allows about 45 ulps of that entry; 1e-12 (4.5 ulps) failed on such a sum.
    assert relative_errors(g1, g2, cost=c).max(initial=0) <= 1e-11


def _point(net, seed):
    rng = np.random.default_rng(seed)
    syms = net.inputs + net.targets + net.parameters
    vals = {s: sp.Rational(int(rng.integers(-20, 21)), 17) for s in syms}
    if net.loss_name == "bce":
        vals.update({t: sp.Rational(int(rng.integers(1, 16)), 17) for t in net.targets})
    return vals


@pytest.mark.slow
@settings(max_examples=UNIT * 2 // 5, **SETTINGS)
@given(nets(max_depth=3, max_width=3), st.integers(0, 2**32 - 1))
def test_diff_equals_reverse(net, seed):
    rev = gradients(net, "loss", method="reverse")
    dif = gradients(net, "loss", method="diff")
    if set(net.activations) == {"linear"} and net.loss_name != "bce":
        assert all(sp.expand(rev[p] - dif[p]) == 0 for p in net.parameters)
        return
    # Both sides at one exact rational point, in 100-digit arithmetic.  (evalf with
    # subs is far slower on nested tanh; lambdify of our own expressions is safe.)
    # The diff form of a saturated sigmoid/bce subtracts terms near exp(|z|), which
    # costs up to about 30 of the 100 digits at these points (|z| < 70).
    point = _point(net, seed)
    args = list(point)
    both = sp.lambdify(args, [rev[p] for p in net.parameters] +
                       [dif[p] for p in net.parameters], modules="mpmath", cse=True)
    with mpmath.workdps(100):
        values = both(*[mpmath.mpf(v.p) / v.q for v in point.values()])
        n = len(net.parameters)
        for p, a, b in zip(net.parameters, values[:n], values[n:]):
            assume(mpmath.isfinite(a) and mpmath.isfinite(b))
            assert abs(a - b) <= mpmath.mpf("1e-40") * max(1, abs(b)), (p, a, b)
