"""``symgrad verify ARCH [CLAIM ...] [--file F]``: verdicts on hand-derived derivatives.

Exit 1 when any claim is wrong; else 2 when any claim (or option) cannot be
read; else 5 when any claim is undecided (its work ran out of time or memory,
see docs/limits.md); else 0.  Each unreadable claim gets one line on stderr naming
its file and line, and every other claim is still checked: each one runs under
its own budget in a worker process, so one hostile claim cannot take the others
down.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterable
from typing import TextIO

from symgrad.budget import DEFAULT_MEMORY_MB, DEFAULT_SECONDS, MAX_MEMORY_MB, MAX_SECONDS, Budget
from symgrad.cli.glossary import add_explain_option, explain_after
from symgrad.cli.options import (
    EXIT_FAIL,
    EXIT_OK,
    EXIT_UNDECIDED,
    EXIT_USAGE,
    UsageError,
    add_network_options,
    network_from_args,
)
from symgrad.errors import BudgetExceeded, DataError, SymgradError

#: The notation presets (symgrad.claims.notation.NOTATIONS, listed here so that --help
#: does not import the claims package).
NOTATION_NAMES = ("default", "nielsen", "ng", "goodfellow")
#: Largest claims file read (bytes).
MAX_FILE_BYTES = 1_000_000
_ENVIRONMENTS = r"align|aligned|equation|eqnarray|gather|gathered|multline|split|displaymath"
_DROP = re.compile(r"\\(?:begin|end)\{(?:" + _ENVIRONMENTS + r")\*?\}|\\nonumber|\\notag"
                   r"|\\label\{[^{}]*\}")
_BULLET = re.compile(r"^(?:[-*+]|\d{1,3}[.)])\s+")
_DELIMITERS = {"\\[", "\\]", "$$", "\\(", "\\)", "```", "~~~"}


def _strip_comment(line: str) -> str:
    """Cut a LaTeX comment: the first ``%`` not written as ``\\%``."""
    match = re.search(r"(?<!\\)%", line)
    return line[:match.start()] if match else line


def claims_from_text(text: str) -> list[tuple[int, str]]:
    r"""Claims in a text, Markdown or LaTeX document, as ``[(line number, claim), ...]``.

    Blank lines and lines starting with ``#`` or ``%`` are skipped; LaTeX comments,
    ``\begin{align}``/``\end{align}`` (and similar environments), ``\label``,
    ``\nonumber`` and ``&`` alignment markers are dropped; rows are split on
    ``\\``; Markdown bullets, fences and lone ``$$``/``\[``/``\]`` are ignored.

    >>> claims_from_text("% homework\n\\begin{align}\n"
    ...                  "\\frac{\\partial z_{21}}{\\partial w_{111}} &= x_1 w_{211} \\\\\n"
    ...                  "dz21/dw211 &= z11\n\\end{align}\n")
    [(3, '\\frac{\\partial z_{21}}{\\partial w_{111}} = x_1 w_{211}'), (4, 'dz21/dw211 = z11')]
    """
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith(("#", "%")) or line in _DELIMITERS:
            continue
        line = _DROP.sub(" ", _strip_comment(line))
        for row in line.split("\\\\"):
            row = _BULLET.sub("", row.replace("&", " ").strip())
            row = re.sub(r"(?<![0-9])[.,;]\s*$|[,;]\s*$", "", row).strip()
            row = re.sub(r"\s+", " ", row)
            if row and row not in _DELIMITERS:
                found.append((number, row))
    return found


def read_text(path: str, what: str = "claims file") -> str:
    """The UTF-8 text of a file (``-``: standard input), at most :data:`MAX_FILE_BYTES`."""
    try:
        if path == "-":
            data = sys.stdin.buffer.read(MAX_FILE_BYTES + 1)
        else:
            with open(path, "rb") as handle:
                data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise DataError(f"cannot read {what} {path!r}: {exc.strerror or exc}") from None
    if len(data) > MAX_FILE_BYTES:
        raise DataError(f"{what} {path!r} is larger than {MAX_FILE_BYTES} bytes; "
                        "split it into smaller files")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(f"{what} {path!r} is not UTF-8 text (byte {exc.start}); "
                        "save it as UTF-8") from None


def read_claims(path: str) -> list[tuple[str, str]]:
    """``[(where, claim), ...]`` from a file; ``where`` is ``"file:line"``."""
    where = "standard input" if path == "-" else path
    return [(f"{where}:{n}", claim) for n, claim in claims_from_text(read_text(path))]


def notation_from_args(args):
    """The notation of --notation, with --delta-name's delta when given."""
    import dataclasses

    from symgrad.claims.notation import get_notation

    notation = get_notation(args.notation)
    name = getattr(args, "delta_name", None)
    if name is None:
        return notation
    taken = ("a", "b", "d", "w", "x", "y", "z", "L", "C", "m", "n", "N")
    if not re.fullmatch(r"[A-Za-z]{1,16}", name) or name in taken:
        raise UsageError(f"--delta-name needs a word of letters other than {', '.join(taken)} "
                         f"(names the network or a derivative uses), e.g. --delta-name e; "
                         f"got {name!r}")
    derivatives = {k: v for k, v in notation.derivatives.items() if k != "delta"}
    return dataclasses.replace(notation, derivatives={**derivatives, name: ("z", "L")})


