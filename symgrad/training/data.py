"""Training data: CSV files, synthetic linear data, and the seed's feature split.

This module imports no SymPy.  Every problem with a data file is a
:class:`~symgrad.errors.DataError` naming the file, the line and the column.

CSV rule
--------
The first line is a header naming the columns; the values are separated by
commas; blank lines are skipped.  The target is the column named ``y``; if there
is none, the columns ``y1, y2, ...`` (for networks with several outputs); if
there are none of those either, the last column.  Every other column is an input,
in file order, whatever its name (``x``, ``x1, x2``, ``hours``, ...).  Every cell
must be a finite number.

The seed's split
----------------
The seed question feeds one feature ``x`` into a 2-2-1 network as two inputs
``x1 = a*x`` and ``x2 = (1 - a)*x`` with ``0 < a < 1``; :func:`split_feature`
does exactly that.  The two inputs are then collinear (both are multiples of
``x``), which is why only the network's effective slope on ``x`` can be learnt,
not its individual weights.
"""

from __future__ import annotations

import csv
import math
import os
import re
import stat
from array import array
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from symgrad.errors import DataError
from symgrad.limits import MAX_DATA_BYTES, MAX_DATA_CELLS
from symgrad.training.fit import least_squares, linear_map  # noqa: F401  (re-exported)

#: Longest line of a data file (characters): 10,000 inputs of 400 characters each.
MAX_LINE_CHARS = 4_000_000


@dataclass(frozen=True)
class Dataset:
    """Inputs ``X`` (m, n), targets ``y`` ((m,) for one target, else (m, k)) and labels.

    ``feature`` is the original one-column ``x`` (m,) when ``split`` (the ``a`` of
    :func:`split_feature`) was applied, else None.
    """

    X: np.ndarray
    y: np.ndarray
    input_names: tuple
    target_names: tuple
    source: str
    split: float | None = None
    feature: np.ndarray | None = None

    @property
    def n_samples(self) -> int:
        return self.X.shape[0]

    @property
    def n_inputs(self) -> int:
        return self.X.shape[1]

    @property
    def n_targets(self) -> int:
        return len(self.target_names)

    def describe(self) -> str:
        """One line, e.g. ``"points.csv: 20 samples, input x, target y"``."""
        ins = ", ".join(self.input_names)
        text = (f"{self.source}: {self.n_samples} samples, input{'s' if self.n_inputs > 1 else ''}"
                f" {ins}, target{'s' if self.n_targets > 1 else ''} {', '.join(self.target_names)}")
        network = [f"x{k}" for k in range(1, self.n_inputs + 1)]
        if self.split is None and list(self.input_names) != network:
            # the report below speaks of the network's inputs x1, x2, ...
            text += " (" + ", ".join(f"{n} is {x}" for n, x in zip(self.input_names, network))
            text += " below)"
        if self.split is not None:
            a = self.split
            text += f"; split a = {a:g}: x1 = {a:g}*x, x2 = {1 - a:g}*x"
        return text


def _number(cell: str, where: str) -> float:
    text = cell.strip()
    if not text:
        raise DataError(f"{where} is empty; every cell needs a number")
    try:
        value = float(text)
    except ValueError:
        raise DataError(f"{where}: {text!r} is not a number") from None
    if not math.isfinite(value):
        raise DataError(f"{where}: {text!r} is not a finite number "
                        "(remove the row or fill in the value)")
    return value


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _target_columns(names: list) -> list:
    """Indices of the target columns under the rule in the module notes."""
    lower = [n.lower() for n in names]
    if "y" in lower:
        return [lower.index("y")]
    numbered = {int(n[1:]): i for i, n in enumerate(lower) if re.fullmatch(r"y[1-9][0-9]*", n)}
    if 1 in numbered:
        k = 1
        while k + 1 in numbered:
            k += 1
        return [numbered[j] for j in range(1, k + 1)]
    return [len(names) - 1]


