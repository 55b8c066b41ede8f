"""Derivatives by nodes (dL/dz11, dz21/dx1, da21/dz11) and derivative symbols in claims.

The exact values come from the reverse-mode program
(:func:`symgrad.derive.node_gradients`); here they are checked against
``sympy.diff`` of the network rebuilt by hand with the node replaced by a fresh
symbol, which is the meaning the docs give ("that node's own inputs cut").
"""

from __future__ import annotations

import random

import pytest
import sympy as sp

from symgrad import Network, verify
from symgrad.activations import ACTIVATIONS
from symgrad.claims.nodes import derivative_value
from symgrad.claims.parse import parse_claim, parse_expression
from symgrad.errors import ParseError
from symgrad.network import activation_expr, loss_expr


def _cut_network(net, node, fresh):
    """``{name: expr}`` of every z/a built from base symbols, ``node`` replaced by ``fresh``."""
    values = {net.a_symbol(0, k): x for k, x in enumerate(net.inputs, 1)}
    if node in values:
        values[node] = fresh
    for l in range(1, net.depth + 1):
        for j in range(1, net.widths[l] + 1):
            z = sp.Add(*[net.weight(l, j, k) * values[net.a_symbol(l - 1, k)]
                         for k in range(1, net.widths[l - 1] + 1)])
            if net.bias:
                z += net.parameters[net.spec.bias_position(l, j)]
            zs, as_ = net.z_symbol(l, j), net.a_symbol(l, j)
            values[zs] = fresh if zs == node else z
            a = activation_expr(net.activations[l - 1], values[zs])
            values[as_] = fresh if as_ == node else a
    outs = [values[net.a_symbol(net.depth, j)] for j in range(1, net.widths[-1] + 1)]
    values["loss"] = loss_expr(net.loss_name, outs, net.targets)
    values["output"] = outs[0]
    return values


def _by_diff(net, of, node):
    fresh = sp.Symbol("t_fresh", real=True)
    cut = _cut_network(net, node, fresh)
    key = of if of in ("loss", "output") else net.symbols[of]
    d = sp.diff(cut[key], fresh)
    plain = _cut_network(net, None, fresh)
    return d.xreplace({fresh: plain[node]})


def _points(net, n=3, seed=0):
    rng = random.Random(seed)
    base = net.inputs + net.targets + net.parameters
    return [{s: sp.Float(rng.uniform(0.2, 1.3) * rng.choice((1, -1))) for s in base}
            for _ in range(n)]


def _nodes(net):
    return list(net.inputs) + [s for l in range(1, net.depth + 1)
                               for j in range(1, net.widths[l] + 1)
                               for s in (net.z_symbol(l, j), net.a_symbol(l, j))]


def _assert_same(net, of, node):
    ours = derivative_value(net, of, node).xreplace(net.intermediate_definitions)
    theirs = _by_diff(net, of, node)
    # Floats through lambdify with common subexpressions: evalf of sympy.diff's tree
    # on a deep GELU network took minutes.  Both sides are O(1) at these points.
    base = net.inputs + net.targets + net.parameters
    both = sp.lambdify(base, [ours, theirs], modules="math", cse=True)
    for point in _points(net):
        a, b = both(*[float(point[s]) for s in base])
        assert abs(a - b) <= 1e-9 * (1 + abs(b)), (of, node, ours, theirs)


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_seed_network_every_node_matches_sympy_diff(activation):
    net = Network([2, 2, 1], activation=activation, output_activation=activation, bias=True)
    for of in ["loss", "output"] + [s.name for s in _nodes(net) if s not in net.inputs]:
        for node in _nodes(net):
            _assert_same(net, of, node)


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_deeper_multi_path_network_matches_sympy_diff(activation):
    net = Network([2, 3, 3, 1], activation=activation, bias=True)
    for of in ("loss", "z21", "a22", "z31", "output"):
        for node in _nodes(net):
            _assert_same(net, of, node)


def test_textbook_values_on_the_seed_network():
    net = Network([2, 2, 1], activation="sigmoid", output_activation="sigmoid")
    s = net.symbols
    z21, a11, a21, w211 = s["z21"], s["a11"], s["a21"], s["w211"]
    assert derivative_value(net, "z21", a11) == w211
    assert derivative_value(net, "z21", s["z11"]) == w211 * a11 * (1 - a11)
    assert sp.simplify(derivative_value(net, "a21", s["z11"])
                       - a21 * (1 - a21) * w211 * a11 * (1 - a11)) == 0
    for later in (z21, a21, s["z12"], s["a12"]):        # not a dependency: 0
        assert derivative_value(net, "z11", later) == 0
    assert derivative_value(net, "z11", s["z11"]) == 1