def parse_aliases(items: Iterable[str] | None) -> dict[str, str]:
    """``["z_b=z21", ...]`` -> ``{"z_b": "z21"}``; the parser checks names and expressions."""
    aliases: dict[str, str] = {}
    for item in items or ():
        name, sep, expr = item.partition("=")
        if not sep or not name.strip() or not expr.strip():
            raise UsageError(f"--alias needs NAME=EXPR, e.g. --alias z_b=z21; got {item!r}")
        if name.strip() in aliases:
            raise UsageError(f"--alias {name.strip()} is given twice (={aliases[name.strip()]} "
                             f"and ={expr.strip()}); give each name once")
        aliases[name.strip()] = expr.strip()
    return aliases


def _limit(kind: str, top: float):
    """An argparse type: a positive number up to ``top``."""
    def read(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = -1.0
        if not 0 < value <= top:
            raise argparse.ArgumentTypeError(f"expected {kind} above 0 and at most {top:g}, "
                                             f"got {text!r}")
        return value
    read.__name__ = kind
    return read


def add_budget_options(p: argparse.ArgumentParser, what: str = "the symbolic work") -> None:
    """--timeout and --memory: the budget of the symbolic work (docs/limits.md)."""
    p.add_argument("--timeout", type=_limit("seconds", MAX_SECONDS), default=DEFAULT_SECONDS,
                   metavar="SECONDS",
                   help=f"seconds for {what}; past them it stops as undecided, exit 5 "
                        f"(default {DEFAULT_SECONDS:g})")
    p.add_argument("--memory", type=_limit("megabytes", MAX_MEMORY_MB),
                   default=DEFAULT_MEMORY_MB, metavar="MB",
                   help=f"megabytes {what} may allocate beyond symgrad's own start-up "
                        f"size; past them it stops as undecided, exit 5 "
                        f"(default {DEFAULT_MEMORY_MB})")


def budget_from_args(args) -> Budget:
    """The :class:`~symgrad.budget.Budget` of --timeout and --memory."""
    return Budget(seconds=args.timeout, memory_mb=args.memory)


def out_of_budget(command: str, exc: BudgetExceeded) -> int:
    """One line on stderr for work that ran out of budget; the exit code (5)."""
    option = "--timeout SECONDS" if exc.limit == "time" else "--memory MB"
    emit(f"symgrad: {command}: the symbolic work {exc}; raise the limit with {option}",
         sys.stderr)
    return EXIT_UNDECIDED


def add_claim_options(p: argparse.ArgumentParser) -> None:
    """--alias, --weight-name, --notation and --json, shared with ``symgrad compare``."""
    p.add_argument("--alias", action="append", default=[], metavar="NAME=EXPR",
                   help="a name of your own for an expression, e.g. --alias z_b=z21 "
                        "(repeatable)")
    p.add_argument("--weight-name", default="w{l}{j}{k}", metavar="TEMPLATE",
                   help="how your weights are named: w{l}{j}{k} (default: layer, to-neuron, "
                        "from-input) or w{l}{k}{j}; any order of {l} {j} {k}")
    p.add_argument("--notation", default="default", choices=NOTATION_NAMES, metavar="NAME",
                   help="read and answer in a course's notation: "
                        f"{', '.join(NOTATION_NAMES)} (docs/claims.md#notation-presets)")
    p.add_argument("--delta-name", metavar="NAME",
                   help="the name your course gives backprop's delta dL/dz (default delta; "
                        "e.g. --delta-name e reads e11 as dL/dz11)")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    add_explain_option(p)


def add_parser(sub):
    p = sub.add_parser(
        "verify", help="check hand-derived derivatives (claims) against the exact ones",
        description="Check claims such as 'dz21/dw111 = w211*x1' (plain, LaTeX or Unicode; "
                    "see docs/claims.md). A wrong claim gets the true derivative, a diagnosis "
                    "and a counterexample. Exit 1 when any claim is wrong, else 2 when any "
                    "cannot be read, else 5 when any is undecided (out of time or memory), "
                    "else 0.")
    add_network_options(p)
    p.add_argument("claims", nargs="*", metavar="CLAIM", help="claims to check")
    p.add_argument("--file", metavar="F",
                   help="read claims from a text, Markdown or LaTeX file (one per line or "
                        "align row; - reads standard input)")
    p.add_argument("--derivation", metavar="FILE",
                   help="check a derivation step by step: a claim, then one '= ...' step "
                        "per line (or a LaTeX align block); names the first wrong step "
                        "(- reads standard input)")
    p.add_argument("--layout", default="sample", choices=("sample", "columns", "rows"),
                   help="matrix claims (dL/dW2 = delta2 a1^T, see docs/matrix.md): one sample "
                        "(default), or a batch X with samples as columns or as rows")
    add_claim_options(p)
    add_budget_options(p, "the work on each claim")
    p.set_defaults(func=run_verify)
    _allow_claims_after_options(p)
    return p


def _allow_claims_after_options(parser) -> None:
    """Let claims follow options (``verify 2-2-1 --activation tanh "dz21/dw111 = ..."``).

    argparse gives a ``nargs="*"`` positional only the words before the first
    option; its intermixed mode collects them all.  That mode calls
    ``parse_known_args`` itself, hence the re-entry guard.
    """
    plain = parser.parse_known_args
    busy: list[bool] = []

    def parse_known_args(args=None, namespace=None):
        if busy:
            return plain(args, namespace)
        busy.append(True)
        try:
            return parser.parse_known_intermixed_args(args, namespace)
        finally:
            busy.pop()

    parser.parse_known_args = parse_known_args


def can_encode(text: str, stream: object) -> bool:
    """Whether ``stream`` can print ``text`` (False on ASCII or Latin-1 terminals for ✓)."""
    try:
        text.encode(getattr(stream, "encoding", None) or "ascii")
    except (UnicodeEncodeError, LookupError):
        return False
    return True


def emit(text: str, stream: TextIO | None = None) -> None:
    """Print ``text``, replacing characters the stream's encoding cannot show."""
    stream = stream or sys.stdout
    if not can_encode(text, stream):
        encoding = getattr(stream, "encoding", None) or "ascii"
        try:
            text = text.encode(encoding, "replace").decode(encoding)
        except LookupError:
            text = text.encode("ascii", "replace").decode("ascii")
    print(text, file=stream)


def run_verify(args) -> int:
    from symgrad.budget import Pool
    from symgrad.claims.matrix.check import check_matrix_claim, looks_matrix
    from symgrad.claims.verify import Verdict, check_claim
    from symgrad.spec import check_weight_template

    net = network_from_args(args)
    template = check_weight_template(args.weight_name)
    aliases = parse_aliases(args.alias)
    notation = notation_from_args(args)
    limits = budget_from_args(args)
    if args.derivation is not None:
        if args.claims or args.file:
            raise UsageError("--derivation checks one derivation; give claims or --file "
                             "in a separate run")
        return _run_derivation(args, net, template, aliases, limits)
    items = [(f"claim {i}", c) for i, c in enumerate(args.claims, 1)]
    if args.file:
        items += read_claims(args.file)
    if not items:
        raise UsageError("no claims: give claims as arguments or --file F "
                         "(e.g. symgrad verify 2-2-1 \"dz21/dw111 = w211*x1\")")
    verdicts, invalid = [], 0
    with Pool(limits) as pool:
        for where, text in items:
            try:
                if args.layout != "sample" or looks_matrix(text, net):
                    verdicts.append(check_matrix_claim(net, text, layout=args.layout,
                                                       weight_template=template, pool=pool))
                    continue
                verdicts.append(check_claim(net, text, aliases=aliases, weight_template=template,
                                            pool=pool, notation=notation))
            except SymgradError as exc:
                invalid += 1
                emit(f"symgrad: {where}: {exc}", sys.stderr)
                verdicts.append(Verdict(text, error=str(exc)))
    if args.json:
        print(json.dumps({"claims": [v.to_dict() for v in verdicts]}, indent=2))
    else:
        ascii_only = not can_encode("\u2713\u2717", sys.stdout)
        shown = [v.to_text(ascii=ascii_only) for v in verdicts if v.error is None]
        for text in shown:
            emit(text)
        explain_after(args, "\n".join(shown))
    undecided = sum(v.status == "undecided" for v in verdicts)
    if undecided:
        emit(f"symgrad: {undecided} of {len(verdicts)} claims undecided; more time or memory "
             "may decide them (--timeout SECONDS, --memory MB)", sys.stderr)
    if any(v.status == "wrong" for v in verdicts):
        return EXIT_FAIL
    if invalid:
        return EXIT_USAGE
    return EXIT_UNDECIDED if undecided else EXIT_OK


def _run_derivation(args, net, template, aliases, limits) -> int:
    """``verify --derivation FILE``: every step's verdict and the first wrong step."""
    from symgrad.budget import Pool
    from symgrad.claims.steps import verify_derivation
    from symgrad.errors import ParseError

    where = "standard input" if args.derivation == "-" else args.derivation
    text = read_text(args.derivation, "derivation file")
    with Pool(limits) as pool:
        try:
            result = verify_derivation(net, text, aliases=aliases, weight_template=template,
                                       errors="report", pool=pool,
                                       notation=notation_from_args(args))
        except ParseError as exc:
            raise ParseError(f"{where}: {exc}") from None
    for step in result.steps:
        if step.verdict.error is not None:
            emit(f"symgrad: {where}: step {step.step}, {step.verdict.error}", sys.stderr)
    if args.json:
        print(json.dumps(result.to_dict(), indent=2))
    else:
        emit(result.to_text(ascii=not can_encode("\u2713\u2717", sys.stdout)))
        explain_after(args, result.to_text())
    statuses = [s.status for s in result.steps]
    undecided = statuses.count("undecided")
    if undecided:
        emit(f"symgrad: {undecided} of {len(statuses)} steps undecided; more time or memory "
             "may decide them (--timeout SECONDS, --memory MB)", sys.stderr)
    if "wrong" in statuses:
        return EXIT_FAIL
    if "unreadable" in statuses:
        return EXIT_USAGE
    return EXIT_UNDECIDED if undecided else EXIT_OK