def _read_header(rows, name: str) -> list:
    for fields in rows:
        if not any(f.strip() for f in fields):
            continue
        header = [f.strip() for f in fields]
        line = rows.line_num
        for i, col in enumerate(header, 1):
            if not col:
                raise DataError(f"{name}, line {line}: column {i} of the header has no name")
        if all(_is_number(c) for c in header):
            raise DataError(f"{name}, line {line}: the first line must name the columns "
                            f"(e.g. x,y), but it holds numbers: {','.join(header)}")
        if len(header) < 2:
            hint = ""
            if re.search(r"[;\t]", header[0]):
                hint = " (symgrad reads comma-separated files)"
            raise DataError(f"{name}, line {line}: need at least two columns, inputs then y; "
                            f"the header has only {header[0]!r}{hint}")
        seen = set()
        for col in header:
            if col.lower() in seen:
                raise DataError(f"{name}, line {line}: column {col!r} appears twice in the header")
            seen.add(col.lower())
        return header
    raise DataError(f"{name} is empty; it needs a header line (e.g. x,y) and one row per sample")


def check_data_file(path) -> int:
    """Refuse, before reading, what is not a regular file of at most MAX_DATA_BYTES.

    Pipes and devices (``/dev/zero``) may never end; a directory is no file; a
    file over :data:`symgrad.limits.MAX_DATA_BYTES` would fill memory.  Returns the
    size in bytes.  Symbolic links are followed.
    """
    where = str(path)
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise DataError(f"cannot read {where!r}: no such file") from None
    except (OSError, ValueError) as exc:
        raise DataError(f"cannot read {where!r}: {getattr(exc, 'strerror', None) or exc}") \
            from None
    _check_kind(info, where)
    return info.st_size


def _check_kind(info: os.stat_result, where: str) -> None:
    if stat.S_ISDIR(info.st_mode):
        raise DataError(f"cannot read {where!r}: it is a directory, not a CSV file")
    if not stat.S_ISREG(info.st_mode):
        kind = ("a pipe (FIFO)" if stat.S_ISFIFO(info.st_mode) else
                "a device" if stat.S_ISCHR(info.st_mode) or stat.S_ISBLK(info.st_mode) else
                "a socket" if stat.S_ISSOCK(info.st_mode) else "not a regular file")
        raise DataError(f"cannot read {where!r}: it is {kind}, which may never end; symgrad "
                        "reads data from regular files only (save the data to a file first)")
    if info.st_size > MAX_DATA_BYTES:
        raise DataError(f"cannot read {where!r}: it has {info.st_size / 2**20:.0f} MiB; "
                        f"symgrad reads CSV files of at most {MAX_DATA_BYTES // 2**20} MiB "
                        "(use fewer rows)")


def _open_regular(path: Path):
    """Open ``path`` for text reading, refusing anything but a small regular file.

    ``O_NONBLOCK`` keeps a FIFO swapped in after the check from blocking the open;
    ``fstat`` on the open descriptor then judges what was really opened.
    """
    check_data_file(path)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise DataError(f"cannot read {str(path)!r}: {exc.strerror or exc}") from None
    try:
        _check_kind(os.fstat(fd), str(path))
        return open(fd, encoding="utf-8-sig", newline="", closefd=True)
    except BaseException:
        os.close(fd)
        raise


def _lines(handle, name: str):
    """Lines of a text file, each at most MAX_LINE_CHARS and MAX_DATA_BYTES in all."""
    total = 0
    number = 0
    while True:
        try:
            line = handle.readline(MAX_LINE_CHARS + 1)
        except UnicodeDecodeError:
            raise DataError(f"cannot read {name!r}: not a UTF-8 text file (after line "
                            f"{number})") from None
        if not line:
            return
        number += 1
        total += len(line)
        if len(line) > MAX_LINE_CHARS and not line.endswith(("\n", "\r")):
            raise DataError(f"{name}, line {number}: longer than {MAX_LINE_CHARS:,} characters; "
                            "is this a CSV file of numbers?")
        if total > MAX_DATA_BYTES:
            raise DataError(f"{name} grew past {MAX_DATA_BYTES // 2**20} MiB while it was read; "
                            "symgrad reads CSV files of at most that size")
        yield line


