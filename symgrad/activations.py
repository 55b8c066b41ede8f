"""One table of activations: what each one is, symbolically, in one place.

Every symbolic part of symgrad reads an activation from :data:`TABLE`: the
network's forward pass (:mod:`symgrad.network`), the local derivative of reverse
mode (:mod:`symgrad.derive`), the names a claim may call (:mod:`symgrad.claims`)
and the code the backends print (:mod:`symgrad.backends`).  An entry holds

- ``forward(z)``: ``f(z)`` as a SymPy expression;
- ``derivative(z, a)``: ``f'(z)``, written with ``a = f(z)`` where the textbook
  does (``a*(1 - a)`` for the sigmoid, ``1 - a**2`` for tanh); the tests prove
  each equals ``sympy.diff`` of ``forward``;
- ``claim_names``: other names a claim may use for it (``sigma``);
- ``kinked``: piecewise linear with a kink at 0 (not analytic, so no complex
  step, and finite differences must keep away from 0);
- ``native``: per backend, a template for printing ``f(u)`` where SymPy's own
  printing would overflow or be slow (softplus as ``logaddexp(0, u)``).

Adding an activation means an entry here, its name in
:data:`symgrad.spec.ACTIVATIONS` (the SymPy-free list the references read), and
its formulas in the two independent references,
:mod:`symgrad.references.backprop` and :mod:`symgrad.references.finite_diff`,
which keep their own code on purpose; ``tests/test_activations.py`` checks that
all of them cover the same set.

ReLU-type functions are named SymPy functions (:class:`relu`, :class:`step`, ...)
rather than ``Max`` or ``Piecewise``: their derivative at 0 is the left slope (0
for relu, as in PyTorch and micrograd; SymPy's ``Heaviside(0)`` would be 1/2), and
``sympy.diff`` of deep ReLU networks stays fast.

>>> import sympy as sp
>>> z = sp.Symbol("z", real=True)
>>> TABLE["sigmoid"].forward(z)
1/(1 + exp(-z))
>>> TABLE["tanh"].derivative(z, sp.tanh(z))
1 - tanh(z)**2
>>> TABLE["relu"].forward(sp.Integer(-3)), TABLE["relu"].derivative(sp.Integer(0), 0)
(0, 0)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import sympy as sp

from symgrad.errors import SpecError
from symgrad.spec import ACTIVATIONS, LEAKY_SLOPE_DEN, LEAKY_SLOPE_NUM, choices_message

#: Slope of leaky_relu for negative inputs, exact.
LEAKY_SLOPE = sp.Rational(LEAKY_SLOPE_NUM, LEAKY_SLOPE_DEN)


class _Kinked(sp.Function):
    """Base of the piecewise-linear functions: ``f(z) = z`` for z > 0, ``s*z`` below.

    A subclass with ``derivative = None`` is a step (the derivative of a kinked
    function): 1 for z > 0, ``left`` for z <= 0 (the convention at 0).
    """

    nargs = 1
    left: Any = sp.S.Zero             # f(z) = left * z for z <= 0
    of = ""                           # a step: the activation it is the derivative of
    derivative: Any = None            # the step function class

    @classmethod
    def eval(cls, z):
        if z.is_extended_positive:
            return z if cls.derivative is not None else sp.S.One
        if z.is_extended_nonpositive:
            return cls.left * z if cls.derivative is not None else cls.left
        return None

    def fdiff(self, argindex=1):
        if self.derivative is None:
            return sp.S.Zero  # steps are flat away from 0; 0 is a convention point
        return self.derivative(self.args[0])

    def _eval_rewrite_as_Piecewise(self, z, **kwargs):
        high = z if self.derivative is not None else sp.S.One
        low = self.left * z if self.derivative is not None else self.left
        return sp.Piecewise((high, z > 0), (low, True))

    def _eval_evalf(self, prec):
        z = self.args[0].evalf(prec)
        return self.func(z) if z.is_comparable else None

    def _latex(self, printer):
        name = type(self).__name__.replace("_", r"\_")
        return rf"\operatorname{{{name}}}\left({printer._print(self.args[0])}\right)"

    def _sympystr(self, printer):
        # A step prints as the derivative it is, relu'(z): a claim reads that back.
        name = type(self).__name__ if self.derivative is not None else f"{self.of}'"
        return f"{name}({printer._print(self.args[0])})"

    def _eval_is_real(self):
        return self.args[0].is_real

    def _scalarcode(self, printer):
        # A conditional expression: right for Python floats and mpmath numbers.
        z = printer._print(self.args[0])
        high = z if self.derivative is not None else "1"
        low = printer._print(self.left)
        if self.derivative is not None and self.left != 0:
            low = f"{low}*({z})"
        return f"(({high}) if ({z}) > 0 else ({low}))"

    _mpmathcode = _pythoncode = _lambdacode = _scalarcode

    def _numpycode(self, printer):
        z = printer._print(self.args[0])
        high = z if self.derivative is not None else "1.0"
        low = printer._print(sp.Float(self.left))
        if self.derivative is not None and self.left != 0:
            low = f"{low}*({z})"
        return f"numpy.where(({z}) > 0, {high}, {low})"


class step(_Kinked):
    """relu's derivative: 1 for z > 0, else 0 (also at 0); printed ``relu'(z)``."""

    of = "relu"

    def _latex(self, printer):
        return r"\left[" + printer._print(self.args[0]) + r" > 0\right]"


class leaky_step(_Kinked):
    """leaky_relu's derivative: 1 for z > 0, else the slope 1/100 (also at 0)."""

    left = LEAKY_SLOPE
    of = "leaky_relu"


