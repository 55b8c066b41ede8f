"""How SymPy expressions are printed as numba source (the activation hooks live here).

Every formula in a kernel goes through :func:`stage`: one ``sympy.cse`` pass over
a group of assignments, printed by :class:`_Printer`.  The printing rules:
``math.`` functions; ``u**2`` as ``u*u``; kinked activations and their steps as
conditional expressions (their own ``_pythoncode``, derivative at the kink as
everywhere in symgrad); and each activation's ``native["numba"]`` form from
:data:`symgrad.activations.TABLE`: softplus as ``_softplus(u)``, which never
overflows, and ``tanh`` as the kernel's branch-free ``_tanh`` (see
:mod:`symgrad.backends.numba.runtime`).  Nothing in the generator names a
particular activation.
"""

from __future__ import annotations

import itertools

import sympy as sp
from sympy.printing.pycode import PythonCodePrinter

from symgrad import activations
from symgrad.backends.numba.emit import Emitter


class _Printer(PythonCodePrinter):
    """Python printer for numba: ``math.`` functions, products for small powers."""

    def __init__(self):
        super().__init__({"fully_qualified_modules": True, "inline": True})

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

    def _print_Function(self, expr):
        # An activation's numba form (activations.protect made it opaque for CSE).
        code = activations.native_code(expr.func.__name__, "numba", self._print(expr.args[0]))
        return code if code is not None else super()._print_Function(expr)


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
    exprs = [activations.protect(x, "numba") for _, x in assignments]
    replacements, reduced = sp.cse(exprs, symbols=tmp, optimizations="basic")
    for sym, expr in replacements:
        e.line(f"{sym} = {printer.doprint(expr)}")
    for target, expr in zip(targets, reduced):
        e.line(f"{target} {op} {printer.doprint(expr)}")
