"""How SymPy expressions are printed as numba source (the activation hooks live here).

Every formula in a kernel goes through :func:`stage`: one ``sympy.cse`` pass over
a group of assignments, printed by :class:`_Printer`.  The printing rules:
``math.`` functions; ``u**2`` as ``u*u``; relu and its step as conditional
expressions (derivative 0 at the kink, as everywhere in symgrad);
``log(1 + exp(u))`` (softplus) as ``_softplus(u)``, which never overflows;
``tanh`` as the kernel's branch-free ``_tanh`` (see
:mod:`symgrad.backends.numba.runtime`).  The activation-specific rules are the
``_print_*`` hooks of :class:`_Printer` and :func:`_with_softplus`, and nothing
else in the generator knows about particular activations.
"""

from __future__ import annotations

import itertools

import sympy as sp
from sympy.printing.pycode import PythonCodePrinter

from symgrad.backends.numba.emit import Emitter

_softplus = sp.Function("_softplus")


class _Printer(PythonCodePrinter):
    """Python printer for numba: ``math.`` functions, products for small powers."""

    def __init__(self):
        super().__init__({"fully_qualified_modules": True, "inline": True,
                          "user_functions": {"_softplus": "_softplus"}})

    def _print_Pow(self, expr, rational=False):
        base, e = self.parenthesize(expr.base, 100), expr.exp
        if e == -1:
            return f"1.0/{base}"
        if e in (2, 3):
            return "*".join([base] * int(e))
        if e == -2:
            return f"1.0/({base}*{base})"
        return super()._print_Pow(expr, rational=rational)

    def _print_Rational(self, expr):
        return f"{float(expr)!r}"

    def _print_kinked(self, expr):
        # relu, leaky_relu and their steps: a conditional expression on z > 0
        return self._print(expr.rewrite(sp.Piecewise))

    def _print_tanh(self, expr):
        return f"_tanh({self._print(expr.args[0])})"

    _print_relu = _print_leaky_relu = _print_step = _print_leaky_step = _print_kinked


def _with_softplus(expr):
    """Replace ``log(1 + exp(u))`` by ``_softplus(u)`` (overflow-free; CSE-proof)."""
    def is_softplus(e):
        if not isinstance(e, sp.log) or not isinstance(e.args[0], sp.Add):
            return False
        terms = e.args[0].args
        return len(terms) == 2 and sp.S.One in terms and any(isinstance(t, sp.exp)
                                                             for t in terms)

    def rewrite(e):
        u = next(t for t in e.args[0].args if isinstance(t, sp.exp)).args[0]
        return _softplus(u)

    return sp.sympify(expr).replace(is_softplus, rewrite)


def temporaries():
    """A fresh stream of CSE temporaries ``_t0, _t1, ...`` (one per kernel function)."""
    return (sp.Symbol(f"_t{i}") for i in itertools.count())


def stage(e: Emitter, assignments, tmp, op: str = "=") -> None:
    """Emit ``target op expr`` for ``assignments`` after one ``sympy.cse`` pass.

    >>> e, z = Emitter(), sp.Symbol("z")
    >>> stage(e, [(sp.Symbol("a"), sp.tanh(z)), (sp.Symbol("f"), 1 - sp.tanh(z)**2)],
    ...       temporaries())
    >>> print(e.text(), end="")
    _t0 = _tanh(z)
    a = _t0
    f = 1 - _t0*_t0
    """
    printer = _Printer()
    targets = [t for t, _ in assignments]
    exprs = [_with_softplus(x) for _, x in assignments]
    replacements, reduced = sp.cse(exprs, symbols=tmp, optimizations="basic")
    for sym, expr in replacements:
        e.line(f"{sym} = {printer.doprint(expr)}")
    for target, expr in zip(targets, reduced):
        e.line(f"{target} {op} {printer.doprint(expr)}")
