"""Layer names, their shapes and entries, for one sample or a batch.

One sample (layout ``"sample"``) has column vectors: for layer ``l`` of a network
``n0-n1-...-nL``, ``W_l`` is ``n_l x n_(l-1)`` with entry ``(j, k)`` the weight
``w{l}{j}{k}`` (to neuron j from input k), ``b_l``, ``z_l``, ``a_l`` and
``delta_l = dL/dz_l`` are ``n_l x 1``, ``a0`` is ``x``, ``yhat`` is ``a_L`` and ``y``
the target.  A gradient has the shape of what it differentiates by
(``dL/dW_l`` is ``n_l x n_(l-1)``).

A batch of ``m`` samples is laid out as columns (``X`` is ``n0 x m``, sample i is
column i: ``Z_l = W_l A_(l-1) + b_l``) or as rows, as in numpy code (``X`` is
``m x n0``: ``Z_l = A_(l-1) W_l^T + b_l``, where ``b_l`` is then a row ``1 x n_l``).
``dZ_l`` (also ``Delta_l``) and ``dA_l`` hold each sample's own ``dL/dz`` and
``dL/da``; ``dW_l`` and ``db_l`` are ``dC/dW_l`` and ``dC/db_l`` of the cost
``C = (1/m) sum_i L_i`` (Andrew Ng's convention).

Names are recognised by :class:`MatrixNames`, the claim parser's own name table
(:class:`symgrad.claims.names.Names`) with the layer names in front; every entry
is a symbol of the network itself, or for a batch that symbol renamed per sample
(``x1^(2)`` is ``x1`` of sample 2).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property

import sympy as sp

from symgrad.claims.lexer import fail
from symgrad.claims.names import Names
from symgrad.claims.nodes import derivative_value

#: Layouts: one sample, a batch with samples as columns, or as rows.
LAYOUTS = ("sample", "columns", "rows")
#: Batch sizes a batch claim is decided for.
BATCH_SIZES = (2, 3)

#: One-sample names: pattern -> kind (the layer index is the number).
_SAMPLE_NAMES = {r"[Ww](\d+)": "W", r"b(\d+)": "b", r"z(\d+)": "z", r"a(\d+)": "a",
                 r"(?:delta|dz)(\d+)": "delta", r"da(\d+)": "da", r"dW(\d+)": "dW",
                 r"db(\d+)": "db"}
_BATCH_NAMES = {r"W(\d+)": "W", r"b(\d+)": "b", r"Z(\d+)": "z", r"A(\d+)": "a",
                r"(?:dZ|Delta)(\d+)": "delta", r"dA(\d+)": "da", r"dW(\d+)": "dW",
                r"db(\d+)": "db"}
_FIXED = {"sample": {"x": ("a", 0), "y": ("y", -1), "yhat": ("a", -1)},
          "columns": {"X": ("a", 0), "Y": ("y", -1), "Yhat": ("a", -1)}}
_FIXED["rows"] = _FIXED["columns"]
#: The kinds whose layer index may be 0.
_FROM_ZERO = ("a", "da")
#: What each kind is, for messages and the docs.
KIND_WORDS = {"W": "weights", "b": "biases", "z": "pre-activations", "a": "activations",
              "delta": "deltas dL/dz", "da": "dL/da", "dW": "gradients by W",
              "db": "gradients by b", "y": "targets"}


@dataclass(frozen=True)
class Ref:
    """A layer name: its ``kind`` (W b z a delta da dW db y), ``layer`` and ``text``."""

    kind: str
    layer: int
    text: str


class Layers:
    """The layer names of one network in one layout: shapes, entries, symbols.

    Entries are in intermediate names (``z11``, ``a11``; for a batch renamed per
    sample); :attr:`definitions` writes them in inputs, targets and parameters.
    """

    def __init__(self, net, layout: str = "sample", m: int = 1):
        if layout not in LAYOUTS:
            raise fail(f"unknown layout {layout!r} (choices: {', '.join(LAYOUTS)})")
        self.net, self.layout = net, layout
        self.m = 1 if layout == "sample" else m
        self.batch = layout != "sample"

    # -- names ------------------------------------------------------------------
    def ref(self, flat: str) -> Ref | None:
        """The layer name ``flat`` (``W2``, ``delta1``, ``X``), or None."""
        L = self.net.depth
        fixed = _FIXED[self.layout].get(flat)
        if fixed is not None:
            kind, layer = fixed
            return Ref(kind, L if layer < 0 else layer, flat)
        for pattern, kind in (_BATCH_NAMES if self.batch else _SAMPLE_NAMES).items():
            hit = re.fullmatch(pattern, flat)
            if hit:
                layer = int(hit.group(1))
                low = 0 if kind in _FROM_ZERO else 1
                return Ref(kind, layer, flat) if low <= layer <= L else None
        return None

    def misnamed(self, flat: str) -> str | None:
        """Why ``flat`` looks like a layer name but is none here, or None."""
        L = self.net.depth
        other = _SAMPLE_NAMES if self.batch else _BATCH_NAMES
        for pattern, kind in (_BATCH_NAMES if self.batch else _SAMPLE_NAMES).items():
            hit = re.fullmatch(pattern, flat)
            if hit and not self.batch and len(hit.group(1)) > 1 and flat[0].islower():
                return None                 # delta21, z21, b21: a scalar name, not a layer
            if hit:
                low = 0 if kind in _FROM_ZERO else 1
                return (f"{flat!r}: the {self.net.spec.arch} network has layers {low}..{L} "
                        f"of {KIND_WORDS[kind]}")
        fixed = _FIXED["sample" if self.batch else "columns"]
        if flat in fixed or any(re.fullmatch(p, flat) for p, k in other.items()
                                if k not in ("W", "b", "dW", "db")):
            if self.batch:
                return (f"{flat!r} is a one-sample name; in a batch layout write the batch "
                        "names X, Y, Yhat, Z1, A1, dZ1 (or Delta1), dA1")
            return (f"{flat!r} is a batch name; give --layout columns or --layout rows "
                    "(layout='columns' or 'rows') for a batch, or write x, y, z1, a1, delta1")
        return None

    def shape(self, ref: Ref) -> tuple[int, int]:
        """``(rows, columns)`` of the layer name."""
        w, l = self.net.widths, ref.layer
        if ref.kind in ("W", "dW"):
            return w[l], w[l - 1]
        n = w[l]
        if ref.kind in ("b", "db"):
            return (1, n) if self.layout == "rows" else (n, 1)
        return (self.m, n) if self.layout == "rows" else (n, self.m)

    def entries(self, ref: Ref) -> sp.ImmutableMatrix:
        """The matrix of ``ref``, entries in intermediate names."""
        net, l = self.net, ref.layer
        rows, cols = self.shape(ref)
        if ref.kind == "W":
            return sp.ImmutableMatrix(rows, cols, lambda j, k: net.weight(l, j + 1, k + 1))
        if ref.kind in ("b", "db"):
            if not net.bias:
                raise fail(f"{ref.text!r}: the {net.spec.arch} network has no biases "
                           "(add --bias, or bias=True)")
            if ref.kind == "b":
                column = [self.bias(l, j) for j in range(1, net.widths[l] + 1)]
            else:
                column = [self.gradient(self.bias(l, j)) for j in range(1, net.widths[l] + 1)]
            return sp.ImmutableMatrix(rows, cols, column)
        if ref.kind == "dW":
            return sp.ImmutableMatrix(rows, cols, lambda j, k: self.gradient(
                net.weight(l, j + 1, k + 1)))
        per_sample = [[self.node(ref.kind, l, j, i) for i in range(1, self.m + 1)]
                      for j in range(1, net.widths[l] + 1)]
        matrix = sp.ImmutableMatrix(per_sample)
        return matrix.T if self.layout == "rows" else matrix

    def bias(self, l: int, j: int) -> sp.Symbol:
        return self.net.parameters[self.net.spec.bias_position(l, j)]

    def node(self, kind: str, l: int, j: int, i: int) -> sp.Expr:
        """Entry ``j`` of layer ``l``'s ``kind`` for sample ``i`` (1 for one sample)."""
        net = self.net
        if kind == "y":
            value = net.targets[j - 1]
        elif kind == "a":
            value = net.a_symbol(l, j)
        elif kind == "z":
            value = net.z_symbol(l, j)
        else:
            by = net.z_symbol(l, j) if kind == "delta" else net.a_symbol(l, j)
            value = derivative_value(net, "loss", by)
        return value.xreplace(self.renames[i - 1]) if self.batch else value

    def gradient(self, parameter: sp.Symbol) -> sp.Expr:
        """``dL/dp`` for one sample; ``dC/dp``, the mean over the batch, for a batch."""
        one = derivative_value(self.net, "loss", parameter)
        if not self.batch:
            return one
        return sp.Add(*[one.xreplace(r) for r in self.renames]) / self.m

    # -- symbols ------------------------------------------------------------------
    @cached_property
    def renames(self) -> list[dict]:
        """Per sample: ``{x1: x1^(i), y: y^(i), z11: z11^(i), ...}``."""
        net = self.net
        own = (*net.inputs, *net.targets, *net.intermediate_definitions)
        return [{s: sp.Symbol(f"{s.name}^({i})", real=True) for s in own}
                for i in range(1, self.m + 1)]

    @cached_property
    def definitions(self) -> dict:
        """Intermediate names (per sample for a batch) -> inputs, targets, parameters."""
        defs = self.net.intermediate_definitions
        if not self.batch:
            return dict(defs)
        return {r[s]: e.xreplace(r) for r in self.renames for s, e in defs.items()}

    @cached_property
    def symbols(self) -> list:
        """Every input, target and parameter (per sample for a batch)."""
        net = self.net
        data = (*net.inputs, *net.targets)
        if not self.batch:
            return [*data, *net.parameters]
        return [r[s] for r in self.renames for s in data] + list(net.parameters)

    def layer_of(self, entry: sp.Expr) -> tuple[str, int] | None:
        """``("z"|"a", l)`` when ``entry`` is a node symbol (of any sample), else None."""
        if not isinstance(entry, sp.Symbol):
            return None
        name = entry.name.split("^", 1)[0]
        hit = re.fullmatch(r"([za])(\d)(\d)|([za])_(\d+)_(\d+)", name)
        if not hit or self.net.symbols.get(name) is None:
            return None
        kind, l = (hit.group(1), hit.group(2)) if hit.group(1) else (hit.group(4), hit.group(5))
        return kind, int(l)


class MatrixNames(Names):
    """The claim parser's name table with the layer names of :class:`Layers` in front.

    :meth:`lookup` returns ``("layer", Ref)`` for a layer name; every other name (a
    scalar such as ``w211``, a function, ``m``) is the scalar table's.
    """

    def __init__(self, layers: Layers, weight_template: str):
        super().__init__(layers.net, weight_template)
        self.layers = layers

    def lookup(self, flat, sample_vars=()):
        ref = self.layers.ref(flat)
        if ref is not None:
            return ("layer", ref)
        if flat == "g'":                           # Andrew Ng's g for the activation
            return ("fn", "f'")
        if flat in ("x", "y", "X", "Y") and self.layers.misnamed(flat):
            return None
        return super().lookup(flat, sample_vars)

    def unknown_message(self, piece, flat, sample_vars=()):
        why = self.layers.misnamed(piece)
        if why:
            return f"unknown name {why}"
        return super().unknown_message(piece, flat, sample_vars)
