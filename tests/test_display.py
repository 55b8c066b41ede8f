"""Rich display (symgrad.render.display, symgrad.render.mathml): the words of ``print``,
with the expressions typeset; HTML escapes what it shows; MathML for offline math."""

from __future__ import annotations

import re

import pytest

from symgrad import Network, compare, verify
from symgrad.render import display, mathml


@pytest.mark.parametrize("text,tex", [
    ("w211*x1", r"w_{211} \, x_{1}"),
    ("x1*(1 - a11**2)", r"x_{1} \, (1 - a_{11}^{2})"),
    ("(yhat - y)**(-1)", r"(\hat{y} - y)^{-1}"),
    ("w_1_10_2 + delta21", r"w_{1,10,2} + \delta_{21}"),
    ("tanh(z11)/2", r"\tanh(z_{11})/2"),
    ("z_b", "z_{b}"),
    ("sigmoid(z21)", r"\operatorname{sigmoid}(z_{21})"),
])
def test_tex_of_expressions(text, tex):
    assert display.tex_of(text) == tex


@pytest.mark.parametrize("text,expected", [
    ("w211*(x1 - x2)", True), ("x1 = x2", True), ("a11 + 1 = 0", True),
    ("the prediction is exact (y = z21)", False), ("proved symbolically", False),
])
def test_expressions_are_told_from_prose(text, expected):
    assert display._is_expression(text) is expected


def _words(lines) -> str:
    """What a layout says, math as the text it came from is not recoverable, so only
    the non-math segments."""
    return " ".join(v for line in lines if line[0] != "table" for k, v in line if k != "math")


def test_verdict_display_says_what_print_says():
    [v] = verify(Network([2, 2, 1], activation="tanh"), "dz21/dw111 = x1")
    lines = display.verdict_lines(v)
    printed = " ".join(str(v).split())
    for segment in _words(lines).split():
        assert segment in printed
    markdown = v._repr_markdown_()
    assert "`dz21/dw111 = x1`" in markdown and "Verdict(" not in markdown
    (math,) = re.findall(r"\$([^$]+)\$", markdown)
    assert {"w_{211}", "x_{1}", "a_{11}^{2}"} <= set(re.findall(r"[a-z]_\{\d+\}(?:\^\{2\})?",
                                                                 math))
    assert r"w_{211}$" in v._repr_latex_() and "WRONG" in v._repr_latex_()


def test_a_list_of_verdicts_displays_each():
    verdicts = verify(Network([2, 2, 1]), ["dz21/dw111 = w211*x1", "dz21/dw211 = x1"])
    assert isinstance(verdicts, list) and len(verdicts) == 2
    html = verdicts._repr_html_()
    assert html.count('class="symgrad-report"') == 2


def test_comparison_display_typesets_sides_difference_and_conditions():
    c = compare(Network([2, 2, 1], activation="tanh"), "dL/dw111", "dL/dw112")
    markdown = c._repr_markdown_()
    assert markdown.startswith("`dL/dw111` = $")
    assert "difference: $" in markdown
    assert "$x_{1} = x_{2}$" in markdown
    assert "the prediction is exact (y = z21)" in markdown      # prose stays prose


def test_html_escapes_text_and_code():
    lines = [[("text", "a < b & c"), ("code", "<script>")]]
    html = display.to_html(lines)
    assert "<script>" not in html and "&lt;script&gt;" in html and "a &lt; b &amp; c" in html


def test_markdown_table_and_latex_table():
    lines = [[("text", "head")], ("table", ["p", "value"], [["w111", "0.5"]])]
    assert "| p | value |" in display.to_markdown(lines)
    assert r"\begin{tabular}{ll}" in display.to_latex(lines)


def test_latex_text_is_ascii_and_escaped():
    tex = display.to_latex([[("text", "✓ 50% of a_b ∂")]])
    assert tex.isascii() and r"50\%" in tex and r"a\_b" in tex


latex2mathml = pytest.importorskip("latex2mathml")


def test_mathml_of_a_fraction_and_an_aligned_block():
    out = mathml.to_mathml(r"\frac{\partial L}{\partial w_{111}}")
    assert out.startswith("<math") and "<mfrac>" in out and 'alttext="' in out
    block = mathml.to_mathml(r"\begin{aligned}[t] &a + b \\ &\quad + c \end{aligned}")
    assert "<mtable" in block and "<mi>&amp;</mi>" not in block and "<mi>&</mi>" not in block
    assert 'style="text-align: left"' in block     # MathML Core ignores columnalign


def test_arithmatex_markup_becomes_mathml():
    page = ('<p>see <span class="arithmatex">\\(x_1 &lt; 2\\)</span></p>'
            '<div class="arithmatex">\\[\n\\hat y = z\n\\]</div>')
    out = mathml.replace_arithmatex(page)
    assert "arithmatex" not in out and out.count("<math") == 2
    assert 'display="block"' in out and "&lt;" in out


def test_table_and_derivation_html_carry_mathml():
    from symgrad import derivation, gradient_table

    net = Network([2, 2, 1])
    table = gradient_table(net)._repr_html_()
    assert table.count("<tr>") == 1 + 6 and "where" not in table
    assert "<msub><mi>w</mi><mrow><mn>111</mn></mrow></msub>" in table
    assert "<mtable" in derivation(net, "w111")._repr_html_()