def load_csv(path) -> Dataset:
    """Read a CSV file of samples (see the module notes for the column rule).

    The file is read as a stream, row by row, into one array of numbers: only a
    regular file of at most :data:`symgrad.limits.MAX_DATA_BYTES`, holding at most
    :data:`symgrad.limits.MAX_DATA_CELLS` numbers.

    Parameters
    ----------
    path : str or pathlib.Path

    Returns
    -------
    Dataset

    Raises
    ------
    DataError
        Missing or unreadable file, a directory, pipe or device, a file too big,
        no header, no rows, a row with the wrong number of cells, a cell that is
        empty, not a number, NaN or infinite, a field longer than the csv module
        reads; the message names the file, the line and the column.

    Examples
    --------
    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "points.csv")
    >>> _ = open(path, "w").write("x,y\\n1,3\\n2,6\\n")
    >>> data = load_csv(path)
    >>> data.X.tolist(), data.y.tolist(), data.input_names
    ([[1.0], [2.0]], [3.0, 6.0], ('x',))
    """
    path = Path(path)
    name = path.name
    with _open_regular(path) as handle:
        rows = csv.reader(_lines(handle, name))
        try:
            header, values = _read_rows(rows, name)
        except csv.Error as exc:
            line = rows.line_num
            if "field larger than field limit" in str(exc):
                raise DataError(f"{name}, line {line}: a field is longer than "
                                f"{csv.field_size_limit():,} characters (the csv module's "
                                "limit); is this a CSV file of numbers?") from None
            raise DataError(f"{name}, line {line}: not readable as CSV ({exc})") from None
    targets = _target_columns(header)
    inputs = [i for i in range(len(header)) if i not in targets]
    table = np.frombuffer(values, dtype=np.float64).reshape(-1, len(header))
    X, y = np.ascontiguousarray(table[:, inputs]), np.ascontiguousarray(table[:, targets])
    return Dataset(X, y[:, 0].copy() if len(targets) == 1 else y,
                   tuple(header[i] for i in inputs), tuple(header[i] for i in targets), name)


def _read_rows(rows, name: str) -> tuple[list, array]:
    """The header and every number, row after row, in one flat ``array('d')``."""
    header = _read_header(rows, name)
    values = array("d")
    width = len(header)
    for fields in rows:
        if not any(f.strip() for f in fields):
            continue
        line = rows.line_num
        if len(fields) != width:
            raise DataError(f"{name}, line {line}: {len(fields)} value"
                            f"{'s' if len(fields) != 1 else ''}, but the header names "
                            f"{width} columns ({','.join(header)})")
        if len(values) + width > MAX_DATA_CELLS:
            raise DataError(f"{name}, line {line}: more than {MAX_DATA_CELLS:,} numbers; "
                            "symgrad trains on at most that many (use fewer rows)")
        values.extend(_number(cell, f"{name}, line {line}, column {header[i]!r}")
                      for i, cell in enumerate(fields))
    if not values:
        raise DataError(f"{name} has a header ({','.join(header)}) but no data rows")
    return header, values


