"""What the command line shows and writes: escaped text, guarded streams, plot files, notes.

Escaping
--------
Text that came from the user (a file name, a CSV header, a claim, an alias) may
hold control characters; printed raw, an escape sequence such as ``\\x1b[2J``
would drive the terminal instead of being shown.  :func:`escape` writes every
such character as a Python-style escape (``\\x1b``, ``\\n``, ``\\u202e``) and
leaves ordinary Unicode (``∂``, ``ŷ``, ``✓``) alone.  Escaped are the Unicode
categories Cc (C0 and C1 controls, DEL), Cf (format characters such as the
bidirectional overrides), Cs (lone surrogates, which is how Python spells
undecodable bytes in file names) and Zl/Zp (line and paragraph separators).
A backslash is not doubled, so text that is already escaped (a ``repr``) reads
the same, and escaping twice changes nothing.

Streams
-------
:func:`symgrad.cli.main.main` runs every command with ``sys.stdout`` and
``sys.stderr`` wrapped in :class:`GuardedStream`: whatever a command prints is
escaped on the way (line breaks and tabs kept, and carriage returns on stderr for
the progress bar); a failed write (a full disk, ``> /dev/full``) becomes
:class:`OutputError`, which the command line reports in one line with exit code
:data:`symgrad.cli.options.EXIT_OUTPUT`; a character the stream's encoding cannot show is written as
a backslash escape instead of failing.  Commands still escape user text
themselves, line by line, so that what they return as text is safe too.

Output files
------------
``--plot FILE.png [--force]`` (``check``, ``train``): :func:`check_plot_option`
before any work, :func:`reserve_plot` before the long part (the file is created
at once, see :class:`symgrad.training.plots.PlotFile`), :func:`draw_plot` after
it, and :func:`plot_failed` once the report is out.

Numeric notes
-------------
:class:`NumericNotes` collects the warnings numpy emits near the limits of
float64 (overflow, invalid value, division by zero) and anything else warned
while a command runs, so none reaches stderr raw; :meth:`NumericNotes.lines`
says in words what happened, for the report.
"""

from __future__ import annotations

import contextlib
import re
import unicodedata
import warnings
from pathlib import Path
from typing import Any

from symgrad.cli.options import UsageError
from symgrad.errors import SymgradError

_ESCAPED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape_match(match: re.Match) -> str:
    char = match.group()
    if char in _NAMED:
        return _NAMED[char]
    if unicodedata.category(char) not in _ESCAPED_CATEGORIES:
        return char
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


#: Everything but printable ASCII: the candidates, looked at one by one (few, usually).
_CANDIDATES = re.compile(r"[^\x20-\x7e]")


def escape(text: object, *, keep: str = "") -> str:
    """``str(text)`` with control and format characters written as escapes.

    ``keep`` lists characters to leave as they are (``"\\n"`` for multi-line text).

    >>> escape("x\\x1b[31m,y")
    'x\\\\x1b[31m,y'
    >>> escape("∂ŷ/∂w ✓")
    '∂ŷ/∂w ✓'
    >>> escape("two\\nlines"), escape("two\\nlines", keep="\\n")
    ('two\\\\nlines', 'two\\nlines')
    """
    text = str(text)
    if not keep:
        return _CANDIDATES.sub(_escape_match, text)
    return _CANDIDATES.sub(lambda m: m.group() if m.group() in keep else _escape_match(m), text)


def escape_lines(text: str) -> str:
    """:func:`escape` each line of ``text``, keeping the line breaks between them."""
    return escape(text, keep="\n")


class OutputError(SymgradError):
    """Writing an output failed (disk full, I/O error); not a bug and not bad input."""

    def __init__(self, what: str, error: OSError, *, stream: Any = None):
        reason = error.strerror or str(error) or type(error).__name__
        super().__init__(f"cannot write {what}: {reason}")
        self.error = error
        self.stream = stream     # the failing standard stream, or None for a file


