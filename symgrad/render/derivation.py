r"""The chain rule for one parameter, step by step, as a person would write it.

A derivation has three parts: the forward equations the parameter enters (and
every layer above it), the chain rule, and the result.  The chain rule is a
sum over the paths from the parameter to the output, each a product of named
local derivatives (``∂z21/∂a11 · ∂a11/∂z11 · ∂z11/∂w111 = w211 · 1 · x1``).
When there are more than :data:`MAX_PATHS` paths, or the result names a delta
because it is too long to write out (a very deep net), the sum is written as
backprop's delta recursion instead, which is the same sum factored layer by
layer.  The result is the row of :func:`symgrad.render.tables.gradient_table`; the
tests prove the path sum equals it.

>>> from symgrad import Network
>>> d = derivation(Network([2, 2, 1]), "w111")
>>> print(d.to_text().split("Chain rule:")[1])
 1 path from w111 to z21, a product of local derivatives:
  ∂z21/∂w111 = ∂z21/∂a11 · ∂a11/∂z11 · ∂z11/∂w111
             = w211 · 1 · x1
<BLANKLINE>
Result (the row of the gradient table):
  ∂z21/∂w111 = x1*w211
<BLANKLINE>
"""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass

import sympy as sp

from symgrad.derive import delta_symbol, local_derivative, reverse_program
from symgrad.errors import ParseError
from symgrad.network import loss_expr
from symgrad.render import display, printing
from symgrad.render.sections import Sections, align_body
from symgrad.render.tables import check_choice, gradient_table
from symgrad.spec import WEIGHT_TEMPLATE, check_weight_template, weight_label

#: Up to this many paths the chain rule is written as a sum over paths.
MAX_PATHS = 4
_LOSS = sp.Symbol("L")


@dataclass(frozen=True)
class Factor:
    """One local derivative ``∂top/∂bottom`` on a path, and its value."""

    top: sp.Symbol
    bottom: sp.Symbol
    value: sp.Expr


def find_parameter(net, name, template: str = WEIGHT_TEMPLATE):
    """Return ``(Symbol, index)`` of the parameter called ``name`` under ``template``.

    ``index`` is ``(l, j, k)`` for a weight and ``(l, j)`` for a bias.

    >>> from symgrad import Network
    >>> net = Network([2, 2, 1])
    >>> find_parameter(net, "w112", "w{l}{k}{j}")
    (w121, (1, 2, 1))
    """
    check_weight_template(template)
    table = {weight_label(l, j, k, template): (w, (l, j, k))
             for w, (l, j, k) in zip(net.weights, net.spec.weight_index())}
    table.update({b.name: (b, idx) for b, idx in zip(net.biases, net.spec.bias_index())})
    if isinstance(name, sp.Symbol) and name in net.parameters:
        name = next(n for n, (s, _) in table.items() if s == name)
    if isinstance(name, str) and name.strip() in table:
        return table[name.strip()]
    names = list(table)
    text = f"unknown parameter {name!r} in the {net.spec.arch} network"
    close = difflib.get_close_matches(str(name), names, n=1, cutoff=0.5)
    if close:
        text += f"; did you mean {close[0]!r}?"
    weights = [n for n in names if table[n][0] in net.weights]
    text += f" (weights {weights[0]} .. {weights[-1]}, named {template}"
    biases = [n for n in names if table[n][0] in net.biases]
    text += f"; biases {biases[0]} .. {biases[-1]})" if biases else "; no biases)"
    raise ParseError(text)


def count_paths(net, l: int, of: str) -> int:
    """Number of paths from a neuron of layer ``l`` to the output (or to every
    output, for the loss)."""
    tops = 1 if of == "output" else net.widths[-1]
    return math.prod(net.widths[l + 1:-1]) * tops if l < net.depth else 1


