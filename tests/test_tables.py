"""Gradient tables: the seed answer's rows, every row equal to sympy.diff, formats, CLI."""

from __future__ import annotations

import re

import numpy as np
import pytest
import sympy as sp

from symgrad import Network, SpecError, compile_gradients, gradient_table, gradients
from symgrad.render.linebreak import break_latex, break_text, latex_lines
from symgrad.render.tables import LONGTABLE_ROWS

# The seed answer's list, in its own notation (single-digit subscripts unbraced).
SEED_ROWS = {"w111": "x_1 w_{211}", "w121": "x_1 w_{212}", "w112": "x_2 w_{211}",
             "w122": "x_2 w_{212}", "w211": "z_{11}", "w212": "z_{12}"}

NETS = {
    "2-2-1": lambda: Network([2, 2, 1]),
    "2-3-1-tanh-bias": lambda: Network([2, 3, 1], activation="tanh", bias=True),
    "2-2-2-1-sigmoid": lambda: Network([2, 2, 2, 1], activation="sigmoid"),
    "2-2-1-relu-bce": lambda: Network([2, 2, 1], activation="relu",
                                      output_activation="sigmoid", loss="bce"),
    "2-2-1-softplus-squared": lambda: Network([2, 2, 1], activation="softplus",
                                              loss="squared"),
    "3-2-2-multi": lambda: Network([3, 2, 2], activation="tanh", bias=True),
}


def _unbrace(tex: str) -> str:
    """``x_{1}`` -> ``x_1`` (one-character subscripts), to compare with the seed's text."""
    return re.sub(r"_\{(\w)\}", r"_\1", tex)


def _point(net, seed):
    rng = np.random.default_rng(seed)
    base = list(net.inputs) + list(net.targets) + list(net.parameters)
    values = rng.uniform(0.1, 0.9, len(base))  # targets, sigmoid outputs stay in (0, 1)
    return {s: sp.Float(v) for s, v in zip(base, values)}


def _value(expr, net, point, deltas=()):
    """Evaluate an expression in deltas / intermediate names at a base-symbol point."""
    values = {}
    for sym, d in deltas:
        values[sym] = d.xreplace(values)
    expr = expr.xreplace(values).xreplace(net.intermediate_definitions).xreplace(point)
    return complex(sp.N(expr.rewrite(sp.Piecewise))).real


def test_seed_compact_output_table_is_the_seed_answer():
    net = Network([2, 2, 1])
    table = gradient_table(net)
    got = {table.label(p): _unbrace(table.latex_cell(p)) for p in table.parameters}
    assert got == SEED_ROWS
    text = {table.label(p): table.text_cell(p) for p in table.parameters}
    assert text == {"w111": "x1*w211", "w121": "x1*w212", "w112": "x2*w211",
                    "w122": "x2*w212", "w211": "z11", "w212": "z12"}


def test_seed_rows_equal_the_expanded_gradients():
    net = Network([2, 2, 1])
    table = gradient_table(net)
    expanded = gradients(net, form="expanded")
    defs = net.intermediate_definitions
    for p, expr in table.expressions.items():
        assert sp.expand(expr.xreplace(defs) - expanded[p]) == 0


@pytest.mark.parametrize("form", ["compact", "expanded", "delta"])
@pytest.mark.parametrize("name", list(NETS))
def test_every_row_equals_sympy_diff(name, form):
    """Each row, evaluated at a random point, equals sympy.diff of the nested expression."""
    net = NETS[name]()
    of = "loss" if net.spec.n_outputs > 1 or "bce" in name else "output"
    table = gradient_table(net, of=of, form=form)
    truth = gradients(net, of, method="diff")
    point = _point(net, 7)
    for p in net.parameters:
        got = _value(table.expressions[p], net, point, table.deltas)
        want = _value(truth[p], net, point)
        assert got == pytest.approx(want, rel=1e-9, abs=1e-12), (name, form, p)


@pytest.mark.parametrize("name", ["2-2-1", "2-3-1-tanh-bias", "3-2-2-multi"])
def test_cost_rows_average_to_the_compiled_cost_gradient(name):
    """The cost row is the batch mean of its per-sample expression: check it against
    the compiled numeric gradient of C."""
    net = NETS[name]()
    table = gradient_table(net, of="cost")
    rng = np.random.default_rng(3)
    params = rng.normal(size=net.spec.n_parameters)
    X = rng.normal(size=(5, net.spec.n_inputs))
    Y = rng.normal(size=(5, net.spec.n_outputs))
    _, grad = compile_gradients(net, backend="numpy")(params, X, Y)
    fixed = dict(zip(net.parameters, params))
    for i, p in enumerate(net.parameters):
        samples = []
        for x, y in zip(X, Y):
            point = {**fixed, **dict(zip(net.inputs, x)), **dict(zip(net.targets, y))}
            samples.append(_value(table.expressions[p], net, point))
        assert np.mean(samples) == pytest.approx(grad[i], rel=1e-9, abs=1e-12)
    assert all(table.latex_cell(p).startswith(r"\frac{1}{m} \sum_{i=1}^{m} ")
               for p in table.parameters)
    assert "x_{1}^{(i)}" in table.latex_cell(net.weights[0])


