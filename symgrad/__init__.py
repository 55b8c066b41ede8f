"""symgrad: the exact truth about neural-network gradients.

``import symgrad as sg`` is cheap: the names below are imported on first use
(PEP 562), so ``symgrad --version`` and code that needs only the spec or the
errors do not load SymPy.

How the code is organised (data flows down; nothing imports upwards):

- :mod:`symgrad.spec` (no SymPy), :mod:`symgrad.activations`,
  :mod:`symgrad.network`, :mod:`symgrad.derive`: the network and its exact gradients;
- :mod:`symgrad.limits` and :mod:`symgrad.budget`: every cap, and symbolic work
  under a time and memory budget;
- :mod:`symgrad.backends`: ``compile_gradients`` and its numpy and numba backends;
- :mod:`symgrad.references`: the independent numpy backprop, finite differences
  and the three-way check;
- :mod:`symgrad.claims`: reading, deciding and explaining hand derivations;
- :mod:`symgrad.render`: text, Markdown and LaTeX, tables and derivations;
- :mod:`symgrad.training`: gradient descent, its report, data and plots;
- :mod:`symgrad.testing` and :mod:`symgrad.strategies`: for your own tests;
- :mod:`symgrad.cli`: the command line.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from symgrad._version import __version__ as __version__
from symgrad.errors import (
    DataError,
    MissingExtraError,
    ParseError,
    ShapeError,
    SpecError,
    SpecTypeError,
    SymgradError,
)

#: Public name -> the module that defines it (imported on first access).
_LAZY = {
    "Network": "symgrad.network",
    "parse_arch": "symgrad.spec",
    "gradients": "symgrad.derive",
    "reverse_program": "symgrad.derive",
    "compile_gradients": "symgrad.backends",
    "verify": "symgrad.claims.verify",
    "Verdict": "symgrad.claims.verify",
    "verify_derivation": "symgrad.claims.steps",
    "verify_matrix": "symgrad.claims.matrix.check",
    "compare": "symgrad.claims.compare",
    "gradient_table": "symgrad.render.tables",
    "derivation": "symgrad.render.derivation",
    "train": "symgrad.training.train",
    "TrainingResult": "symgrad.training.train",
}

__all__ = [
    "DataError",
    "MissingExtraError",
    "Network",
    "ParseError",
    "ShapeError",
    "SpecError",
    "SpecTypeError",
    "SymgradError",
    "TrainingResult",
    "Verdict",
    "compare",
    "compile_gradients",
    "derivation",
    "gradient_table",
    "gradients",
    "parse_arch",
    "reverse_program",
    "train",
    "verify",
    "verify_derivation",
    "verify_matrix",
]

if TYPE_CHECKING:  # what static tools see; at run time __getattr__ imports on demand
    from symgrad.backends import compile_gradients
    from symgrad.claims.compare import compare
    from symgrad.claims.matrix.check import verify_matrix
    from symgrad.claims.steps import verify_derivation
    from symgrad.claims.verify import Verdict, verify
    from symgrad.derive import gradients, reverse_program
    from symgrad.network import Network
    from symgrad.render.derivation import derivation
    from symgrad.render.tables import gradient_table
    from symgrad.spec import parse_arch
    from symgrad.training.train import TrainingResult, train


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'symgrad' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