def synthetic(*, samples=100, slope=1.0, intercept=0.0, noise=0.0, seed=0) -> Dataset:
    """Linear data ``y = slope . x + intercept + noise * N(0, 1)`` with ``x ~ N(0, 1)``.

    Parameters
    ----------
    samples : int
        Number of rows (at least 1).
    slope : float or sequence of float
        One slope per input feature (a single number gives one feature ``x``).
    intercept, noise : float
        ``noise`` is the standard deviation of the Gaussian noise (0: exact line).
    seed : int
        Seed of ``numpy.random.default_rng``.

    Examples
    --------
    >>> data = synthetic(samples=5, slope=3.0, intercept=1.0, seed=0)
    >>> bool(np.allclose(data.y, 3 * data.X[:, 0] + 1)), data.input_names
    (True, ('x',))
    """
    if isinstance(samples, bool) or not isinstance(samples, (int, np.integer)) or samples < 1:
        raise DataError(f"samples must be a positive integer, got {samples!r}")
    slopes = np.atleast_1d(np.asarray(slope, dtype=float))
    for label, value in [("slope", slopes), ("intercept", intercept), ("noise", noise)]:
        if not np.all(np.isfinite(value)):
            raise DataError(f"{label} must be finite, got {value!r}")
    if noise < 0:
        raise DataError(f"noise is a standard deviation and must be >= 0, got {noise!r}")
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(samples, slopes.size))
    y = X @ slopes + intercept + noise * rng.normal(size=samples)
    names = ("x",) if slopes.size == 1 else tuple(f"x{k}" for k in range(1, slopes.size + 1))
    shown = ",".join(f"{s:g}" for s in slopes)
    return Dataset(X, y, names, ("y",), f"synthetic (slope {shown}, intercept {intercept:g}, "
                                        f"noise {noise:g}, seed {seed})")


def check_split(a) -> float:
    """Return ``a`` as a float if ``0 < a < 1``, else raise :class:`DataError`."""
    try:
        value = float(a)
    except (TypeError, ValueError):
        raise DataError(f"split a must be a number strictly between 0 and 1, got {a!r}") from None
    if not 0.0 < value < 1.0:
        raise DataError(f"split a must be strictly between 0 and 1 (x1 = a*x, x2 = (1-a)*x), "
                        f"got {a!r}")
    return value


def split_feature(data: Dataset, a) -> Dataset:
    """Turn one input feature x into the seed's two inputs ``x1 = a*x, x2 = (1-a)*x``.

    Examples
    --------
    >>> data = split_feature(synthetic(samples=3, seed=0), 0.25)
    >>> bool(np.allclose(data.X, data.feature[:, None] * [0.25, 0.75])), data.input_names
    (True, ('x1', 'x2'))
    """
    a = check_split(a)
    if data.n_inputs != 1:
        raise DataError(f"the split needs data with one input column, but {data.source} has "
                        f"{data.n_inputs} ({', '.join(data.input_names)})")
    x = data.X[:, 0]
    X = np.column_stack([a * x, (1.0 - a) * x])
    return replace(data, X=X, input_names=("x1", "x2"), split=a, feature=x)


def check_widths(data: Dataset, spec) -> None:
    """Raise :class:`DataError` unless the data fit the network's input and output widths,
    and samples x neurons stays within :data:`symgrad.limits.MAX_DATA_CELLS`."""
    n, k = spec.n_inputs, spec.n_outputs
    if data.n_inputs != n:
        hint = ""
        if data.n_inputs == 1 and n == 2:
            hint = ("; use --split a to turn the one feature x into the seed's two inputs "
                    "x1 = a*x, x2 = (1-a)*x")
        widths = "-".join(str(w) for w in (data.n_inputs,) + tuple(spec.widths[1:]))
        raise DataError(
            f"the {spec.arch} network takes {n} input{'s' if n != 1 else ''}, but the data have "
            f"{data.n_inputs} ({', '.join(data.input_names)}){hint}; or change ARCH to {widths}")
    cells = data.n_samples * sum(spec.widths)
    if cells > MAX_DATA_CELLS:
        most = max(1, MAX_DATA_CELLS // sum(spec.widths))
        raise DataError(
            f"{data.source} has {data.n_samples} samples; training the {spec.arch} network on "
            f"them holds samples x neurons = {cells:,} activations, above the limit of "
            f"{MAX_DATA_CELLS:,} (memory); use at most {most:,} samples or a narrower network")
    if data.n_targets != k:
        raise DataError(
            f"the {spec.arch} network has {k} output{'s' if k != 1 else ''}, but the data have "
            f"{data.n_targets} target column{'s' if data.n_targets != 1 else ''} "
            f"({', '.join(data.target_names)}); name target columns y (one output) or y1..y{k}")
