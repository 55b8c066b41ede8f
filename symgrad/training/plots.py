"""Figures (needs the ``plot`` extra: matplotlib).

matplotlib is imported only when a figure is drawn, and only through its
object-oriented API with the Agg canvas: no pyplot, no global state, no window,
so the functions work the same on a server, in tests and inside a notebook.
Every figure has a fixed size, :data:`FIGSIZE` inches at :data:`DPI` dots per
inch (1000 x 400 pixels).  The functions take a path or a binary file object.

Where a figure goes
-------------------
A figure is drawn after the work (training, a check) that it shows, but whether
its file can be written should be known before that work starts.
:class:`PlotFile` reserves the file at once and writes it later:

* the file is new: it is created at once with ``O_CREAT | O_EXCL | O_NOFOLLOW``,
  so an existing file, directory or symbolic link (even a dangling one) is
  refused, and the figure is later written through that descriptor, never
  through a path someone could have swapped for a link meanwhile;
* ``replace=True`` and a regular file is there: the figure goes into a new hidden
  file in the same directory (created at once the same way, which also shows the
  directory is writable) that is renamed over the old file only when complete,
  so a failed run leaves the old figure as it was;
* a symbolic link, a directory or anything else that is not a regular file is
  never replaced and never written through.

A reserved file that is not written (an error, Ctrl-C) is removed again, but only
while it is still the file symgrad created.
"""

from __future__ import annotations

import errno
import os
import secrets
import stat

import numpy as np

from symgrad.errors import MissingExtraError, SymgradError

FIGSIZE = (10.0, 4.0)
DPI = 100
#: In the step-size plot, errors of exactly 0 (no log position) are drawn at this value.
ZERO_FLOOR = 1e-18
#: Step sizes swept by :func:`plot_steps`: 10**-16 ... 10**0, three per decade.
STEPS = 10.0 ** np.linspace(-16, 0, 49)


