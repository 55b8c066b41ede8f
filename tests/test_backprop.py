"""The hand-written backprop: independent of SymPy, correct on worked examples."""

import ast
import pathlib

import numpy as np
import pytest

import symgrad
from symgrad import Network
from symgrad.references.backprop import backprop, backprop_function, unpack

SRC = pathlib.Path(symgrad.__file__).parent


@pytest.mark.parametrize("module", ["references/backprop.py", "references/finite_diff.py",
                                    "spec.py", "naming.py", "outputs.py"])
def test_references_import_no_sympy_and_nothing_symbolic(module):
    """The references share nothing with the symbolic side but the spec (spec.py and the
    two modules it is made of, naming.py and outputs.py) and the errors."""
    tree = ast.parse((SRC / module).read_text())
    names = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    names |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert not any(n and n.split(".")[0] == "sympy" for n in names)
    ours = {n for n in names if n and n.split(".")[0] == "symgrad"}
    assert ours <= {"symgrad.spec", "symgrad.naming", "symgrad.outputs", "symgrad.errors"}, ours


def test_worked_example_by_hand():
    # 1-1-1 linear: yhat = w2*w1*x, L = (y - yhat)^2 / 2.
    w1, w2, x, y = 0.5, -2.0, 3.0, 1.0
    yhat = w2 * w1 * x
    cost, grad = backprop(Network([1, 1, 1]), [w1, w2], [[x]], [y])
    assert cost == (y - yhat) ** 2 / 2
    assert grad.tolist() == [(yhat - y) * w2 * x, (yhat - y) * w1 * x]


def test_unpack_layout():
    net = Network([2, 3, 1], bias=True)
    params = np.arange(len(net.parameters), dtype=float)
    weights, biases = unpack(net.spec, params)
    assert [w.shape for w in weights] == [(3, 2), (1, 3)]
    assert weights[0][1, 0] == net.parameters.index(net.weight(1, 2, 1))
    assert biases[1].tolist() == [len(net.parameters) - 1]


def test_function_form_matches_direct_call():
    net = Network([2, 2, 1], activation="tanh")
    args = (np.linspace(-1, 1, 6), np.ones((2, 2)), np.zeros(2))
    a, b = backprop_function(net)(*args), backprop(net, *args)
    assert a[0] == b[0] and np.array_equal(a[1], b[1])