class relu(_Kinked):
    """max(0, z), with derivative :class:`step`."""

    derivative = step


class leaky_relu(_Kinked):
    """z for z > 0 else z/100, with derivative :class:`leaky_step`."""

    left = LEAKY_SLOPE
    derivative = leaky_step


class _Piecewise(sp.Function):
    """Base of the smooth-piece functions below: a numeric value by pieces, printed
    as conditional code (the convention at a corner is the ``<=`` side)."""

    nargs = 1

    @classmethod
    def eval(cls, z):
        if z.is_Number:
            return cls._value(z)
        return None

    def _eval_evalf(self, prec):
        z = self.args[0].evalf(prec)
        return self._value(z).evalf(prec) if z.is_comparable else None

    def _eval_is_real(self):
        return self.args[0].is_real

    def _latex(self, printer):
        return rf"\operatorname{{{self._tex}}}\left({printer._print(self.args[0])}\right)"

    def _sympystr(self, printer):
        # a derivative prints as what it is, elu'(z): a claim reads that back
        return f"{self._tex.lower()}({printer._print(self.args[0])})"


def _scalar_module(printer, name: str) -> str:
    """``math.<name>``, or ``mpmath.<name>`` for SymPy's mpmath printer (lambdify's
    ``modules="mpmath"``, where ``math`` is not defined and would lose the digits)."""
    module = "mpmath" if printer.printmethod == "_mpmathcode" else "math"
    return printer._module_format(f"{module}.{name}")


class elu_slope(_Piecewise):
    """elu's derivative: 1 for z > 0, exp(z) for z <= 0 (1 at 0 either way)."""

    _tex = r"ELU'"

    @classmethod
    def _value(cls, z):
        return sp.S.One if z > 0 else sp.exp(z)

    def fdiff(self, argindex=1):
        return sp.exp(self.args[0]) * (1 - step(self.args[0]))

    def _pythoncode(self, printer):
        z = printer._print(self.args[0])
        return f"(1.0 if ({z}) > 0 else {_scalar_module(printer, 'exp')}({z}))"

    def _numpycode(self, printer):
        z = printer._print(self.args[0])
        return f"numpy.where(({z}) > 0, 1.0, numpy.exp(numpy.minimum({z}, 0)))"


