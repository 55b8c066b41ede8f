"""The result of :func:`symgrad.training.train`: numbers, a plain-language report and JSON.

Kept apart from the descent loop in :mod:`symgrad.training.train` so each module stays
small; it imports no SymPy and nothing from :mod:`symgrad.training.train`.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from symgrad.render.display import RichDisplay, training_lines

if TYPE_CHECKING:
    from symgrad.network import Network
    from symgrad.spec import NetworkSpec

#: How many sibling equalities the text report lists before "...".
SHOWN_EQUALITIES = 6


def _num(value: Any) -> float | None:
    """A JSON-ready float (full precision), or None when it is not finite."""
    value = float(value)
    return value if math.isfinite(value) else None


def _ready(value: Any) -> Any:
    """``value`` with every float JSON-ready (:func:`_num`), inside dicts and lists."""
    if isinstance(value, dict):
        return {k: _ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_ready(v) for v in value]
    if isinstance(value, float):
        return _num(value)
    return value


@dataclass
class TrainingResult(RichDisplay):
    """Everything :func:`symgrad.training.train` found; see ``to_text()`` and ``to_dict()``.

    Arrays: ``costs`` (the cost at the epochs in ``cost_epochs``: every epoch, 0 =
    the start, up to :data:`symgrad.limits.MAX_COST_POINTS` of them, then evenly
    thinned, the last epoch always kept), ``trajectory`` (rows = parameters at the
    epochs in ``recorded``, with their costs in ``recorded_costs``), ``initial``,
    ``params`` (the final, last good, parameters) and ``gradient`` (at ``params``).
    ``epochs_run`` is the exact number of epochs run, whatever was kept.
    ``notes`` says in words what float64 could not hold (values near 1e308).
    ``symmetric`` is True when the hidden neurons stayed identical to the last
    bit at every step, False when they were or became different, and None when
    no hidden layer has two neurons.
    """

    net: Network
    names: list[str]
    initial: np.ndarray
    params: np.ndarray
    costs: np.ndarray
    recorded: np.ndarray
    trajectory: np.ndarray
    epochs_run: int
    epochs: int
    stop: str
    message: str
    gradient: np.ndarray
    symmetric_start: bool | None
    separated_at: int | None
    gap: float | None
    settings: dict[str, Any]
    equalities: list[str] = field(default_factory=list)
    cost_epochs: np.ndarray | None = None
    recorded_costs: np.ndarray | None = None
    notes: list[str] = field(default_factory=list)
    split: float | None = None
    rank: int | None = None
    effective_map: dict[str, Any] | None = None
    least_squares: dict[str, Any] | None = None
    agreement: dict[str, Any] | None = None
    #: Share of samples classified right at the end (bce and cross-entropy; see
    #: :func:`symgrad.training.classes.accuracy`), None for the other losses.
    accuracy: float | None = None

    @property
    def parameters(self) -> dict[str, float]:
        """Final parameters as ``{name: float}``."""
        return {n: float(v) for n, v in zip(self.names, self.params)}

    @property
    def cost(self) -> float:
        """Final cost (of the last good state)."""
        return float(self.costs[-1])

    @property
    def symmetric(self) -> bool | None:
        if self.symmetric_start is None:
            return None
        return bool(self.symmetric_start and self.separated_at is None)

    @property
    def linear(self) -> bool:
        return all(a == "linear" for a in self.net.spec.activations)

    @property
    def collinear(self) -> bool:
        """True when the input columns are linearly dependent (rank below the width)."""
        return self.rank is not None and self.rank < self.net.spec.n_inputs

    def symmetry_verdict(self) -> str:
        """One sentence: did the hidden neurons stay identical?"""
        shown = ", ".join(self.equalities[:SHOWN_EQUALITIES])
        if len(self.equalities) > SHOWN_EQUALITIES:
            shown += ", ..."
        if self.symmetric is None:
            return ("no hidden layer has two or more neurons, so there is no symmetry to keep "
                    "or break")
        if self.symmetric:
            return (f"hidden neurons stayed identical: {shown} at every step -- this is the "
                    "symmetric case the seed question had in mind; it is not a property of the "
                    "gradients but of the initialisation")
        if self.symmetric_start:
            return (f"hidden neurons started identical ({shown}) but the first bit differed "
                    f"at epoch {self.separated_at}: floating-point rounding in the matrix "
                    "products (BLAS adds some rows in a different order), not the gradients; "
                    f"at the end siblings differ by up to {self.gap:.3g}")
        return (f"hidden neurons separated: they started different ({self.settings['init']} "
                f"init) and ended up to {self.gap:.3g} apart, so {shown} do not hold; the "
                "seed question's symmetric case comes only from a symmetric initialisation")

    def identifiability(self) -> str:
        """What the data can and cannot determine about the weights."""
        spec = self.net.spec
        if self.split is not None:
            a = self.split
            return (f"x1 = {a:g}*x and x2 = {1 - a:g}*x are both multiples of x: the inputs are "
                    "collinear, so the individual weights are not identifiable, only the "
                    "effective slope on x is (all weights with the same slope fit equally well)")
        if self.collinear:
            return (f"the {spec.n_inputs} inputs are collinear (rank {self.rank}): the individual "
                    "weights are not identifiable, only the map on the inputs' span is")
        if self.linear and spec.depth > 1:
            return ("the inputs are not collinear, so the effective map is identifiable; the "
                    "individual weights of a linear network with hidden layers are not "
                    "(W2 @ W1 = (W2 @ inv(S)) @ (S @ W1) for any invertible S)")
        return ""

    def _stop_line(self) -> str:
        if self.stop == "epochs" and self.epochs == 0:
            return "no epochs run (epochs 0): this is the starting point"
        if self.stop == "epochs":
            return f"ran all {self.epochs} epochs (no stopping rule fired)"
        return self.message

    def __post_init__(self) -> None:
        if self.cost_epochs is None:              # built by hand: one cost per epoch
            self.cost_epochs = np.arange(len(self.costs))
        if self.recorded_costs is None:
            index = {int(e): i for i, e in enumerate(self.cost_epochs)}
            self.recorded_costs = np.array([self.costs[index[int(e)]] if int(e) in index
                                            else np.nan for e in self.recorded])

    def to_text(self) -> str:
        """The human report: stop reason, cost, parameters, linear map, symmetry."""
        s = self.settings
        mode = "full-batch" if s["batch_size"] is None else f"mini-batch ({s['batch_size']})"
        lines = [f"symgrad train: {self.net.describe()}",
                 f"training: {mode} gradient descent, lr {s['lr']:g}, momentum "
                 f"{s['momentum']:g}, init {s['init']} (seed {s['seed']}), {s['backend']} backend",
                 *([f"backend: {s['backend_reason']}"] if s.get("backend_reason") else []),
                 f"stopped: {self._stop_line()}",
                 f"cost C: {self.costs[0]:.12g} at the start -> {self.cost:.12g} after "
                 f"{self.epochs_run} epoch{'s' if self.epochs_run != 1 else ''}"]
        if self.least_squares is not None:
            lines[-1] += f" (least squares: {self.least_squares['cost']:.12g})"
        if self.accuracy is not None:
            lines.append(f"accuracy: {self.accuracy:.1%} of the samples classified right")
        lines.append("parameters (start -> end):")
        width = max(len(n) for n in self.names)
        for n, a, b in zip(self.names, self.initial, self.params):
            lines.append(f"  {n.ljust(width)}  {a: .12g}  ->  {b: .17g}")
        lines += self._linear_lines()
        note = self.identifiability()
        if note:
            lines.append(f"identifiability: {note}")
        lines.append(f"symmetry: {self.symmetry_verdict()}")
        lines += [f"note: {note}" for note in self.notes]
        return "\n".join(lines)

    def _linear_lines(self) -> list[str]:
        eff, ls, agreement = self.effective_map, self.least_squares, self.agreement
        if eff is None:
            return []
        # train() fills all three for a linear network (it fits no least squares for
        # "bce", but a bce network has a sigmoid output, so it is not linear).
        assert ls is not None and agreement is not None
        spec = self.net.spec
        product = " @ ".join(f"W{l}" for l in range(spec.depth, 0, -1))
        coef = ", ".join(f"{k} = {v!r}" for k, v in eff["coefficients"].items())
        lines = [f"effective linear map ({product}{' and the biases' if spec.bias else ''}):",
                 f"  coefficients {coef}; intercept {eff['intercept']!r}"]
        if "slope" in eff:
            lines.append(f"  slope on x = {_slope_formula(spec)} = {eff['slope']!r} "
                         f"(a = {self.split:g})")
        what = agreement["compared"]
        if "slope" in eff:
            fit = f"slope {ls['slope']!r}"
        else:
            fit = "coefficients " + ", ".join(f"{k} = {v!r}" for k, v in
                                              ls["coefficients"].items())
        lines.append(f"least squares (numpy.linalg.lstsq on the same data): {fit}"
                     + (f", intercept {ls['intercept']!r}" if spec.bias else ""))
        lines.append(f"  network vs least squares, {what}: largest difference "
                     f"{agreement['difference']:.3g}")
        return lines

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict with full float precision (non-finite values become None)."""
        with np.errstate(over="ignore"):       # the gradient after a divergence may be huge
            gradient_norm = _num(np.linalg.norm(self.gradient))
        return {
            "network": self.net.describe(), "arch": self.net.spec.arch,
            "parameters": {n: _num(v) for n, v in self.parameters.items()},
            "initial_parameters": {n: _num(v) for n, v in zip(self.names, self.initial)},
            "cost": _num(self.cost), "initial_cost": _num(self.costs[0]),
            "accuracy": self.accuracy,
            "epochs": int(self.epochs_run), "epochs_requested": int(self.epochs),
            "stop": self.stop, "message": self._stop_line(),
            "gradient_norm": gradient_norm,
            "symmetric": self.symmetric, "separated_at": self.separated_at,
            "symmetry": self.symmetry_verdict(),
            "split": self.split, "collinear": self.collinear, "rank": self.rank,
            "identifiability": self.identifiability(),
            "effective_map": _ready(self.effective_map),
            "least_squares": _ready(self.least_squares), "agreement": _ready(self.agreement),
            "settings": dict(self.settings),
            "history": {"epoch": [int(e) for e in self.recorded],
                        "cost": [_num(c) for c in np.asarray(self.recorded_costs)]},
            **({"notes": list(self.notes)} if self.notes else {}),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, allow_nan=False)

    __str__ = to_text

    def _display_lines(self) -> list:  # Jupyter's rich display (symgrad.render.display)
        return training_lines(self)


def _slope_formula(spec: NetworkSpec) -> str:
    """The slope on x in weights, e.g. ``w211*(w111*a + w112*(1-a)) + ...`` (2-layer nets)."""
    from symgrad.spec import symbol_name

    if spec.depth != 2 or spec.n_outputs != 1:
        return "a*c1 + (1-a)*c2"
    terms = [f"{symbol_name('w', 2, 1, j)}*({symbol_name('w', 1, j, 1)}*a + "
             f"{symbol_name('w', 1, j, 2)}*(1-a))" for j in range(1, spec.widths[1] + 1)]
    return " + ".join(terms)
