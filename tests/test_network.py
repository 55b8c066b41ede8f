"""The network spec and its symbolic forward pass."""

import pytest
import sympy as sp

from symgrad import Network, SpecError, SpecTypeError, parse_arch
from symgrad.spec import latex_name, symbol_name


def test_seed_output_prints_exactly():
    net = Network([2, 2, 1])
    assert str(net.output) == "w211*(w111*x1 + w112*x2) + w212*(w121*x1 + w122*x2)"


def test_seed_output_equals_hand_built_expression():
    x1, x2, w111, w112, w121, w122, w211, w212 = sp.symbols(
        "x1 x2 w111 w112 w121 w122 w211 w212", real=True)
    hand = w211 * (w111 * x1 + w112 * x2) + w212 * (w121 * x1 + w122 * x2)
    assert Network([2, 2, 1]).output == hand


def test_symbol_order_and_names():
    net = Network([2, 2, 1], bias=True)
    assert [p.name for p in net.weights] == ["w111", "w112", "w121", "w122", "w211", "w212"]
    assert [p.name for p in net.biases] == ["b11", "b12", "b21"]
    assert net.parameters == net.weights + net.biases
    assert [x.name for x in net.inputs] == ["x1", "x2"]
    assert net.target.name == "y"


def test_several_outputs_have_indexed_targets():
    net = Network([3, 2])
    assert [t.name for t in net.targets] == ["y1", "y2"]
    assert net.target == net.targets
    with pytest.raises(SpecError, match="2 outputs"):
        _ = net.output


def test_big_indices_stay_unambiguous():
    net = Network([2, 11, 1])
    names = [p.name for p in net.weights]
    assert "w_1_10_2" in names and "w_1_11_1" in names and "w111" in names
    assert len(set(names)) == len(names)
    w = net.weight(1, 10, 2)
    assert sp.latex(w, symbol_names=net.latex_names) == "w_{1,10,2}"
    assert sp.latex(net.weight(1, 1, 1), symbol_names=net.latex_names) == "w_{111}"


def test_naming_helpers():
    assert symbol_name("w", 1, 2, 3) == "w123"
    assert symbol_name("b", 12, 1) == "b_12_1"
    assert latex_name("b", 12, 1) == "b_{12,1}"
    assert symbol_name("x", 12) == "x12"


def test_z_and_a_are_base_expressions():
    net = Network([2, 3, 1], activation="tanh", bias=True)
    x1, x2 = net.inputs
    assert net.z(1, 2) == net.biases[1] + net.weight(1, 2, 1) * x1 + net.weight(1, 2, 2) * x2
    assert net.a(1, 2) == sp.tanh(net.z(1, 2))
    assert net.a(0, 1) == x1
    assert net.loss == (net.target - net.output) ** 2 / 2


def test_bce_loss_and_sigmoid_output():
    net = Network([2, 1], output_activation="sigmoid", loss="bce")
    yhat, y = net.output, net.target
    assert net.loss == -(y * sp.log(yhat) + (1 - y) * sp.log(1 - yhat))


def test_activation_list_per_layer():
    net = Network([2, 3, 3, 1], activation=["tanh", "relu"])
    assert net.activations == ("tanh", "relu", "linear")
    net = Network([2, 3, 1], activation=["sigmoid", "sigmoid"])
    assert net.activations == ("sigmoid", "sigmoid")


def test_describe_and_repr():
    assert Network([2, 2, 1]).describe() == "2-2-1, linear, no bias, 6 weights"
    net = Network([2, 3, 3, 1], activation="tanh", bias=True)
    assert net.describe() == "2-3-3-1, tanh hidden, linear output, bias, 18 weights, 7 biases"
    assert eval(repr(net), {"Network": Network}) == net  # repr round-trips (our own text)


def test_parse_arch():
    assert parse_arch("2-3-3-1") == (2, 3, 3, 1)


BAD_CALLS = [
    ("empty", lambda: Network([]), SpecError, "input width and at least one layer"),
    ("one-width", lambda: Network([3]), SpecError, "at least one layer"),
    ("zero-width", lambda: Network([2, 0, 1]), SpecError, r"widths\[1\] must be at least 1"),
    ("negative", lambda: Network([2, -1]), SpecError, "at least 1"),
    ("float-width", lambda: Network([2, 2.0, 1]), SpecTypeError, "must be an integer"),
    ("bool-width", lambda: Network([2, True]), SpecTypeError, "must be an integer"),
    ("string-widths", lambda: Network("2-2-1"), SpecTypeError, "parse_arch"),
    ("none-widths", lambda: Network(None), SpecTypeError, "list of integers"),
    ("typo-activation", lambda: Network([2, 2, 1], activation="tanhh"), SpecError,
     "did you mean 'tanh'"),
    ("activation-type", lambda: Network([2, 2, 1], activation=3), SpecTypeError, "name or a list"),
    ("activation-count", lambda: Network([2, 2, 1], activation=["tanh"] * 3), SpecError,
     "needs 1 .* or 2"),
    ("output-activation", lambda: Network([2, 1], output_activation="soft"), SpecError,
     "choices: linear, sigmoid"),
    ("conflicting-output", lambda: Network([2, 2, 1], activation=["tanh", "relu"],
                                           output_activation="sigmoid"), SpecError, "one place"),
    ("loss-typo", lambda: Network([2, 1], loss="mse"), SpecError, "choices: half-squared"),
    ("bce-linear", lambda: Network([2, 1], loss="bce"), SpecError, "sigmoid"),
    ("bias-type", lambda: Network([2, 1], bias="yes"), SpecTypeError, "True or False"),
    ("arch-letters", lambda: parse_arch("2-x-1"), SpecError, "widths joined by '-'"),
    ("arch-zero", lambda: parse_arch("2-0-1"), SpecError, "at least 1"),
    ("arch-single", lambda: parse_arch("3"), SpecError, "widths joined"),
    ("weight-index", lambda: Network([2, 2, 1]).weight(3, 1, 1), SpecError, "layer must be 1..2"),
]


@pytest.mark.parametrize("call, error, message", [c[1:] for c in BAD_CALLS],
                         ids=[c[0] for c in BAD_CALLS])
def test_bad_calls(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_spec_errors_are_value_errors():
    with pytest.raises(ValueError):
        Network([2, 0])
    with pytest.raises(TypeError):
        Network([2, 1.5])
