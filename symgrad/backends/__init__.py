"""Backends: the registry behind :func:`compile_gradients`.

Each backend is a module with a function ``compile_<name>(net, method)`` that
returns a :class:`~symgrad.backends.base.CompiledGradient`.  The registry maps a
backend's name to that module and imports it only when the backend is asked for, so the
numba backend costs nothing unless it is used, and a missing ``numba`` becomes one
clear :class:`~symgrad.errors.MissingExtraError`.

========  ===============================================  ==================
name      module                                           needs
========  ===============================================  ==================
numpy     :mod:`symgrad.backends.numpy`                    (always there)
numba     :mod:`symgrad.backends.numba.backend`            the ``fast`` extra
auto      the fastest installed: numba if it imports, else numpy
========  ===============================================  ==================
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from symgrad.backends.base import METHODS, CompiledGradient
from symgrad.errors import MissingExtraError, SpecError
from symgrad.spec import choices_message

if TYPE_CHECKING:
    from symgrad.network import Network

#: Backend name -> (module holding ``compile_<name>``, the extra to install when
#: the module does not import).  Adding a backend is one line here.
REGISTRY: dict[str, tuple[str, str | None]] = {
    "numpy": ("symgrad.backends.numpy", None),
    "numba": ("symgrad.backends.numba.backend", "fast"),
}
#: Every name :func:`compile_gradients` accepts.
BACKENDS = (*REGISTRY, "auto")

__all__ = ["BACKENDS", "METHODS", "REGISTRY", "CompiledGradient", "compile_gradients",
           "fastest_backend"]


def _module(name: str):
    module, extra = REGISTRY[name]
    try:
        return importlib.import_module(module)
    except ImportError:
        if extra is None:
            raise
        raise MissingExtraError(
            f"the {name} backend needs the '{extra}' extra: "
            f"python -m pip install 'symgrad[{extra}]'") from None


def fastest_backend() -> str:
    """The fastest backend installed here: ``"numba"`` when it imports, else ``"numpy"``."""
    try:
        _module("numba")
    except MissingExtraError:
        return "numpy"
    return "numba"


def compile_gradients(net: Network, *, backend: str = "numpy",
                      method: str = "reverse") -> CompiledGradient:
    """Compile the exact gradient of the cost into ``f(params, X, y) -> (cost, grad)``.

    Parameters
    ----------
    net : Network
    backend : {"numpy", "numba", "auto"}
        ``numpy`` (default) runs vectorised numpy code.  ``numba`` needs the
        ``fast`` extra.  ``auto`` picks :func:`fastest_backend`.
    method : {"reverse", "diff"}
        Generate code from the layer-structured reverse-mode program (default),
        or from one flat ``sympy.diff`` expression per parameter (slow to derive
        for deep nets and slow to run for wide ones; kept as an independent path).

    Returns
    -------
    CompiledGradient
        ``f(params, X, y)`` with ``params`` a 1-D array in ``net.parameters``
        order, ``X`` of shape (m, n_inputs), ``y`` of shape (m,) or
        (m, n_outputs).  It returns ``cost`` = C = (1/m) sum_i L_i (a float) and
        ``grad`` = dC/dparams (a float array).  ``f.source`` is the generated code.

    Raises
    ------
    SpecError
        ``net`` is not a :class:`~symgrad.Network`, or an unknown backend or method.
    MissingExtraError
        The backend's extra is not installed.

    Examples
    --------
    >>> import numpy as np
    >>> from symgrad import Network
    >>> net = Network([2, 2, 1])
    >>> f = compile_gradients(net)
    >>> cost, grad = f(np.ones(6), np.array([[1.0, 2.0]]), np.array([1.0]))
    >>> cost, grad.tolist()      # yhat = 6, so C = (1 - 6)**2 / 2
    (12.5, [5.0, 10.0, 5.0, 10.0, 15.0, 15.0])
    """
    from symgrad.network import Network

    if not isinstance(net, Network):
        raise SpecError(f"compile_gradients needs a Network, got {type(net).__name__}")
    if backend not in BACKENDS:
        raise SpecError(choices_message("backend", backend, BACKENDS))
    if method not in METHODS:
        raise SpecError(choices_message("method", method, METHODS))
    if backend == "auto":
        backend = fastest_backend()
    compiled: CompiledGradient = getattr(_module(backend), f"compile_{backend}")(net, method)
    return compiled
