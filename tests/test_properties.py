"""Property tests: independently computed gradients agree on random networks.

Four references are compared on random architectures (depth 1-4, widths 1-4,
every activation, bias on and off, every loss), parameters and data:

* the compiled symbolic gradient (:func:`symgrad.compile_gradients`),
* the hand-written numpy backprop (:mod:`symgrad.backprop`),
* central differences and the complex step (:mod:`symgrad.finite_diff`),
* plain ``sympy.diff`` of the nested expression against symbolic reverse mode.
"""

import numpy as np
import sympy as sp
from hypothesis import HealthCheck, assume, example, given, note, settings
from hypothesis import strategies as st

from symgrad import Network, compile_gradients, gradients
from symgrad.backprop import backprop, forward
from symgrad.check import min_kink_distance, relative_errors
from symgrad.finite_diff import finite_differences
from symgrad.spec import ACTIVATIONS

SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def nets(draw, max_depth=4, max_width=4):
    depth = draw(st.integers(1, max_depth))
    widths = draw(st.lists(st.integers(1, max_width), min_size=depth + 1, max_size=depth + 1))
    hidden = draw(st.lists(st.sampled_from(ACTIVATIONS), min_size=depth - 1,
                           max_size=depth - 1))
    out = draw(st.sampled_from(ACTIVATIONS))
    loss = draw(st.sampled_from(["half-squared", "squared", "bce"] if out == "sigmoid"
                                else ["half-squared", "squared"]))
    return Network(widths, activation=hidden, output_activation=out,
                   bias=draw(st.booleans()), loss=loss)


@st.composite
def problems(draw, max_depth=4, max_width=4):
    net = draw(nets(max_depth, max_width))
    spec = net.spec
    m = draw(st.integers(1, 5))
    floats = st.floats(-1.5, 1.5, allow_nan=False, allow_infinity=False)
    params = np.array(draw(st.lists(floats, min_size=spec.n_parameters,
                                    max_size=spec.n_parameters)))
    X = np.array(draw(st.lists(floats, min_size=m * spec.n_inputs,
                               max_size=m * spec.n_inputs))).reshape(m, spec.n_inputs)
    labels = st.floats(0, 1) if spec.loss == "bce" else floats
    y = np.array(draw(st.lists(labels, min_size=m * spec.n_outputs,
                               max_size=m * spec.n_outputs))).reshape(m, spec.n_outputs)
    # Finite differences across a ReLU kink measure a different function.
    assume(min_kink_distance(net, params, X) > 1e-4)
    if spec.loss == "bce":  # keep log(yhat) and log(1 - yhat) well conditioned
        yhat = forward(spec, params, X)[1][-1]
        assume(np.all((yhat > 1e-6) & (yhat < 1 - 1e-6)))
    note(repr(net))
    return net, params, X, y


_compiled = {}


def compiled(net):
    if net not in _compiled:
        _compiled[net] = compile_gradients(net)
    return _compiled[net]


@settings(max_examples=150, **SETTINGS)
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


@settings(max_examples=100, **SETTINGS)
@given(problems())
def test_symbolic_equals_central_differences(problem):
    net, params, X, y = problem
    c, g1 = compiled(net)(params, X, y)
    _, g2 = finite_differences(net, params, X, y, method="central")
    note(f"symbolic {g1}\ncentral  {g2}")
    assert relative_errors(g1, g2, cost=c).max(initial=0) <= 1e-6


@settings(max_examples=100, **SETTINGS)
@given(problems())
def test_symbolic_equals_complex_step(problem):
    net, params, X, y = problem
    assume(net.spec.analytic)
    c, g1 = compiled(net)(params, X, y)
    _, g2 = finite_differences(net, params, X, y, method="complex")
    note(f"symbolic {g1}\ncomplex  {g2}")
    assert relative_errors(g1, g2, cost=c).max(initial=0) <= 1e-12


def _point(net, seed):
    rng = np.random.default_rng(seed)
    syms = net.inputs + net.targets + net.parameters
    vals = {s: sp.Rational(int(rng.integers(-40, 41)), 17) for s in syms}
    if net.loss_name == "bce":
        vals.update({t: sp.Rational(int(rng.integers(1, 16)), 17) for t in net.targets})
    return vals


@settings(max_examples=40, **SETTINGS)
@given(nets(max_depth=3, max_width=3), st.integers(0, 2**32 - 1))
def test_diff_equals_reverse(net, seed):
    rev = gradients(net, "loss", method="reverse")
    dif = gradients(net, "loss", method="diff")
    if set(net.activations) == {"linear"} and net.loss_name != "bce":
        assert all(sp.expand(rev[p] - dif[p]) == 0 for p in net.parameters)
        return
    point = _point(net, seed)
    for p in net.parameters:
        a, b = rev[p].evalf(40, subs=point), dif[p].evalf(40, subs=point)
        assume(a.is_finite and b.is_finite)
        assert abs(a - b) <= sp.Float("1e-30", 40) * max(1, abs(b)), (p, a, b)
