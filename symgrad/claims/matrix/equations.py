r"""The four backprop equations, written for one network, in plain text and LaTeX.

For one sample (column vectors; ``⊙`` is the elementwise product)::

    BP1  delta_L = dL/da_L ⊙ f'(z_L)                 (the output layer's error)
    BP2  delta_l = (W_(l+1)^T delta_(l+1)) ⊙ f'(z_l)  (one layer down)
    BP3  dL/db_l = delta_l
    BP4  dL/dW_l = delta_l a_(l-1)^T                  (a_0 = x)

For a batch with samples as columns the same equations hold column by column,
and the gradients of the cost average them: ``dW_l = (1/m) dZ_l A_(l-1)^T``,
``db_l = (1/m) sum_i dZ_l``.  With samples as rows every product turns around:
``dZ_l = (dZ_(l+1) W_(l+1)) ⊙ f'(Z_l)``, ``dW_l = (1/m) dZ_l^T A_(l-1)``.

The plain text of every right side is itself a matrix claim's right side, so the
tests verify each equation with :func:`symgrad.claims.matrix.check.verify_matrix`.
"""

from __future__ import annotations

from dataclasses import dataclass

#: dL/da at the output, per loss: (plain, LaTeX) with {a} the output and {y} the target.
_LOSS_SLOPE = {
    "half-squared": ("{a} - {y}", "{a} - {y}"),
    "squared": ("2 ({a} - {y})", "2\\left({a} - {y}\\right)"),
    "bce": ("({a} - {y}) / ({a} * (1 - {a}))",
            "\\left({a} - {y}\\right) \\oslash \\left({a} \\odot (1 - {a})\\right)"),
    "cross-entropy": ("-{y} / {a}", "-{y} \\oslash {a}"),
}


@dataclass(frozen=True)
class Equation:
    """One equation: its ``label`` (BP1..BP4, forward), both sides in plain text and
    LaTeX, and the shape of the left side."""

    label: str
    lhs: str
    rhs: str
    lhs_latex: str
    rhs_latex: str
    shape: tuple[int, int]


class _Names:
    """Plain and LaTeX names of one layout (``W2``/``W^{(2)}``, ``dZ1``/``dZ^{(1)}``)."""

    def __init__(self, net, layout: str):
        self.net, self.layout = net, layout
        self.batch = layout != "sample"
        self.rows = layout == "rows"

    def __call__(self, kind: str, l: int) -> tuple[str, str]:
        batch_names = {"a": "A", "z": "Z", "delta": "dZ", "da": "dA", "y": "Y"}
        L = self.net.depth
        if kind == "a" and l == 0:
            return ("X", "X") if self.batch else ("x", "x")
        if kind == "y":
            return ("Y", "Y") if self.batch else ("y", "y")
        if kind == "delta" and not self.batch:
            return f"delta{l}", f"\\delta^{{({l})}}"
        if kind == "da" and not self.batch:
            return f"dL/da{l}", f"\\frac{{\\partial L}}{{\\partial a^{{({l})}}}}"
        if kind in ("dW", "db") and not self.batch:
            return f"dL/d{kind[1]}{l}" if kind == "db" else f"dL/dW{l}", \
                f"\\frac{{\\partial L}}{{\\partial {'W' if kind == 'dW' else 'b'}^{{({l})}}}}"
        stem = batch_names.get(kind, kind) if self.batch else kind
        del L
        return f"{stem}{l}", f"{stem}^{{({l})}}"

    def shape(self, kind: str, l: int) -> tuple[int, int]:
        w = self.net.widths
        if kind in ("W", "dW"):
            return w[l], w[l - 1]
        if kind in ("b", "db"):
            return (1, w[l]) if self.rows else (w[l], 1)
        m = "m" if self.batch else 1
        return (m, w[l]) if self.rows else (w[l], m)     # type: ignore[return-value]


def _t(plain: str, latex: str) -> tuple[str, str]:
    """The transpose of a name."""
    return f"{plain}^T", f"{{{latex}}}^{{\\mathsf T}}"