class Derivation:
    """The chain rule for one parameter; build it with :func:`derivation`.

    Attributes
    ----------
    param : Symbol
    forward : list of (Symbol, Expr)
        Forward equations shown (compact names).
    path_count : int
        How many paths lead from the parameter to the top quantity.
    paths : list of list of Factor, or None
        The chain rule as a sum over paths, or None when the delta recursion
        is shown instead (more than :data:`MAX_PATHS` paths).
    deltas : list of (Symbol, Expr)
        The delta recursion (empty when ``paths`` is given).
    result : Expr
        The table's row (per sample for ``of="cost"``).
    """

    def __init__(self, net, param, index, of, template):
        self.net, self.param, self.index, self.of = net, param, index, of
        self.template = template
        self.table = gradient_table(net, of, "compact", template)
        self.result = self.table.expressions[param]
        prog = reverse_program(net, "loss" if of == "cost" else of)
        self._rename = dict(prog.compact_names)
        single = of != "output" and net.spec.n_outputs == 1
        self.alias = [net.a_symbol(net.depth, 1)] if single else []
        for a in self.alias:
            self._rename.pop(a, None)  # keep a_{L1}: it prints as y-hat
        self.top = _LOSS if of != "output" else printing.quantity(net, "output")
        l, j = index[0], index[1]
        self.paths, self.deltas = None, []
        self.path_count = count_paths(net, l, of)
        named = {sym for sym, _ in prog.compact_deltas()}
        #: A softmax output couples its neurons: its step is the Jacobian, written
        #: out in the delta recursion (Sections.softmax_rows), never as paths.
        self.softmax = net.activations[-1] == "softmax"
        if (self.path_count <= MAX_PATHS and not self.result.free_symbols & named
                and not self.softmax):
            self.paths = [self._factors(seq) for seq in self._sequences(l, j)]
        self.forward = self._forward(prog, l)
        if self.paths is None:
            keep = [(s, e) for s, e in prog.deltas
                    if _layer(net, s) > l or s == delta_symbol(l, j)]
            self.deltas = [(s, e.xreplace(self._rename)) for s, e in keep]

    # -- content ------------------------------------------------------------------
    def _forward(self, prog, l):
        """Equations of layer ``l`` and above; ``a = z`` of a linear neuron only
        when a chain-rule factor names that ``a``."""
        named = {f.top for path in self.paths or [] for f in path}
        return [(sym, expr.xreplace(self._rename)) for sym, expr in prog.forward
                if _layer(self.net, sym) >= l and (sym not in self._rename or sym in named)]

    def _sequences(self, l, j):
        net = self.net
        tops = [1] if self.of == "output" else range(1, net.widths[-1] + 1)
        seqs = [[j]]
        for m in range(l + 1, net.depth + 1):
            choices = tops if m == net.depth else range(1, net.widths[m] + 1)
            seqs = [s + [n] for s in seqs for n in choices]
        return seqs

    def _factors(self, seq):
        """Local derivatives along one path, from the top down."""
        net, L, l = self.net, self.net.depth, self.index[0]
        factors = []
        if self.of != "output":
            outs = [net.a_symbol(L, o) for o in range(1, net.widths[-1] + 1)]
            top = net.a_symbol(L, seq[-1])
            dl = sp.diff(loss_expr(net.loss_name, outs, net.targets), top)
            factors.append(Factor(_LOSS, top, dl))
        for m in range(L, l - 1, -1):
            n = seq[m - l]
            z, a = net.z_symbol(m, n), net.a_symbol(m, n)
            act = net.activations[m - 1]
            if not (self.of == "output" and m == L and act == "linear"):
                factors.append(Factor(a, z, local_derivative(act, z, a)))
            if m > l:
                below = seq[m - l - 1]
                factors.append(Factor(z, net.a_symbol(m - 1, below), net.weight(m, n, below)))
            elif len(self.index) == 3:
                factors.append(Factor(z, self.param, net.a_symbol(l - 1, self.index[2])))
            else:
                factors.append(Factor(z, self.param, sp.S.One))
        return [Factor(f.top, f.bottom, f.value.xreplace(self._rename)) for f in factors]

    @property
    def penalty(self) -> sp.Expr:
        """The L2 term of the result, ``lambda * param`` (0 without L2 or for the output)."""
        if self.of == "output" or self.param not in self.net.penalised:
            return sp.S.Zero
        return self.net.l2 * self.param

    def chain_value(self) -> sp.Expr:
        """The chain rule's value: the sum over paths of the factor products (or
        the delta recursion substituted), in intermediate symbols, plus the L2 term."""
        if self.paths is not None:
            return sp.Add(*[sp.Mul(*[f.value for f in path]) for path in self.paths],
                          self.penalty)
        values: dict[sp.Symbol, sp.Expr] = {}
        for sym, expr in self.deltas:
            values[sym] = expr.xreplace(values)
        l, j = self.index[:2]
        below = (self.net.a_symbol(l - 1, self.index[2]).xreplace(self._rename)
                 if len(self.index) == 3 else sp.S.One)
        return values[delta_symbol(l, j)] * below + self.penalty

    # -- formats --------------------------------------------------------------------
    def sections(self, latex: bool) -> list:
        """``[(heading, rows)]`` with rows ``(lhs, op, rhs)`` already printed."""
        return Sections(self, latex).build()

    def to_text(self) -> str:
        """Plain text for terminals, equations aligned on ``=``."""
        out = []
        for heading, rows in self.sections(latex=False):
            out.append(heading)
            width = max((len(lhs) for lhs, _, _ in rows), default=0)
            out += [f"  {lhs:>{width}} {op:<1} {rhs}".rstrip() for lhs, op, rhs in rows]
            out.append("")
        return "\n".join(out).rstrip() + "\n"

    def to_markdown(self) -> str:
        """Markdown: prose, and ``$$\\begin{aligned}...$$`` blocks (GitHub math)."""
        out = []
        for heading, rows in self.sections(latex=True):
            out += [heading, ""]
            if rows:
                out += ["$$", r"\begin{aligned}", align_body(rows), r"\end{aligned}", "$$", ""]
        return "\n".join(out).rstrip() + "\n"

    def to_latex(self, standalone: bool = False) -> str:
        """LaTeX prose and ``align*`` blocks (needs amsmath); ``standalone`` gives a
        complete document."""
        out = ["% symgrad derivation; needs \\usepackage{amsmath}", r"\par"]
        for heading, rows in self.sections(latex=True):
            out += [r"\noindent " + heading]
            if rows:
                out += [r"\begin{align*}", align_body(rows), r"\end{align*}"]
            out.append("")
        body = "\n".join(out)
        return printing.document(body) if standalone else body

    def __str__(self) -> str:
        return self.to_text()

    def __repr__(self) -> str:
        return f"<Derivation of={self.of!r} param={self.param.name} {self.net.spec.arch}>"

    def _repr_markdown_(self) -> str:
        return self.to_markdown()

    def _repr_html_(self) -> str | None:
        """Prose and MathML blocks (no MathJax, no network) when ``latex2mathml`` is
        installed; else None, and Jupyter shows the Markdown form."""
        return display.sections_html([(heading, align_body(rows) if rows else "")
                                      for heading, rows in self.sections(latex=True)])

    def _repr_latex_(self) -> str:
        """Prose with ``$...$`` and ``$$\\begin{aligned}...$$`` blocks, as Jupyter's
        MathJax renders it (it has no ``align*`` outside math)."""
        return self.to_markdown()