class GuardedStream:
    """A text stream that escapes what it writes and turns write errors into :class:`OutputError`.

    Every character :func:`escape` would escape, except those in ``keep``, is
    written escaped: the last line of defence, for text no command escaped itself.
    ``BrokenPipeError`` passes through unchanged: a reader that went away
    (``symgrad ... | head``) is not an error.  Every other attribute is the
    wrapped stream's.
    """

    def __init__(self, stream: Any, what: str, *, keep: str = "\n\t"):
        self._stream, self._what, self._keep = stream, what, keep

    @property
    def wrapped(self) -> Any:
        return self._stream

    def _call(self, method: str, *args: Any) -> Any:
        try:
            return getattr(self._stream, method)(*args)
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise OutputError(self._what, exc, stream=self._stream) from None

    def write(self, text: str) -> Any:
        text = escape(text, keep=self._keep)
        try:
            return self._call("write", text)
        except UnicodeEncodeError:
            encoding = getattr(self._stream, "encoding", None) or "ascii"
            try:
                shown = text.encode(encoding, "backslashreplace").decode(encoding)
            except LookupError:
                shown = text.encode("ascii", "backslashreplace").decode("ascii")
            return self._call("write", shown)

    def flush(self) -> Any:
        return self._call("flush")

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


_FLOAT_WORDS = [
    ("overflow", "some values overflowed past the largest float64 (about 1.8e308) and "
                 "became infinite"),
    ("invalid value", "some operations had no defined result (such as inf - inf or 0 * inf) "
                      "and gave NaN"),
    ("divide by zero", "a division by zero gave an infinite value"),
    ("underflow", "some values fell below the smallest float64 and became 0"),
]


class NumericNotes:
    """Context manager: record warnings instead of printing them; :meth:`lines` words them.

    >>> import numpy as np
    >>> with NumericNotes() as notes:
    ...     _ = np.float64(1e308) * 10
    >>> notes.lines()[0].startswith("note: some values overflowed")
    True
    """

    def __init__(self) -> None:
        self._open: list[tuple[warnings.catch_warnings, list]] = []
        self.caught: list[warnings.WarningMessage] = []

    def __enter__(self) -> NumericNotes:
        """Start recording (again: one NumericNotes may cover several blocks)."""
        catcher = warnings.catch_warnings(record=True)
        log = catcher.__enter__()
        assert log is not None          # record=True gives the list it appends to
        self._open.append((catcher, log))
        warnings.simplefilter("always", RuntimeWarning)
        return self

    def __exit__(self, *exc_info: Any) -> None:
        catcher, log = self._open.pop()
        catcher.__exit__(*exc_info)
        self.caught += log

    def lines(self) -> list[str]:
        """One ``note: ...`` line per kind of warning, in the order they first came."""
        found: list[str] = []
        for w in self.caught:
            message = str(w.message).strip().splitlines()[0] if str(w.message).strip() else ""
            words = None
            if issubclass(w.category, RuntimeWarning) and "encountered" in message:
                words = next((text for key, text in _FLOAT_WORDS if key in message), None)
                if words is not None:
                    words += "; numbers at this scale are not reliable (rescale the data)"
            if words is None:
                words = f"{w.category.__name__}: {message}"
            line = escape(f"note: {words}")
            if line not in found:
                found.append(line)
        return found


def check_plot_option(path):
    """Fail early (before any work) when ``--plot path`` is not a PNG or lacks matplotlib."""
    from symgrad.training.plots import require_matplotlib

    if Path(path).suffix.lower() != ".png":
        raise UsageError(f"--plot writes a PNG image; give a file name ending in .png, "
                         f"got {path!r}")
    require_matplotlib()


_PLOT_HINTS = {"exists": "; pass --force to replace it, or choose another name",
               "link": "; give the path of a new file or of the real file",
               "directory": "; give a file name ending in .png",
               "special": "; give the path of a new file",
               "no-directory": "; create the directory first"}


def reserve_plot(args):
    """A context holding the reserved ``--plot`` file (a PlotFile), or None without --plot."""
    if not args.plot:
        return contextlib.nullcontext()
    from symgrad.training.plots import PlotFile, PlotFileError

    try:
        return PlotFile(args.plot, replace=args.force)
    except PlotFileError as exc:
        raise UsageError(f"--plot {exc}{_PLOT_HINTS.get(exc.reason, '')}") from None


def draw_plot(plot, draw):
    """``plot.write(draw)``; return the exception instead of raising it (the file is gone)."""
    try:
        plot.write(draw)
    except (Exception, KeyboardInterrupt) as exc:
        return exc
    return None


def plot_failed(path, failure):
    """Raise what a failed plot means, after the report is out: OutputError for an OSError."""
    if isinstance(failure, OSError):
        raise OutputError(f"the plot {path!r} (nothing was left there)", failure)
    raise failure
