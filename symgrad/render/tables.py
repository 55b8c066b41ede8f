r"""Gradient tables: the derivative of the output, the loss or the cost by every parameter.

One row per parameter, in ``net.parameters`` order.  The content comes from
:func:`symgrad.derive.gradients`; this module only chooses names and layout.

>>> from symgrad import Network
>>> table = gradient_table(Network([2, 2, 1]))
>>> [table.latex_cell(p) for p in table.parameters]
['x_{1} w_{211}', 'x_{2} w_{211}', 'x_{1} w_{212}', 'x_{2} w_{212}', 'z_{11}', 'z_{12}']

Forms: ``compact`` (intermediate names, as a person writes them), ``expanded``
(inputs, targets and parameters only) and ``delta`` (backprop's
``a_{l-1,k} \delta_{lj}``, with the deltas defined under the table).  On a deep
net the compact form names the deltas that are too long to write out
(:data:`symgrad.derive.MAX_INLINE_SIZE`) and defines them under the table too.  With
``of="cost"`` each row is the batch mean of the per-sample loss derivative,
written with sample-indexed symbols (``x_{1}^{(i)}``).
"""

from __future__ import annotations

from symgrad.derive import FORMS, gradients, reverse_program
from symgrad.errors import SpecError
from symgrad.render import display, linebreak, printing
from symgrad.spec import WEIGHT_TEMPLATE, check_weight_template, choices_message

#: Tables with more rows than this use ``longtable`` (page breaks) in LaTeX.
LONGTABLE_ROWS = 24
_FORM_WORDS = {"compact": "compact form (intermediate names)",
               "expanded": "expanded form (inputs and parameters only)",
               "delta": "delta form (backprop's adjoints)"}


def check_choice(kind: str, value, choices) -> str:
    """Return ``value`` if it is one of ``choices``, else raise a SpecError."""
    if value not in choices:
        raise SpecError(choices_message(kind, value, choices))
    return value


