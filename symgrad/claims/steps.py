r"""Multi-step derivations, checked step by step: which line is the first wrong one, and why.

A derivation is a claim followed by further right-hand sides for the same
derivative, one per line::

    dL/dw111 = (a21 - y) * dz21/dw111
             = (a21 - y) * w211 * x1

or a LaTeX ``align`` / ``align*`` / ``aligned`` / ``eqnarray`` block with ``&=``
and ``\\``.  Every step is decided as the claim ``d<of>/d<x> = <its right side>``
by :func:`symgrad.claims.verify.check_claim` (the same parser, budget and
diagnosis as any claim), and each step is also compared with the one before it,
so that a step that cancels an earlier mistake is named as such.

>>> from symgrad import Network
>>> result = verify_derivation(Network([2, 2, 1]), "dz21/dw111 = w211*x1\n= x1*w211")
>>> result.correct, result.first_wrong_step
(True, None)
"""

from __future__ import annotations

import re
from contextlib import nullcontext
from dataclasses import dataclass, field

from symgrad import budget
from symgrad.claims.case import Names, check_aliases, check_network
from symgrad.claims.equivalence import decide
from symgrad.claims.points import POINTS
from symgrad.claims.verify import ASCII_MARKS, MARKS, Verdict, check_claim
from symgrad.errors import ParseError, SpecError, SpecTypeError, SymgradError
from symgrad.spec import WEIGHT_TEMPLATE

__all__ = ["DerivationVerdict", "Step", "read_steps", "verify_derivation"]

#: Largest number of steps in one derivation.
MAX_STEPS = 200
_ENVIRONMENTS = r"align|aligned|eqnarray|equation|split|gather|gathered|multline|displaymath"
_BLANK_OUT = re.compile(r"\\(?:begin|end)\{(?:" + _ENVIRONMENTS + r")\*?\}|\\nonumber|\\notag"
                        r"|\\label\{[^{}]*\}|\\(?:left|right)(?=[(\[|.])|&|\\[\[\]]|\$\$")
#: Punctuation that ends a row in running text (not the point of a number).
_TRAILING = re.compile(r"(?<![0-9])[.,;]\s*$|[,;]\s*$")
_COLUMN = re.compile(r"\bcolumn (\d+)")
#: What a step says about the one before it (``{prev}``: that step's number).
ENTERS = "the mistake enters here (step {prev} was right)"
UNDOES = "undoes the mistake of step {prev}: the two mistakes cancel"
CARRIES = "follows from step {prev}, carrying its mistake over"
ANOTHER = "differs from step {prev} too: a further mistake on top of the earlier one"


@dataclass(frozen=True)
class Row:
    """One step as written: its text, its line (1-based) and the column it starts at."""

    text: str
    line: int
    column: int


def _rows(text: str) -> list[Row]:
    r"""The non-empty rows of ``text``: comments, environments, ``&`` and ``\\`` removed.

    Removed parts become spaces, so that a row's columns are those of its line.
    """
    rows = []
    for number, line in enumerate(text.splitlines(), 1):
        comment = re.search(r"(?<!\\)%", line)
        if comment:
            line = line[:comment.start()]
        if line.lstrip().startswith(("#", "```", "~~~")):
            continue
        line = _BLANK_OUT.sub(lambda m: " " * len(m.group()), line)
        start = 0
        for part in line.split("\\\\") + [""]:
            stripped = _TRAILING.sub("", part.strip()).rstrip()
            if stripped:
                rows.append(Row(stripped, number, start + len(part) - len(part.lstrip()) + 1))
            start += len(part) + 2
    return rows


def _unreadable(message: str, pieces: list[tuple[int, Row]]) -> ParseError:
    """``message`` about a claim made of ``pieces`` (``(claim column, row)``), in file terms.

    Each ``column N`` of the message is moved to the column of the line it falls on,
    and the message starts with that line.
    """
    lines = []

    def move(match) -> str:
        column = int(match.group(1))
        start, row = next(((c, r) for c, r in reversed(pieces) if c <= column), pieces[0])
        lines.append(row.line)
        return f"column {max(1, column - start + row.column)}"

    moved = _COLUMN.sub(move, message)
    line = lines[0] if lines else pieces[-1][1].line
    if not lines:
        moved = f"{moved} (the step starting at column {pieces[-1][1].column})"
    return ParseError(f"line {line}: {moved}")


