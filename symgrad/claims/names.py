"""Which names a claim may use, and what they stand for.

Private helper of :mod:`symgrad.claims.parse`.  A name arrives "flattened": LaTeX
subscripts are already folded in (``w_{111}`` and ``w_111`` are ``w111``,
``w_{1,10,2}`` and ``w_1_10_2`` are ``w_1_10_2``, ``z_b`` stays ``z_b``, ``y'_i`` is
``y'_i``).  :meth:`Names.lookup` recognises it by pattern, so even a large network
needs no table of every name, and :meth:`Names.segment` splits juxtaposed names
(``x1w211`` is ``x1`` times ``w211``).  Symbols come from the network object
itself (``net.weight``, ``net.z_symbol``, ...); no symbol is made from user text.
"""

from __future__ import annotations

import difflib
import itertools
import re
from collections.abc import Collection, Iterable, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

from symgrad.activations import CLAIM_NAMES
from symgrad.claims.notation import Notation, get_notation
from symgrad.claims.notation.hints import structure_hint
from symgrad.errors import ParseError
from symgrad.spec import WEIGHT_TEMPLATE, check_weight_template, symbol_name

if TYPE_CHECKING:
    import sympy as sp

    from symgrad.claims.guards import Alias
    from symgrad.network import Network

#: What :meth:`Names.lookup` finds: a tuple whose first item says its kind
#: (``("sym", expr)``, ``("fn", name)``, ...; listed there).
Lookup = tuple[Any, ...]

#: Elementary functions a claim may call besides the activations.
ELEMENTARY = ("exp", "log", "ln", "sech", "cosh", "sinh", "sqrt")
#: Function names a claim may call (lower case; ``ReLU`` works too): every
#: activation by each of its names (:data:`symgrad.activations.CLAIM_NAMES`),
#: then the elementary functions.
FUNCTIONS = (*CLAIM_NAMES, *ELEMENTARY)
#: Functions whose derivative may be written with a prime: ``sigma'(z)``.
PRIMED = (*CLAIM_NAMES, "exp")
#: Names that are not symbols of the network and cannot be aliases.
RESERVED = frozenset({"d", "e", "E", "L", "C", "m", "n", "N", "sum", "i"})
_BATCH = ("m", "n", "N")
_LONGEST = 48          # longest single name looked up while splitting a word

_ONE = re.compile(r"_?(\d+)$")
_TWO = re.compile(r"(\d)(\d)$|_(\d+)_(\d+)$")
_THREE = re.compile(r"(\d)(\d)(\d)$|_(\d+)_(\d+)_(\d+)$")
_SAMPLE = re.compile(r"(x|y|yhat|y')_([A-Za-z])_?(\d*)$|(x|y|yhat|y')_?(\d+)_?([A-Za-z])$")
_OUTPUT = re.compile(r"(yhat|y')(\d*)$|(z|a)_L(\d*)$")


def _indices(pattern: re.Pattern[str], rest: str) -> tuple[int, ...] | None:
    m = pattern.match(rest)
    if not m:
        return None
    return tuple(int(g) for g in m.groups() if g is not None)


class _Split(NamedTuple):
    """The best split of a word's prefix found so far (see :meth:`Names.segment`)."""

    pieces: int                 # how many names
    ambiguous: bool             # another split with as many pieces exists
    back: tuple[int, Lookup]    # where the last piece starts, and what it is


