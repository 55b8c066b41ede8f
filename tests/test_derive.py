"""Exact gradients: the seed's derivatives, both methods, every form."""

import pytest
import sympy as sp

from symgrad import Network, SpecError, gradients
from symgrad.derive import local_derivative, reverse_program
from symgrad.network import activation_expr
from symgrad.spec import ACTIVATIONS


@pytest.fixture(scope="module")
def seed():
    net = Network([2, 2, 1])
    names = "x1 x2 y w111 w112 w121 w122 w211 w212".split()
    return net, {n: net.symbols[n] for n in names}


def test_seed_output_derivatives_are_the_answer_list(seed):
    net, s = seed
    z11 = s["w111"] * s["x1"] + s["w112"] * s["x2"]
    z12 = s["w121"] * s["x1"] + s["w122"] * s["x2"]
    expected = {  # the seed answer's six derivatives, built by hand
        "w111": s["x1"] * s["w211"], "w121": s["x1"] * s["w212"],
        "w112": s["x2"] * s["w211"], "w122": s["x2"] * s["w212"],
        "w211": z11, "w212": z12,
    }
    for method in ("reverse", "diff"):
        g = gradients(net, "output", method=method)
        assert {p.name: d for p, d in g.items()} == expected


def test_seed_compact_names(seed):
    net, _ = seed
    g = gradients(net, "output", form="compact")
    assert [str(d) for d in g.values()] == [
        "w211*x1", "w211*x2", "w212*x1", "w212*x2", "z11", "z12"]


def test_seed_loss_gradients(seed):
    net, s = seed
    out = s["w211"] * (s["w111"] * s["x1"] + s["w112"] * s["x2"]) + s["w212"] * (
        s["w121"] * s["x1"] + s["w122"] * s["x2"])
    r = out - s["y"]  # dL/dyhat for L = (y - yhat)**2 / 2
    expected = {
        "w111": r * s["w211"] * s["x1"], "w112": r * s["w211"] * s["x2"],
        "w121": r * s["w212"] * s["x1"], "w122": r * s["w212"] * s["x2"],
        "w211": r * (s["w111"] * s["x1"] + s["w112"] * s["x2"]),
        "w212": r * (s["w121"] * s["x1"] + s["w122"] * s["x2"]),
    }
    for method in ("reverse", "diff"):
        g = gradients(net, "loss", method=method)
        for p, d in g.items():
            assert sp.expand(d - expected[p.name]) == 0, (method, p)


def test_seed_loss_compact(seed):
    net, _ = seed
    g = gradients(net, "loss", form="compact")
    assert str(g[net.weights[0]]) == "w211*x1*(-y + z21)"


def test_delta_form(seed):
    net, _ = seed
    g = gradients(net, "output", form="delta")
    assert str(g[net.weights[0]]) == "delta11*x1"
    prog = reverse_program(net, "output")
    assert [(str(s), str(e)) for s, e in prog.deltas] == [
        ("delta21", "1"), ("delta11", "delta21*w211"), ("delta12", "delta21*w212")]


@pytest.mark.parametrize("act", ACTIVATIONS)
def test_local_derivative_matches_sympy_diff(act):
    z = sp.Symbol("z", real=True)
    f = activation_expr(act, z)
    a = sp.Symbol("a", real=True)
    ours = local_derivative(act, z, a).subs(a, f)
    exact = sp.diff(f, z)
    for value in [-2, -sp.Rational(1, 3), sp.Rational(1, 7), 3]:
        assert sp.simplify((ours - exact).subs(z, value)) == 0


def test_relu_derivative_at_zero_is_zero():
    z, a = sp.symbols("z a", real=True)
    assert local_derivative("relu", z, a).subs(z, 0) == 0
    assert local_derivative("leaky_relu", z, a).subs(z, 0) == sp.Rational(1, 100)