def backprop_equations(net, layout: str = "sample") -> list[Equation]:
    """The forward pass and BP1-BP4 for every layer of ``net``, top layer first.

    >>> from symgrad import Network
    >>> for e in backprop_equations(Network([2, 2, 1]))[-2:]:
    ...     print(e.label, e.lhs, "=", e.rhs, e.shape)
    BP2 delta1 = W2^T delta2 ⊙ f'(z1) (2, 1)
    BP4 dL/dW1 = delta1 x^T (2, 2)
    """
    n = _Names(net, layout)
    L = net.depth
    out: list[Equation] = []
    for l in range(1, L + 1):
        z, a, prev, W, b = n("z", l), n("a", l), n("a", l - 1), n("W", l), n("b", l)
        if n.rows:
            rhs = (f"{prev[0]} {W[0]}^T", f"{prev[1]} {_t(*W)[1]}")
        else:
            rhs = (f"{W[0]} {prev[0]}", f"{W[1]} {prev[1]}")
        if net.bias:
            rhs = (rhs[0] + f" + {b[0]}", rhs[1] + f" + {b[1]}")
        out.append(Equation("forward", z[0], rhs[0], z[1], rhs[1], n.shape("z", l)))
        out.append(Equation("forward", a[0], f"f({z[0]})", a[1], f"f\\left({z[1]}\\right)",
                            n.shape("z", l)))
    for l in range(L, 0, -1):
        d, fp = n("delta", l), (f"f'({n('z', l)[0]})", f"f'\\left({n('z', l)[1]}\\right)")
        if l == L:
            rhs, label = _output_error(net, n, fp), "BP1"
        else:
            W, above = n("W", l + 1), n("delta", l + 1)
            if n.rows:
                back = (f"{above[0]} {W[0]}", f"{above[1]} {W[1]}")
            else:
                back = (f"{_t(*W)[0]} {above[0]}", f"{_t(*W)[1]} {above[1]}")
            rhs = (f"{back[0]} ⊙ {fp[0]}", f"\\left({back[1]}\\right) \\odot {fp[1]}")
            label = "BP2"
        out.append(Equation(label, d[0], rhs[0], d[1], rhs[1], n.shape("delta", l)))
        mean = ("(1/m) ", "\\frac{1}{m} ") if n.batch else ("", "")
        if net.bias:
            db = n("db", l)
            summed = (f"{mean[0]}sum_i {d[0]}", f"{mean[1]}\\sum_i {d[1]}") if n.batch else d
            summed = _penalty(net, summed, n("b", l)) if net.spec.l2_bias else summed
            out.append(Equation("BP3", db[0], summed[0], db[1], summed[1], n.shape("db", l)))
        dW, prev = n("dW", l), n("a", l - 1)
        if n.rows:
            rhs = (f"{mean[0]}{d[0]}^T {prev[0]}", f"{mean[1]}{_t(*d)[1]} {prev[1]}")
        else:
            rhs = (f"{mean[0]}{d[0]} {prev[0]}^T", f"{mean[1]}{d[1]} {_t(*prev)[1]}")
        rhs = _penalty(net, rhs, n("W", l))
        out.append(Equation("BP4", dW[0], rhs[0], dW[1], rhs[1], n.shape("dW", l)))
    return out


def _output_error(net, n, fp) -> tuple[str, str]:
    """BP1's right side: dL/da_L ⊙ f'(z_L) (a softmax output: a_L - y)."""
    L = net.depth
    a, y = n("a", L), n("y", L)
    slope = _LOSS_SLOPE[net.loss_name]
    err = (slope[0].format(a=a[0], y=y[0]), slope[1].format(a=a[1], y=y[1]))
    if net.activations[-1] != "softmax":
        return f"({err[0]}) ⊙ {fp[0]}", f"\\left({err[1]}\\right) \\odot {fp[1]}"
    # a softmax output goes with cross-entropy: its Jacobian and -y/a cancel to a - y
    return f"{a[0]} - {y[0]}", f"{a[1]} - {y[1]}"


def _penalty(net, rhs: tuple[str, str], name: tuple[str, str]) -> tuple[str, str]:
    """``rhs + lambda W``: the gradient of the L2 penalty (lambda/2) sum w**2."""
    if not net.spec.l2:
        return rhs
    lam = f"{net.spec.l2:g}"
    return f"{rhs[0]} + {lam} {name[0]}", f"{rhs[1]} + {lam}\\, {name[1]}"


def formula(net, kind: str, layer: int, layout: str = "sample") -> str | None:
    """The textbook right side of the gradient ``kind`` (dW db delta da) of ``layer``."""
    n = _Names(net, layout)
    if kind == "da":
        if layer == net.depth:
            slope = _LOSS_SLOPE[net.loss_name][0]
            return slope.format(a=n("a", layer)[0], y=n("y", layer)[0])
        W, above = n("W", layer + 1)[0], n("delta", layer + 1)[0]
        return f"{above} {W}" if n.rows else f"{W}^T {above}"
    target = n(kind, layer)[0]
    for e in backprop_equations(net, layout):
        if e.lhs == target and e.label != "forward":
            return e.rhs
    return None
