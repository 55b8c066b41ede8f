r"""Line breaking for long expressions: LaTeX at ``+``/``-`` signs, plain text likewise.

LaTeX's ``\left``/``\right`` pairs may not span lines, so a long parenthesised sum
that has to break becomes ``\bigl( ... \bigr)``; plain parentheses break the same
way.  Signs inside braces (``\frac{..}{..}``) and environments (``cases``) never
break, so :func:`unbrace_functions` first takes SymPy's braces off function
arguments (``\tanh{\left(..\right)}`` -> ``\tanh\left(..\right)``), and
:func:`size_parentheses` keeps ``\left``/``\right`` only around what is taller
than a line.  Widths are rough character counts; the tests measure the result
with pdflatex (no overfull box wider than 10 pt on an expanded 2-4-4-1 tanh table).
"""

from __future__ import annotations

import re

#: Visible width (characters, roughly) past which a LaTeX expression is broken.
LATEX_WIDTH = 48
#: Width past which a text expression is wrapped.
TEXT_WIDTH = 72

_LATEX_TOKENS = re.compile(r"\\left(?![A-Za-z])|\\right(?![A-Za-z])|\\begin\b|\\end\b"
                           r"|(?<!\\)\{|(?<!\\)\}|(?<!\\)(?<!\\left)\(|(?<!\\)(?<!\\right)\)"
                           r"| [+-] ")
#: Constructs taller than a line of text: parentheses around them stay ``\left``/``\right``.
_TALL = re.compile(r"\\(frac|dfrac|tfrac|sum|prod|int|begin|left|bigl|binom)(?![A-Za-z])")


def latex_width(tex: str) -> int:
    """Rough printed width of a LaTeX math string, in characters of normal size
    (sub- and superscripts count half)."""
    tex = re.sub(r"\\(left|right|bigl|bigr|operatorname|quad)(?![A-Za-z])", "", tex)
    tex = re.sub(r"\\[A-Za-z]+", "x", tex)
    small = sum(len(m) for m in re.findall(r"[_^]\{([^{}]*)\}", tex))
    return len(re.sub(r"[{}_^ &]|\\,", "", tex)) - small // 2


def _latex_scan(tex: str):
    r"""Signs and ``\left``/``\right`` groups outside braces and environments.

    Returns ``(cuts, groups)``: ``cuts`` is ``[(position, group)]`` for every
    ``" + "``/``" - "`` (``group`` is the index of the innermost enclosing group, or
    None at the top), ``groups`` is ``[[open, close, parent]]`` (token positions).
    """
    brace = env = 0
    cuts: list[tuple[int, int | None]] = []
    groups: list[list[int | None]] = []
    stack: list[int] = []
    for m in _LATEX_TOKENS.finditer(tex):
        tok = m.group()
        if tok in "{}":
            brace += 1 if tok == "{" else -1
        elif tok in ("\\begin", "\\end"):
            env += 1 if tok == "\\begin" else -1
        elif brace or env:
            continue
        elif tok in ("\\left", "("):
            groups.append([m.start(), None, stack[-1] if stack else None])
            stack.append(len(groups) - 1)
        elif tok in ("\\right", ")"):
            if stack:
                groups[stack.pop()][1] = m.start()
        elif m.start() > 0:
            cuts.append((m.start(), stack[-1] if stack else None))
    return cuts, groups


def _pack(text: str, cuts, width: int, measure) -> list:
    """Greedily fill lines of at most ``width`` from the pieces between ``cuts``."""
    bounds = [0] + [c for c in cuts] + [len(text)]
    pieces = [text[a:b].strip() for a, b in zip(bounds, bounds[1:])]
    lines = [pieces[0]]
    for piece in pieces[1:]:
        if measure(lines[-1]) + measure(piece) > width:
            lines.append(piece)
        else:
            lines[-1] += " " + piece
    return lines


def break_latex(tex: str, width: int = LATEX_WIDTH) -> list:
    r"""Split a LaTeX math string at its ``+``/``-`` signs into lines of about ``width``.

    Signs at the top level break first; signs inside a parenthesised group may
    break when the group (and every group around it) is itself wide.  Such groups
    become ``\bigl( ... \bigr)``, since ``\left``/``\right`` may not span lines.

    >>> break_latex("a + b + c", width=3)
    ['a + b', '+ c']
    >>> break_latex(r"x \left(a + b\right) + c", width=4)
    ['x \\bigl(a', '+ b\\bigr)', '+ c']
    """
    if latex_width(tex) <= width:
        return [tex]
    cuts, groups = _latex_scan(tex)
    ok: dict[int, bool] = {}
    for i, (start, end, parent) in enumerate(groups):  # parents come first
        wide = end is not None and latex_width(tex[start + 1:end]) > width // 2
        ok[i] = wide and (parent is None or ok[parent])
    allowed = [p for p, g in cuts if g is None or ok[g]]
    if not allowed:
        return [tex]

    def replaced(at) -> int:  # characters of \left / \right replaced (none before "(")
        return 5 if tex.startswith("\\left", at) else 6 if tex.startswith("\\right", at) else 0

    edits = sorted([(groups[i][0], replaced(groups[i][0]), "\\bigl") for i in ok if ok[i]]
                   + [(groups[i][1], replaced(groups[i][1]), "\\bigr") for i in ok if ok[i]])
    out, pos, shift = [], 0, {}
    for at, size, new in edits:
        out.append(tex[pos:at] + new)
        pos = at + size
        shift[at] = size - len(new)
    text = "".join(out) + tex[pos:]
    moved = [p - sum(d for at, d in shift.items() if at < p) for p in allowed]
    return _pack(text, moved, width, latex_width)


