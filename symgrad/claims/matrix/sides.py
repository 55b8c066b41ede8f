r"""The two sides of a matrix claim: which gradient the left names, what the right says.

Left sides: ``dL/dW2``, ``∂L/∂W^{(2)}``, ``\frac{\partial L}{\partial W^{(2)}}``,
``dL/db1``, ``dL/dz1`` (``= delta1``), ``dL/da1``, ``dL/dyhat``, or a gradient by
name: ``delta1``, ``δ^{(1)}``, ``dz1``, ``da1``, ``dW2``, ``db1``; for a batch
``dC/dW1``, ``dW1``, ``db1``, ``dZ1`` (``Delta1``), ``dA1``.  :func:`looks_matrix`
tells the ``verify`` command which claims are matrix claims: those whose left side
is one of these.
"""

from __future__ import annotations

from dataclasses import dataclass

from symgrad.claims.lexer import fail, tokenize
from symgrad.claims.matrix.layers import Layers, MatrixNames, Ref
from symgrad.claims.matrix.reader import read
from symgrad.claims.matrix.tree import Node
from symgrad.claims.nodes import flatten_name, operand
from symgrad.errors import ParseError
from symgrad.spec import WEIGHT_TEMPLATE, symbol_name, weight_label

#: The gradient of each layer name: dL/dW2 is dW2, dL/dz1 is delta1.
GRADIENT_OF = {"W": "dW", "b": "db", "z": "delta", "a": "da"}
GRADIENTS = ("dW", "db", "delta", "da")
LHS_HELP = ("write the left side as a gradient: dL/dW2, dL/db1, dL/dz1, dL/da1, delta1 "
            "(for a batch dW1, db1, dZ1, dA1 or dC/dW1)")


class LayerNameError(ParseError):
    """A left side that names a layer this network or layout does not have."""


@dataclass(frozen=True)
class MatrixClaim:
    """A parsed matrix claim: the gradient on the left (``target``), the right side's tree."""

    text: str
    of: str
    target: Ref
    rhs: Node
    notes: tuple = ()


def _gradient_ref(toks, layers: Layers, names: MatrixNames) -> tuple[str, Ref, tuple]:
    """``(of, gradient Ref, notes)`` of the left side's tokens."""
    if toks and all(t.kind in ("WORD", "SUB", "PRIME") for t in toks):
        flat = flatten_name(toks)
        hit = names.lookup(flat)
        if hit is not None and hit[0] == "layer" and hit[1].kind in GRADIENTS:
            ref = hit[1]
            return ("C" if layers.batch and ref.kind in ("dW", "db") else "L"), ref, ()
        if layers.misnamed(flat):
            raise LayerNameError(f"unknown name {layers.misnamed(flat)}")
        raise fail(f"the left side at column {toks[0].col if toks else 1} names no gradient; "
                   + LHS_HELP)
    slashes = [i for i, t in enumerate(toks) if t.kind == "OP" and t.text == "/"]
    if toks and toks[0].kind == "FRAC":
        num, den = _braced(toks, 1)
    elif len(slashes) == 1:
        num, den = toks[:slashes[0]], toks[slashes[0] + 1:]
    else:
        raise fail("the left side is not a gradient; " + LHS_HELP)
    col = toks[0].col
    n_op, n_flat, _ = operand(num, "numerator", col)
    d_op, d_flat, d_col = operand(den, "denominator", col)
    if n_op is None or d_op is None or n_flat not in ("L", "C"):
        raise fail("the left side is not a gradient of L or C; " + LHS_HELP)
    hit = names.lookup(d_flat)
    if hit is None or hit[0] != "layer" or hit[1].kind not in GRADIENT_OF:
        why = layers.misnamed(d_flat)
        if why:
            raise LayerNameError(f"unknown name {why} (column {d_col})")
        raise fail(f"{d_flat!r} at column {d_col} is no layer name; " + LHS_HELP)
    by = hit[1]
    kind = GRADIENT_OF[by.kind]
    notes: tuple = ()
    if layers.batch and kind in ("delta", "da"):
        raise fail(f"d{n_flat}/d{by.text}: in a batch write dZ{by.layer} or dA{by.layer}, "
                   "each sample's own dL/dz or dL/da (no 1/m)")
    if layers.batch and n_flat == "L":
        raise fail(f"dL/d{by.text}: the gradient of a batch is dC/d{by.text} (C is the mean "
                   f"of the samples' losses), also written d{by.text}")
    if not layers.batch and n_flat == "C":
        notes = ("C read as the cost of one sample (m = 1), i.e. as L; for a batch give "
                 "--layout columns or rows",)
    text = f"d{n_flat}/d{by.text}"
    return n_flat, Ref(kind, by.layer, text), notes


