"""Wrong claims built by one known mutation of a right one, with their truth and kind.

Written independently of symgrad's derivation: the network (2-2-1 or deeper, hidden
activation ``f``, linear output, half-squared loss) is written out here in SymPy, its
gradient is ``sympy.diff`` of that expression, and each right claim is the
chain-rule product of factors written by hand here (checked against
``sympy.diff`` by :func:`check_factors`).  A mutation changes one thing and says
which diagnosis kind it deserves and which relation between the claimed and the
true value it creates, as a pair of expressions (``(claimed*F, true)`` for a
dropped factor ``F``) in this module's own symbols.

Used by tests/test_diagnosis_mutations.py and benchmarks/bench_diagnosis.py.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import sympy as sp

SYM: dict = {}


def _sym(name: str) -> sp.Symbol:
    return SYM.setdefault(name, sp.Symbol(name, real=True))


def _f(act: str, z):
    """The activation, written here (ReLU-type as Piecewise, 0 at the kink's left)."""
    return {"linear": z, "sigmoid": 1 / (1 + sp.exp(-z)), "tanh": sp.tanh(z),
            "softplus": sp.log(1 + sp.exp(z)),
            "relu": sp.Piecewise((z, z > 0), (0, True)),
            "leaky_relu": sp.Piecewise((z, z > 0), (z / 100, True))}[act]


#: How a claim writes f and f' (symgrad's claim notation, docs/claims.md).
PRIME = {"sigmoid": "sigma'", "tanh": "tanh'", "softplus": "softplus'", "relu": "relu'",
         "leaky_relu": "leaky_relu'"}
FUNC = {"sigmoid": "sigma", "tanh": "tanh", "softplus": "softplus", "relu": "relu",
        "leaky_relu": "leaky_relu"}
ACTIVATIONS = ("linear", "sigmoid", "tanh", "relu", "leaky_relu", "softplus")


class Net:
    """A network with 2 inputs, hidden activation ``act`` and one linear output,
    written out in base symbols; the parameters whose derivative is one chain-rule
    product (the last two layers) are :attr:`params`."""

    def __init__(self, act: str, widths=(2, 2, 1)):
        self.act, self.widths, self.depth = act, tuple(widths), len(widths) - 1
        self.a = {(0, k): _sym(f"x{k}") for k in range(1, widths[0] + 1)}
        self.z = {}
        for l in range(1, self.depth + 1):
            for j in range(1, widths[l] + 1):
                z = sum(_sym(f"w{l}{j}{k}") * self.a[l - 1, k]
                        for k in range(1, widths[l - 1] + 1))
                self.z[l, j] = z
                self.a[l, j] = z if l == self.depth else _f(act, z)
        self.loss = (self.z[self.depth, 1] - _sym("y")) ** 2 / 2
        zz = sp.Symbol("zz", real=True)
        self._fp, self._zz = sp.diff(_f(act, zz), zz), zz
        self.params = [f"w{l}{j}{k}" for l in range(max(1, self.depth - 1), self.depth + 1)
                       for j in range(1, widths[l] + 1) for k in range(1, widths[l - 1] + 1)]

    def fprime(self, l, j):
        return self._fp.xreplace({self._zz: self.z[l, j]})

    def truth(self, p: str):
        return sp.diff(self.loss, _sym(p))

    def _input(self, l, k):
        name = f"x{k}" if l == 1 else f"a{l - 1}{k}"
        return name, self.a[l - 1, k]

    def factors(self, p: str) -> list:
        """``[(text, expression), ...]``: the chain-rule factors of dL/dp, by hand."""
        L = self.depth
        err = (f"(z{L}1 - y)", self.z[L, 1] - _sym("y"))
        l, j, k = int(p[1]), int(p[2]), int(p[3])
        if l == L:
            return [err, self._input(l, k)]
        out = [err, (f"w{L}1{j}", _sym(f"w{L}1{j}"))]
        if self.act != "linear":
            out.append((f"{PRIME[self.act]}(z{l}{j})", self.fprime(l, j)))
        out.append(self._input(l, k))
        return out


@dataclass
class Mutant:
    activation: str
    parameter: str
    mutation: str
    text: str                 # the claim, e.g. "dL/dw111 = (z21 - y)*x1"
    kind: str                 # the diagnosis kind it deserves
    claimed: sp.Expr          # its value, in this module's symbols
    true: sp.Expr             # sympy.diff of the loss
    relation: tuple           # (lhs, rhs): equal for every input, by construction


def _product(parts):
    return "*".join(t for t, _ in parts), sp.Mul(*(e for _, e in parts))


def mutants(act: str, widths=(2, 2, 1), others: int | None = None, seed: int = 0) -> list:
    """Every single-mutation wrong claim on ``widths`` with hidden activation ``act``
    (``others``: how many other parameters' derivatives per parameter, default all)."""
    net = Net(act, widths)
    rng = random.Random(seed)
    out = []
    params = net.params
    swap = {p: f"w{p[1]}{p[3]}{p[2]}" for p in params
            if p[2] != p[3] and f"w{p[1]}{p[3]}{p[2]}" in params}

    def add(p, mutation, text, claimed, kind, relation):
        out.append(Mutant(act, p, mutation, f"dL/d{p} = {text}", kind, claimed,
                          net.truth(p), relation))

    for p in params:
        parts = net.factors(p)
        T = net.truth(p)
        for i, (t, e) in enumerate(parts):                      # drop a chain factor
            text, C = _product(parts[:i] + parts[i + 1:])
            kind = "pre-activation" if "'" in t else "missing-factor"
            add(p, f"drop {t}", text, C, kind, (C * e, T))
        text, C = _product(parts)
        extra = next(n for n in ("x2", "x1", f"w{net.depth}12") if n not in text)
        add(p, f"add {extra}", f"{text}*{extra}", C * _sym(extra), "extra-factor",
            (C * _sym(extra), T * _sym(extra)))
        add(p, "flip sign", f"-{text}", -C, "sign", (-C, -T))
        for c in (2, 3, sp.Rational(1, 2)):
            add(p, f"scale {c}", f"({c})*{text}", c * C, "scale", (c * C, c * T))
        qs = [q for q in params if q != p and net.truth(q) != 0 and q != swap.get(p)]
        if others is not None:
            qs = rng.sample(qs, min(others, len(qs)))
        for q in qs + ([swap[p]] if p in swap else []):         # another parameter's
            q_text, Q = _product(net.factors(q))
            kind = "transposed-index" if swap.get(p) == q else "wrong-parameter"
            add(p, f"d/d{q}", q_text, Q, kind, (Q, net.truth(q)))
        if act == "linear":
            continue
        for (l, j), a in net.a.items():
            if 0 < l < net.depth and f"a{l}{j}" in text:        # z for a
                z_text = text.replace(f"a{l}{j}", f"z{l}{j}")
                Cz = sp.Mul(*(net.z[l, j] if t == f"a{l}{j}" else e for t, e in parts))
                add(p, f"z{l}{j} for a{l}{j}", z_text, Cz, "pre-activation", (Cz, Cz))
            prime = f"{PRIME[act]}(z{l}{j})"
            if prime in text:                                   # f for f'
                f_text = text.replace(prime, f"{FUNC[act]}(z{l}{j})")
                Cf = sp.Mul(*(a if t == prime else e for t, e in parts))
                add(p, f"f for f' at z{l}{j}", f_text, Cf, "pre-activation", (Cf, Cf))
    return out


def category(m: Mutant) -> str:
    """The mutation's type: drop, add, flip, scale, other, transposed, z-for-a, f-for-f'."""
    head = m.mutation.split()[0]
    if head.startswith("d/d"):
        return "transposed" if m.kind == "transposed-index" else "other"
    if head.startswith("z"):
        return "z-for-a"
    return {"f": "f-for-f'"}.get(head, head)


def sample(act: str, n: int, seed: int = 0, widths=(2, 2, 1)) -> list:
    """A seeded sample of ``n`` mutants of ``act``: one of each type, types in a seeded
    order (so a few activations together cover every type), then the rest."""
    every = mutants(act, widths, others=2, seed=seed)
    rng = random.Random(f"{seed}-{act}")
    by_type: dict = {}
    for m in every:
        by_type.setdefault(category(m), []).append(m)
    chosen = [rng.choice(group) for group in by_type.values()]
    rng.shuffle(chosen)
    rest = [m for m in every if m not in chosen]
    rng.shuffle(rest)
    return (chosen + rest)[:n]


def check_factors(act: str, widths=(2, 2, 1), points: int = 3, seed: int = 1) -> None:
    """The hand-written chain-rule factors multiply to sympy.diff's gradient."""
    net = Net(act, widths)
    rng = random.Random(seed)
    for p in net.params:
        _, C = _product(net.factors(p))
        T = net.truth(p)
        for _ in range(points):
            point = {s: sp.Rational(rng.choice((-1, 1)) * rng.randint(16, 160), 64)
                     for s in T.free_symbols | C.free_symbols}
            assert abs(sp.N(C.xreplace(point) - T.xreplace(point), 30)) < 1e-20


def values_at(counterexample: dict) -> dict:
    """The counterexample's point in this module's symbols (exact where given)."""
    exact = counterexample.get("exact", {}).get("values", {})
    out = {}
    for name, v in counterexample["values"].items():
        text = exact.get(name)
        out[_sym(name)] = sp.Rational(text) if text else sp.nsimplify(v, rational=True)
    return out


def close(u, v, rtol: float = 1e-9) -> bool:
    u, v = complex(sp.N(u, 30)).real, complex(sp.N(v, 30)).real
    return abs(u - v) <= rtol * max(1.0, abs(u), abs(v))