def _pairs(tex: str, opener: str, closer: str) -> dict:
    """``{open: close}`` positions of matched ``opener``/``closer`` tokens (regexes)."""
    pairs, stack = {}, []
    for m in re.finditer(f"(?P<o>{opener})|(?P<c>{closer})", tex):
        if m.group("o") is not None:
            stack.append(m)
        elif stack:
            pairs[stack.pop().start()] = m
    return pairs


#: Commands whose braces hold an argument of their own (``\frac{..}{..}``): kept.
_BRACED = re.compile(r"\\(frac|dfrac|tfrac|sqrt|binom|hat|bar|tilde|overline|underline"
                     r"|mathrm|mathbf|mathit|mathsf|operatorname|text)$")


def unbrace_functions(tex: str) -> str:
    r"""``\tanh{\left(..\right)}`` -> ``\tanh\left(..\right)``: SymPy's braces around a
    function's argument would hide the argument's signs from line breaking.

    >>> unbrace_functions(r"\tanh^{2}{\left(a + b \right)} c")
    '\\tanh^{2}\\left(a + b \\right) c'
    >>> unbrace_functions(r"\frac{\left(a + b\right)}{2}")
    '\\frac{\\left(a + b\\right)}{2}'
    """
    braces = _pairs(tex, r"(?<!\\)\{", r"(?<!\\)\}")
    lefts = _pairs(tex, r"\\left(?![A-Za-z])", r"\\right(?![A-Za-z])")
    drop = set()
    for start, close in braces.items():
        inner = lefts.get(start + 1)
        if (inner is not None and tex[inner.end():inner.end() + 1] in ")]"
                and inner.end() + 1 == close.start()
                and re.search(r"\\[A-Za-z]+(\^\{[^{}]*\})?$", tex[:start])
                and not _BRACED.search(tex[:start])):
            drop |= {start, close.start()}
    return "".join(ch for i, ch in enumerate(tex) if i not in drop)


def size_parentheses(tex: str) -> str:
    r"""``\left( .. \right)`` -> ``( .. )`` unless the inside is taller than a line
    (a fraction, a sum, an environment, or parentheses that stay sized).

    >>> size_parentheses(r"x \left(1 - a^{2}\right) \left(\frac{1}{m} + b\right)")
    'x (1 - a^{2}) \\left(\\frac{1}{m} + b\\right)'
    """
    while True:
        lefts = _pairs(tex, r"\\left\(", r"\\right\)")
        plain = [(start, m) for start, m in lefts.items()
                 if not _TALL.search(tex[start + 6:m.start()])]
        if not plain:
            return tex
        for start, m in sorted(plain, key=lambda p: p[0], reverse=True):
            tex = tex[:start] + "(" + tex[start + 6:m.start()].rstrip() + ")" + tex[m.end():]


def latex_lines(tex: str, width: int = LATEX_WIDTH) -> str:
    r"""``tex`` unchanged when it fits, else an ``aligned`` block of broken lines."""
    lines = break_latex(tex, width)
    if len(lines) == 1:
        return tex
    rest = "".join(r" \\ &\quad {}" + line for line in lines[1:])
    return r"\begin{aligned}[t] &" + lines[0] + rest + r" \end{aligned}"


def break_text(text: str, width: int = TEXT_WIDTH) -> list:
    """Split plain text at ``+``/``-`` signs into lines of about ``width``.

    A sign inside parentheses may break only when the parenthesised group (and
    every group around it) is itself wide, as in :func:`break_latex`.

    >>> break_text("x1*(a + b + c)", width=8)
    ['x1*(a + b', '+ c)']
    """
    if len(text) <= width:
        return [text]
    stack, groups, cuts = [], {}, []
    for i, ch in enumerate(text):
        if ch in "([":
            stack.append(i)
        elif ch in ")]" and stack:
            groups[stack.pop()] = i
        elif i and text[i:i + 3] in (" + ", " - "):
            cuts.append((i, tuple(stack)))
    allowed = [i for i, opens in cuts
               if all(groups.get(o, len(text)) - o > width // 2 for o in opens)]
    return _pack(text, allowed, width, len) if allowed else [text]
