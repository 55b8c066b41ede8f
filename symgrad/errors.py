"""One error hierarchy for the whole project.

Every error symgrad raises on bad input is a :class:`SymgradError`; each child also
inherits the builtin a caller would expect (``ValueError`` or ``TypeError``), so
``except ValueError`` keeps working.  The command line turns any ``SymgradError``
into one line on stderr and exit code 2.
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