def require_matplotlib():
    """Return matplotlib's ``Figure`` and Agg canvas classes, or raise MissingExtraError."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise MissingExtraError(
            "install the 'plot' extra: python -m pip install 'symgrad[plot]'") from None
    return Figure, FigureCanvasAgg


def _figure():
    Figure, Canvas = require_matplotlib()
    fig = Figure(figsize=FIGSIZE, dpi=DPI)
    Canvas(fig)
    return fig


def _save(fig, target):
    fig.savefig(target, dpi=DPI, format="png")
    return target if hasattr(target, "write") else str(target)


def plot_training(result, path) -> str:
    """Draw the cost curve and the parameter trajectories into a PNG.

    The cost is drawn at its true values on a log axis (epochs where it is exactly
    0 are marked on the bottom edge), with the least-squares cost as a dotted line
    when there is one; runs past :data:`LOG_EPOCHS` epochs get a log epoch axis.
    Legends sit beside or below the panels, never over the curves.

    Parameters
    ----------
    result : TrainingResult
    path : str, pathlib.Path or binary file object
        Where to write the PNG (1000 x 400 pixels); see :class:`PlotFile` for a
        file that is reserved before training.

    Returns
    -------
    str or file object
        ``path`` (as a string, or the file object given).

    Examples
    --------
    >>> import os, tempfile, numpy as np
    >>> from symgrad import Network, train
    >>> x = np.linspace(-1, 1, 10)
    >>> result = train(Network([1, 1]), x[:, None], 2 * x, epochs=20, lr=0.5,
    ...                backend="numpy")
    >>> path = plot_training(result, os.path.join(tempfile.mkdtemp(), "run.png"))
    >>> os.path.getsize(path) > 0
    True
    """
    return _save(training_figure(result), path)


def training_figure(result):
    """The matplotlib ``Figure`` :func:`plot_training` saves (Agg canvas, no pyplot):
    the cost panel and the parameter panel, in that order in ``fig.axes``."""
    fig = _figure()
    left, right = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1, 1.15]})
    epochs = np.asarray(result.cost_epochs, float)
    _cost_panel(left, result, epochs)
    for i, name in enumerate(result.names):
        # Identical trajectories (symmetric init) lie on top of each other: draw the
        # copy dashed and say in the legend which one it equals.
        column = result.trajectory[:, i]
        same = [n for n, j in zip(result.names, range(i))
                if np.array_equal(result.trajectory[:, j], column)]
        label = f"{name} (= {same[0]})" if same else name
        right.plot(result.recorded, column, label=label, linestyle="--" if same else "-",
                   linewidth=2.5 if same else 1.5, color=f"C{i % 10}",
                   marker="o" if len(column) == 1 else None)
    if len(result.names) <= 12:     # beside the panel, never over the curves
        right.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0,
                     fontsize="small", ncol=1 if len(result.names) <= 6 else 2)
    verdict = {True: "hidden neurons identical", False: "hidden neurons differ",
               None: ""}[result.symmetric]
    right.set(xlabel="epoch", ylabel="value",
              title=f"parameters ({verdict})" if verdict else "parameters")
    for ax in (left, right):
        _epoch_axis(ax, int(epochs[-1]) if len(epochs) else 0)
    fig.suptitle(f"symgrad train: {result.net.describe()}", fontsize="medium")
    fig.tight_layout()
    return fig


def _cost_panel(ax, result, epochs) -> None:
    """The cost on a log axis at its true values; epochs where it is exactly 0 (which a
    log axis cannot show) are marked on the bottom edge and named in the legend."""
    costs = np.asarray(result.costs, float)
    positive = costs > 0
    if positive.any():
        ax.semilogy(epochs[positive], costs[positive], color="C0", label="cost C",
                    marker="o" if positive.sum() == 1 else None)
    else:
        ax.set_yscale("log")
    zero = costs == 0
    if zero.any():
        ax.plot(epochs[zero], np.zeros(int(zero.sum())), linestyle="none", marker="v",
                color="C3", clip_on=False, transform=ax.get_xaxis_transform(),
                label=f"C = 0 exactly (from epoch {int(epochs[zero][0])})")
    ls = None if result.least_squares is None else result.least_squares["cost"]
    if ls is not None and np.isfinite(ls) and ls > 0:
        ax.axhline(ls, color="0.4", linestyle=":", linewidth=1.5,
                   label=f"least squares C = {ls:.3g}")
    elif ls == 0:
        ax.plot([], [], color="0.4", linestyle=":", label="least squares C = 0 exactly")
    if ax.get_legend_handles_labels()[0][1:]:   # more than the cost curve: a key below
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), fontsize="small",
                  ncol=2, frameon=False)
    ax.set(xlabel="epoch", ylabel="cost C (log scale)", title=f"cost ({result.stop})")


#: Runs longer than this many epochs get a logarithmic epoch axis (0 stays linear).
LOG_EPOCHS = 2000


def _epoch_axis(ax, last: int) -> None:
    """Long runs learn most in the first epochs: past :data:`LOG_EPOCHS` the epoch axis
    is symmetric-log (linear from 0 to 1, logarithmic beyond); otherwise linear with
    at most 6 whole-number ticks, so labels never run together."""
    from matplotlib.ticker import MaxNLocator

    if last > LOG_EPOCHS:
        ax.set_xscale("symlog", linthresh=1.0, linscale=1.0)
        ax.set_xlabel("epoch (log scale)")
        ax.set_xlim(0, last)
    else:
        ax.xaxis.set_major_locator(MaxNLocator(nbins=6, integer=True))


def step_errors(net, params, X, y, parameters=None, steps=STEPS):
    """Finite-difference errors against the step size, with the symbolic gradient as truth.

    Returns ``(indices, {method: errors})`` where ``errors`` has shape
    (len(steps), len(indices)): the relative error
    ``|fd - exact| / max(|exact|, 1e-300)`` for each step and chosen parameter.
    ``method`` is ``"central"`` and, for analytic networks, ``"complex"``.  A step
    so small that ``p + h == p`` gives no estimate: NaN (a gap in the plot).
    """
    from symgrad.backends import compile_gradients
    from symgrad.references.finite_diff import finite_differences

    spec = net.spec
    if parameters is None:
        first_last = {0, spec.n_weights - spec.widths[-1] * spec.widths[-2]}
        parameters = sorted(first_last | ({spec.n_weights} if spec.bias else set()))
    _, exact = compile_gradients(net, backend="numpy")(params, X, y)
    methods = ["central"] + (["complex"] if spec.analytic else [])
    errors = {}
    for method in methods:
        rows = []
        for h in steps:
            with np.errstate(divide="ignore", invalid="ignore"):
                _, fd = finite_differences(net, params, X, y, method=method, h=h)
            rows.append(np.abs(fd[parameters] - exact[parameters])
                        / np.maximum(np.abs(exact[parameters]), 1e-300))
        errors[method] = np.array(rows)
    return list(parameters), errors


def plot_steps(net, params, X, y, path, *, parameters=None) -> str:
    """Draw finite-difference error against step size h (log-log) into a PNG.

    Central differences show the V: truncation error ``~h**2`` falls as h shrinks
    until round-off ``~eps/h`` takes over.  The complex step has no subtraction,
    so its error stays at round-off however small h gets.  For a linear network
    the cost is a quadratic in each single weight, so central differences have no
    truncation error at all and only the round-off arm shows.

    ``path`` is a path or a binary file object, returned as in :func:`plot_training`.
    See :func:`step_errors` for the numbers.
    """
    indices, errors = step_errors(net, params, X, y, parameters)
    fig = _figure()
    axes = fig.subplots(1, len(errors), sharey=True, squeeze=False)[0]
    names = net.spec.parameter_names()
    for ax, (method, err) in zip(axes, errors.items()):
        for col, i in enumerate(indices):
            ax.loglog(STEPS, np.maximum(err[:, col], ZERO_FLOOR), marker=".",
                      label=f"d C / d {names[i]}")
        ax.set(xlabel="step h", title=f"{method} {'difference' if method == 'central' else 'step'}")
        ax.grid(True, which="major", alpha=0.3)
        ax.legend(loc="best", fontsize="small")
    axes[0].set_ylabel(f"relative error (0 drawn at {ZERO_FLOOR:g})")
    fig.suptitle(f"finite-difference error vs step h: {net.describe()}", fontsize="medium")
    fig.tight_layout()
    return _save(fig, path)


class PlotFileError(SymgradError, ValueError):
    """A figure file cannot be reserved; ``reason`` says why.

    ``reason`` is ``"exists"``, ``"link"``, ``"directory"``, ``"special"`` (not a
    regular file), ``"no-directory"`` or ``"os"`` (the message has the system's
    words: permission denied, read-only file system, ...).
    """

    def __init__(self, message: str, reason: str):
        super().__init__(message)
        self.reason = reason


def _refusal(path: str, reason: str, detail: str = "") -> PlotFileError:
    what = {"exists": "already exists",
            "link": "is a symbolic link (symgrad does not write through links)",
            "directory": "is a directory",
            "special": "is not a regular file",
            "no-directory": f"cannot be created: the directory "
                            f"{os.path.dirname(path) or '.'!r} does not exist",
            "os": f"cannot be created: {detail}"}[reason]
    return PlotFileError(f"{path!r} {what}", reason)


def _existing(path: str) -> tuple[str, str] | None:
    """``(reason, detail)`` when something is at ``path`` (or it cannot be looked at)."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return None
    except OSError as exc:
        return "os", exc.strerror or str(exc)
    if stat.S_ISLNK(info.st_mode):
        return "link", ""
    if stat.S_ISDIR(info.st_mode):
        return "directory", ""
    return ("exists" if stat.S_ISREG(info.st_mode) else "special"), ""


