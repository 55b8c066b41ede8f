r"""Printing for gradient tables and derivations: names, factor order, line breaks.

Two printers share one idea: a product is written in *forward order*, the factor
nearest the input first (``x_{1} w_{211}``, as the seed answer writes it), and a
sum keeps positive terms before negative ones (``\hat{y} - y``).  SymPy's own
printers sort factors alphabetically (``w_{211} x_{1}``); the order here is fixed
by where each symbol sits in the network, so it does not depend on names.

Symbol names never come from string formatting here: they are looked up in a
``{Symbol: name}`` map built from ``net.latex_names`` and the name functions of
:mod:`symgrad.spec` (``latex_name``, ``symbol_name``, ``weight_label``).

>>> from symgrad import Network
>>> net = Network([2, 2, 1])
>>> expr = net.weight(2, 1, 1) * net.inputs[0]
>>> to_latex(expr, names(net, latex=True), rank_key(net))
'x_{1} w_{211}'
>>> to_text(expr, names(net, latex=False), rank_key(net))
'x1*w211'
"""

from __future__ import annotations

import re

import sympy as sp
from sympy.core.sorting import default_sort_key
from sympy.printing.latex import LatexPrinter
from sympy.printing.precedence import PRECEDENCE
from sympy.printing.str import StrPrinter

from symgrad.derive import delta_symbol
from symgrad.render import linebreak
from symgrad.spec import WEIGHT_TEMPLATE, latex_name, symbol_name, weight_label


def names(net, *, latex: bool, template: str = WEIGHT_TEMPLATE, alias=False,
          sample: bool = False) -> dict:
    r"""``{Symbol: name}`` for every symbol a table or derivation prints.

    ``alias=True`` names the single output node ``\hat{y}`` (``yhat`` in text);
    a list of symbols gives that name to those symbols only;
    ``sample`` marks every per-sample quantity with the sample index ``i``
    (``x_{1}^{(i)}``, ``x1[i]``) for sums over a batch.
    """
    if latex:
        out = dict(net.latex_names)
    else:
        out = {s: s.name for s in net.symbols.values()}
    for w, (l, j, k) in zip(net.weights, net.spec.weight_index()):
        out[w] = weight_label(l, j, k, template, latex=latex)
    for l in range(1, net.depth + 1):
        for j in range(1, net.widths[l] + 1):
            d = delta_symbol(l, j)
            out[d] = latex_name("\\delta", l, j) if latex else symbol_name("delta", l, j)
    if alias is True:
        alias = output_nodes(net) if net.spec.n_outputs == 1 else ()
    for s in alias or ():
        out[s] = latex_name("\\hat{y}") if latex else symbol_name("yhat")
    if sample:
        fixed = set(net.parameters)
        out = {s: (n if s in fixed else _sample_indexed(n, latex)) for s, n in out.items()}
    return out


def output_nodes(net) -> list:
    """The symbols that stand for the single output (``a{L}1``, and ``z{L}1`` if linear)."""
    L = net.depth
    nodes = [net.a_symbol(L, 1)]
    if net.activations[-1] == "linear":
        nodes.append(net.z_symbol(L, 1))
    return nodes


def _sample_indexed(name: str, latex: bool) -> str:
    return name + "^{(i)}" if latex else name + "[i]"


def symbol_ranks(net) -> dict:
    """Position of each symbol along the forward pass: inputs 0, layer-l weights
    l - 1/2, z/a/delta of layer l at l, targets after the last layer."""
    ranks = {x: 0.0 for x in net.inputs}
    for w, (l, _, _) in zip(net.weights, net.spec.weight_index()):
        ranks[w] = l - 0.5
    for b, (l, _) in zip(net.biases, net.spec.bias_index()):
        ranks[b] = l - 0.5
    for l in range(1, net.depth + 1):
        for j in range(1, net.widths[l] + 1):
            for s in (net.z_symbol(l, j), net.a_symbol(l, j), delta_symbol(l, j)):
                ranks[s] = float(l)
    ranks.update({t: net.depth + 1.0 for t in net.targets})
    return ranks


def rank_key(net):
    """Sort key for factors: forward order (``x_{1} w_{111}``), the one order of every
    table, derivation and rich display (forward equations included:
    ``z_{11} = x_{1} w_{111} + x_{2} w_{112}``)."""
    ranks = symbol_ranks(net)

    def key(factor):
        if factor.is_Number:
            return (-1, 0.0, default_sort_key(factor))
        pos = min((ranks.get(s, 1e9) for s in factor.free_symbols), default=1e9)
        return (1, pos, default_sort_key(factor))

    return key


def _term_key(factor_key):
    def key(term):
        if term.is_Number:
            return (0, 0, ())
        neg = 1 if term.could_extract_minus_sign() else 0
        return (1, neg, factor_key(-term if neg else term))
    return key


def _split_mul(expr, factor_key):
    """Sign, coefficient, numerator factors and denominator factors of a product."""
    coeff, rest = expr.as_coeff_Mul()
    sign = ""
    if coeff.is_negative:
        sign, coeff = "-", -coeff
    num, den = [], []
    for f in sp.Mul.make_args(rest):
        if f.is_Pow and f.exp.is_Number and f.exp.is_negative:
            den.append(f.base if f.exp == -1 else sp.Pow(f.base, -f.exp))
        else:
            num.append(f)
    if coeff.is_Rational and coeff.q != 1:
        den.insert(0, sp.Integer(coeff.q))
        coeff = sp.Integer(coeff.p)
    if coeff != 1:
        num.insert(0, coeff)
    return sign, sorted(num, key=factor_key), sorted(den, key=factor_key)


