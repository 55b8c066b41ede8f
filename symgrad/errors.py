"""One error hierarchy for the whole project.

Every error symgrad raises on bad input is a :class:`SymgradError`; each child also
inherits the builtin a caller would expect (``ValueError`` or ``TypeError``), so
``except ValueError`` keeps working.  The command line turns any ``SymgradError``
into one line on stderr and exit code 2; :class:`BudgetExceeded` is the exception:
the commands that run under a budget report it as "undecided" (exit code 5).
"""

from __future__ import annotations


class SymgradError(Exception):
    """Base class of every error symgrad raises on purpose."""


class SpecError(SymgradError, ValueError):
    """A network spec (widths, activation, loss, option) has a bad value."""


class SpecTypeError(SpecError, TypeError):
    """A network spec argument has the wrong type."""


class ShapeError(SymgradError, ValueError):
    """Arrays passed to a gradient function have the wrong shape or dtype."""


class ParseError(SymgradError, ValueError):
    """User text (a claim, an expression) could not be read."""


class DataError(SymgradError, ValueError):
    """A data file or array is unusable (missing column, not a number, NaN)."""


class MissingExtraError(SymgradError, ImportError):
    """An optional dependency is not installed; the message says which extra."""


class CacheError(Exception):
    """A cache symgrad keeps on disk is broken beyond repair (the message names the
    folder to delete).  Not bad input: the command line exits with code 4."""


class BudgetExceeded(SymgradError, RuntimeError):
    """Symbolic work ran out of its time or memory budget (see :mod:`symgrad.budget`).

    ``limit`` is ``"time"`` or ``"memory"``; ``budget`` is the
    :class:`~symgrad.budget.Budget` that ran out (None when unknown).  The message
    says which limit and how large it was: ``"ran out of time (5 s)"``.
    """

    def __init__(self, message: str, limit: str = "time", budget: object = None):
        super().__init__(message)
        self.limit = limit
        self.budget = budget
