r"""Read claims and expressions typed by people: the only place user text becomes SymPy.

User text is untrusted (it may come from a web form), so it never reaches
``eval``, ``exec``, ``sympify``, ``parse_expr`` or ``parse_latex``; all of those can
run code or hang.  Instead a hand-written tokenizer (:mod:`symgrad.claims.lexer`) and a
recursive-descent parser (:mod:`symgrad.claims.grammar`) produce a small tree, limits
(:data:`LIMITS`) are checked on the text and on the tree, and only then are SymPy
objects built with ``Add``, ``Mul``, ``Pow`` and friends from the network's own
symbols.  Plain text, LaTeX and Unicode copied from web pages are all accepted.

>>> from symgrad import Network
>>> net = Network([2, 2, 1])
>>> parse_claim(r"\frac{\partial z_{21}}{\partial w_{111}} = x_1 w_{211}", net).plain()
'dz21/dw111 = w211*x1'
>>> parse_expression("2x1w211²", net)
2*w211**2*x1
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import sympy as sp

from symgrad.claims.build import build, finish, name_table, reject_means, tree_of
from symgrad.claims.grammar import walk
from symgrad.claims.lexer import LIMITS, fail, tokenize
from symgrad.claims.nodes import (
    LHS_HELP,
    has_derivatives,
    match_delta,
    operand,
    resolve_by,
    resolve_of,
    substitute,
)
from symgrad.claims.notation import get_notation, output_spelling
from symgrad.errors import ParseError
from symgrad.spec import WEIGHT_TEMPLATE

__all__ = ["LIMITS", "Claim", "Partial", "parse_claim", "parse_derivative",
           "parse_derivative_or_expression",
           "parse_expression", "parse_quantity"]


@dataclass(frozen=True)
class Partial:
    """A derivative named on its own, such as ``dL/dw111`` (see :func:`parse_derivative`)."""

    text: str
    of: str
    of_text: str
    parameter: sp.Symbol
    notes: tuple = ()
    sample_index: str | None = None

    def plain(self) -> str:
        """``"d<of>/d<parameter>"`` in plain names."""
        return f"d{self.of_text}/d{self.parameter.name}"


@dataclass(frozen=True)
class Claim:
    """A claimed derivative ``d<of>/d<parameter> = rhs`` (see :func:`parse_claim`).

    ``of`` is ``"L"``, ``"C"`` or a node name (``"z21"``; output aliases such as
    ``yhat`` give the output node ``a{L}1``); ``of_text`` is how the user named it,
    in plain text.  ``rhs`` is in network symbols; intermediate names (``z11``,
    ``a11``, the output) stay as their symbols.  When ``per_sample_mean`` is True
    the right side was written as ``(1/m) sum_{i=1}^{m} S_i`` and ``rhs`` is the
    summand ``S`` with ``x_{i1}``, ``y_i``, ``y'_i`` read as ``x1``, ``y``, the output.
    ``parameter`` may also be a node or an input (``dL/dz11``, ``dz21/dx1``).  When
    the right side holds derivatives (``dC/dz21 * dz21/dw111``), ``rhs`` has their
    exact values, ``written`` is the right side as typed and ``chain`` the right side
    with one placeholder symbol per derivative (for the chain-rule diagnoses).
    """

    text: str
    of: str
    of_text: str
    parameter: sp.Symbol
    rhs: sp.Expr
    per_sample_mean: bool
    notes: tuple = ()
    written: str | None = None
    chain: sp.Expr | None = None
    output_name: str | None = None

    def plain(self) -> str:
        """The claim in plain names, readable again by :func:`parse_claim`."""
        if self.written is not None:
            return f"d{self.of_text}/d{self.parameter.name} = {self.written}"
        rhs = sp.sstr(self.rhs)
        if self.per_sample_mean:
            rhs = f"1/m*sum_{{i=1}}^{{m}} ({rhs})"
        return f"d{self.of_text}/d{self.parameter.name} = {rhs}"


def parse_expression(text, net, *, aliases=None, weight_template=WEIGHT_TEMPLATE,
                     notation=None) -> sp.Expr:
    """Parse an expression in the network's names into SymPy.

    Parameters
    ----------
    text : str
        Plain (``w211*x1``, ``x1w211``, ``x1^2``), LaTeX (``x_1 w_{211}``,
        ``\\sigma(z_{11})``) or Unicode (``w₂₁₁·x₁``) text.
    net : Network
        Gives the names: inputs, weights, biases, ``z``/``a`` nodes, targets, output.
    aliases : dict, optional
        ``{name: expression text}``, e.g. ``{"z_b": "z21"}``.
    weight_template : str
        How weights are named, e.g. ``"w{l}{k}{j}"`` for the from-then-to order.

    Returns
    -------
    sympy.Expr
        In network symbols; ``z11``, ``a11`` and the output stay as their symbols.

    Raises
    ------
    ParseError
        One line: what is wrong, where (column), how to fix it.

    Examples
    --------
    >>> from symgrad import Network
    >>> net = Network([2, 2, 1], activation="tanh")
    >>> parse_expression("(1 - tanh(z11)^2) x_1 w_{211}", net)
    w211*x1*(1 - tanh(z11)**2)
    """
    names = name_table(net, aliases, weight_template, notation)
    return finish(substitute(build(tree_of(text, names)), net))


# -- derivatives on the left ------------------------------------------------------
_LHS_HELP = LHS_HELP


def _braced(toks, i):
    """Inner tokens of the ``{...}`` group starting at ``toks[i]`` and the next index."""
    if i >= len(toks) or toks[i].kind != "LB":
        col = toks[i].col if i < len(toks) else toks[-1].col
        raise fail(f"\\frac at column {toks[0].col} needs two braced parts near column {col}; "
                   + _LHS_HELP)
    depth = 0
    for j in range(i, len(toks)):
        depth += {"LB": 1, "RB": -1}.get(toks[j].kind, 0)
        if depth == 0:
            return toks[i + 1:j], j + 1
    raise fail(f"'{{' at column {toks[i].col} is not closed")


def _split_lhs(toks):
    if not toks:
        raise fail("nothing before '='; " + _LHS_HELP)
    if toks[0].kind == "FRAC":
        num, i = _braced(toks, 1)
        den, j = _braced(toks, i)
        if j != len(toks) and len(num) == 1 and num[0].kind in ("PARTIAL", "WORD") \
                and num[0].text in ("∂", "d"):
            raise fail(f"derivative operator without a quantity at column {toks[0].col}: "
                       "name what is differentiated, as in ∂z11/∂w111 (not ∂/∂w111 (...))")
        if j != len(toks):
            raise fail(f"unexpected {toks[j].text!r} at column {toks[j].col} after "
                       "\\frac{..}{..} on the left side")
        return num, den
    slashes = [i for i, t in enumerate(toks) if t.kind == "OP" and t.text == "/"]
    if len(slashes) != 1:
        raise fail(f"the left side starting at column {toks[0].col} is not a derivative; "
                   + _LHS_HELP)
    return toks[:slashes[0]], toks[slashes[0] + 1:]


def _read_partial(toks, names, text):
    delta = match_delta(toks, 0, names) if toks else None
    if delta is not None and delta[0] == len(toks):
        flat = text.strip().strip("$").strip()
        of, sym = delta[2], delta[1]
        of_text = "L" if of == "L" else names.notation.cost
        what = "the delta of one sample" if of == "L" else "the cost"
        shown = names.notation.name_of(names.net, sym)
        return Partial(text, of, of_text, sym, (f"read {flat} as d{of_text}/d{shown} "
                                                f"({what})",))
    num, den = _split_lhs(toks)
    col = toks[0].col
    n_op, n_flat, n_col = operand(num, "numerator", col)
    d_op, d_flat, d_col = operand(den, "denominator", col)
    of, of_text, sample, notes = resolve_of(n_op, n_flat, n_col, names)
    param, missing = resolve_by(d_op, d_flat, d_col, names)
    if missing:
        lhs = text.strip().strip("$").strip()
        notes += (f"read {lhs} as {n_op}{of_text}/{n_op}{param.name} (the {n_op} in the "
                  "denominator was missing)",)
    return Partial(text, of, of_text, param, tuple(notes), sample)


def parse_derivative(text, net, *, aliases=None, weight_template=WEIGHT_TEMPLATE,
                     notation=None) -> Partial:
    r"""Parse a derivative named on its own, such as ``dL/dw111`` or ``∂ŷ/∂w₁₁₁``.

    Returns
    -------
    Partial
        ``of`` (``"L"``, ``"C"`` or a node name), ``of_text``, ``parameter``, ``notes``.

    Examples
    --------
    >>> from symgrad import Network
    >>> d = parse_derivative(r"\frac{\partial \hat{y}}{\partial w_{121}}", Network([2, 2, 1]))
    >>> d.of, d.of_text, d.parameter
    ('a21', 'yhat', w121)
    """
    names = name_table(net, aliases, weight_template, notation)
    toks = tokenize(text, "derivative", names.notation)[:-1]
    for t in toks:
        if t.kind == "OP" and t.text == "=":
            raise fail(f"'=' at column {t.col}: give only the derivative (or use parse_claim)")
    return _read_partial(toks, names, text)


# -- claims -------------------------------------------------------------------------
def _factors(node):
    if node[0] == "mul":
        return [f for n in node[1] for f in _factors(n)]
    if node[0] == "neg":
        return [("num", Fraction(-1))] + _factors(node[1])
    return [node]


def _split_mean(tree, of):
    """Strip ``(1/m) sum_{i=1}^{m}`` from the right side; return ``(summand, is_mean)``."""
    sums = [n for n in walk(tree) if n[0] == "sum"]
    batches = [n for n in walk(tree) if n[0] == "batch"]
    if not sums and not batches:
        return tree, False
    col = sums[0][4] if sums else batches[0][2]
    if of != "C":
        raise fail(f"the mean over samples at column {col} belongs to a claim about C (the "
                   "cost); for L or a node write the per-sample expression itself")
    factors = _factors(tree)
    top = [f for f in factors if f[0] == "sum"]
    if len(sums) != 1 or len(top) != 1:
        raise fail(f"the sum at column {col} must multiply the whole right side, as in "
                   "\\frac{1}{m}\\sum_{i=1}^{m} (y - yhat) x_{i1}")
    s = top[0]
    rest = [f for f in factors if f is not s] + _factors(s[3])
    inv = [f for f in rest if f[0] == "inv" and f[1][0] == "batch"]
    if len(inv) != 1 or len(batches) != 1:
        raise fail(f"the sum at column {col} needs exactly one 1/m in front: C is the mean "
                   "over the batch, so write \\frac{1}{m}\\sum_{i=1}^{m} ... (the bare sum "
                   "is m times C)")
    letter = inv[0][1][1]
    if s[2] is not None and s[2] != letter:
        raise fail(f"the sum at column {col} runs to {s[2]} but the factor is 1/{letter}; "
                   "use the same batch size")
    rest = [f for f in rest if f is not inv[0]]
    return ("mul", rest or [("num", Fraction(1))], False), True


def parse_claim(text, net, *, aliases=None, weight_template=WEIGHT_TEMPLATE,
                     notation=None) -> Claim:
    r"""Parse a claimed derivative ``d<of>/d<parameter> = <expression>``.

    The left side may be ``dz21/dw111``, ``∂L/∂w111``, ``d z_{21} / d w_{111}``,
    ``\frac{\partial z_{21}}{\partial w_{111}}``, ``\frac{dL}{dw_{111}}``, ``∂L_i/∂w111``
    or the sloppy ``\frac{∂C}{w_{111}}`` (read with a note).  ``of`` may be ``L``,
    ``C``, a node ``z{l}{j}``/``a{l}{j}``, the output (``yhat``, ``\hat{y}``, ``y'``,
    ``ŷ``, ``z_{L1}``) or an alias.  See ``docs/claims.md`` for every form.

    Returns
    -------
    Claim

    Raises
    ------
    ParseError
        With the column and a fix, before any SymPy work when a limit is passed.

    Examples
    --------
    >>> from symgrad import Network
    >>> net = Network([2, 2, 1])
    >>> c = parse_claim(r"\frac{∂C}{w_{111}} = \frac{1}{m} \sum_{i=1}^m (y-y')x_{i1}", net)
    >>> c.of, c.parameter, c.rhs, c.per_sample_mean
    ('C', w111, x1*(-a21 + y), True)
    >>> c.notes[0]
    'read \\frac{∂C}{w_{111}} as ∂C/∂w111 (the ∂ in the denominator was missing)'
    """
    names = name_table(net, aliases, weight_template, notation)
    toks = tokenize(text, "claim", names.notation)
    eqs = [i for i, t in enumerate(toks) if t.kind == "OP" and t.text == "="]
    if not eqs:
        raise fail("a claim needs '=': write d<of>/d<parameter> = <expression>, "
                   "e.g. dz21/dw111 = w211*x1")
    if len(eqs) > 1:
        raise fail(f"a claim has one '=' but there are {len(eqs)} (columns "
                   f"{', '.join(str(toks[i].col) for i in eqs)}); split 'A = B = C' into two")
    i = eqs[0]
    if toks[i + 1].kind == "END":
        raise fail(f"nothing after '=' at column {toks[i].col}; write the claimed derivative")
    d = _read_partial(toks[:i], names, text[:toks[i].col - 1])
    samples = (d.sample_index,) if d.sample_index else ()
    tree = tree_of(toks[i + 1:], names, "claim", samples, allow_mean=True)
    tree, mean = _split_mean(tree, d.of)
    reject_means(tree)
    notes = d.notes + (("read the right side as (1/m) times the sum over samples of the "
                        "summand; the claim is checked summand by summand",) if mean else ())
    raw = build(tree)
    rhs = finish(substitute(raw, net), "right side")
    written = None
    if has_derivatives(raw):
        written = text[toks[i].col:].strip().strip("$").strip()
    return Claim(text, d.of, d.of_text, d.parameter, rhs, mean, notes, written,
                 raw if written is not None else None, output_spelling(text))


def parse_quantity(text, net, *, aliases=None, weight_template=WEIGHT_TEMPLATE,
                     notation=None):
    """A derivative (:class:`Partial`) when ``text`` is one, else an expression.

    For commands that take either, such as ``symgrad compare 2-2-1 dL/dw111 x1``.

    >>> from symgrad import Network
    >>> net = Network([2, 2, 1])
    >>> parse_quantity("dL/dw111", net).plain(), parse_quantity("x1 w211", net)
    ('dL/dw111', w211*x1)
    """
    kw = dict(aliases=aliases, weight_template=weight_template, notation=notation)
    try:
        return parse_derivative(text, net, **kw)
    except ParseError as d_err:
        try:
            return parse_expression(text, net, **kw)
        except ParseError as e_err:
            toks = tokenize(text, "expression", get_notation(notation))
            looks = any(t.kind == "PARTIAL" for t in toks) or (
                toks[0].kind in ("FRAC", "WORD") and toks[0].text.startswith(("d", "frac"))
                and any(t.kind == "OP" and t.text == "/" for t in toks))
            raise (d_err if looks else e_err) from None


def parse_derivative_or_expression(text, net, *, aliases=None,
                                   weight_template=WEIGHT_TEMPLATE, notation=None):
    """Like :func:`parse_quantity`, but a derivative comes back as ``(of, parameter)``.

    >>> from symgrad import Network
    >>> parse_derivative_or_expression("∂L/∂w₁₂₁", Network([2, 2, 1]))
    ('L', w121)
    """
    q = parse_quantity(text, net, aliases=aliases, weight_template=weight_template,
                       notation=notation)
    return (q.of, q.parameter) if isinstance(q, Partial) else q
