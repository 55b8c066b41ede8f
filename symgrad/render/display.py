r"""Rich display in Jupyter: verdicts, comparisons, check reports and training results.

Each report is first laid out as *lines* of *segments* -- ``("text", s)``,
``("code", s)`` (what the user typed, shown as typed) and ``("math", tex)`` --
plus, where the report is a table, ``("table", head, rows)``.  One layout, three
writers: :func:`to_html` (the math as MathML when ``latex2mathml`` is installed,
the ``notebook`` extra, so it shows with no MathJax and no network; else as
``\(..\)`` for Jupyter's MathJax), :func:`to_markdown` (``$..$`` math) and
:func:`to_latex` (for nbconvert's LaTeX/PDF export; ASCII only, so pdflatex takes
it).  The words are those of ``print``; only the expressions become math.

Expressions in a report are text that symgrad wrote (SymPy's ``str`` with the
network's names); :func:`tex_of` turns such text into LaTeX by its tokens alone.
Nothing here evaluates or parses text into SymPy.

>>> tex_of("w211*x1*(1 - a11**2)")
'w_{211} \\, x_{1} \\, (1 - a_{11}^{2})'
>>> tex_of("yhat - y + w_1_10_2/delta21")
'\\hat{y} - y + w_{1,10,2}/\\delta_{21}'
"""

from __future__ import annotations

import html
import re

from symgrad.render import mathml

_TOKEN = re.compile(r"\s+|\*\*|[A-Za-z_][A-Za-z0-9_]*|\d+\.?\d*(?:[eE][-+]?\d+)?|.")
_GREEK = {"alpha", "beta", "gamma", "delta", "epsilon", "eta", "theta", "lambda", "mu",
          "sigma", "tau", "phi", "psi", "omega"}
_TEX_FUNCTIONS = {"tanh", "exp", "log", "sin", "cos", "max", "min"}


def _name(name: str) -> str:
    """LaTeX of one name: ``w111`` -> ``w_{111}``, ``w_1_10_2`` -> ``w_{1,10,2}``."""
    m = re.fullmatch(r"([A-Za-z]+?)_?(\d+(?:_\d+)*)", name) or re.fullmatch(
        r"([A-Za-z]+)_([A-Za-z0-9]+)", name)
    stem, index = (m.group(1), m.group(2).replace("_", ",")) if m else (name, "")
    if stem == "yhat":
        base = r"\hat{y}"
    elif stem in _GREEK:
        base = "\\" + stem
    elif stem in _TEX_FUNCTIONS:
        base = "\\" + stem
    elif len(stem) > 1:
        base = r"\operatorname{" + stem + "}"
    else:
        base = stem
    return base + ("_{" + index + "}" if index else "")


def _operand(tokens: list, i: int) -> tuple:
    """The exponent after ``**`` at ``tokens[i]``: ``(tex, next index)``."""
    if tokens[i] == "(":
        depth, j = 0, i
        while j < len(tokens):
            depth += {"(": 1, ")": -1}.get(tokens[j], 0)
            if depth == 0:
                break
            j += 1
        return tex_of("".join(tokens[i + 1:j])), j + 1
    if tokens[i] == "-" and i + 1 < len(tokens):
        tex, j = _operand(tokens, i + 1)
        return "-" + tex, j
    return _name(tokens[i]) if tokens[i][0].isalpha() else tokens[i], i + 1


def tex_of(text: str) -> str:
    """LaTeX of an expression as symgrad prints it (names, numbers, ``+ - * / **``)."""
    tokens = [t for t in _TOKEN.findall(text) if not t.isspace()]
    out: list[str] = []
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if tok == "**" and i + 1 < len(tokens):
            tex, i = _operand(tokens, i + 1)
            out[-1:] = [(out[-1] if out else "") + "^{" + tex + "}"]
            continue
        if tok[0].isalpha() or tok[0] == "_":
            out.append(_name(tok))
        elif tok == "*":
            out.append(r"\,")
        elif tok in "+-=<>":
            out.append(tok)
        else:
            out.append(tok)
        i += 1
    text = ""
    for i, piece in enumerate(out):
        unary = i > 0 and out[i - 1] == "-" and (i == 1 or out[i - 2] in "(=,")
        function = i and re.fullmatch(r"\\[A-Za-z]+|\\operatorname\{\w+\}", out[i - 1])
        glued = piece.startswith((")", ",")) or (piece.startswith("(") and bool(function))
        text += piece if not text or unary or glued or text.endswith("(") else " " + piece
    return text.replace(" / ", "/").replace("/ ", "/").replace(" /", "/")


# -- writers ----------------------------------------------------------------------------
def _html_math(tex: str) -> str:
    if mathml.available():
        return mathml.to_mathml(tex)
    return html.escape(r"\(" + tex + r"\)")


def _html_segment(segment) -> str:
    kind, value = segment
    if kind == "math":
        return _html_math(value)
    if kind == "code":
        return f"<code>{html.escape(value)}</code>"
    return html.escape(value)