@dataclass
class Written:
    """One step as read: the claim it is checked as and the rows it came from.

    ``pieces`` are ``(column in claim, row)``: where each row's text starts in ``claim``.
    """

    claim: str
    pieces: list[tuple[int, Row]]
    line: int
    text: str
    lhs: str = ""                 # the left side it is a step of (rows may change it)

    def extend(self, row: Row) -> None:
        """Add a continuation row (one starting with ``+``, ``-``, ``*`` ...)."""
        self.pieces.append((len(self.claim) + 2, row))
        self.claim = f"{self.claim} {row.text}"
        self.text = f"{self.text} {row.text}"


_CONTINUATION = re.compile(r"(?:[-+*/\u00b7\u00d7\u2212\u22c5]|\\cdot\b|\\times\b)")


def read_steps(text: str) -> tuple[Row, list[Written]]:
    """The derivative written on the left of the first step (a row) and the steps.

    A later step starts with ``=`` (it continues the last left side written), or
    has a left side of its own: the first one again, or another derivative, as in
    a derivation of ``dC/dw111`` that works out ``dL/dw111`` or ``delta21`` on the
    way; a row starting with an operator (``+``, ``-``, ``*``, ``/``, ``·``,
    ``\\cdot``) continues the step before it.  Raises
    :class:`~symgrad.errors.ParseError` (naming line and column) when the text is
    not a derivation: no first claim, or a later row that is none of these.
    """
    if not isinstance(text, str):
        raise SpecTypeError(f"a derivation must be a string, got {type(text).__name__}")
    rows = _rows(text)
    if not rows:
        raise ParseError("the derivation is empty; write a claim such as dz21/dw111 = w211*x1 "
                         "and then one '= ...' step per line")
    if len(rows) > MAX_STEPS:
        raise ParseError(f"the derivation has {len(rows)} rows; the limit is {MAX_STEPS}")
    first = rows[0]
    lhs, sep, _ = first.text.partition("=")
    if not sep and len(rows) > 1 and rows[1].text.startswith("="):
        lhs, rows = first.text, rows[1:]      # the derivative alone on the first line
        steps = [Written(f"{lhs} {rows[0].text}", [(1, first), (len(lhs) + 2, rows[0])],
                         rows[0].line, rows[0].text)]
    elif sep and lhs.strip():
        lhs = lhs.strip()
        steps = [Written(first.text, [(1, first)], first.line, first.text)]
    else:
        raise ParseError(f"line {first.line}, column {first.column}: the first step must be a "
                         "claim d<of>/d<x> = ..., such as dz21/dw111 = w211*x1")
    steps[0].lhs = current = lhs
    for row in rows[1:]:
        left, sep, _ = row.text.partition("=")
        if sep and left.strip():                  # a left side: the first one, or another
            current = left.strip()
            steps.append(Written(row.text, [(1, row)], row.line, row.text, current))
        elif row.text.startswith("="):
            steps.append(Written(f"{current} {row.text}", [(len(current) + 2, row)],
                                 row.line, row.text, current))
        elif _CONTINUATION.match(row.text):
            steps[-1].extend(row)
        else:
            raise ParseError(f"line {row.line}, column {row.column}: a step after the first "
                             "must start with '=' (as in '= w211*x1', or '&= ...' in LaTeX) "
                             "or be a claim of its own, as in dL/dz21 = a21 - y")
    return Row(lhs, first.line, first.column), steps


_CHAIN = "    the right chain:"


