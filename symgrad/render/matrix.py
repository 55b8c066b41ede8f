r"""Backprop in matrix form, written for one network: ``symgrad table ARCH --form matrix``.

The forward pass and the four backprop equations (BP1-BP4 of
:mod:`symgrad.claims.matrix.equations`) with the layer names and shapes of the
network, in aligned text, Markdown or LaTeX.  ``of="cost"`` gives the batch
forms, samples as columns and as rows.  For one parameter (``symgrad derive ARCH
W2 --form matrix``) only the equations it needs are kept: the forward pass, BP1
and BP2 down to its layer, and its BP3 or BP4.

>>> from symgrad import Network
>>> text = matrix_equations(Network([2, 2, 1]), parameter="W1").to_text()
>>> print("\n".join(line for line in text.splitlines() if "BP" in line))
  BP1  delta2 = (a2 - y) ⊙ f'(z2)      1×1
  BP2  delta1 = W2^T delta2 ⊙ f'(z1)   2×1
  BP4  dL/dW1 = delta1 x^T             2×2
"""

from __future__ import annotations

import re

import sympy as sp

from symgrad import activations
from symgrad.claims.matrix.equations import Equation, backprop_equations
from symgrad.errors import ParseError, SpecError
from symgrad.render import printing
from symgrad.spec import WEIGHT_TEMPLATE, weight_label

_TITLES = {"sample": "the loss L of one sample",
           "columns": "the cost C of a batch, samples as columns (X is n0×m)",
           "rows": "the cost C of a batch, samples as rows (X is m×n0)"}


def _shape(shape) -> str:
    return f"{shape[0]}×{shape[1]}"


def _latex_shape(shape) -> str:
    return rf"{shape[0]} \times {shape[1]}"


class MatrixEquations:
    """The equations of one network in one or more layouts (see the module notes)."""

    def __init__(self, net, layouts, parameter: tuple[str, int] | None = None,
                 weight_template: str = WEIGHT_TEMPLATE):
        self.net, self.layouts, self.parameter = net, tuple(layouts), parameter
        self.template = weight_template
        self.blocks = [(layout, self._kept(backprop_equations(net, layout)))
                       for layout in self.layouts]

    def _kept(self, equations: list[Equation]) -> list[Equation]:
        if self.parameter is None:
            return equations
        kind, layer = self.parameter
        kept = []
        for e in equations:
            digits = re.findall(r"\d+", e.lhs)
            l = int(digits[-1]) if digits else 0
            if e.label == "forward" or (e.label in ("BP1", "BP2") and l >= layer) \
                    or (e.label == ("BP4" if kind == "W" else "BP3") and l == layer):
                kept.append(e)
        return kept

    def _notes(self) -> list[str]:
        net, w = self.net, self.net.widths
        shapes = ", ".join(f"W{l} {w[l]}×{w[l - 1]}" for l in range(1, net.depth + 1))
        slopes = []
        for l, act in enumerate(net.activations, 1):
            z, a = sp.Symbol(f"z{l}"), sp.Symbol(f"a{l}")
            if act == "softmax":     # coupled: a Jacobian, not an entrywise slope
                slopes.append(f"da{l}/dz{l} = diag(a{l}) - a{l} a{l}ᵀ (softmax)")
                continue
            slopes.append(f"f'(z{l}) = {sp.sstr(activations.derivative(act, z, a))} ({act})")
        return ["⊙: elementwise product; W_l is n_l×n_(l-1) with entry (j, k) = "
                f"{self.template}: "
                + shapes, "entrywise " + "; ".join(slopes)]

    # -- formats ----------------------------------------------------------------
    def to_text(self) -> str:
        """Aligned plain text: one line per equation, its label and its shape."""
        lines = []
        for layout, equations in self.blocks:
            lines += [f"Backprop in matrix form: {self.net.describe()}; {_TITLES[layout]}", ""]
            width = max(len(f"{e.lhs} = {e.rhs}") for e in equations)
            for e in equations:
                label = "" if e.label == "forward" else e.label
                lines.append(f"  {label:<4} {f'{e.lhs} = {e.rhs}':<{width}}   "
                             f"{_shape(e.shape)}")
            lines.append("")
        return "\n".join(lines + self._notes()) + "\n"

    def to_markdown(self) -> str:
        """A Markdown table per layout, ``$...$`` math in the cells."""
        lines = []
        for layout, equations in self.blocks:
            lines += [f"**Backprop in matrix form: {self.net.describe()}; {_TITLES[layout]}**",
                      "", "| | equation | shape |", "|---|---|---|"]
            for e in equations:
                math = printing.markdown_math(f"{e.lhs_latex} = {e.rhs_latex}")
                label = "" if e.label == "forward" else e.label
                lines.append(f"| {label} | {math} | ${_latex_shape(e.shape)}$ |")
            lines.append("")
        return "\n".join(lines + [n + "  " for n in self._notes()]) + "\n"

    def to_latex(self, standalone: bool = False, label: str | None = None,
                 float: bool = True) -> str:
        """An ``align*`` per layout (needs ``amsmath``); ``standalone``: a whole document.

        ``label`` and ``float=False`` belong to tables; here they are an error.
        """
        if label is not None or not float:
            raise SpecError("--label and --no-float are for tables; the matrix form is a "
                            "list of equations (drop them)")
        body = ["% symgrad backprop in matrix form; needs \\usepackage{amsmath}"]
        for layout, equations in self.blocks:
            body += [r"\par\noindent Backprop in matrix form: "
                     + _latex_text(f"{self.net.describe()}; {_TITLES[layout]}") + ".",
                     r"\begin{align*}"]
            rows = []
            for e in equations:
                tag = "" if e.label == "forward" else rf"\quad\text{{{e.label}}}"
                rows.append(rf"{e.lhs_latex} &= {e.rhs_latex} && "
                            rf"{_latex_shape(e.shape)}{tag} \\")
            rows[-1] = rows[-1][:-3]
            body += rows + [r"\end{align*}"]
        division = r" and $\oslash$ elementwise division" if self.net.loss_name == "bce" else ""
        body.append(rf"\noindent where $\odot$ is the elementwise product{division}.\par")
        text = "\n".join(body) + "\n"
        return printing.document(text) if standalone else text

    def __str__(self) -> str:
        return self.to_text()