class _OrderedLatex(LatexPrinter):
    """LaTeX printer with forward-ordered products (see the module docstring)."""

    def __init__(self, names_map, factor_key):
        super().__init__({"symbol_names": names_map})
        self.factor_key = factor_key

    def _join(self, factors):
        return " ".join(self.parenthesize(f, PRECEDENCE["Mul"]) for f in factors) or "1"

    def _print_Mul(self, expr):
        sign, num, den = _split_mul(expr, self.factor_key)
        body = self._join(num)
        if den:
            bottom = self._print(den[0]) if len(den) == 1 else self._join(den)
            body = rf"\frac{{{body}}}{{{bottom}}}"
        return (sign + " " + body) if sign else body

    def _print_Add(self, expr, order=None):
        return _join_terms(self, expr)


class OrderedText(StrPrinter):
    """Plain-text printer with the same order; names from the map."""

    def __init__(self, names_map, factor_key):
        super().__init__()
        self.names_map = names_map
        self.factor_key = factor_key

    def _print_Symbol(self, expr):
        return self.names_map.get(expr, expr.name)

    def _join(self, factors, level):
        return "*".join(self.parenthesize(f, level) for f in factors) or "1"

    def _print_Mul(self, expr):
        sign, num, den = _split_mul(expr, self.factor_key)
        body = self._join(num, PRECEDENCE["Mul"])
        if den:
            if len(den) == 1 and den[0].is_Atom:
                bottom = self._print(den[0])
            elif len(den) == 1:
                bottom = f"({self._print(den[0])})"
            else:
                bottom = f"({self._join(den, PRECEDENCE['Mul'])})"
            body = f"{body}/{bottom}"
        return sign + body

    def _print_Add(self, expr, order=None):
        return _join_terms(self, expr)


def _join_terms(printer, expr):
    terms = sorted(expr.args, key=_term_key(printer.factor_key))
    out = ""
    for i, term in enumerate(terms):
        text = printer._print(term)
        if text.startswith("-"):
            text = text[1:].lstrip()
            out += " - " if i else "-" if isinstance(printer, StrPrinter) else "- "
        elif i:
            out += " + "
        out += text
    return out


def tidy(expr):
    """Pull common numeric factors out of sums (``2 (y - t)`` for ``2 y - 2 t``).

    Only the printed form changes; the value is the same expression.
    """
    return sp.factor_terms(sp.sympify(expr))


def _latex_parens(tex: str) -> str:
    """Function arguments unbraced (so long ones can break) and ``\\left``/``\\right``
    kept only around what is taller than a line (:mod:`symgrad.render.linebreak`)."""
    return linebreak.size_parentheses(linebreak.unbrace_functions(tex))


def to_latex(expr, names_map, factor_key) -> str:
    """LaTeX of ``expr`` with the given names and factor order."""
    return _latex_parens(_OrderedLatex(names_map, factor_key).doprint(tidy(expr)))


def to_text(expr, names_map, factor_key) -> str:
    """Plain text of ``expr`` with the given names and factor order."""
    return OrderedText(names_map, factor_key).doprint(tidy(expr))


def parenthesized_latex(expr, names_map, factor_key) -> str:
    """LaTeX of ``expr``, in parentheses when it is a sum (to follow a sum sign)."""
    printer = _OrderedLatex(names_map, factor_key)
    tex = printer.parenthesize(tidy(expr), PRECEDENCE["Mul"], strict=True)
    return _latex_parens(rf"\left({tex}\right)" if tex.startswith("-") else tex)


def parenthesized_text(expr, names_map, factor_key) -> str:
    """Plain text of ``expr``, in parentheses when it is a sum or a negation."""
    printer = OrderedText(names_map, factor_key)
    text = printer.parenthesize(tidy(expr), PRECEDENCE["Mul"], strict=True)
    return f"({text})" if text.startswith("-") else text


# -- shared pieces of tables and derivations ------------------------------------------
#: What a table or derivation can be about.
OF_CHOICES = ("output", "loss", "cost")
#: Output formats.
FORMATS = ("text", "markdown", "latex")
_ROLE = {"l": "layer {}", "j": "to-neuron {}", "k": "from-input {}"}


def quantity(net, of: str) -> sp.Symbol:
    """The symbol of what is differentiated: the output node, ``L`` or ``C``."""
    if of == "output":
        L = net.depth
        return net.z_symbol(L, 1) if net.activations[-1] == "linear" else net.a_symbol(L, 1)
    return sp.Symbol("L" if of == "loss" else "C")


def convention(template: str, latex: bool) -> str:
    """State the weight-index convention of ``template`` in words.

    >>> convention("w{l}{k}{j}", latex=False)
    'w{l}{k}{j}: weight in layer l, from-input k, to-neuron j'
    """
    order = re.findall(r"\{([ljk])\}", template)
    stem = template.split("{", 1)[0]
    if latex:
        roles = ", ".join(_ROLE[c].format(f"${c}$") for c in order)
        return f"${stem}_{{{''.join(order)}}}$: weight in {roles}"
    return f"{template}: weight in " + ", ".join(_ROLE[c].format(c) for c in order)


def document(body: str) -> str:
    """A complete LaTeX document around ``body``: base and recommended packages only."""
    return "\n".join([
        r"\documentclass{article}",
        r"\usepackage[margin=2cm]{geometry}",
        r"\usepackage{amsmath}",
        r"\usepackage{booktabs}",
        r"\usepackage{longtable}",
        r"\begin{document}",
        body.rstrip(),
        r"\end{document}",
        "",
    ])


def markdown_math(tex: str) -> str:
    """``$tex$`` for a Markdown table cell (pipes would end the cell)."""
    return "$" + tex.replace("|", r"\vert ") + "$"