class GradientTable:
    """The derivative of one quantity by every parameter, ready to print.

    Build it with :func:`gradient_table`.  ``str(table)`` is the text form;
    Jupyter shows ``_repr_latex_`` (MathJax) or ``_repr_markdown_``.

    Attributes
    ----------
    net : Network
    of : {"output", "loss", "cost"}
    form : {"compact", "expanded", "delta"}
    expressions : dict
        ``{parameter: Expr}``, the exact expression behind each row (for
        ``of="cost"``, the per-sample loss derivative whose mean is the row).
    deltas : list of (Symbol, Expr)
        The adjoint definitions printed under a ``delta`` table (else empty).
    """

    def __init__(self, net, of, form, template, expressions, deltas):
        self.net, self.of, self.form, self.template = net, of, form, template
        self.expressions = expressions
        self.deltas = deltas
        alias = of != "output"
        self._key = printing.rank_key(net)
        self._latex = printing.names(net, latex=True, template=template, alias=alias,
                                   sample=of == "cost")
        self._text = printing.names(net, latex=False, template=template, alias=alias,
                                  sample=of == "cost")
        self._latex_plain = printing.names(net, latex=True, template=template, alias=alias)
        self._text_plain = printing.names(net, latex=False, template=template, alias=alias)

    @property
    def parameters(self) -> list:
        return list(self.expressions)

    # -- cells ------------------------------------------------------------------
    def label(self, param, latex: bool = False) -> str:
        """The parameter's name as printed (weights follow the template)."""
        return (self._latex_plain if latex else self._text_plain)[param]

    def latex_cell(self, param) -> str:
        """LaTeX of one row's derivative (one line; see :func:`linebreak.latex_lines`)."""
        expr = self.expressions[param]
        if self.of != "cost":
            return printing.to_latex(expr, self._latex, self._key)
        inner = printing.parenthesized_latex(expr, self._latex, self._key)
        return r"\frac{1}{m} \sum_{i=1}^{m} " + inner

    def text_cell(self, param) -> str:
        """Plain text of one row's derivative."""
        expr = self.expressions[param]
        if self.of != "cost":
            return printing.to_text(expr, self._text, self._key)
        return "(1/m) Σ_i " + printing.parenthesized_text(expr, self._text, self._key)

    def _of(self, latex: bool) -> str:
        sym = printing.quantity(self.net, self.of)
        return (self._latex_plain if latex else self._text_plain).get(sym, sym.name)

    def _where(self, latex: bool) -> list:
        """``(left, right)`` definitions printed under the table: the output alias
        (when a row or delta uses it) and the deltas."""
        net, out = self.net, []
        names = self._latex_plain if latex else self._text_plain
        show = printing.to_latex if latex else printing.to_text
        used = set().union(*(e.free_symbols for e in self.expressions.values()),
                           *(e.free_symbols for _, e in self.deltas))
        single = self.of != "output" and net.spec.n_outputs == 1
        if single and used & set(printing.output_nodes(net)):
            plain = printing.names(net, latex=latex, template=self.template)
            node = printing.quantity(net, "output")
            out.append((names[node], plain[node]))
        for sym, expr in self.deltas:
            out.append((names[sym], show(expr, names, self._key)))
        return out

    def _notes(self, latex: bool) -> list:
        spec = self.net.spec
        notes = [spec.describe() + "; " + _FORM_WORDS[self.form],
                 printing.convention(self.template, latex)]
        if self.of == "cost":
            notes.append("C = (1/m) Σ_i L_i over m samples; [i] marks sample i" if not latex
                         else r"$C = \frac{1}{m}\sum_{i=1}^{m} L_i$ over $m$ samples;"
                              r" a superscript $(i)$ marks sample $i$")
        if self.form == "compact" and self.deltas:
            notes.append("deltas too long to write out keep their names, defined under "
                         "the table")
        if self.deltas:
            notes.append(r"$\delta_{lj} = \partial " + self._of(True) + r"/\partial z_{lj}$"
                         if latex else f"delta_lj = ∂{self._of(False)}/∂z_lj")
        return notes

    # -- formats ----------------------------------------------------------------
    def to_text(self) -> str:
        """Aligned plain text for terminals."""
        of = self._of(False)
        title = f"∂{of}/∂p for every parameter p"
        labels = [self._text_plain[p] for p in self.parameters]
        width = max(len(s) for s in labels + ["p"])
        lines = [title] + self._notes(False) + ["", f"  {'p':<{width}}  ∂{of}/∂p",
                                               f"  {'-' * width}  {'-' * (len(of) + 4)}"]
        for p, label in zip(self.parameters, labels):
            parts = linebreak.break_text(self.text_cell(p))
            lines.append(f"  {label:<{width}}  {parts[0]}")
            lines += [f"  {'':<{width}}    {part}" for part in parts[1:]]
        where = self._where(False)
        if where:
            lines += ["", "where"]
            for left, right in where:
                parts = linebreak.break_text(right)
                lines.append(f"  {left} = {parts[0]}")
                lines += [f"  {'':<{len(left)}}     {part}" for part in parts[1:]]
        return "\n".join(lines)

    def to_markdown(self) -> str:
        """A GitHub Markdown table with ``$...$`` math in the cells."""
        of = self._of(True)
        lines = [f"**Derivatives of ${of}$ by every parameter $p$**", ""]
        lines += [note + "  " for note in self._notes(True)]
        lines += ["", rf"| $p$ | $\partial {of} / \partial p$ |", "|---|---|"]
        for p in self.parameters:
            lines.append(f"| {printing.markdown_math(self._latex_plain[p])} | "
                         f"{printing.markdown_math(self.latex_cell(p))} |")
        where = self._where(True)
        if where:
            lines += ["", "where", ""] + [f"- ${left} = {right}$" for left, right in where]
        return "\n".join(lines) + "\n"

    def to_latex(self, standalone: bool = False, label: str | None = None,
                 float: bool = True) -> str:
        r"""A booktabs table (``longtable`` past :data:`LONGTABLE_ROWS` rows).

        The fragment starts its own paragraph and needs ``amsmath``, ``booktabs``
        and ``longtable``; ``standalone=True`` wraps it in a complete document.
        ``label`` adds ``\label{label}`` after the caption; ``float=False`` gives a
        bare ``tabular`` (a ``longtable`` without caption past
        :data:`LONGTABLE_ROWS` rows), the notes as a paragraph above it, that stays
        where it is written.  The definitions under the table ("where ...") follow
        the table, below it.  Long rows are broken at their ``+``/``-`` signs to fit
        the page's ``\textwidth`` (measured with pdflatex in the tests).
        """
        if label is not None and not float:
            raise SpecError("a label needs the float (the caption is what it refers to); "
                            "drop label or keep float=True")
        of = self._of(True)
        head = rf"$p$ & $\dfrac{{\partial {of}}}{{\partial p}}$ \\"
        rows = []
        for p in self.parameters:
            cell = linebreak.latex_lines(self.latex_cell(p))
            rows.append(rf"${self._latex_plain[p]}$ & ${cell}$ \\")
            if cell.startswith(r"\begin{aligned}"):   # room under a row of several lines
                rows.append(r"\addlinespace")
        if rows and rows[-1] == r"\addlinespace":
            rows.pop()
        notes = ". ".join(self._notes(True)) + "."
        caption = rf"Derivatives of ${of}$ by every parameter $p$: " + notes
        caption += rf"\label{{{label}}}" if label else ""
        where = self._where(True)
        tail = []
        if where:
            tail = [r"\par\medskip", r"\noindent where", r"\begin{align*}"]
            tail += [rf"{left} &= {linebreak.latex_lines(right, 70)} \\" for left, right in where]
            tail[-1] = tail[-1][:-3]
            tail.append(r"\end{align*}")
        tabular = [r"\begin{tabular}{@{}ll@{}}", r"\toprule", head, r"\midrule"] + rows
        tabular += [r"\bottomrule", r"\end{tabular}"]
        long = len(self.parameters) > LONGTABLE_ROWS    # breaks across pages
        if long:
            title = [rf"\caption{{{caption}}}\\"] if float else []
            body = ([r"\begin{longtable}{@{}ll@{}}"] + title
                    + [r"\toprule", head, r"\midrule", r"\endfirsthead",
                       r"\toprule", head, r"\midrule", r"\endhead",
                       r"\bottomrule", r"\endlastfoot"] + rows + [r"\end{longtable}"] + tail)
        if not float:
            intro = [r"\noindent " + caption, r"\par\medskip"]
            body = intro + (body if long else [r"\noindent"] + tabular + tail)
        elif not long:
            body = ([r"\begin{table}[htbp]", r"\centering", rf"\caption{{{caption}}}"]
                    + tabular + tail[:1] + [r"\raggedright"] * bool(tail) + tail[1:]
                    + [r"\end{table}"])
        text = "% symgrad gradient table; needs \\usepackage{amsmath,booktabs,longtable}\n"
        text += "\\par\n" + "\n".join(body) + "\n\\par\n"
        return printing.document(text) if standalone else text

    # -- display ----------------------------------------------------------------
    def __str__(self) -> str:
        return self.to_text()

    def __repr__(self) -> str:
        return (f"<GradientTable of={self.of!r} form={self.form!r} "
                f"{self.net.spec.arch}, {len(self.expressions)} rows>")

    def _repr_markdown_(self) -> str:
        return self.to_markdown()

    def _repr_html_(self) -> str | None:
        """The table with MathML cells (shown with no MathJax and no network), when
        ``latex2mathml`` is installed; else None, and Jupyter shows the forms below."""
        of = self._of(True)
        rows = [[self._latex_plain[p], self.latex_cell(p)] for p in self.parameters]
        return display.math_table_html(
            ["p", rf"\dfrac{{\partial {of}}}{{\partial p}}"], rows,
            [rf"Derivatives of ${of}$ by every parameter $p$"]
            + self._notes(True), self._where(True))

    def _repr_latex_(self) -> str:
        """MathJax-friendly LaTeX (an ``array``; MathJax has no ``tabular``)."""
        of = self._of(True)
        rows = [rf"{self._latex_plain[p]} & {linebreak.latex_lines(self.latex_cell(p))} \\"
                for p in self.parameters]
        rows += [rf"\text{{where }} {left} & = {right} \\" for left, right in self._where(True)]
        return ("$$\\begin{array}{ll}\n" + rf"p & \dfrac{{\partial {of}}}{{\partial p}} \\"
                + " \\hline\n" + "\n".join(rows) + "\n\\end{array}$$")