@pytest.mark.parametrize("kw", [
    dict(activation="tanh", bias=True),
    dict(activation="sigmoid", output_activation="sigmoid", loss="bce"),
    dict(activation="softplus", loss="squared", bias=True),
    dict(activation=["relu", "leaky_relu"]),
], ids=["tanh", "sigmoid-bce", "softplus", "relu"])
def test_reverse_equals_diff_numerically(kw):
    widths = [2, 3, 2, 1] if isinstance(kw.get("activation"), list) else [2, 3, 1]
    net = Network(widths, **kw)
    rev = gradients(net, "loss")
    dif = gradients(net, "loss", method="diff")
    values = {s: sp.Rational(((7 * i) % 11) - 5, 4) + sp.Rational(1, 13)
              for i, s in enumerate(sorted(dif[net.weights[0]].free_symbols
                                           | set(net.parameters) | set(net.inputs)
                                           | set(net.targets), key=str))}
    if net.loss_name == "bce":
        values[net.target] = sp.Rational(1, 3)
    for p in net.parameters:
        a = sp.N(rev[p].subs(values), 40)
        b = sp.N(dif[p].subs(values), 40)
        assert abs(a - b) <= sp.Float("1e-30") * max(1, abs(b)), p


def test_polynomial_nets_agree_exactly():
    net = Network([3, 2, 2, 1], bias=True, loss="squared")
    rev, dif = gradients(net, "loss"), gradients(net, "loss", method="diff")
    assert all(sp.expand(rev[p] - dif[p]) == 0 for p in net.parameters)


def test_of_nodes():
    net = Network([2, 2, 2], activation="tanh")
    g = gradients(net, "z11")
    assert g[net.weight(1, 1, 1)] == net.inputs[0]
    assert g[net.weight(1, 2, 1)] == 0 and g[net.weight(2, 1, 1)] == 0
    g = gradients(net, "a21", form="compact")
    assert str(g[net.weight(2, 1, 2)]) == "a12"  # linear output: a21 = z21
    dif = gradients(net, "a21", method="diff")
    exp = gradients(net, "a21")
    assert all(sp.simplify(dif[p] - exp[p]) == 0 for p in net.parameters)


@pytest.mark.parametrize("kwargs, message", [
    (dict(of="outptu"), "did you mean 'output'"),
    (dict(of="z31"), "quantity to differentiate"),
    (dict(of=3), "of must be"),
    (dict(method="symbolic"), "choices: reverse, diff"),
    (dict(form="pretty"), "choices: expanded, compact, delta"),
    (dict(method="diff", form="compact"), "needs method='reverse'"),
])
def test_bad_gradient_calls(kwargs, message):
    with pytest.raises(SpecError, match=message):
        gradients(Network([2, 2, 1]), **kwargs)


def test_output_needs_single_neuron():
    with pytest.raises(SpecError, match="name one"):
        gradients(Network([2, 2]), "output")


@pytest.mark.parametrize("act", ["tanh", "sigmoid", "softplus", "relu"])
def test_layer_formulas_match_sympy_diff_of_the_neuron(act):
    """The per-layer formulas are one neuron's f, f' and top adjoint: compare each
    with sympy.diff of an expression written here."""
    from symgrad.layerwise import layer_formulas

    z, y = sp.symbols("z y", real=True)
    f_of = {"tanh": sp.tanh(z), "sigmoid": 1 / (1 + sp.exp(-z)),
            "softplus": sp.log(1 + sp.exp(z))}
    net = Network([3, 5, 1], activation=act, output_activation="sigmoid", loss="bce")
    form = layer_formulas(net)
    assert (form.z, form.a, form.y) == (z, sp.Symbol("a", real=True), y)
    sig = 1 / (1 + sp.exp(-z))
    loss = -(y * sp.log(sig) + (1 - y) * sp.log(1 - sig))      # bce of a sigmoid
    top = form.top.xreplace({form.a: sig})
    assert sp.simplify(top - sp.diff(loss, z)) == 0
    assert sp.simplify(top - (sig - y)) == 0
    if act in f_of:
        f = f_of[act]
        assert sp.simplify(form.activation[1].rewrite(sp.exp) - f.rewrite(sp.exp)) == 0
        fprime = form.derivative[1].xreplace({form.a: f})
        assert sp.simplify((fprime - sp.diff(f, z)).rewrite(sp.exp)) == 0
    else:                                           # relu: slope 1 above 0, 0 at and below
        assert form.derivative[1].subs(z, 2) == 1 and form.derivative[1].subs(z, 0) == 0
