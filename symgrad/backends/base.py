"""What every backend returns: :class:`CompiledGradient`.

A backend module provides ``compile(net, method) -> CompiledGradient``; the
registry in :mod:`symgrad.backends` looks backends up by name.  This module
imports no SymPy and no backend, so every backend can import it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from symgrad.spec import check_batch

if TYPE_CHECKING:
    from symgrad.network import Network

#: The two ways to generate a kernel: the layer-structured reverse-mode program,
#: or one flat ``sympy.diff`` expression per parameter.
METHODS = ("reverse", "diff")

Kernel = Callable[[np.ndarray, np.ndarray, np.ndarray], "tuple[float, np.ndarray]"]


class CompiledGradient:
    """A compiled ``f(params, X, y) -> (cost, grad)``; see :func:`compile_gradients`."""

    def __init__(self, net: Network, kernel: Kernel, source: str, backend: str,
                 method: str) -> None:
        self.net = net
        self.kernel = kernel
        self.source = source
        self.backend = backend
        self.method = method
        names = ", ".join(str(p) for p in net.parameters[:6])
        more = ", ..." if len(net.parameters) > 6 else ""
        self.__doc__ = (
            f"Cost and gradient of the {net.describe()} network "
            f"({backend} backend, {method} mode).\n\n"
            f"f(params, X, y) -> (cost, grad): params is a 1-D array of the "
            f"{len(net.parameters)} parameters ({names}{more}), X is "
            f"(m, {net.spec.n_inputs}), y is (m,) or (m, {net.spec.n_outputs}); "
            f"cost is C = (1/m) * sum of the per-sample {net.loss_name} loss and "
            f"grad is dC/dparams in the same order as params."
        )

    def __call__(self, params: Any, X: Any, y: Any) -> tuple[float, np.ndarray]:
        params, X, Y = check_batch(self.net.spec, params, X, y)
        with np.errstate(over="ignore", under="ignore"):
            return self.kernel(params, X, Y)

    def __repr__(self) -> str:
        return (f"<compiled gradient of {self.net.describe()}; backend={self.backend!r}, "
                f"method={self.method!r}>")