class Names:
    """Resolve flattened names for one network, template and set of aliases.

    ``aliases`` maps flattened alias names to :class:`~symgrad.claims.guards.Alias`
    records (a mapping that may resolve them lazily).
    """

    def __init__(self, net: Network, weight_template: str = WEIGHT_TEMPLATE,
                 aliases: Mapping[str, Alias] | None = None,
                 notation: Notation | str | None = None):
        self.notation = get_notation(notation)
        self.net = net
        self.spec = net.spec
        self.template = check_weight_template(weight_template)
        self.stem = self.template.split("{", 1)[0]
        self.order = re.findall(r"\{([ljk])\}", self.template)
        self.aliases = aliases if aliases is not None else {}
        self._cache: dict[tuple[str, tuple[str, ...]], Lookup | None] = {}

    # -- single names ---------------------------------------------------------
    def lookup(self, flat: str, sample_vars: Collection[str] = ()) -> Lookup | None:
        """Return what ``flat`` means, or None.

        Results: ``("sym", expr)`` (``("sym", expr, Alias)`` for an alias),
        ``("fn", name)``, ``("e",)``, ``("batch", letter)``, ``("quantity", "L" | "C")``,
        ``("sample", expr, var)`` for a sample-indexed name such as ``x_i1`` (only when
        ``var`` is in ``sample_vars``),
        ``("sample_quantity", "L", var)`` for ``L_i``.
        """
        key = (flat, tuple(sample_vars))
        if key not in self._cache:
            self._cache[key] = self._lookup(flat, sample_vars)
        return self._cache[key]

    def _lookup(self, flat: str, sample_vars: Collection[str]) -> Lookup | None:
        if flat in self.aliases:
            alias = self.aliases[flat]
            return ("sym", alias.expr, alias)
        flat = self.notation.canonical(flat)
        primed = re.fullmatch(r"y(_?[A-Za-z0-9][A-Za-z0-9_]*)'", flat)   # y_i' is y'_i
        if primed:
            flat = "y'" + primed.group(1)
        sym = self.network_symbol(flat)
        if sym is not None:
            return ("sym", sym)
        low = flat.lower()
        if low in FUNCTIONS or (low.endswith("'") and low[:-1] in PRIMED) or flat == "f'":
            return ("fn", low)
        if flat in ("e", "E"):
            return ("e",)
        if flat in _BATCH:
            return ("batch", flat)
        if flat in ("L", "C"):
            return ("quantity", flat)
        m = re.fullmatch(r"L_([A-Za-z])", flat)
        if m and m.group(1) in sample_vars:
            return ("sample_quantity", "L", m.group(1))
        m = _SAMPLE.match(flat)
        if m:
            stem, var, idx = m.group(1, 2, 3) if m.group(1) else m.group(4, 6, 5)
            if var in sample_vars:
                sym = self.network_symbol(stem + idx)
                if sym is not None:
                    return ("sample", sym, var)
        return None

    def network_symbol(self, flat: str) -> sp.Symbol | None:
        """The network symbol (or output node) named ``flat``, else None."""
        net, s = self.net, self.spec
        if flat.startswith(self.stem):
            idx = _indices(_THREE, flat[len(self.stem):])
            if idx:
                lj = dict(zip(self.order, idx))
                l, j, k = lj["l"], lj["j"], lj["k"]
                if self._node_ok(l, j) and 1 <= k <= s.widths[l - 1]:
                    return net.weight(l, j, k)
        head, rest = flat[:1], flat[1:]
        if head in "bza" and rest:
            idx = _indices(_TWO, rest)
            if idx and head == "a" and idx[0] == 0 and 1 <= idx[1] <= s.n_inputs:
                return net.inputs[idx[1] - 1]
            if idx and self._node_ok(*idx):
                if head == "b":
                    return net.parameters[s.bias_position(*idx)] if s.bias else None
                return net.z_symbol(*idx) if head == "z" else net.a_symbol(*idx)
        if head == "x" and rest:
            idx = _indices(_ONE, rest)
            if idx and 1 <= idx[0] <= s.n_inputs:
                return net.inputs[idx[0] - 1]
        if head == "y":
            idx = _indices(_ONE, rest) if rest else (1,) if s.n_outputs == 1 else None
            if idx and 1 <= idx[0] <= s.n_outputs:
                return net.targets[idx[0] - 1]
        return self._output(flat)

    def _output(self, flat: str) -> sp.Symbol | None:
        m = _OUTPUT.match(flat)
        if not m:
            return None
        digits = m.group(2) if m.group(1) else m.group(4)
        if not digits and self.spec.n_outputs != 1:
            return None
        j = int(digits) if digits else 1
        if not 1 <= j <= self.spec.n_outputs:
            return None
        L = self.spec.depth
        return self.net.z_symbol(L, j) if m.group(3) == "z" else self.net.a_symbol(L, j)

    def _node_ok(self, l: int, j: int) -> bool:
        return 1 <= l <= self.spec.depth and 1 <= j <= self.spec.widths[l]

    # -- juxtaposed names -----------------------------------------------------
    def segment(self, flat: str, sample_vars: Collection[str] = ()) -> list[Lookup]:
        """Split ``flat`` into the fewest known names; return their lookups.

        A function name may only be the last piece (``x1tanh`` then takes an
        argument); ``e`` and the batch size only stand alone.  Raises ParseError
        (without a column; the caller adds it) when no split or two equally short
        splits exist.
        """
        whole = self.lookup(flat, sample_vars)
        if whole is not None:
            return [whole]
        n = len(flat)
        # best[i] is the best split of flat[:i], for each i reached so far (the start's
        # ``back`` is never followed).
        best = {0: _Split(0, False, (0, ()))}
        for i in range(n):
            if i not in best:
                continue
            here = best[i]
            for j in range(i + 1, min(n, i + _LONGEST) + 1):
                hit = self.lookup(flat[i:j], sample_vars)
                if hit is None or hit[0] in ("e", "batch", "quantity", "sample_quantity"):
                    continue
                if hit[0] == "fn" and j != n:
                    continue
                cand = here.pieces + 1
                there = best.get(j)
                if there is None or cand < there.pieces:
                    best[j] = _Split(cand, here.ambiguous, (i, hit))
                elif cand == there.pieces:
                    best[j] = _Split(cand, True, there.back)
        if n not in best:
            reach = max(best)
            if reach and flat[reach] in "0123456789_'":    # 'y2': report the whole name
                reach = best[reach].back[0]
            raise ParseError(self.unknown_message(flat[reach:], flat, sample_vars))
        if best[n].ambiguous:
            raise ParseError(f"ambiguous name {flat!r}: it can be split into names in more "
                             "than one way; separate the factors with '*' or spaces")
        pieces: list[Lookup] = []
        j = n
        while j:
            i, hit = best[j].back
            pieces.append(hit)
            j = i
        return pieces[::-1]

    # -- messages --------------------------------------------------------------
    def _first_last(self, kind: str, indices: Iterable[tuple[int, ...]]) -> str | None:
        indices = list(indices)
        if not indices:
            return None
        if kind == "w":
            name = lambda i: self.weight_name(*i)     # noqa: E731
        else:
            name = lambda i: symbol_name(kind, *i)    # noqa: E731
        return f"{name(indices[0])}..{name(indices[-1])}"

    def weight_name(self, l: int, j: int, k: int) -> str:
        """The user-facing name of weight (l, j, k) under the template."""
        from symgrad.spec import weight_label
        return weight_label(l, j, k, self.template)

    def known_kinds(self) -> str:
        """One phrase listing every kind of name, e.g. for error messages."""
        s = self.spec
        nodes = [(l, j) for l in range(1, s.depth + 1) for j in range(1, s.widths[l] + 1)]
        parts = [f"inputs {self._first_last('x', [(k,) for k in range(1, s.n_inputs + 1)])}",
                 f"weights {self._first_last('w', s.weight_index())} "
                 f"(layer 1..{s.depth})"]
        if s.bias:
            parts.append(f"biases {self._first_last('b', s.bias_index())}")
        parts.append(f"intermediates {self._first_last('z', nodes)} and "
                     f"{self._first_last('a', nodes)}")
        parts.append("target " + ("y" if s.n_outputs == 1 else f"y1..y{s.n_outputs}"))
        parts.append("output " + ("yhat (also y', \\hat{y})" if s.n_outputs == 1
                                  else f"yhat1..yhat{s.n_outputs}"))
        if self.aliases:
            parts.append("aliases " + ", ".join(sorted(self.aliases)))
        parts.append("functions " + ", ".join(FUNCTIONS))
        return f"the {s.arch} network has " + ", ".join(parts)

    def kind_phrase(self, piece: str) -> str:
        """What the network has of the kind ``piece`` looks like (all kinds if unclear)."""
        s = self.spec
        net = f"the {s.arch} network"
        if re.fullmatch(re.escape(self.stem) + r"[\d_]+", piece):
            return (f"{net} has weights {self._first_last('w', s.weight_index())} "
                    f"(layer 1..{s.depth}, named {self.template})")
        if re.fullmatch(r"b[\d_]+", piece):
            if not s.bias:
                return f"{net} has no biases (add --bias, or bias=True)"
            return f"{net} has biases {self._first_last('b', s.bias_index())}"
        if re.fullmatch(r"[za][\d_]+", piece):
            nodes = [(l, j) for l in range(1, s.depth + 1) for j in range(1, s.widths[l] + 1)]
            return (f"{net} has nodes {self._first_last(piece[0], nodes)} "
                    f"(layer 1..{s.depth})")
        if re.fullmatch(r"x[\d_]+", piece):
            return f"{net} has inputs x1..x{s.n_inputs}"
        if re.fullmatch(r"(y|yhat|y')[\d_]*", piece):
            return (f"{net} has target {', '.join(s.target_names())} and output "
                    + ("yhat" if s.n_outputs == 1 else f"yhat1..yhat{s.n_outputs}"))
        return self.known_kinds()

    def range_reason(self, piece: str) -> str | None:
        """Which index of a well-formed name is out of range, or None."""
        s = self.spec
        idx = _indices(_THREE, piece[len(self.stem):]) if piece.startswith(self.stem) else None
        if idx:
            lj = dict(zip(self.order, idx))
            l, j, k = lj["l"], lj["j"], lj["k"]
        else:
            idx = _indices(_TWO, piece[1:]) if piece[:1] in ("b", "z", "a") else None
            if not idx:
                return None
            (l, j), k = idx, None
        if not 1 <= l <= s.depth:
            return f"there is no layer {l} (layers 1..{s.depth})"
        if not 1 <= j <= s.widths[l]:
            return f"layer {l} has neurons 1..{s.widths[l]}"
        if k is not None and not 1 <= k <= s.widths[l - 1]:
            return f"layer {l} weights come from inputs 1..{s.widths[l - 1]}"
        return None

    def candidates(self, limit: int = 3000) -> list[str]:
        """Known names for "did you mean" (at most ``limit`` of them)."""
        s = self.spec
        out: list[str] = []
        out += [symbol_name("x", k) for k in range(1, s.n_inputs + 1)]
        for idx in s.weight_index():
            out.append(self.weight_name(*idx))
            if len(out) > limit:
                break
        out += [symbol_name("b", *i) for i in s.bias_index()][:limit]
        for l in range(1, s.depth + 1):
            for j in range(1, min(s.widths[l], limit) + 1):
                out += [symbol_name("z", l, j), symbol_name("a", l, j)]
        outputs = ["yhat"] if s.n_outputs == 1 else [f"yhat{j}" for j in range(1, s.n_outputs + 1)]
        out += s.target_names() + outputs + ["L", "C"] + sorted(self.aliases) + list(FUNCTIONS)
        return out[: 3 * limit]

    def split_indices(self, piece: str) -> list[str] | None:
        """The names ``piece``'s run of digits can mean once its indices are written apart.

        ``w1102`` on 2-10-1 gives ``['w_1_10_2']``.  None when ``piece`` is not a weight,
        bias or node name with more digits than indices.
        """
        if piece.startswith(self.stem) and piece[len(self.stem):].isdigit():
            digits, count = piece[len(self.stem):], 3
        elif piece[:1] in ("b", "z", "a") and piece[1:].isdigit():
            digits, count = piece[1:], 2
        else:
            return None
        if not count < len(digits) <= 12:
            return None
        found = []
        for cuts in itertools.combinations(range(1, len(digits)), count - 1):
            bounds = zip((0, *cuts), (*cuts, len(digits)))
            parts = [digits[a:b] for a, b in bounds]
            if any(p[0] == "0" for p in parts):
                continue
            idx = tuple(int(p) for p in parts)
            if count == 3:
                lj = dict(zip(self.order, idx))
                if self._node_ok(lj["l"], lj["j"]) and lj["k"] <= self.spec.widths[lj["l"] - 1]:
                    found.append(self.weight_name(lj["l"], lj["j"], lj["k"]))
            elif self._node_ok(*idx) and (piece[0] != "b" or self.spec.bias):
                found.append(symbol_name(piece[0], *idx))
        return found

    def _outputs_hint(self, piece: str) -> str | None:
        """For ``yhat`` or ``y`` on a network with several outputs: say which exist."""
        n = self.spec.n_outputs
        if n == 1 or piece not in ("y", "yhat", "y'", "z_L", "a_L"):
            return None
        stem = "yhat" if piece == "y'" else piece
        which = f"{stem}1 or {stem}2" if n == 2 else f"{stem}1..{stem}{n}"
        return f"the {self.spec.arch} network has {n} outputs, so name one: {which}"

    def unknown_message(self, piece: str, flat: str, sample_vars: Collection[str] = ()) -> str:
        """Explain why ``piece`` (part of ``flat``) is not a name."""
        where = f"{piece!r}" if piece == flat else f"{piece!r} in {flat!r}"
        m = _SAMPLE.match(piece)
        if m and not (set(m.group(2, 6)) & set(sample_vars)):
            var = m.group(2) or m.group(6)
            return (f"{where}: the sample index {var!r} is only meaningful inside "
                    f"\\frac{{1}}{{m}}\\sum_{{{var}=1}}^{{m}} or with L_{var} on the left; "
                    "outside, write x1, y, yhat")
        if re.fullmatch(r"L_[A-Za-z]", piece):
            return f"{where}: the per-sample loss L_i can only be on the left, as in dL_i/dw111"
        structure = structure_hint(self.spec, piece, self.kind_phrase)
        if structure:
            return f"unknown name {where}: {structure}"
        outputs = self._outputs_hint(piece)
        if outputs:
            return f"unknown name {where}: {outputs}"
        text = f"unknown name {where}: {self.kind_phrase(piece)}"
        reason = self.range_reason(piece)
        if reason:
            text += f"; {reason}"
        split = self.split_indices(piece)
        if split:
            return text + ("; with an index of 10 or more, write the indices apart: did you "
                           f"mean {' or '.join(repr(n) for n in split[:3])}?")
        if split is not None:
            form = "_".join([self.stem, *self.order]) if piece.startswith(self.stem) \
                else f"{piece[0]}_l_j"
            return text + (f"; its digits are no indices of the {self.spec.arch} network "
                           f"(with an index of 10 or more write them apart, as in {form})")
        close = [c for c in difflib.get_close_matches(piece, self.candidates(), n=2, cutoff=0.6)
                 if c != piece]
        if close:
            text += f"; did you mean {close[0]!r}?"
        if re.fullmatch(r"e\d+", piece):
            text += " (scientific notation such as 1e5 is not supported; write 10**5)"
        return text