class elu(_Piecewise):
    """ELU (alpha = 1): z for z > 0, exp(z) - 1 below; derivative :class:`elu_slope`."""

    _tex = r"ELU"

    @classmethod
    def _value(cls, z):
        return z if z > 0 else sp.exp(z) - 1

    def fdiff(self, argindex=1):
        return elu_slope(self.args[0])

    def _pythoncode(self, printer):
        z = printer._print(self.args[0])
        return f"(({z}) if ({z}) > 0 else {_scalar_module(printer, 'expm1')}({z}))"

    def _numpycode(self, printer):
        z = printer._print(self.args[0])
        return f"numpy.where(({z}) > 0, {z}, numpy.expm1(numpy.minimum({z}, 0)))"


class hardtanh_slope(_Piecewise):
    """hardtanh's derivative: 1 for -1 < z < 1, else 0 (0 at both corners, as PyTorch)."""

    _tex = r"hardtanh'"

    @classmethod
    def _value(cls, z):
        return sp.S.One if -1 < z < 1 else sp.S.Zero

    def fdiff(self, argindex=1):
        return sp.S.Zero      # flat away from the corners, which are conventions

    def _pythoncode(self, printer):
        z = printer._print(self.args[0])
        return f"(1.0 if abs({z}) < 1 else 0.0)"

    def _numpycode(self, printer):
        z = printer._print(self.args[0])
        return f"numpy.where(numpy.abs({z}) < 1, 1.0, 0.0)"


class hardtanh(_Piecewise):
    """hardtanh: z clipped to [-1, 1]; derivative :class:`hardtanh_slope`."""

    _tex = r"hardtanh"

    @classmethod
    def _value(cls, z):
        return sp.Max(-1, sp.Min(1, z))

    def fdiff(self, argindex=1):
        return hardtanh_slope(self.args[0])

    def _pythoncode(self, printer):
        z = printer._print(self.args[0])
        return f"min(1.0, max(-1.0, {z}))"

    def _numpycode(self, printer):
        z = printer._print(self.args[0])
        return f"numpy.clip({z}, -1.0, 1.0)"


for _cls in (elu_slope, elu, hardtanh_slope, hardtanh):
    _cls._mpmathcode = _cls._lambdacode = _cls._pythoncode


def _gelu(z):
    return z * (1 + sp.erf(z / sp.sqrt(2))) / 2


def _gelu_slope(z, a):
    # d/dz z*Phi(z) = Phi(z) + z*phi(z), phi the standard normal density
    return (1 + sp.erf(z / sp.sqrt(2))) / 2 + z * sp.exp(-z ** 2 / 2) / sp.sqrt(2 * sp.pi)


#: The cubic coefficient of GELU's tanh approximation (Hendrycks and Gimpel).
GELU_CUBIC = sp.Rational(44715, 1000000)


def _gelu_tanh(z):
    return z * (1 + sp.tanh(sp.sqrt(2 / sp.pi) * (z + GELU_CUBIC * z ** 3))) / 2


def _gelu_tanh_slope(z, a):
    t = sp.tanh(sp.sqrt(2 / sp.pi) * (z + GELU_CUBIC * z ** 3))
    return (1 + t) / 2 + z * (1 - t ** 2) * sp.sqrt(2 / sp.pi) * (1 + 3 * GELU_CUBIC * z ** 2) / 2


def _sigmoid(z):
    return 1 / (1 + sp.exp(-z))


@dataclass(frozen=True)
class Activation:
    """One row of :data:`TABLE` (see the module notes)."""

    name: str
    forward: Callable[[Any], Any]
    derivative: Callable[[Any, Any], Any]
    claim_names: tuple[str, ...] = ()
    kinked: bool = False
    native: Mapping[str, str] = field(default_factory=dict)

    @property
    def analytic(self) -> bool:
        """True when complex-step differentiation is exact for it."""
        return not self.kinked