def _braced(toks, i):
    """The two ``{...}`` groups of a ``\\frac`` starting at ``toks[i]``."""
    groups = []
    for _ in range(2):
        if i >= len(toks) or toks[i].kind != "LB":
            raise fail("\\frac on the left side needs two braced parts; " + LHS_HELP)
        depth, j = 0, i
        while j < len(toks):
            depth += {"LB": 1, "RB": -1}.get(toks[j].kind, 0)
            if depth == 0:
                break
            j += 1
        groups.append(toks[i + 1:j])
        i = j + 1
    if i != len(toks):
        raise fail("unexpected text after \\frac{..}{..} on the left side; " + LHS_HELP)
    return groups


def _equals(toks) -> int:
    """The index of the claim's '=' (those inside brackets name numpy's arguments)."""
    eqs, depth = [], 0
    for i, t in enumerate(toks):
        depth += {"LP": 1, "RP": -1}.get(t.kind, 0)
        if t.kind == "OP" and t.text == "=" and depth == 0:
            eqs.append(i)
    if len(eqs) != 1:
        raise fail("a claim has exactly one '=': write <gradient> = <expression>, e.g. "
                   "dL/dW2 = delta2 a1^T")
    return eqs[0]


def parse_matrix_claim(text: str, layers: Layers,
                       weight_template: str = WEIGHT_TEMPLATE) -> MatrixClaim:
    """Read ``text`` as a matrix claim about ``layers``' network and layout."""
    names = MatrixNames(layers, weight_template)
    toks = tokenize(text, "claim", matrix=True)
    i = _equals(toks)
    if toks[i + 1].kind == "END":
        raise fail(f"nothing after '=' at column {toks[i].col}; write the claimed gradient")
    of, target, notes = _gradient_ref(toks[:i], layers, names)
    return MatrixClaim(text.strip(), of, target, read(toks[i + 1:], names), notes)


def looks_matrix(text: object, net, layout: str = "sample") -> bool:
    """Whether ``text``'s left side names a whole layer's gradient (a matrix claim).

    Cheap (tokens only, no SymPy); False for scalar claims and for unreadable text,
    which the scalar parser then reports.
    """
    if not isinstance(text, str):
        return False
    try:
        toks = tokenize(text.split("=", 1)[0], "claim", matrix=True)[:-1]
        layers = Layers(net, layout)
        _gradient_ref(toks, layers, MatrixNames(layers, WEIGHT_TEMPLATE))
    except LayerNameError:
        return True
    except ParseError:
        return False
    return True


def entry_label(layers: Layers, claim: MatrixClaim, i: int, j: int,
                template: str = WEIGHT_TEMPLATE) -> str:
    """The scalar derivative entry ``(i, j)`` (0-based) of the left side is: ``dL/dw213``."""
    ref, of = claim.target, claim.of
    l = ref.layer
    if ref.kind == "dW":
        return f"d{of}/d{weight_label(l, i + 1, j + 1, template)}"
    if ref.kind == "db":
        return f"d{of}/d{symbol_name('b', l, max(i, j) + 1)}"
    node, sample = (j, i) if layers.layout == "rows" else (i, j)
    if ref.kind == "delta":
        name = symbol_name("z", l, node + 1)
    else:
        name = symbol_name("x", node + 1) if l == 0 else symbol_name("a", l, node + 1)
    return f"dL/d{name}" + (f" of sample {sample + 1}" if layers.batch else "")
