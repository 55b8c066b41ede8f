"""Finite differences: step rule, accuracy, complex step only where analytic."""

import numpy as np
import pytest

from symgrad import Network, SpecError
from symgrad.references.finite_diff import CENTRAL_STEP, central_steps, cost, finite_differences


def quadratic_problem():
    # 1-1-1 linear: C = (y - w2*w1*x)^2 / 2, gradient known in closed form.
    params, X, y = np.array([0.7, -1.3]), np.array([[2.0]]), np.array([0.5])
    r = params[1] * params[0] * 2.0 - 0.5
    return Network([1, 1, 1]), params, X, y, np.array([r * params[1] * 2.0, r * params[0] * 2.0])


def test_step_rule():
    assert CENTRAL_STEP == pytest.approx(6.055e-6, rel=1e-3)
    np.testing.assert_array_equal(central_steps(np.array([0.1, -5.0])),
                                  [CENTRAL_STEP, 5 * CENTRAL_STEP])


def test_central_is_accurate_on_a_known_gradient():
    net, params, X, y, exact = quadratic_problem()
    _, g = finite_differences(net, params, X, y)
    np.testing.assert_allclose(g, exact, rtol=1e-9)


def test_complex_step_is_exact_to_rounding():
    net, params, X, y, exact = quadratic_problem()
    _, g = finite_differences(net, params, X, y, method="complex")
    np.testing.assert_allclose(g, exact, rtol=1e-15)


def test_cost_is_mean_of_loss():
    net = Network([1, 1], loss="squared")
    c = cost(net.spec, np.array([2.0]), np.array([[1.0], [3.0]]), np.array([[0.0], [0.0]]))
    assert c == (4.0 + 36.0) / 2


@pytest.mark.parametrize("act", ["relu", "leaky_relu"])
def test_complex_step_refuses_kinks(act):
    net = Network([1, 1, 1], activation=act)
    with pytest.raises(SpecError, match="analytic"):
        finite_differences(net, [1.0, 1.0], [[1.0]], [0.0], method="complex")


def test_unknown_method():
    with pytest.raises(SpecError, match="central, complex"):
        finite_differences(Network([1, 1]), [1.0], [[1.0]], [0.0], method="forward")