_ROWS = (
    Activation("linear", lambda z: z, lambda z, a: sp.S.One),
    Activation("sigmoid", _sigmoid, lambda z, a: a * (1 - a),
               claim_names=("sigma",)),
    Activation("tanh", sp.tanh, lambda z, a: 1 - a ** 2,
               native={"numba": "_tanh({u})"}),
    Activation("relu", relu, lambda z, a: step(z), kinked=True),
    Activation("leaky_relu", leaky_relu, lambda z, a: leaky_step(z), kinked=True),
    Activation("softplus", lambda z: sp.log(1 + sp.exp(z)), lambda z, a: 1 / (1 + sp.exp(-z)),
               native={"numpy": "numpy.logaddexp(0, {u})", "numba": "_softplus({u})"}),
    Activation("elu", elu, lambda z, a: elu_slope(z), kinked=True),
    Activation("gelu", _gelu, _gelu_slope),
    Activation("gelu_tanh", _gelu_tanh, _gelu_tanh_slope),
    Activation("silu", lambda z: z * _sigmoid(z),
               lambda z, a: _sigmoid(z) * (1 + z * (1 - _sigmoid(z))), claim_names=("swish",)),
    Activation("hardtanh", hardtanh, lambda z, a: hardtanh_slope(z), kinked=True),
)
#: Every activation by name, in the order of :data:`symgrad.spec.ACTIVATIONS`.
TABLE: dict[str, Activation] = {row.name: row for row in _ROWS}
#: Every name a claim may call an activation by (``sigma`` is the sigmoid).
CLAIM_NAMES: dict[str, str] = {n: row.name for row in _ROWS for n in (row.name, *row.claim_names)
                               if row.name != "linear"}
#: The piecewise-linear activations (no complex step; finite differences avoid 0).
KINKED = frozenset(row.name for row in _ROWS if row.kinked)

assert tuple(TABLE) == ACTIVATIONS, "spec.ACTIVATIONS and activations.TABLE disagree"


def lookup(name: str) -> Activation:
    """The table row of activation ``name``; :class:`~symgrad.errors.SpecError` if unknown."""
    row = TABLE.get(name)
    if row is None:
        raise SpecError(choices_message("activation", name, ACTIVATIONS))
    return row


def forward(name: str, z: sp.Expr) -> sp.Expr:
    """``f(z)`` for activation ``name`` as a SymPy expression."""
    return lookup(name).forward(z)


def derivative(name: str, z: sp.Expr, a: sp.Expr) -> sp.Expr:
    """``f'(z)`` for activation ``name``, written with ``a = f(z)`` where shorter."""
    return lookup(name).derivative(z, a)


# -- printing hooks for generated code ----------------------------------------
# A backend that must print an activation its own way (``native``) first calls
# protect(expr, backend): every f(u) becomes an opaque function ``_native_<name>(u)``,
# which common-subexpression elimination cannot split (so exp(u) inside softplus is
# never pulled out and overflowed), and its printer calls native_code() for them.

_U = sp.Wild("u")
_PREFIX = "_native_"


def protect(expr: sp.Expr, backend: str) -> sp.Expr:
    """``expr`` with each activation that has a ``native`` form for ``backend``
    replaced by an opaque ``_native_<name>(u)``."""
    expr = sp.sympify(expr)
    for row in _ROWS:
        if backend in row.native:
            opaque = sp.Function(_PREFIX + row.name)
            expr = expr.replace(row.forward(_U), opaque(_U))
    return expr


def native_code(func_name: str, backend: str, argument: str) -> str | None:
    """The code of ``_native_<name>(argument)`` for ``backend``, or None if
    ``func_name`` is not such a function."""
    if not func_name.startswith(_PREFIX):
        return None
    row = TABLE[func_name[len(_PREFIX):]]
    return row.native[backend].format(u=argument)