@pytest.mark.parametrize("claim", [
    "dC/dw111 = dC/dz21 * dz21/dw111",
    "dL/dw111 = dL/dz11 * x1",
    r"dL/dw111 = \frac{\partial L}{\partial z_{11}} \frac{\partial z_{11}}{\partial w_{111}}",
    "dL/da11 = w211 * dL/dz21",
    "dL/dz11 = dL/da11 * da11/dz11",
    "∂z21/∂a11 = w211",
    r"\frac{\partial L}{\partial \hat{y}} = yhat - y",
    "dz21/dx1 = dz21/dz11 * w111 + dz21/dz12 * w121",
    "dz11/dz21 = 0",
    "dz11/dz12 = 0",
    "dL/dz21 = (a21 - y) a21 (1 - a21)",
])
def test_right_claims_with_derivative_symbols_are_correct(claim):
    net = Network([2, 2, 1], activation="sigmoid", output_activation="sigmoid")
    [v] = verify(net, claim)
    assert v.correct is True, v.to_text()


@pytest.mark.parametrize("claim,kind", [
    ("dL/dz11 = (a21 - y) * w211", "missing-factor"),
    ("dz21/da11 = dz21/dz11", "extra-factor"),
])
def test_wrong_node_claims_are_wrong_with_a_diagnosis(claim, kind):
    net = Network([2, 2, 1], activation="tanh", output_activation="tanh")
    [v] = verify(net, claim)
    assert v.correct is False
    assert v.diagnosis is not None and v.diagnosis.kind == kind


def test_claim_keeps_the_written_right_side_and_the_exact_value():
    net = Network([2, 2, 1])
    c = parse_claim("dC/dw111 = dC/dz21 * dz21/dw111", net)
    assert c.written == "dC/dz21 * dz21/dw111"
    assert c.plain() == "dC/dw111 = dC/dz21 * dz21/dw111"
    a21, y, w211, x1 = (net.symbols[n] for n in ("a21", "y", "w211", "x1"))
    assert c.rhs == (a21 - y) * w211 * x1
    assert parse_expression("dz21/dx1", net) == derivative_value(net, "z21", net.symbols["x1"])


@pytest.mark.parametrize("text,fragment", [
    ("dz21/dy", "none of these"),
    ("dy/dz21", "the target"),
    ("dz21/z11", "half a derivative"),
])
def test_bad_derivative_symbols_say_why(text, fragment):
    with pytest.raises(ParseError, match=fragment):
        parse_expression(text, Network([2, 2, 1]))


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu", "softplus"])
@pytest.mark.parametrize("written", ["delta11", "δ11", r"\delta_{11}", r"\delta^{(1)}_1"])
def test_deltas_by_name_are_dL_dz_of_one_sample(written, activation):
    net = Network([2, 2, 1], activation=activation, output_activation=activation)
    want = derivative_value(net, "loss", net.symbols["z11"])
    assert parse_expression(written, net) == want
    claim = parse_claim(f"{written} = 0", net)
    assert (claim.of, claim.parameter) == ("L", net.symbols["z11"])
    [v] = verify(net, f"dL/dw111 = {written} * x1")
    assert v.correct is True


def test_a_delta_claim_is_checked_like_dL_dz():
    net = Network([2, 2, 1], activation="tanh")
    [right, wrong] = verify(net, ["delta11 = (a21 - y) w211 (1 - a11^2)",
                                  r"\delta^{(1)}_1 = (a21 - y) w211"])
    assert right.correct is True and "delta of one sample" in right.notes[0]
    assert wrong.correct is False and wrong.true == right.true


def test_a_delta_of_no_neuron_is_a_parse_error():
    with pytest.raises(ParseError, match="names no neuron"):
        parse_claim("delta31 = 0", Network([2, 2, 1]))


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_f_prime_is_that_neurons_activation_derivative(activation):
    net = Network([2, 2, 1], activation=activation, output_activation="sigmoid")
    [v] = verify(net, "da21/dz11 = f'(z21) * w211 * f'(z_{11})")
    assert v.correct is True
    with pytest.raises(ParseError, match="takes a neuron's z"):
        parse_expression("f'(a11)", net)


