"""Chain-rule derivations: the seed's steps, path sums equal to the table rows, CLI."""

from __future__ import annotations

import re

import numpy as np
import pytest
import sympy as sp

from symgrad import Network, ParseError, derivation, gradient_table, gradients
from symgrad.render.derivation import MAX_PATHS, count_paths


def _point(net, seed):
    rng = np.random.default_rng(seed)
    base = list(net.inputs) + list(net.targets) + list(net.parameters)
    return {s: sp.Float(v) for s, v in zip(base, rng.uniform(0.1, 0.9, len(base)))}


def _value(expr, net, point):
    expr = expr.xreplace(net.intermediate_definitions).xreplace(point)
    return float(sp.N(expr.rewrite(sp.Piecewise)))


def test_seed_derivation_of_w111():
    net = Network([2, 2, 1])
    d = derivation(net, "w111")
    text = d.to_text()
    for line in ["z11 = x1*w111 + x2*w112", "z12 = x1*w121 + x2*w122",
                 "z21 = z11*w211 + z12*w212",
                 "∂z21/∂w111 = ∂z21/∂a11 · ∂a11/∂z11 · ∂z11/∂w111",
                 "= w211 · 1 · x1", "∂z21/∂w111 = x1*w211"]:
        assert line in text
    latex = d.to_latex()
    assert r"z_{11} &= x_{1} w_{111} + x_{2} w_{112}" in latex
    assert r"z_{21} &= z_{11} w_{211} + z_{12} w_{212}" in latex
    assert r"&= w_{211} \cdot 1 \cdot x_{1}" in latex
    # the student's claim dz21/dw111 = x1 is missing w211: the result is not x1
    assert sp.expand(d.result - net.inputs[0]) != 0
    assert d.result == net.weight(2, 1, 1) * net.inputs[0]


def test_seed_last_layer_weight_is_z11():
    d = derivation(Network([2, 2, 1]), "w211")
    assert "∂z21/∂w211 = z11" in d.to_text()
    assert [(f.top.name, f.bottom.name) for f in d.paths[0]] == [("z21", "w211")]


NETS = {
    "2-2-1": lambda: Network([2, 2, 1]),
    "2-3-1-tanh-bias": lambda: Network([2, 3, 1], activation="tanh", bias=True),
    "2-2-2-1-sigmoid-bias": lambda: Network([2, 2, 2, 1], activation="sigmoid", bias=True),
    "2-3-3-3-1-tanh": lambda: Network([2, 3, 3, 3, 1], activation="tanh"),
    "2-2-2-relu-bce": lambda: Network([2, 2, 2], activation="relu",
                                      output_activation="sigmoid", loss="bce"),
    "2-2-1-silu-l2": lambda: Network([2, 2, 1], activation="silu", l2=0.5),
    "2-2-3-elu-softmax-l2": lambda: Network([2, 2, 3], activation="elu", bias=True,
                                            output_activation="softmax", l2=0.1, l2_bias=True),
}
SEVERAL_OUTPUTS = ("2-2-2-relu-bce", "2-2-3-elu-softmax-l2")


CASES = [(name, of) for name in NETS for of in ("output", "loss", "cost")
         if not (of == "output" and name in SEVERAL_OUTPUTS)]


@pytest.mark.parametrize("name, of", CASES, ids=[f"{n}-{o}" for n, o in CASES])
def test_chain_rule_equals_the_table_row_and_sympy_diff(name, of):
    """For every parameter: the sum over paths of the local-derivative products
    (or the delta recursion) equals the table's row and sympy.diff of the net."""
    net = NETS[name]()
    table = gradient_table(net, of=of)
    truth = gradients(net, "output" if of == "output" else "loss", method="diff")
    point = _point(net, 11)
    for p in net.parameters:
        d = derivation(net, p.name, of=of)
        assert d.result == table.expressions[p]
        chain = _value(d.chain_value(), net, point)
        assert chain == pytest.approx(_value(d.result, net, point), rel=1e-9, abs=1e-12)
        assert chain == pytest.approx(_value(truth[p], net, point), rel=1e-9, abs=1e-12)


