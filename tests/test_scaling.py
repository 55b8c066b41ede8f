"""Work that grows with the network, not with its paths: deep nets' tables, derivations
and compact forms, wide layers, and the command line's estimate of symbolic size.

No wall-clock assertions: the tests count what is built (count_ops, tree sizes) and
run the big commands in a subprocess under a generous harness timeout.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys

import numpy as np
import pytest
import sympy as sp

from symgrad import Network, derivation, gradient_table, gradients
from symgrad.derive import MAX_INLINE_SIZE, reverse_program, tree_size
from symgrad.limits import MAX_SYMBOLIC_SIZE, derivative_size, table_size
from symgrad.references.backprop import backprop
from symgrad.spec import symbol_name


def narrow(hidden: int, **kwargs) -> Network:
    return Network([2] + [2] * hidden + [1], **kwargs)


def printed(prog) -> tuple[int, int]:
    """``(count_ops, tree size)`` of everything a compact table prints: rows and deltas."""
    forms = list(prog.compact().values()) + [e for _, e in prog.compact_deltas()]
    memo: dict = {}
    return sum(sp.count_ops(e) for e in forms), sum(tree_size(e, memo) for e in forms)


@pytest.mark.parametrize("kwargs, of", [
    ({}, "output"), ({}, "loss"), ({"activation": "tanh", "bias": True}, "loss"),
    ({"activation": "sigmoid", "output_activation": "sigmoid", "loss": "bce"}, "loss"),
], ids=["linear-output", "linear-loss", "tanh-bias-loss", "sigmoid-bce"])
def test_compact_forms_grow_linearly_with_depth(kwargs, of):
    sizes = {d: printed(reverse_program(narrow(d, **kwargs), of)) for d in (8, 12, 16, 20)}
    ops = [sizes[d][0] for d in (8, 12, 16, 20)]
    steps = np.diff(ops)                      # four more layers each time
    assert (steps > 0).all()
    assert steps.max() <= 1.5 * steps.min(), ops        # the same growth per layer ...
    assert ops[-1] <= 3 * ops[0], ops                   # ... not 2**12 times more
    for d, (_, tree) in sizes.items():
        assert tree <= 100 * (d + 1) * MAX_INLINE_SIZE // 10


def test_every_printed_form_is_short():
    prog = reverse_program(narrow(20, activation="tanh", bias=True), "loss")
    memo: dict = {}
    assert max(tree_size(e, memo) for e in prog.compact().values()) <= MAX_INLINE_SIZE + 2
    kept = prog.compact_deltas()
    assert kept and max(tree_size(e, memo) for _, e in kept) <= 2 * (MAX_INLINE_SIZE + 3) + 6
    # the named deltas are the layers from the first long one down to layer 1
    layers = [int(s.name.split("_")[1]) if "_" in s.name else int(s.name[5]) for s, _ in kept]
    assert layers == sorted(layers, reverse=True) and layers[-1] == 1
    assert len(kept) == 2 * len(set(layers))


DOC_NETS = {  # every net the documentation and the rendering tests print
    "2-2-1": lambda: Network([2, 2, 1]),
    "2-3-1-tanh-bias": lambda: Network([2, 3, 1], activation="tanh", bias=True),
    "2-3-3-1-tanh": lambda: Network([2, 3, 3, 1], activation="tanh"),
    "2-3-3-3-1-sigmoid": lambda: Network([2, 3, 3, 3, 1], activation="sigmoid"),
    "2-3-3-3-1-softplus": lambda: Network([2, 3, 3, 3, 1], activation="softplus"),
    "2-3-3-3-2-softplus": lambda: Network([2, 3, 3, 3, 2], activation="softplus"),
    "2-3-3-3-2-relu-bce": lambda: Network([2, 3, 3, 3, 2], activation="relu",
                                          output_activation="sigmoid", loss="bce", bias=True),
    "4-16-16-1-tanh-bias": lambda: Network([4, 16, 16, 1], activation="tanh", bias=True),
    "12-11-1-tanh": lambda: Network([12, 11, 1], activation="tanh", bias=True),
}


@pytest.mark.parametrize("name", list(DOC_NETS))
def test_nets_of_the_documentation_are_written_out_in_full(name):
    """Deltas are named only where they are long: every printed form so far is unchanged,
    i.e. the compact form is the full substitution of the deltas."""
    net = DOC_NETS[name]()
    for of in ("output", "loss") if net.spec.n_outputs == 1 else ("loss",):
        prog = reverse_program(net, of)
        assert prog.compact_deltas() == []
        values, rename = prog.delta_values(), prog.compact_names
        full = {p: g.xreplace(values).xreplace(rename) for p, g in prog.grads.items()}
        assert prog.compact() == full


def _at_point(net, of, point):
    """Every compact row at ``point``, evaluated in intermediate names: forward values,
    then the named deltas top down, then the rows (all small expressions)."""
    prog = reverse_program(net, of)
    values = dict(point)
    for sym, expr in prog.forward:
        values[sym] = sp.Float(expr.xreplace(values).rewrite(sp.Piecewise).evalf(30), 30)
    for sym, expr in prog.compact_deltas():
        values[sym] = sp.Float(expr.xreplace(values).evalf(30), 30)
    return np.array([float(g.xreplace(values).evalf(30)) for g in prog.compact().values()])


@pytest.mark.parametrize("hidden, kwargs", [
    (9, {}), (8, {"activation": "tanh", "bias": True}),
    (7, {"activation": "sigmoid", "output_activation": "sigmoid", "loss": "bce"}),
], ids=["linear", "tanh-bias", "sigmoid-bce"])
def test_rows_with_named_deltas_equal_the_numpy_backprop(hidden, kwargs):
    net = narrow(hidden, **kwargs)
    assert reverse_program(net, "loss").compact_deltas()          # something is named
    rng = np.random.default_rng(hidden)
    params = rng.uniform(-1, 1, net.spec.n_parameters)
    x, y = rng.uniform(-1, 1, (1, 2)), rng.uniform(0.1, 0.9, (1, 1))
    point = dict(zip(net.parameters, map(sp.Float, params)))
    point.update(zip(net.inputs, map(sp.Float, x[0])))
    point[net.targets[0]] = sp.Float(y[0, 0])
    _, reference = backprop(net, params, x, y)       # one sample: dC/dp = dL/dp
    assert np.allclose(_at_point(net, "loss", point), reference, rtol=1e-9, atol=1e-12)


def test_expanded_form_of_a_deep_net_is_built_without_walking_its_paths():
    """The expanded derivative of 2-2-...-2-1 with 20 hidden layers is a tree of about
    10**13 nodes: built as shared parts, it has a few hundred distinct ones."""
    net = narrow(20)
    expanded = gradients(net, "loss")
    memo: dict = {}
    size = tree_size(expanded[net.weights[0]], memo)
    assert size > 10**12 and len(memo) < 2000


def test_table_and_derivation_of_a_deep_net_name_the_deltas():
    net = narrow(12, activation="tanh")
    table = gradient_table(net, of="loss")
    text = table.to_text()
    assert "deltas too long to write out keep their names" in text
    assert "x1*delta11" in text.replace(" ", "")
    kept = reverse_program(net, "loss").compact_deltas()
    assert [s for s, _ in table.deltas] == [s for s, _ in kept]
    for sym, _ in kept:
        assert f"\n  {sym.name} = " in text
    assert max(len(line) for line in text.splitlines()) < 200    # long definitions wrap
    assert r"\delta_{11} = " in table.to_markdown()
    d = derivation(net, "w111", of="loss")
    assert d.paths is None and "backprop's recursion" in d.to_text()


def test_a_long_chain_of_one_neuron_layers_uses_the_recursion():
    """One path, but its product is long: the result names a delta, so the derivation
    writes the recursion that defines it instead of a path it never shows."""
    net = Network([1] * 46, activation="tanh")
    d = derivation(net, "w111")
    assert d.path_count == 1 and d.paths is None
    assert d.result == net.inputs[0] * sp.Symbol("delta11", real=True)
    assert "delta11 = " in d.to_text()


def test_wide_layer_program_is_linear_in_width():
    """sum() of n terms re-sorted the growing Add n times (check 10000-1: 295 s)."""
    net = Network([3000, 1])
    prog = reverse_program(net, "loss")
    [(_, z)] = [(s, e) for s, e in prog.forward if s == net.z_symbol(1, 1)]
    assert len(z.args) == 3000
    assert z == sp.Add(*[w * x for w, x in zip(net.weights, net.inputs)])


# -- the command line's estimate of symbolic size ---------------------------------------

ESTIMATED = [[2, 2, 1], [2, 3, 3, 1], [2, 3, 3, 3, 1], [4, 8, 8, 1], [2] * 8 + [1],
             [10, 10, 1], [3, 1, 3, 1], [3, 2, 2]]


@pytest.mark.parametrize("widths", ESTIMATED, ids=["-".join(map(str, w)) for w in ESTIMATED])
@pytest.mark.parametrize("kwargs", [{}, {"activation": "tanh", "bias": True},
                                    {"activation": "sigmoid", "output_activation": "sigmoid"}],
                         ids=["linear", "tanh-bias", "sigmoid"])
def test_size_estimate_is_within_a_factor_of_three(widths, kwargs):
    net = Network(widths, **kwargs)
    for of in ("output", "loss") if net.spec.n_outputs == 1 else ("loss",):
        expanded = reverse_program(net, of).expanded()
        memo: dict = {}
        sizes = [tree_size(e, memo) for e in expanded.values()]
        spec = net.spec
        one = derivative_size(spec.widths, spec.activations, spec.bias, of)
        whole = table_size(spec.widths, spec.activations, spec.bias, of)
        assert max(sizes) / 3 <= one <= 3 * max(sizes) + 3, (of, one, max(sizes))
        assert sum(sizes) / 3 <= whole <= 3 * sum(sizes) + 3 * len(sizes), (of, whole)


DEEP = "-".join(["2"] * 21 + ["1"])


@pytest.mark.parametrize("args, words", [
    (["verify", DEEP, f"d{symbol_name('z', 21, 1)}/dw111 = x1"], "verify on the"),
    (["compare", DEEP, "dL/dw111", "dL/dw112"], "compare on the"),
    (["table", DEEP, "--form", "expanded"], "use --form compact"),
], ids=["verify", "compare", "table-expanded"])
def test_cli_refuses_hopeless_symbolic_work_before_starting(cli, args, words):
    r = cli(*args)
    assert r.returncode == 2 and r.stdout == ""
    [line] = r.stderr.strip().splitlines()
    assert words in line and f"{MAX_SYMBOLIC_SIZE:,}" in line


def _limits():
    def apply():
        resource.setrlimit(resource.RLIMIT_AS, (1536 * 2**20, 1536 * 2**20))
    return apply


@pytest.mark.slow
def test_cli_table_and_derive_of_20_hidden_layers(tmp_path):
    env = dict(os.environ, SYMGRAD_IN_PROCESS="1")
    for args, want in [(["table", DEEP], "  w111"), (["derive", DEEP, "w111"], "delta11 = ")]:
        done = subprocess.run([sys.executable, "-m", "symgrad", *args, "--timeout", "600"],
                              capture_output=True, text=True, timeout=300, env=env,
                              preexec_fn=_limits(), cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        assert want in done.stdout and len(done.stdout) < 100_000
