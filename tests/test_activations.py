"""The activation table and the two independent references cover the same set and agree.

Adding an activation touches symgrad/activations.py (and the name list in spec.py)
plus references/backprop.py and references/finite_diff.py; these tests fail until
all of them know it, and compare their formulas numerically.
"""

import math

import numpy as np
import pytest
import sympy as sp

from symgrad import activations
from symgrad.errors import SpecError
from symgrad.references import backprop, finite_diff
from symgrad.spec import ACTIVATIONS, ANALYTIC_ACTIVATIONS, KINKED_ACTIVATIONS, KINKS, make_spec

Z = np.array([-3.0, -0.7, -1e-3, 1e-3, 0.4, 2.5])
z = sp.Symbol("z", real=True)


def _numeric(expr):
    # numpy has no erf (GELU): the test's own vectorised math.erf
    return sp.lambdify(z, expr, modules=[{"erf": np.vectorize(math.erf)}, "numpy"])


def test_table_lists_exactly_the_spec_names_in_order():
    assert tuple(activations.TABLE) == ACTIVATIONS
    assert activations.KINKED == KINKED_ACTIVATIONS
    assert {n for n, row in activations.TABLE.items() if row.analytic} == ANALYTIC_ACTIVATIONS


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_symbolic_forward_matches_both_references(name):
    row = activations.lookup(name)
    symbolic = np.broadcast_to(_numeric(row.forward(z))(Z), Z.shape).astype(float)
    np.testing.assert_allclose(backprop._forward_activation(name, Z), symbolic, rtol=1e-14)
    np.testing.assert_allclose(finite_diff._apply(name, Z), symbolic, rtol=1e-14)


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_symbolic_derivative_matches_sympy_diff_and_backprop(name):
    row = activations.lookup(name)
    f = row.forward(z)
    written = row.derivative(z, f)
    # The textbook form equals the derivative of the forward formula (away from 0
    # for the kinked ones, where the step is a convention).
    diffed = sp.diff(f, z)
    for value in Z:
        assert abs(float((written - diffed).subs(z, sp.Float(value, 30)))) < 1e-25
    slope = np.broadcast_to(_numeric(written)(Z), Z.shape).astype(float)
    a = backprop._forward_activation(name, Z)
    np.testing.assert_allclose(backprop._activation_slope(name, Z, a), slope, rtol=1e-13)


#: The documented derivative at each kink (docs/conventions.md): relu and leaky_relu
#: take the left slope, elu is 1 from both sides, hardtanh is 0 at both corners (PyTorch).
AT_KINK = {("relu", 0): 0.0, ("leaky_relu", 0): 0.01, ("elu", 0): 1.0, ("hardtanh", -1): 0.0,
           ("hardtanh", 1): 0.0}


def test_every_kink_has_a_stated_convention():
    assert {(n, int(k)) for n, ks in KINKS.items() for k in ks} == set(AT_KINK)
    assert set(KINKS) == KINKED_ACTIVATIONS


@pytest.mark.parametrize("name,kink", sorted(AT_KINK))
def test_kinked_derivative_at_the_kink_is_the_convention_everywhere(name, kink):
    row = activations.lookup(name)
    at = sp.Integer(kink)
    symbolic = float(row.derivative(at, row.forward(at)))
    assert symbolic == pytest.approx(AT_KINK[name, kink])
    point = np.full(1, float(kink))
    assert backprop._activation_slope(name, point, backprop._forward_activation(name, point)) \
        == pytest.approx(symbolic)


def test_unknown_names_are_refused_everywhere():
    with pytest.raises(SpecError, match="activation"):
        activations.lookup("mish")
    with pytest.raises(ValueError):
        backprop._forward_activation("mish", Z)
    with pytest.raises(SpecError):
        finite_diff._apply("mish", Z)


def test_claim_names_include_every_nonlinear_activation():
    for name in ACTIVATIONS:
        if name != "linear":
            assert activations.CLAIM_NAMES[name] == name
    assert activations.CLAIM_NAMES["sigma"] == "sigmoid"


def test_protect_makes_softplus_opaque_for_the_backends_that_print_it_natively():
    f = sp.log(1 + sp.exp(z)) + sp.tanh(z)
    numpy_form = activations.protect(f, "numpy")
    assert not numpy_form.has(sp.log) and numpy_form.has(sp.tanh)
    numba_form = activations.protect(f, "numba")
    assert not numba_form.has(sp.log) and not numba_form.has(sp.tanh)
    names = sorted(type(e).__name__ for e in numba_form.atoms(sp.Function))
    codes = [activations.native_code(n, "numba", "u") for n in names]
    assert codes == ["_softplus(u)", "_tanh(u)"]
    assert activations.native_code("exp", "numba", "u") is None


@pytest.mark.parametrize("widths,bias", [((2, 2, 1), False), ((3, 4, 2, 1), True), ((1, 1), True)])
def test_reference_unpacking_agrees_with_the_spec_layout(widths, bias):
    """The references unpack params with their own code; the spec owns the layout."""
    spec = make_spec(widths, bias=bias)
    params = np.arange(spec.n_parameters, dtype=float)
    weights, biases = backprop.unpack(spec, params)
    for l in range(1, spec.depth + 1):
        block = params[spec.weight_slice(l)].reshape(widths[l], widths[l - 1])
        np.testing.assert_array_equal(weights[l - 1], block)
        for j in range(1, widths[l] + 1):
            for k in range(1, widths[l - 1] + 1):
                assert weights[l - 1][j - 1, k - 1] == params[spec.weight_position(l, j, k)]
        if bias:
            np.testing.assert_array_equal(biases[l - 1], params[spec.bias_slice(l)])
            assert biases[l - 1][0] == params[spec.bias_position(l, 1)]
        else:
            assert spec.bias_slice(l).start == spec.bias_slice(l).stop
    names = spec.parameter_names()
    for l in range(1, spec.depth + 1):
        assert names[spec.weight_position(l, 1, 1)] == f"w{l}11"
