"""The network spec and its symbolic forward pass."""

import numpy as np
import pytest
import sympy as sp

from symgrad import Network, SpecError, SpecTypeError, parse_arch
from symgrad.limits import MAX_WIDTH
from symgrad.spec import check_weight_template, latex_name, symbol_name, weight_label


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


# -- hostile or unusual spec inputs ------------------------------------------------------

@pytest.mark.parametrize("text", ["²-2-1", "2-²-1", "２-2-1", "2-2-١", "2-2-1\u00b3"],
                         ids=["superscript", "superscript-middle", "full-width",
                              "arabic-indic", "trailing-superscript"])
def test_only_ascii_digits_make_a_width(text):
    assert any(c.isdigit() and not c.isascii() for c in text)   # str.isdigit() says yes
    with pytest.raises(SpecError, match="digits 0-9 only"):
        parse_arch(text)


def test_huge_width_is_refused_without_converting_it():
    text = "9" * 5000 + "-1"            # int() would refuse to convert it (4300-digit limit)
    with pytest.raises(SpecError, match=f"widths above {MAX_WIDTH}") as info:
        parse_arch(text)
    assert len(str(info.value)) < 200
    with pytest.raises(SpecError, match=f"widths above {MAX_WIDTH}"):
        parse_arch(f"2-{MAX_WIDTH + 1}-1")
    assert parse_arch(f"1-{MAX_WIDTH}") == (1, MAX_WIDTH)
    assert parse_arch("002-03-1") == (2, 3, 1)
    with pytest.raises(SpecError, match=f"at most {MAX_WIDTH} neurons") as info:
        Network([10**5000, 1])
    assert len(str(info.value)) < 200


def test_long_bad_architecture_is_shortened_in_the_message():
    with pytest.raises(SpecError) as info:
        parse_arch("2-x" * 10_000)
    assert len(str(info.value)) < 200


def test_numpy_integer_widths_are_accepted_as_ints():
    net = Network(np.array([2, 2, 1]))
    assert net == Network([2, 2, 1]) and net.widths == (2, 2, 1)
    assert all(type(w) is int for w in net.widths)
    assert Network([np.int8(3), np.uint64(1)]).describe() == "3-1, linear, no bias, 3 weights"
    with pytest.raises(SpecTypeError, match="must be an integer"):
        Network([2, np.bool_(True)])
    with pytest.raises(SpecTypeError, match="must be an integer"):
        Network(np.array([2.0, 1.0]))


@pytest.mark.parametrize("template, kind", [
    ("x{l}{j}{k}", "inputs"), ("y{l}{j}{k}", "targets"), ("z{l}{j}{k}", "pre-activations"),
    ("a{l}{j}{k}", "activations"), ("b{l}{k}{j}", "biases"), ("delta{l}{j}{k}", "adjoints"),
    ("x1{l}{j}{k}", "inputs"), ("a_{l}{j}{k}", "activations"),
])
def test_weight_templates_that_read_like_other_names_are_refused(template, kind):
    with pytest.raises(SpecError, match=f"mistaken for the network's {kind}"):
        check_weight_template(template)


def test_weight_template_collision_is_real():
    """x{l}{j}{k} would give weight (1, 1, 1) the name of input 111 of a wide net."""
    net = Network([111, 1])
    assert weight_label(1, 1, 1, "x{l}{j}{k}") == net.inputs[-1].name == "x111"
    for fine in ("w{l}{j}{k}", "v{l}{k}{j}", "dw{l}{j}{k}", "xw{l}{j}{k}", "W{l}{j}{k}"):
        assert check_weight_template(fine) == fine


def test_hidden_activation_on_a_net_without_hidden_layers_is_refused():
    with pytest.raises(SpecError, match="output_activation='tanh'"):
        Network([2, 1], activation="tanh")
    assert Network([2, 1], activation="linear").activations == ("linear",)
    assert Network([2, 1], activation=["tanh"]).activations == ("tanh",)   # one per layer
    assert Network([2, 1], output_activation="tanh").activations == ("tanh",)


def test_cli_hidden_activation_without_hidden_layers_points_to_output_activation(cli):
    r = cli("check", "2-1", "--activation", "tanh")
    assert r.returncode == 2 and r.stdout == ""
    [line] = r.stderr.strip().splitlines()
    assert "--output-activation tanh" in line


@pytest.mark.parametrize("arch", ["²-2-1", "２-2-1", "9" * 5000 + "-1"],
                         ids=["superscript", "full-width", "5000-digits"])
def test_cli_bad_widths_are_one_line_exit_2(cli, arch):
    r = cli("check", arch)
    assert r.returncode == 2 and r.stdout == ""
    [line] = r.stderr.strip().splitlines()
    assert "bad architecture" in line and len(line) < 300