def _layer(net, sym) -> int:
    """Layer of a z/a/delta symbol."""
    for l in range(1, net.depth + 1):
        for j in range(1, net.widths[l] + 1):
            if sym in (net.z_symbol(l, j), net.a_symbol(l, j), delta_symbol(l, j)):
                return l
    return 0


def derivation(net, param, of: str = "output",
               weight_template: str = WEIGHT_TEMPLATE) -> Derivation:
    r"""Write out the chain rule for the derivative of ``of`` by one parameter.

    Parameters
    ----------
    net : Network
    param : str or Symbol
        The parameter's name under ``weight_template`` (``"w111"``, ``"b21"``).
    of : {"output", "loss", "cost"}
    weight_template : str
        How weights are named, default ``"w{l}{j}{k}"``.

    Returns
    -------
    Derivation
        With ``to_text()``, ``to_markdown()``, ``to_latex(standalone=False)``.

    Raises
    ------
    ParseError
        For an unknown parameter name (the message names the closest one).

    Examples
    --------
    >>> from symgrad import Network
    >>> d = derivation(Network([2, 2, 1]), "w111")
    >>> d.chain_value(), d.result
    (w211*x1, w211*x1)
    """
    check_choice("quantity (of)", of, printing.OF_CHOICES)
    symbol, index = find_parameter(net, param, weight_template)
    return Derivation(net, symbol, index, of, weight_template)