def gradient_table(net, of: str = "output", form: str = "compact",
                   weight_template: str = WEIGHT_TEMPLATE) -> GradientTable:
    r"""Tabulate the derivative of ``of`` by every parameter of ``net``.

    Parameters
    ----------
    net : Network
    of : {"output", "loss", "cost"}
        The network's single output, the per-sample loss ``L``, or the cost
        ``C = (1/m) sum_i L_i`` (rows are then batch means).
    form : {"compact", "expanded", "delta"}
        See the module docstring.
    weight_template : str
        How weights are written, e.g. ``"w{l}{k}{j}"`` for textbooks that put
        the from-input index first (see :func:`symgrad.spec.weight_label`).

    Returns
    -------
    GradientTable
        With ``to_text()``, ``to_markdown()``, ``to_latex(standalone=False)``.

    Raises
    ------
    SpecError
        For an unknown ``of`` or ``form``, a bad template, or ``of="output"``
        on a network with several outputs.

    Examples
    --------
    >>> from symgrad import Network
    >>> net = Network([2, 2, 1], activation="tanh")
    >>> t = gradient_table(net, of="loss")
    >>> t.latex_cell(net.weights[0])
    'x_{1} (1 - a_{11}^{2}) w_{211} (\\hat{y} - y)'
    >>> print(t.to_text().splitlines()[0])
    ∂L/∂p for every parameter p
    """
    check_choice("quantity (of)", of, printing.OF_CHOICES)
    check_choice("form", form, FORMS)
    check_weight_template(weight_template)
    source = "loss" if of == "cost" else of
    expressions = gradients(net, source, form=form)
    prog = reverse_program(net, source)
    deltas = {"delta": prog.deltas, "compact": prog.compact_deltas()}.get(form, [])
    return GradientTable(net, of, form, weight_template, expressions, deltas)


__all__ = ["GradientTable", "gradient_table", "LONGTABLE_ROWS"]