def test_loss_table_names_the_output_yhat_and_says_so():
    net = Network([2, 3, 1], activation="tanh", bias=True)
    table = gradient_table(net, of="loss")
    cell = table.latex_cell(net.weights[0])
    assert cell == r"x_{1} (1 - a_{11}^{2}) w_{211} (\hat{y} - y)"
    assert r"\hat{y} = z_{21}" in table.to_markdown()
    assert "yhat = z21" in table.to_text()


def test_delta_form_defines_the_deltas_under_the_table():
    net = Network([2, 2, 1])
    table = gradient_table(net, of="loss", form="delta")
    assert table.latex_cell(net.weights[0]) == r"x_{1} \delta_{11}"
    assert table.latex_cell(net.weight(2, 1, 1)) == r"a_{11} \delta_{21}"
    latex = table.to_latex()
    assert r"\delta_{21} &= \hat{y} - y" in latex
    assert r"\delta_{11} &= w_{211} \delta_{21}" in latex


def test_weight_template_renames_weights_and_states_the_convention():
    net = Network([2, 2, 1])
    table = gradient_table(net, weight_template="w{l}{k}{j}")
    # weight (l=1, j=2, k=1) is written w112 under w{l}{k}{j}, and its row is x1*w221
    assert table.label(net.weight(1, 2, 1)) == "w112"
    assert table.text_cell(net.weight(1, 2, 1)) == "x1*w221"
    assert "w{l}{k}{j}: weight in layer l, from-input k, to-neuron j" in table.to_text()
    assert "$w_{lkj}$: weight in layer $l$, from-input $k$, to-neuron $j$" in table.to_latex()


def test_text_columns_are_aligned():
    table = gradient_table(Network([2, 3, 1], activation="tanh", bias=True), of="loss")
    rows = [line for line in table.to_text().splitlines() if re.match(r"  [wb]\d", line)]
    starts = {len(re.match(r"  \S+\s+", line).group()) for line in rows}
    assert len(rows) == 13 and len(starts) == 1


def test_markdown_and_latex_have_one_row_per_parameter():
    net = Network([2, 3, 1], activation="tanh", bias=True)
    table = gradient_table(net, of="loss")
    md_rows = [line for line in table.to_markdown().splitlines()
               if line.startswith("| $w_") or line.startswith("| $b_")]
    assert len(md_rows) == net.spec.n_parameters
    latex = table.to_latex()
    assert latex.count(r"\\") >= net.spec.n_parameters + 1
    assert r"\toprule" in latex and r"\begin{tabular}{@{}ll@{}}" in latex
    assert r"\documentclass" not in latex
    assert table.to_latex(standalone=True).startswith(r"\documentclass{article}")


def test_many_rows_use_longtable_and_long_rows_break():
    net = Network([12, 11, 1], activation="tanh")
    table = gradient_table(net, of="cost")
    assert len(table.parameters) > LONGTABLE_ROWS
    latex = table.to_latex()
    assert r"\begin{longtable}" in latex and r"\endhead" in latex
    assert "w_{1,10,2}" in latex
    deep = gradient_table(Network([2, 3, 3, 3, 1], activation="sigmoid"))
    assert r"\begin{aligned}[t]" in deep.to_latex()


def test_jupyter_reprs():
    table = gradient_table(Network([2, 2, 1]))
    assert str(table) == table.to_text()
    assert table._repr_markdown_() == table.to_markdown()
    tex = table._repr_latex_()
    assert tex.startswith("$$") and tex.endswith("$$") and r"x_{1} w_{211}" in tex
    assert "tabular" not in tex  # MathJax has no tabular


@pytest.mark.parametrize("kwargs, message", [
    ({"of": "los"}, "did you mean 'loss'"),
    ({"form": "compacted"}, "did you mean 'compact'"),
    ({"weight_template": "w{l}{j}"}, "each of {l} (layer)"),
], ids=["of-typo", "form-typo", "template-missing-k"])
def test_bad_arguments(kwargs, message):
    with pytest.raises(SpecError, match=re.escape(message)):
        gradient_table(Network([2, 2, 1]), **kwargs)