@dataclass
class Step:
    """The verdict on one step: ``verdict`` as for a claim, and how it relates to the last."""

    step: int
    line: int
    text: str
    verdict: Verdict
    relation: str | None = None

    @property
    def status(self) -> str:
        """``"correct"``, ``"wrong"``, ``"undecided"`` or ``"unreadable"``."""
        return self.verdict.status

    def to_dict(self) -> dict:
        """The JSON object of this step."""
        v = self.verdict
        return {"step": self.step, "line": self.line, "text": self.text, "status": self.status,
                "correct": v.correct, "method": v.method, "true": v.true,
                "diagnosis": v.diagnosis.to_dict() if v.diagnosis else None,
                "counterexample": v.counterexample, "relation": self.relation,
                "notes": list(v.notes), "error": v.error}

    def to_text(self, ascii: bool = False) -> str:
        """A mark, the step's number and line, then the claim's labelled lines."""
        head = f"step {self.step} (line {self.line}):"
        if self.verdict.error is not None:
            lines = [f"{'!' if ascii else '?'} {head} {self.text}",
                     f"    error:          {self.verdict.error}"]
        else:
            lines = [line for line in self.verdict.to_text(ascii=ascii).split("\n")
                     if not line.startswith(_CHAIN)]     # said once, under the steps
            mark = (ASCII_MARKS if ascii else MARKS)[self.status]
            lines[0] = f"{mark} {head} {lines[0][len(mark) + 1:]}"
        if self.relation:
            lines.append(f"    step:           {self.relation}")
        return "\n".join(lines)


@dataclass
class DerivationVerdict:
    """The verdicts on every step of a derivation; fields match the ``--json`` output.

    ``first_wrong_step`` is the 1-based number of the first wrong step (None when
    none is wrong); ``correct`` is True when every step is right, False when one is
    wrong, else None (a step is undecided or unreadable).
    """

    of: str
    with_respect_to: str
    steps: list[Step] = field(default_factory=list)

    @property
    def first_wrong_step(self) -> int | None:
        return next((s.step for s in self.steps if s.status == "wrong"), None)

    @property
    def correct(self) -> bool | None:
        if self.first_wrong_step is not None:
            return False
        return True if all(s.status == "correct" for s in self.steps) else None

    def to_dict(self) -> dict:
        """``{"derivation": {...}}``: the JSON of ``symgrad verify --derivation``."""
        return {"derivation": {"of": self.of, "with_respect_to": self.with_respect_to,
                               "steps": [s.to_dict() for s in self.steps],
                               "first_wrong_step": self.first_wrong_step,
                               "correct": self.correct}}

    def to_text(self, ascii: bool = False) -> str:
        """Every step's block, then a line naming the first wrong step (or saying none is)."""
        lines = [f"derivation of d{self.of}/d{self.with_respect_to}, "
                 f"{len(self.steps)} step{'s' if len(self.steps) != 1 else ''}:"]
        lines += [s.to_text(ascii=ascii) for s in self.steps]
        first = self.first_wrong_step
        if first is not None:
            wrong = self.steps[first - 1]
            lines.append(f"first wrong step: step {first} (line {wrong.line})")
            if wrong.verdict.see:
                lines.append(f"the right chain: {wrong.verdict.see}")
        elif self.correct:
            lines.append("every step is right")
        else:
            lines.append("no step is wrong, but not every step was decided")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.to_text()


def _same_task(spec, first: str, second: str, options: dict):
    """Whether two claims about one derivative have equal right sides (True/False/None)."""
    from symgrad.claims.parse import parse_claim

    net = budget.network_for(spec)
    sides = [parse_claim(t, net, aliases=options["aliases"],
                         weight_template=options["weight_template"],
                         notation=options.get("notation")) for t in (first, second)]
    if sides[0].per_sample_mean != sides[1].per_sample_mean:
        return None
    a, b = (s.rhs.xreplace(net.intermediate_definitions) for s in sides)
    everything = net.inputs + net.targets + net.parameters
    return decide(a, b, points=options["points"], seed=options["seed"],
                  symbols=everything).equal