_FLAGS = (os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
          | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0))


class PlotFile:
    """A PNG file reserved now and written later (see "Where a figure goes" above).

    Use it as a context manager: leaving the block without :meth:`write` having
    succeeded removes the reserved file.

    Examples
    --------
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "run.png")
    >>> with PlotFile(path) as plot:
    ...     os.path.getsize(path)            # reserved, still empty
    ...     _ = plot.write(lambda f: f.write(b"png bytes"))
    0
    >>> try:
    ...     PlotFile(path)
    ... except PlotFileError as exc:
    ...     exc.reason, str(exc).endswith("run.png' already exists")
    ('exists', True)
    """

    def __init__(self, path, *, replace: bool = False):
        self.path = os.fspath(path)
        if "\0" in self.path:
            raise PlotFileError(f"{self.path!r} cannot be created: the name holds a NUL "
                                "character", "os")
        found = _existing(self.path)
        if found is not None and found[0] == "exists" and replace:
            folder, name = os.path.split(self.path)
            self._temp: str | None = os.path.join(
                folder, f".{name}.{secrets.token_hex(4)}.tmp")
            self._fd: int | None = self._create(self._temp)
        elif found is None:
            self._temp, self._fd = None, self._create(self.path)
        else:
            raise _refusal(self.path, *found)
        self._identity = _identity(os.fstat(self._fd))
        self.written = False

    def _create(self, where: str) -> int:
        try:
            return os.open(where, _FLAGS, 0o666)
        except FileExistsError:     # created meanwhile, or a link (O_EXCL never follows one)
            raise _refusal(self.path, *(_existing(where) or ("exists", ""))) from None
        except OSError as exc:
            folder = os.path.dirname(where) or "."
            if exc.errno == errno.ENOENT and not os.path.isdir(folder):
                raise _refusal(self.path, "no-directory") from None
            if exc.errno == errno.ELOOP:
                raise _refusal(self.path, "link") from None
            raise _refusal(self.path, "os", exc.strerror or str(exc)) from None

    @property
    def _where(self) -> str:
        return self._temp or self.path

    def write(self, draw) -> str:
        """Call ``draw(file)`` with the reserved file open for binary writing; return the path.

        On any failure (an ``OSError`` such as a full disk, or an error while
        drawing) the reserved file is removed and the error propagates.
        """
        if self._fd is None:
            raise ValueError("this PlotFile was already written or discarded")
        fd, self._fd = self._fd, None
        try:
            with os.fdopen(fd, "wb") as handle:
                draw(handle)
            if self._temp is not None:
                os.replace(self._temp, self.path)    # replaces a link, never follows it
                self._temp = None
        except BaseException:
            self._remove()
            raise
        self.written = True
        return self.path

    def _remove(self) -> None:
        """Delete the reserved file if it is still the one created here."""
        try:
            if _identity(os.lstat(self._where)) == self._identity:
                os.unlink(self._where)
        except OSError:
            pass

    def discard(self) -> None:
        """Close and remove the reserved file (nothing happens after :meth:`write`)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
            self._remove()

    def __enter__(self) -> PlotFile:
        return self

    def __exit__(self, *exc_info) -> None:
        self.discard()


def _identity(info: os.stat_result) -> tuple:
    return info.st_dev, info.st_ino