def _latex_text(text: str) -> str:
    return text.replace("×", r"$\times$").replace("_", r"\_")


def matrix_equations(net, of: str = "loss", parameter: str | None = None,
                     weight_template: str = WEIGHT_TEMPLATE) -> MatrixEquations:
    """The backprop equations of ``net`` in matrix form.

    ``of`` is ``"loss"`` (or ``"output"``: one sample, of the loss L) or ``"cost"``
    (both batch layouts).  ``parameter`` (``"W2"``, ``"b1"``, or a weight or bias
    name such as ``"w211"`` under ``weight_template``) keeps only the equations its
    gradient needs.
    """
    layouts = ("columns", "rows") if of == "cost" else ("sample",)
    chosen = None
    if parameter is not None:
        chosen = _layer_of(net, parameter, weight_template)
    return MatrixEquations(net, layouts, chosen, weight_template)


def _layer_of(net, parameter: str, weight_template: str) -> tuple[str, int]:
    m = re.fullmatch(r"([Wb])(?:_|\^\{?[(\[]?)?(\d+)[)\]]?\}?", parameter.strip())
    if m and 1 <= int(m.group(2)) <= net.depth:
        return m.group(1), int(m.group(2))
    named = {weight_label(l, j, k, weight_template): w
             for w, (l, j, k) in zip(net.weights, net.spec.weight_index())}
    sym = named.get(parameter.strip()) or net.symbols.get(parameter.strip())
    node = net.neuron_of(sym) if sym is not None else None
    if node is None:
        raise ParseError(f"unknown parameter {parameter!r} for --form matrix: give a layer's "
                         f"weights or biases, W1..W{net.depth} or b1..b{net.depth} (or one "
                         "weight such as w111)")
    return ("W" if sym in net.weights else "b"), node[0]
