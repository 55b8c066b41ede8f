"""symgrad: the exact truth about neural-network gradients."""

from symgrad.comparison import compare
from symgrad.derivation import derivation
from symgrad.derive import gradients, reverse_program
from symgrad.errors import (
    DataError,
    MissingExtraError,
    ParseError,
    ShapeError,
    SpecError,
    SpecTypeError,
    SymgradError,
)
from symgrad.network import Network
from symgrad.numeric import compile_gradients
from symgrad.spec import parse_arch
from symgrad.tables import gradient_table
from symgrad.train import TrainingResult, train
from symgrad.verify import Verdict, verify

__version__ = "0.1.0"

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
]