def _html_table(head, rows) -> str:
    cells = "".join(f"<th>{html.escape(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>"
                   for row in rows)
    return (f'<table class="symgrad-table"><thead><tr>{cells}</tr></thead>'
            f"<tbody>{body}</tbody></table>")


def to_html(lines) -> str:
    """The lines as an HTML fragment (math as MathML when available)."""
    parts = []
    for line in lines:
        if line and line[0] == "table":
            parts.append(_html_table(line[1], line[2]))
        else:
            parts.append("<div>" + "".join(_html_segment(s) for s in line) + "</div>")
    return '<div class="symgrad-report">' + "".join(parts) + "</div>"


def _markdown_segment(segment) -> str:
    kind, value = segment
    if kind == "math":
        return "$" + value.replace("|", r"\vert ") + "$"
    if kind == "code":
        return "`" + value.replace("`", "'") + "`"
    return re.sub(r"([\\`*_\[\]<>|$])", r"\\\1", value)


def to_markdown(lines) -> str:
    """The lines as Markdown (``$..$`` math); a table becomes a Markdown table."""
    out = []
    for line in lines:
        if line and line[0] == "table":
            head, rows = line[1], line[2]
            out += ["", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
            out += ["| " + " | ".join(rows_cell.replace("|", r"\|") for rows_cell in row)
                    + " |" for row in rows]
            out.append("")
        else:
            out.append("".join(_markdown_segment(s) for s in line) + "  ")
    return "\n".join(out).strip() + "\n"


#: Characters of the text reports that pdflatex's default fonts lack.
_LATEX_CHARS = {"\u2713": "OK", "\u2717": "WRONG", "\u2202": "d", "\u03a3": "sum",
                "\u2192": "->", "\u00b7": "*", "\u03b4": "delta"}


def _latex_text(value: str) -> str:
    value = "".join(_LATEX_CHARS.get(ch, ch) for ch in value)
    value = value.encode("ascii", "replace").decode()
    return re.sub(r"([\\{}$&#%_^~])", lambda m: {"\\": r"\textbackslash{}", "^": r"\^{}",
                                                 "~": r"\~{}"}.get(m.group(), "\\" + m.group()),
                  value)


def to_latex(lines) -> str:
    """The lines as LaTeX text mode (math in ``$..$``, typed text in ``\\texttt``)."""
    out = []
    for line in lines:
        if line and line[0] == "table":
            head, rows = line[1], line[2]
            body = [" & ".join(r"\texttt{" + _latex_text(c) + "}" for c in row) + r" \\"
                    for row in rows]
            out.append("\n".join([r"\begin{tabular}{" + "l" * len(head) + "}",
                                   " & ".join(_latex_text(h) for h in head) + r" \\ \hline"]
                                  + body + [r"\end{tabular}"]))
            continue
        parts = []
        for kind, value in line:
            if kind == "math":
                parts.append(f"${value}$")
            elif kind == "code":
                parts.append(r"\texttt{" + _latex_text(value) + "}")
            else:
                parts.append(_latex_text(value))
        out.append("".join(parts))
    return "\\par\n" + " \\\\\n".join(out) + "\n\\par\n"


def prose_html(text: str) -> str:
    """HTML of prose with ``$..$`` inline math (as the LaTeX headings of tables and
    derivations have it), the math as MathML."""
    parts = text.split("$")
    return "".join(_html_math(part) if i % 2 else html.escape(part)
                   for i, part in enumerate(parts))


def math_table_html(head: list, rows: list, notes: list, where: list) -> str | None:
    """An HTML table whose cells are LaTeX math (MathML), notes (prose with ``$..$``)
    above it and ``where`` definitions ``(left, right)`` below; None without
    ``latex2mathml`` (Jupyter then shows the Markdown or LaTeX form)."""
    if not mathml.available():
        return None
    out = ['<div class="symgrad-report">'] + [f"<div>{prose_html(n)}</div>" for n in notes]
    out.append('<table class="symgrad-table"><thead><tr>'
               + "".join(f"<th>{mathml.to_mathml(h)}</th>" for h in head)
               + "</tr></thead><tbody>")
    cell = '<td style="text-align: left; padding: 2px 12px 2px 0">'
    out += ["<tr>" + "".join(f"{cell}{mathml.to_mathml(c)}</td>" for c in row) + "</tr>"
            for row in rows]
    out.append("</tbody></table>")
    if where:
        out.append("<div>where</div>")
        out += [f"<div>{mathml.to_mathml(f'{left} = {right}')}</div>" for left, right in where]
    return "".join(out) + "</div>"


def sections_html(sections: list) -> str | None:
    """HTML of a derivation's ``[(heading, align body)]``, the math as MathML; None
    without ``latex2mathml``."""
    if not mathml.available():
        return None
    out = ['<div class="symgrad-report">']
    for heading, body in sections:
        out.append(f"<p>{prose_html(heading)}</p>")
        if body:
            out.append(mathml.to_mathml(r"\begin{align*}" + body + r"\end{align*}",
                                        display=True))
    return "".join(out) + "</div>"


# -- layouts: the lines of ``print``, with the expressions marked as math ---------------
_SYMBOLIC = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|\d+\.?\d*|\*\*|[-+*/()=, ]")


def _is_expression(text: str) -> bool:
    """True for symgrad's expression text (``w211*x1 = 0``), False for prose."""
    words = re.findall(r"[A-Za-z_][A-Za-z0-9_]*", text)
    return bool(words) and "".join(_SYMBOLIC.findall(text)) == text and all(
        re.fullmatch(r"[A-Za-z]\d*|yhat\d*|[A-Za-z]+_?\d[\d_]*|[a-z]_[A-Za-z0-9]+|tanh|exp|log",
                     w) for w in words)


def _labelled(label: str, value: str) -> list:
    """``    label:   value`` with the value as math when it is an expression."""
    kind = "math" if _is_expression(value) else "text"
    return [("text", label.strip() + " "), (kind, tex_of(value) if kind == "math" else value)]


def verdict_lines(verdict) -> list:
    """The lines of ``print(verdict)``: mark and claim, then labelled values."""
    first, *rest = verdict.to_text().splitlines()
    mark, claim = first.split(" ", 1)
    tail = ""
    if verdict.correct and claim.endswith(f"({verdict.method})"):
        claim, tail = claim[:-len(verdict.method) - 2].rstrip(), f"  ({verdict.method})"
    lines = [[("text", mark + " "), ("code", claim)] + ([("text", tail)] if tail else [])]
    for line in rest:
        label, _, value = line.strip().partition(":")
        if label == "true":
            lines.append(_labelled(label + ":", value.strip()))
        else:
            lines.append([("text", re.sub(r"^([\w ]+:)\s+", r"\1 ", line.strip()))])
    return lines


def comparison_lines(comparison) -> list:
    """The lines of ``print(comparison)``: both sides, the outcome, the evidence."""
    lines = []
    for label, value in ((comparison.first, comparison.first_value),
                         (comparison.second, comparison.second_value)):
        if value is not None:
            lines.append([("code", label), ("text", " = "),
                          ("math", tex_of(value)) if _is_expression(value) else ("text", value)])
    body = comparison.to_text().splitlines()[len(lines):]
    for line in body:
        label, _, value = line.strip().partition(":")
        if label == "difference":
            lines.append(_labelled("difference:", value.strip()))
        elif line.strip().startswith("equal exactly when "):
            parts: list = [("text", "equal exactly when ")]
            for i, cond in enumerate(comparison.conditions):
                parts += [("text", ", or ")] if i else []
                parts.append(("math", tex_of(cond)) if _is_expression(cond) else ("text", cond))
            lines.append(parts)
        else:
            lines.append([("text", re.sub(r"^([\w ]+:)\s+", r"\1 ", line.strip()))])
    return lines


def check_lines(report) -> list:
    """The lines of ``print(report)``, its rows as a table."""
    text = report.to_text().splitlines()
    src = report.sources
    head = ["parameter"] + src + ["rel error", "band", "disagrees"]
    rows = [[r.parameter] + [f"{r.values[s]:.12e}" for s in src]
            + [f"{r.rel_error:.1e}", r.band, r.culprit or "-"] for r in report.rows]
    notes = text[:len(text) - len(rows) - 2]
    return [[("text", line)] for line in notes] + [("table", head, rows), [("text", text[-1])]]


def training_lines(result) -> list:
    """The lines of ``print(result)``, the parameters (start -> end) as a table."""
    lines: list = []
    rows: list = []
    in_table = False
    for line in result.to_text().splitlines():
        if line == "parameters (start -> end):":
            lines.append([("text", line)])
            in_table = True
        elif in_table and line.startswith("  ") and "->" in line:
            name, start, _, end = line.split()
            rows.append([name, start, end])
        else:
            if in_table:
                lines.append(("table", ["parameter", "start", "end"], rows))
                in_table = False
            lines.append([("text", line)])
    return lines


class RichDisplay:
    """Mixin for a report class: Jupyter's ``_repr_html_``, ``_repr_markdown_`` and
    ``_repr_latex_``, all from the class's ``_display_lines()`` (a layout above)."""

    def _display_lines(self) -> list:
        raise NotImplementedError

    def _repr_html_(self) -> str:
        return to_html(self._display_lines())

    def _repr_markdown_(self) -> str:
        return to_markdown(self._display_lines())

    def _repr_latex_(self) -> str:
        return to_latex(self._display_lines())


class ReportList(list):
    """A list of reports (verdicts) that displays as its items, one after the other."""

    def _repr_html_(self) -> str:
        return "".join(item._repr_html_() for item in self)

    def _repr_markdown_(self) -> str:
        return "\n".join(item._repr_markdown_() for item in self)


__all__ = ["ReportList", "RichDisplay", "check_lines", "comparison_lines", "math_table_html",
           "prose_html", "sections_html", "tex_of", "to_html", "to_latex", "to_markdown",
           "training_lines", "verdict_lines"]