def test_derivative_symbols_count_toward_the_parser_limits():
    from symgrad.claims.lexer import LIMITS

    net = Network([2, 2, 1])
    many = "+".join(["dL/dz11"] * (LIMITS["max_nodes"] // 2 + 1))
    with pytest.raises(ParseError, match="limit is|too large"):
        parse_expression(many, net)
    deep = "(" * (LIMITS["max_depth"] + 1) + "delta11" + ")" * (LIMITS["max_depth"] + 1)
    with pytest.raises(ParseError, match="nested|deep"):
        parse_expression(deep, net)


ONE_PATH = "dL/dw111 = dL/dz31 * dz31/da21 * da21/dz21 * dz21/da11 * da11/dz11 * dz11/dw111"
BOTH_PATHS = ONE_PATH + " + dL/dz31 * dz31/da22 * da22/dz22 * dz22/da11 * da11/dz11 * dz11/dw111"


@pytest.mark.parametrize("activation", ["tanh", "sigmoid"])
def test_a_chain_along_one_of_two_paths_is_a_missing_path(activation):
    net = Network([2, 2, 2, 1], activation=activation)
    [one, both] = verify(net, [ONE_PATH, BOTH_PATHS])
    assert one.correct is False and one.diagnosis.kind == "missing-path"
    assert "through a22" in one.diagnosis.detail
    assert both.correct is True


def test_a_chain_on_a_single_path_is_right():
    net = Network([2, 2, 1], activation="sigmoid", output_activation="sigmoid")
    [v] = verify(net, "dL/dw111 = dL/dz21 * dz21/da11 * da11/dz11 * dz11/dw111")
    assert v.correct is True


@pytest.mark.parametrize("claim,where", [
    ("dL/dw111 = dL/dz21 * dz11/dw111", "after dL/dz21"),
    ("dL/dw111 = dL/dz21 * dz21/dz11", "ends at z11"),
])
def test_factors_that_do_not_connect_are_a_broken_chain(claim, where):
    net = Network([2, 2, 1], activation="tanh")
    [v] = verify(net, claim)
    assert v.correct is False and v.diagnosis.kind == "broken-chain"
    assert where in v.diagnosis.detail


@pytest.mark.slow
@pytest.mark.parametrize("claim", ["dL/dx1 = 0", "dL/dx1 = dL/da11 * da11/dz11 * dz11/dx1",
                                   "delta11 = " + "+".join(["dL/dx2"] * 40)])
def test_input_gradients_of_a_deep_net_end_within_limits(claim):
    """Hostile: the exact dL/dx1 of a deep tanh net is long; symgrad ends by itself."""
    import os
    import subprocess
    import sys

    resource = pytest.importorskip("resource")
    space = int(1.5 * 2 ** 30)

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (space, space))

    env = {k: v for k, v in os.environ.items() if k != "SYMGRAD_IN_PROCESS"}
    env["PYTHONIOENCODING"] = "utf-8"
    done = subprocess.run([sys.executable, "-m", "symgrad", "verify", "2-8-8-8-1",
                           "--activation", "tanh", "--timeout", "2", claim],
                          capture_output=True, text=True, timeout=60, preexec_fn=limit, env=env)
    assert done.returncode in (1, 2, 5), done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("symgrad: "), done.stderr


@pytest.mark.slow
def test_a_long_node_derivative_is_shown_one_chain_rule_step_deep():
    """On a deep net dL/dx1, dL/da11, dL/dz11 print in the deltas of the layer above."""
    from symgrad.claims.nodes import node_derivative
    from symgrad.derive import delta_symbol

    net = Network([2, 3, 3, 3, 1], activation="tanh")
    # Each delta's value, independently: sympy.diff of the loss by that z, cut.
    deltas = {delta_symbol(l, j): _by_diff(net, "loss", net.z_symbol(l, j))
              for l in (1, 2) for j in (1, 2, 3)}
    assert str(node_derivative(net, "loss", net.symbols["x1"])) == \
        "delta11*w111 + delta12*w121 + delta13*w131"
    for name in ("x1", "a11", "z11", "a21"):       # short ones stay written out
        node = net.symbols[name]
        shown = node_derivative(net, "loss", node)
        assert len(str(shown)) < 100 or not shown.free_symbols & set(deltas), name
        full = shown.xreplace(deltas).xreplace(net.intermediate_definitions)
        theirs = _by_diff(net, "loss", node)
        for point in _points(net, n=2):
            a, b = complex(full.xreplace(point).evalf()), complex(theirs.xreplace(point).evalf())
            assert abs(a - b) <= 1e-9 * (1 + abs(b)), (name, shown)
    [verdict] = verify(net, "dL/dx1 = 0")
    assert verdict.true == "w111*delta11 + w121*delta12 + w131*delta13"   # forward order
    assert any(n.startswith("delta11, delta12, delta13: backprop's delta") for n in verdict.notes)
    [again] = verify(net, f"dL/dx1 = {verdict.true}")      # what it prints reads back
    assert again.correct is True