def test_output_table_of_a_multi_output_net_is_refused():
    with pytest.raises(SpecError, match="one output neuron"):
        gradient_table(Network([2, 2, 2]), of="output")


# -- line breaking ---------------------------------------------------------------------
def _balanced(line: str) -> bool:
    return (line.count("{") == line.count("}")
            and len(re.findall(r"\\left(?![A-Za-z])", line))
            == len(re.findall(r"\\right(?![A-Za-z])", line)))


@pytest.mark.parametrize("width", [20, 40, 60])
def test_broken_latex_lines_are_balanced_and_lose_nothing(width):
    net = Network([2, 3, 3, 1], activation="tanh")
    table = gradient_table(net, of="cost")
    cell = table.latex_cell(net.weights[0])
    lines = break_latex(cell, width)
    assert len(lines) > 1 and all(_balanced(line) for line in lines)
    def bare(tex):
        return re.sub(r"\\(bigl|bigr|left|right)(?![A-Za-z])", "", tex).split()

    assert bare(" ".join(lines)) == bare(cell)
    assert latex_lines(cell, width).startswith(r"\begin{aligned}[t]")


def test_broken_text_lines_lose_nothing():
    text = "x1*(a + b*(c + d) + e) - f + g"
    lines = break_text(text, 10)
    assert len(lines) > 1 and " ".join(lines) == text


# -- command line ----------------------------------------------------------------------
# through main(argv) in-process: the cli fixture of tests/conftest.py
def test_cli_table_prints_the_seed_rows(cli):
    out = cli("table", "2-2-1")
    assert out.returncode == 0, out.stderr
    rows = dict(re.findall(r"^  (w\d+)\s+(\S+)$", out.stdout, flags=re.M))
    assert rows == {"w111": "x1*w211", "w121": "x1*w212", "w112": "x2*w211",
                    "w122": "x2*w212", "w211": "z11", "w212": "z12"}


def test_cli_table_latex_standalone_and_markdown_loss(cli):
    out = cli("table", "2-2-1", "--format", "latex", "--standalone")
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith(r"\documentclass") and r"\end{document}" in out.stdout
    out = cli("table", "2-3-1", "--activation", "tanh", "--bias", "--of", "loss",
              "--format", "markdown")
    assert out.returncode == 0, out.stderr
    assert r"| $b_{21}$ | $\hat{y} - y$ |" in out.stdout


@pytest.mark.parametrize("args, message", [
    (["--of", "los"], "did you mean 'loss'"),
    (["--format", "markdown", "--standalone"], "--standalone needs --format latex"),
    (["--format", "html"], "unknown format 'html'"),
], ids=["of-typo", "standalone-markdown", "format-html"])
def test_cli_table_bad_input_exits_2_with_one_line(cli, args, message):
    out = cli("table", "2-2-1", *args)
    assert out.returncode == 2
    assert message in out.stderr and len(out.stderr.strip().splitlines()) == 1
    assert out.stdout == ""


def test_where_lists_only_definitions_the_rows_use():
    expanded = gradient_table(Network([2, 2, 1]), of="loss", form="expanded")
    assert "where" not in expanded.to_text()  # no yhat in base symbols
    multi = gradient_table(Network([2, 2, 2]), of="loss")
    assert "where" not in multi.to_text() and "yhat" not in multi.to_text()


def test_latex_fragments_float_label_and_bare_forms():
    small = gradient_table(Network([2, 2, 1]))
    labelled = small.to_latex(label="tab:g")
    assert labelled.startswith("%") and labelled.splitlines()[1] == r"\par"
    assert r"\label{tab:g}}" in labelled and r"\begin{table}" in labelled
    bare = small.to_latex(float=False)
    assert r"\begin{tabular}" in bare and r"\caption" not in bare
    assert r"\begin{table}" not in bare
    big = gradient_table(Network([2, 5, 5, 1]))            # 35 rows: longtable
    assert len(big.parameters) > 24
    long_bare = big.to_latex(float=False)
    assert r"\begin{longtable}" in long_bare and r"\caption" not in long_bare
    with pytest.raises(SpecError, match="label needs the float"):
        small.to_latex(label="x", float=False)


def test_where_block_follows_the_table_in_a_new_paragraph():
    tex = gradient_table(Network([2, 3, 1], activation="tanh"), of="cost").to_latex()
    end, where = tex.index(r"\end{tabular}"), tex.index("where")
    assert end < tex.index(r"\par", end) < where < tex.index(r"\end{table}")
