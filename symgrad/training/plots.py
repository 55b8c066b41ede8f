"""Figures (needs the ``plot`` extra: matplotlib).

matplotlib is imported only when a figure is drawn, and only through its
object-oriented API with the Agg canvas: no pyplot, no global state, no window,
so the functions work the same on a server, in tests and inside a notebook.
Every figure has a fixed size, :data:`FIGSIZE` inches at :data:`DPI` dots per
inch (1000 x 400 pixels).
"""

from __future__ import annotations

import numpy as np

from symgrad.errors import MissingExtraError

FIGSIZE = (10.0, 4.0)
DPI = 100
#: Errors of exactly 0 cannot be drawn on a log axis; they are drawn at this value.
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


def _save(fig, path):
    fig.savefig(path, dpi=DPI, format="png")
    return str(path)


def plot_training(result, path) -> str:
    """Draw the cost curve (log scale) and the parameter trajectories into a PNG.

    Parameters
    ----------
    result : TrainingResult
    path : str or pathlib.Path
        Where to write the PNG (1000 x 400 pixels).

    Returns
    -------
    str
        ``path``.

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
    fig = _figure()
    left, right = fig.subplots(1, 2)
    epochs = np.arange(len(result.costs))
    costs = np.maximum(result.costs, ZERO_FLOOR)
    left.semilogy(epochs, costs, color="C0")
    if result.least_squares is not None and result.least_squares["cost"] > ZERO_FLOOR:
        left.axhline(result.least_squares["cost"], color="0.5", linestyle=":",
                     label="least squares")
        left.legend(loc="upper right", fontsize="small")
    left.set(xlabel="epoch", ylabel="cost C (log scale)", title=f"cost ({result.stop})")
    for i, name in enumerate(result.names):
        # Identical trajectories (symmetric init) lie on top of each other: draw the
        # copy dashed and say in the legend which one it equals.
        column = result.trajectory[:, i]
        same = [n for n, j in zip(result.names, range(i))
                if np.array_equal(result.trajectory[:, j], column)]
        label = f"{name} (= {same[0]})" if same else name
        right.plot(result.recorded, column, label=label, linestyle="--" if same else "-",
                   linewidth=2.5 if same else 1.5, color=f"C{i % 10}")
    if len(result.names) <= 12:
        right.legend(loc="best", fontsize="small", ncol=2)
    verdict = {True: "hidden neurons identical", False: "hidden neurons differ",
               None: ""}[result.symmetric]
    right.set(xlabel="epoch", ylabel="value", title=f"parameters  {verdict}".strip())
    fig.suptitle(f"symgrad train: {result.net.describe()}", fontsize="medium")
    fig.tight_layout()
    return _save(fig, path)


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

    Returns ``path``.  See :func:`step_errors` for the numbers.
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