def _relation(net, before: Step, after: Step, first: str, second: str, options: dict, pool):
    """What ``after`` says about ``before`` (see :data:`ENTERS` and friends), or None."""
    pair = (before.status, after.status)
    if pair == ("correct", "wrong"):
        return ENTERS.format(prev=before.step)
    if pair == ("wrong", "correct"):
        return UNDOES.format(prev=before.step)
    if pair != ("wrong", "wrong"):
        return None
    try:
        if pool is None:
            same = budget.run_here(_same_task, net.spec, first, second, options)
        else:
            same = pool.run(_same_task, net.spec, first, second, options)
    except Exception:     # noqa: BLE001 - the comparison is extra; the verdicts stand
        return None       # (out of budget, unreadable, or a SymPy failure: no relation)
    if same is None:
        return None
    return (CARRIES if same else ANOTHER).format(prev=before.step)


def _last_of(rows: list[Written], lhs: str) -> int | None:
    """Index of the last of ``rows`` with the left side ``lhs`` (spacing aside), or None."""
    return next((k for k in range(len(rows) - 1, -1, -1)
                 if rows[k].lhs.split() == lhs.split()), None)


def verify_derivation(net, text: str, *, aliases=None, weight_template: str = WEIGHT_TEMPLATE,
                      errors: str = "raise", points: int = POINTS, seed: int = 0,
                      timeout: float | None = None, pool=None,
                      notation=None) -> DerivationVerdict:
    """Check a multi-step derivation step by step, and name its first wrong step.

    Parameters
    ----------
    net : Network
    text : str
        The derivation: a claim ``d<of>/d<x> = E1``, then one ``= E2`` per line;
        or a LaTeX ``align``/``eqnarray`` block with ``&=`` and ``\\\\``.
    aliases, weight_template, points, seed, timeout, notation
        As for :func:`symgrad.verify`; ``timeout`` is the budget of each step.
    errors : {"raise", "report"}
        On an unreadable step, raise :class:`~symgrad.errors.ParseError` (the
        message names the line and column), or give that step ``status``
        ``"unreadable"``.  Text that is not a derivation at all always raises.
    pool : symgrad.budget.Pool, optional
        Run every step in this pool's worker, under its budget (then ``timeout``
        is not used); the command line passes its ``--timeout``/``--memory`` pool.

    Returns
    -------
    DerivationVerdict

    Examples
    --------
    >>> from symgrad import Network
    >>> r = verify_derivation(Network([2, 2, 1]), "dz21/dw111 = w211*x1\\n= x1")
    >>> r.first_wrong_step, [s.status for s in r.steps]
    (2, ['correct', 'wrong'])
    """
    from symgrad.claims.parse import parse_derivative

    check_network(net)
    if errors not in ("raise", "report"):
        raise SpecError(f"errors must be 'raise' or 'report', got {errors!r}")
    lhs, rows = read_steps(text)
    aliases = check_aliases(aliases)
    try:
        partial = parse_derivative(lhs.text, net, aliases=aliases,
                                   weight_template=weight_template, notation=notation)
    except ParseError as exc:
        raise _unreadable(str(exc), [(1, lhs)]) from None
    options = {"aliases": aliases, "weight_template": weight_template, "points": points,
               "seed": seed, "notation": notation}
    limits = budget.Budget(seconds=timeout) if timeout is not None and pool is None else None
    result = DerivationVerdict(partial.of_text,
                               Names(net, weight_template, aliases, notation)(partial.parameter))
    with budget.Pool(limits) if limits else nullcontext(pool) as work:
        for number, written in enumerate(rows, 1):
            try:
                verdict = check_claim(net, written.claim, pool=work, **options)
            except SymgradError as exc:
                error = _unreadable(str(exc), written.pieces)
                if errors == "raise":
                    raise error from None
                verdict = Verdict(written.claim, error=str(error))
            step = Step(number, written.line, written.text, verdict)
            before = _last_of(rows[:number - 1], written.lhs)
            if before is not None:        # the step before it about the same derivative
                step.relation = _relation(net, result.steps[before], step, rows[before].claim,
                                          written.claim, options, work)
            result.steps.append(step)
    return result
