"""Compiled gradients: values, shapes, validation, both code paths."""

import numpy as np
import pytest
import sympy as sp

from symgrad import Network, ShapeError, SpecError, compile_gradients, gradients

SEED_POINT = (np.array([0.5, -1.0, 2.0, 0.25, -1.5, 3.0]),
              np.array([[1.0, 2.0], [-0.5, 4.0], [3.0, 0.0]]),
              np.array([1.0, -2.0, 0.5]))


def exact_cost_and_grad(net, params, X, Y):
    """Evaluate the symbolic loss and its sympy.diff gradients exactly (Rationals)."""
    grads = gradients(net, "loss", method="diff")
    total_c, total_g = sp.S.Zero, [sp.S.Zero] * len(net.parameters)
    for row, target in zip(X, np.atleast_2d(Y.T).T):
        subs = {p: sp.Rational(v) for p, v in zip(net.parameters, params)}
        subs.update({x: sp.Rational(v) for x, v in zip(net.inputs, row)})
        subs.update({t: sp.Rational(v) for t, v in zip(net.targets, np.atleast_1d(target))})
        total_c += net.loss.subs(subs)
        total_g = [g + grads[p].subs(subs) for g, p in zip(total_g, net.parameters)]
    m = len(X)
    return float(total_c / m), np.array([float(g / m) for g in total_g])


def test_seed_net_matches_exact_rational_arithmetic():
    net = Network([2, 2, 1])
    cost, grad = compile_gradients(net)(*SEED_POINT)
    c, g = exact_cost_and_grad(net, *SEED_POINT)
    assert cost == pytest.approx(c, rel=1e-15)
    np.testing.assert_allclose(grad, g, rtol=1e-14)


@pytest.mark.parametrize("method", ["reverse", "diff"])
def test_both_code_paths_match_exact(method):
    net = Network([2, 3, 2], bias=True, loss="squared")
    rng = np.random.default_rng(3)
    params = rng.normal(size=len(net.parameters))
    X, Y = rng.normal(size=(4, 2)), rng.normal(size=(4, 2))
    cost, grad = compile_gradients(net, method=method)(params, X, Y)
    c, g = exact_cost_and_grad(net, params, X, Y)
    assert cost == pytest.approx(c, rel=1e-13)
    np.testing.assert_allclose(grad, g, rtol=1e-12, atol=1e-14)


def test_y_as_vector_or_column_and_int_inputs():
    net = Network([2, 2, 1])
    f = compile_gradients(net)
    params, X, y = SEED_POINT
    a = f(params, X, y)
    b = f(params, X, y[:, None])
    c = f(params.tolist(), X.astype(int), y)  # lists and ints are converted
    assert a[0] == b[0] and np.array_equal(a[1], b[1])
    assert np.isfinite(c[0])


def test_relu_derivative_at_zero_is_zero_numerically():
    net = Network([1, 1, 1], activation="relu")
    f = compile_gradients(net)
    # w111 = 0 puts z11 exactly at the kink: no gradient flows to w111.
    cost, grad = f([0.0, 1.0], [[1.0]], [1.0])
    assert grad[0] == 0.0


def test_doc_and_source():
    f = compile_gradients(Network([2, 2, 1]))
    assert "2-2-1" in f.__doc__ and "dC/dparams" in f.__doc__
    assert "def kernel" in f.source and "@" in f.source  # layer products, not flat sums
    assert f.backend == "numpy"


def test_softplus_does_not_overflow():
    net = Network([1, 1, 1], activation="softplus")
    cost, grad = compile_gradients(net)([1000.0, 1.0], [[1.0]], [0.0])
    assert np.isfinite(cost) and np.all(np.isfinite(grad))


BAD = [
    ("params-2d", (np.zeros((6, 1)), np.zeros((3, 2)), np.zeros(3)), "params has shape"),
    ("params-short", (np.zeros(5), np.zeros((3, 2)), np.zeros(3)), "its 6 parameters"),
    ("X-1d", (np.zeros(6), np.zeros(2), np.zeros(1)), r"needs shape \(m, 2\)"),
    ("X-wide", (np.zeros(6), np.zeros((3, 3)), np.zeros(3)), r"needs shape \(m, 2\)"),
    ("X-empty", (np.zeros(6), np.zeros((0, 2)), np.zeros(0)), "no rows"),
    ("y-short", (np.zeros(6), np.zeros((3, 2)), np.zeros(2)), r"needs shape \(3,\)"),
    ("strings", (np.zeros(6), [["a", "b"]], [1.0]), "must hold numbers"),
    ("complex", (np.zeros(6, complex), np.zeros((3, 2)), np.zeros(3)), "must be real"),
    ("ragged", (np.zeros(6), [[1.0, 2.0], [1.0]], [1.0, 2.0]), "not an array of numbers"),
]


@pytest.mark.parametrize("args, message", [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_inputs(args, message):
    f = compile_gradients(Network([2, 2, 1]))
    with pytest.raises(ShapeError, match=message):
        f(*args)


@pytest.mark.parametrize("kwargs, message", [
    (dict(backend="cuda"), "choices: numpy, numba, auto"),
    (dict(method="forward"), "choices: reverse, diff"),
])
def test_bad_compile_arguments(kwargs, message):
    with pytest.raises(SpecError, match=message):
        compile_gradients(Network([2, 1]), **kwargs)


def test_compile_needs_network():
    with pytest.raises(SpecError, match="needs a Network"):
        compile_gradients([2, 2, 1])