def test_linear_path_sums_are_exact():
    net = Network([2, 2, 2, 1])
    for p in net.parameters:
        d = derivation(net, p.name)
        defs = net.intermediate_definitions
        assert sp.expand((d.chain_value() - d.result).xreplace(defs)) == 0


def test_several_paths_are_summed_and_many_use_the_delta_recursion():
    net = Network([2, 3, 3, 1], activation="tanh")
    d = derivation(net, "w111")
    assert count_paths(net, 1, "output") == 3 and len(d.paths) == 3
    text = d.to_text()
    assert "3 paths from w111 to z31" in text
    assert text.count("+ ∂z31/∂a2") == 2  # second and third path
    deep = Network([2, 3, 3, 3, 1], activation="tanh")
    dd = derivation(deep, "w111")
    assert count_paths(deep, 1, "output") == 9 > MAX_PATHS and dd.paths is None
    assert "backprop's recursion" in dd.to_text()
    assert [s.name for s, _ in dd.deltas][:2] == ["delta41", "delta31"]
    assert r"\delta_{11} &=" in dd.to_latex()


def test_loss_and_cost_derivations_name_the_pieces():
    net = Network([2, 3, 1], activation="tanh", bias=True)
    d = derivation(net, "b11", of="cost")
    text = d.to_text()
    assert "∂C/∂b11 = (1/m) Σ_i ∂L_i/∂b11" in text
    assert "∂L/∂b11 = ∂L/∂yhat · ∂yhat/∂z21 · ∂z21/∂a11 · ∂a11/∂z11 · ∂z11/∂b11" in text
    assert "= (yhat - y) · 1 · w211 · (1 - a11**2) · 1" in text
    assert "L = (y - yhat)**2/2" in text
    latex = d.to_latex()
    assert r"\frac{\partial C}{\partial b_{11}} &= \frac{1}{m} \sum_{i=1}^{m}" in latex


def test_weight_template_and_big_indices():
    net = Network([2, 2, 1])
    d = derivation(net, "w112", weight_template="w{l}{k}{j}")
    assert d.param == net.weight(1, 2, 1)
    assert "∂z21/∂w112 = ∂z21/∂a12" in d.to_text()
    wide = Network([12, 11, 1])
    dw = derivation(wide, "w_1_10_2")
    assert dw.param == wide.weight(1, 10, 2)
    assert r"w_{1,10,2}" in dw.to_latex() and "x_{2} w_{2,1,10}" in dw.to_latex()


@pytest.mark.parametrize("param, message", [
    ("w311", "did you mean 'w211'"),
    ("b11", "no biases"),
    ("weight", "unknown parameter 'weight'"),
], ids=["layer-too-high", "no-bias", "not-a-name"])
def test_unknown_parameter(param, message):
    with pytest.raises(ParseError, match=re.escape(message)):
        derivation(Network([2, 2, 1]), param)


def test_jupyter_reprs():
    d = derivation(Network([2, 2, 1]), "w111")
    assert str(d) == d.to_text()
    assert d._repr_markdown_() == d.to_markdown()
    assert "$$" in d._repr_latex_() and r"\begin{aligned}" in d._repr_latex_()


# -- command line ----------------------------------------------------------------------
# through main(argv) in-process: the cli fixture of tests/conftest.py
def test_cli_derive_text_and_latex(cli):
    out = cli("derive", "2-2-1", "w111")
    assert out.returncode == 0, out.stderr
    assert "= w211 · 1 · x1" in out.stdout
    out = cli("derive", "2-3-1", "w121", "--activation", "tanh", "--bias", "--of", "cost",
              "--format", "latex", "--standalone")
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith(r"\documentclass") and r"\begin{align*}" in out.stdout


@pytest.mark.parametrize("args, message", [
    (["w311"], "did you mean 'w211'"),
    (["w111", "--of", "cots"], "did you mean 'cost'"),
], ids=["bad-param", "of-typo"])
def test_cli_derive_bad_input_exits_2(cli, args, message):
    out = cli("derive", "2-2-1", *args)
    assert out.returncode == 2
    assert message in out.stderr and len(out.stderr.strip().splitlines()) == 1
