"""Wrong claims built by one known mutation of a right one, with their truth and kind.

Written independently of symgrad's derivation: the network 2-2-1 (hidden activation
``f``, linear output, half-squared loss) is written out here in SymPy, its
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

NAMES = "x1 x2 y w111 w112 w121 w122 w211 w212".split()
SYM = {n: sp.Symbol(n, real=True) for n in NAMES}


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
    """2-2-1 with hidden activation ``act``: expressions in base symbols."""

    def __init__(self, act: str):
        s = SYM
        self.act = act
        self.z1 = {j: s[f"w1{j}1"] * s["x1"] + s[f"w1{j}2"] * s["x2"] for j in (1, 2)}
        self.a1 = {j: _f(act, self.z1[j]) for j in (1, 2)}
        self.z2 = s["w211"] * self.a1[1] + s["w212"] * self.a1[2]
        self.loss = (self.z2 - s["y"]) ** 2 / 2
        zz = sp.Symbol("zz", real=True)
        self._fp = sp.diff(_f(act, zz), zz)
        self._zz = zz
        self.names = {"z21": self.z2, "y": s["y"]}
        for j in (1, 2):
            self.names[f"z1{j}"] = self.z1[j]
            self.names[f"a1{j}"] = self.a1[j]

    def fprime(self, j):
        return self._fp.xreplace({self._zz: self.z1[j]})

    def truth(self, p: str):
        return sp.diff(self.loss, SYM[p])

    def factors(self, p: str) -> list:
        """``[(text, expression), ...]``: the chain-rule factors of dL/dp, by hand."""
        err = ("(z21 - y)", self.z2 - SYM["y"])
        if p.startswith("w2"):
            j = p[3]
            return [err, (f"a1{j}", self.a1[int(j)])]
        j, k = int(p[2]), p[3]
        out = [err, (f"w21{j}", SYM[f"w21{j}"])]
        if self.act != "linear":
            out.append((f"{PRIME[self.act]}(z1{j})", self.fprime(j)))
        out.append((f"x{k}", SYM[f"x{k}"]))
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


def mutants(act: str) -> list:
    """Every single-mutation wrong claim on 2-2-1 with hidden activation ``act``."""
    net = Net(act)
    out = []
    params = [p for p in NAMES if p.startswith("w")]
    swap = {"w112": "w121", "w121": "w112"}

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
        extra = "x2" if "x2" not in text else "w212"
        add(p, f"add {extra}", f"{text}*{extra}", C * SYM[extra], "extra-factor",
            (C * SYM[extra], T * SYM[extra]))
        add(p, "flip sign", f"-{text}", -C, "sign", (-C, -T))
        for c in (2, 3, sp.Rational(1, 2)):
            add(p, f"scale {c}", f"({c})*{text}", c * C, "scale", (c * C, c * T))
        for q in params:                                        # another parameter's
            if q == p or net.truth(q) == 0:
                continue
            q_text, Q = _product(net.factors(q))
            kind = "transposed-index" if swap.get(p) == q else "wrong-parameter"
            add(p, f"d/d{q}", q_text, Q, kind, (Q, net.truth(q)))
        if act == "linear":
            continue
        for j in (1, 2):
            if f"a1{j}" in text:                                # z for a
                z_text = text.replace(f"a1{j}", f"z1{j}")
                Cz = C.xreplace({net.a1[j]: net.z1[j]})
                add(p, f"z1{j} for a1{j}", z_text, Cz, "pre-activation", (Cz, Cz))
            prime = f"{PRIME[act]}(z1{j})"
            if prime in text:                                   # f for f'
                f_text = text.replace(prime, f"{FUNC[act]}(z1{j})")
                Cf = sp.Mul(*(net.a1[j] if t == prime else e for t, e in parts))
                add(p, f"f for f' at z1{j}", f_text, Cf, "pre-activation", (Cf, Cf))
    return out


def sample(act: str, n: int, seed: int = 0) -> list:
    """A seeded sample of ``n`` mutants of ``act`` (every mutation type if possible)."""
    every = mutants(act)
    rng = random.Random(seed)
    by_type: dict = {}
    for m in every:
        by_type.setdefault(m.mutation.split()[0], []).append(m)
    chosen = [rng.choice(group) for group in by_type.values()]
    rest = [m for m in every if m not in chosen]
    rng.shuffle(rest)
    return (chosen + rest)[:n]


def check_factors(act: str, points: int = 3, seed: int = 1) -> None:
    """The hand-written chain-rule factors multiply to sympy.diff's gradient."""
    net = Net(act)
    rng = random.Random(seed)
    for p in (n for n in NAMES if n.startswith("w")):
        _, C = _product(net.factors(p))
        for _ in range(points):
            point = {s: sp.Rational(rng.choice((-1, 1)) * rng.randint(16, 160), 64)
                     for s in SYM.values()}
            assert abs(sp.N(C.xreplace(point) - net.truth(p).xreplace(point), 30)) < 1e-20


def values_at(counterexample: dict) -> dict:
    """The counterexample's point in this module's symbols (exact where given)."""
    exact = counterexample.get("exact", {}).get("values", {})
    out = {}
    for name, v in counterexample["values"].items():
        text = exact.get(name)
        out[SYM[name]] = sp.Rational(text) if text else sp.nsimplify(v, rational=True)
    return out


def close(u, v, rtol: float = 1e-9) -> bool:
    u, v = complex(sp.N(u, 30)).real, complex(sp.N(v, 30)).real
    return abs(u - v) <= rtol * max(1.0, abs(u), abs(v))
