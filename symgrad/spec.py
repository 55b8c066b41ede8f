"""The network spec: architecture, activations, loss, and the names of every symbol.

This module imports no SymPy.  It is the only code the three independent gradient
references share: the symbolic gradients (:mod:`symgrad.derive`), the hand-written
backprop (:mod:`symgrad.references.backprop`) and the finite differences
(:mod:`symgrad.references.finite_diff`) read the architecture from a :class:`NetworkSpec`.

It also owns symbol naming, through :mod:`symgrad.naming` (re-exported here: every
name a user sees is produced by :func:`symbol_name` or :func:`latex_name`), and the
output layer and the cost, through :mod:`symgrad.outputs` (losses, softmax, L2).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from symgrad.errors import ShapeError, SpecError, SpecTypeError
from symgrad.naming import (
    RESERVED_STEMS,
    WEIGHT_TEMPLATE,
    check_weight_template,
    choices_message,
    latex_name,
    symbol_name,
    weight_label,
)
from symgrad.outputs import LOSSES, OUTPUT_ONLY, check_l2, check_output, check_targets, default_loss

__all__ = ["ACTIVATIONS", "ALIASES", "ANALYTIC_ACTIVATIONS", "KINKED_ACTIVATIONS", "KINKS",
           "LEAKY_SLOPE_DEN", "LEAKY_SLOPE_NUM", "LOSSES", "MAX_WIDTH", "OUTPUT_ACTIVATIONS",
           "RESERVED_STEMS", "WEIGHT_TEMPLATE", "NetworkSpec", "check_batch",
           "check_weight_template", "choices_message", "kink_distance", "latex_name",
           "make_spec", "parse_arch", "symbol_name", "weight_label"]

#: Activation names (elementwise), in the order they are listed in error messages.
ACTIVATIONS = ("linear", "sigmoid", "tanh", "relu", "leaky_relu", "softplus", "elu", "gelu",
               "gelu_tanh", "silu", "hardtanh")
#: Every name an output layer may have: the elementwise ones and softmax.
OUTPUT_ACTIVATIONS = ACTIVATIONS + OUTPUT_ONLY
#: Other names accepted for an activation (Keras calls SiLU "swish").
ALIASES = {"swish": "silu"}
#: Where each piecewise activation has a kink (its derivative there is a convention:
#: the left slope for relu, leaky_relu and elu; 0 at both corners of hardtanh, as in
#: PyTorch).  Finite differences must keep away from these points.
KINKS = {"relu": (0.0,), "leaky_relu": (0.0,), "elu": (0.0,), "hardtanh": (-1.0, 1.0)}
#: The piecewise activations, not analytic (no complex step).
KINKED_ACTIVATIONS = frozenset(KINKS)
#: Activations that are analytic (complex-step differentiation is exact for them).
ANALYTIC_ACTIVATIONS = frozenset(ACTIVATIONS) - KINKED_ACTIVATIONS
#: Slope of leaky_relu for negative inputs.
LEAKY_SLOPE_NUM, LEAKY_SLOPE_DEN = 1, 100
MAX_WIDTH = 10_000  #: widest layer (``parse_arch``, ``Network``)


def kink_distance(name: str, z: np.ndarray) -> np.ndarray:
    """Distance of each pre-activation in ``z`` to the nearest kink of ``name``
    (infinite for a smooth activation)."""
    z = np.asarray(z, dtype=float)
    out = np.full(z.shape, np.inf)
    for at in KINKS.get(name, ()):
        out = np.minimum(out, np.abs(z - at))
    return out


@dataclass(frozen=True)
class NetworkSpec:
    """A validated fully connected architecture.

    ``widths[0]`` is the input width; layer ``l`` (1-based, ``1 .. depth``) maps
    ``widths[l-1]`` values to ``widths[l]`` neurons with ``activations[l-1]``.
    """

    widths: tuple[int, ...]
    activations: tuple[str, ...]
    bias: bool
    loss: str
    #: L2 coefficient lambda: (lambda/2) sum w**2 is added to every sample's loss.
    l2: float = 0.0
    #: Whether the L2 penalty covers the biases too.
    l2_bias: bool = False

    @property
    def depth(self) -> int:
        """Number of weight layers."""
        return len(self.widths) - 1

    @property
    def n_inputs(self) -> int:
        return self.widths[0]

    @property
    def n_outputs(self) -> int:
        return self.widths[-1]

    @property
    def n_weights(self) -> int:
        return sum(a * b for a, b in zip(self.widths[:-1], self.widths[1:]))

    @property
    def n_biases(self) -> int:
        return sum(self.widths[1:]) if self.bias else 0

    @property
    def n_parameters(self) -> int:
        return self.n_weights + self.n_biases

    @property
    def analytic(self) -> bool:
        """True when every activation is analytic (complex step applies)."""
        return all(a in ANALYTIC_ACTIVATIONS or a in OUTPUT_ONLY for a in self.activations)

    @property
    def penalised(self) -> Iterator[int]:
        """Positions in the parameter vector of the parameters the L2 penalty covers."""
        if self.l2:
            yield from range(self.n_weights)
            if self.l2_bias:
                yield from range(self.n_weights, self.n_parameters)

    @property
    def arch(self) -> str:
        """The architecture string, e.g. ``"2-2-1"``."""
        return "-".join(str(w) for w in self.widths)

    # -- the parameter layout: the one place it is computed ------------------
    # params = [W1 row by row, W2 row by row, ..., WL, b1, b2, ..., bL]: layer l's
    # weights are a contiguous (widths[l], widths[l-1]) block, row j = to-neuron j,
    # so params[weight_slice(l)].reshape(widths[l], widths[l-1])[j-1, k-1] = w{l}{j}{k}.
    # The independent references (references/backprop.py, finite_diff.py) unpack
    # params with their own code on purpose; a test checks they agree with this.

    def weight_slice(self, l: int) -> slice:
        """Where layer ``l``'s weights (1-based ``l``) sit in the parameter vector."""
        self._check_layer(l)
        start = sum(a * b for a, b in zip(self.widths[:l - 1], self.widths[1:l]))
        return slice(start, start + self.widths[l] * self.widths[l - 1])

    def bias_slice(self, l: int) -> slice:
        """Where layer ``l``'s biases sit in the parameter vector (empty without bias)."""
        self._check_layer(l)
        if not self.bias:
            return slice(self.n_parameters, self.n_parameters)
        start = self.n_weights + sum(self.widths[1:l])
        return slice(start, start + self.widths[l])

    def weight_position(self, l: int, j: int, k: int) -> int:
        """Index of ``w{l}{j}{k}`` (all 1-based) in the parameter vector."""
        return self.weight_slice(l).start + (j - 1) * self.widths[l - 1] + (k - 1)

    def bias_position(self, l: int, j: int) -> int:
        """Index of ``b{l}{j}`` in the parameter vector (needs ``bias=True``)."""
        if not self.bias:
            raise ValueError("this network has no biases")
        return self.bias_slice(l).start + (j - 1)

    def _check_layer(self, l: int) -> None:
        if not 1 <= l <= self.depth:
            raise ValueError(f"layer {l} out of range 1..{self.depth}")

    def weight_index(self) -> Iterator[tuple[int, int, int]]:
        """Yield ``(l, j, k)`` for every weight in parameter order."""
        for l in range(1, self.depth + 1):
            for j in range(1, self.widths[l] + 1):
                for k in range(1, self.widths[l - 1] + 1):
                    yield (l, j, k)

    def bias_index(self) -> Iterator[tuple[int, int]]:
        """Yield ``(l, j)`` for every bias in parameter order (none without bias)."""
        if self.bias:
            for l in range(1, self.depth + 1):
                for j in range(1, self.widths[l] + 1):
                    yield (l, j)

    def parameter_names(self) -> list[str]:
        """Names of all parameters in order: weights by (l, j, k), then biases by (l, j)."""
        return ([symbol_name("w", *i) for i in self.weight_index()]
                + [symbol_name("b", *i) for i in self.bias_index()])

    def input_names(self) -> list[str]:
        return [symbol_name("x", k) for k in range(1, self.n_inputs + 1)]

    def target_names(self) -> list[str]:
        if self.n_outputs == 1:
            return ["y"]
        return [symbol_name("y", j) for j in range(1, self.n_outputs + 1)]

    def describe(self) -> str:
        """One line, e.g. ``"2-2-1, linear, no bias, 6 weights"``."""
        hidden, out = self.activations[:-1], self.activations[-1]
        if len(set(self.activations)) == 1:
            acts = out
        else:
            names = "/".join(dict.fromkeys(hidden))
            acts = (f"{names} hidden, " if hidden else "") + f"{out} output"
        parts = [self.arch, acts, "bias" if self.bias else "no bias"]
        if self.loss != default_loss(out):
            parts.append(f"{self.loss} loss")
        if self.l2:
            parts.append(f"L2 {self.l2:g}" + (" with biases" if self.l2_bias else ""))
        count = f"{self.n_weights} weight{'s' if self.n_weights != 1 else ''}"
        if self.bias:
            count += f", {self.n_biases} bias{'es' if self.n_biases != 1 else ''}"
        return ", ".join(parts + [count])


def _check_name(kind: str, value: object, choices: Collection[str]) -> str:
    if not isinstance(value, str):
        raise SpecTypeError(f"{kind} must be a string, got {type(value).__name__} {value!r} "
                            f"(choices: {', '.join(choices)})")
    value = ALIASES.get(value, value)
    if value not in choices:
        if value in OUTPUT_ONLY:
            raise SpecError(f"{value} couples the neurons of a layer, so only the output "
                            f"layer can have it: use output_activation={value!r}")
        raise SpecError(choices_message(kind, value, choices))
    return value


def _check_widths(widths) -> tuple[int, ...]:
    if isinstance(widths, str):
        raise SpecTypeError(
            f"widths must be a list of integers such as [2, 2, 1], got the string {widths!r}; "
            "use parse_arch() for '2-2-1' strings")
    try:
        widths = tuple(widths)
    except TypeError:
        raise SpecTypeError(
            f"widths must be a list of integers such as [2, 2, 1], got {type(widths).__name__}"
        ) from None
    if len(widths) < 2:
        raise SpecError("widths needs an input width and at least one layer, e.g. [2, 2, 1]; "
                        f"got {list(widths)}")
    for i, w in enumerate(widths):
        # Python and numpy integers (np.array([2, 2, 1]) holds int64); not bools.
        if isinstance(w, (bool, np.bool_)) or not isinstance(w, (int, np.integer)):
            raise SpecTypeError(f"widths[{i}] must be an integer, got {type(w).__name__} {w!r}")
        if w < 1:
            raise SpecError(f"widths[{i}] must be at least 1, got {w}")
        if w > MAX_WIDTH:      # not printed: int() refuses to show 5,000-digit numbers
            raise SpecError(f"widths[{i}] is above {MAX_WIDTH}; symgrad handles layers of "
                            f"at most {MAX_WIDTH} neurons")
    return tuple(int(w) for w in widths)


def make_spec(widths: Iterable[int], activation: str | Iterable[str] = "linear",
              output_activation: str | None = None, bias: bool = False,
              loss: str | None = None, l2: float = 0.0, l2_bias: bool = False) -> NetworkSpec:
    """Validate the arguments of :class:`symgrad.Network` and return the spec.

    ``activation`` is one name for every hidden layer, or a list with one name per
    hidden layer, or a list with one name per non-input layer (its last entry is
    then the output activation).  ``output_activation`` defaults to ``"linear"``;
    ``loss`` to ``"cross-entropy"`` for a softmax output, else ``"half-squared"``.
    """
    widths = _check_widths(widths)
    depth = len(widths) - 1
    if isinstance(activation, str):
        hidden = [_check_name("activation", activation, ACTIVATIONS)] * (depth - 1)
        activation = hidden[0] if hidden else ALIASES.get(activation, activation)
        out: str | None = None
        if depth == 1 and activation != "linear":
            raise SpecError(f"activation {activation!r} is the hidden layers' activation, and "
                            f"the {'-'.join(map(str, widths))} network has none; for its "
                            f"output neurons use output_activation={activation!r}")
    else:
        try:
            acts = list(activation)
        except TypeError:
            raise SpecTypeError("activation must be a name or a list of names, got "
                                f"{type(activation).__name__} (choices: "
                                f"{', '.join(ACTIVATIONS)})") from None
        acts = [_check_name("activation", a, ACTIVATIONS) for a in acts[:-1]] + (
            [_check_name("activation", acts[-1], OUTPUT_ACTIVATIONS if len(acts) == depth
                         else ACTIVATIONS)] if acts else [])
        if len(acts) == depth - 1:
            hidden, out = acts, None
        elif len(acts) == depth:
            hidden, out = acts[:-1], acts[-1]
            if output_activation is not None and ALIASES.get(output_activation,
                                                             output_activation) != out:
                raise SpecError(f"activation list gives the output activation {out!r} but "
                                f"output_activation is {output_activation!r}; give it in one place")
        else:
            raise SpecError(f"activation list has {len(acts)} names; a "
                            f"{'-'.join(map(str, widths))} network needs {depth - 1} (one per "
                            f"hidden layer) or {depth} (one per non-input layer)")
    if out is None:
        out = "linear" if output_activation is None else output_activation
    out = _check_name("output_activation", out, OUTPUT_ACTIVATIONS)
    if not isinstance(bias, bool):
        raise SpecTypeError(f"bias must be True or False, got {bias!r}")
    loss = _check_name("loss", default_loss(out) if loss is None else loss, LOSSES)
    check_output(out, loss, widths[-1])
    l2, l2_bias = check_l2(l2, l2_bias)
    return NetworkSpec(widths, tuple(hidden) + (out,), bias, loss, l2, l2_bias)


def parse_arch(text: str) -> tuple[int, ...]:
    """Parse an architecture string such as ``"2-2-1"`` into widths.

    Widths are ASCII digits (not ``²`` or ``２``), each from 1 to :data:`MAX_WIDTH`.

    >>> parse_arch("2-3-3-1")
    (2, 3, 3, 1)
    """
    if not isinstance(text, str):
        raise SpecTypeError(f"architecture must be a string like '2-2-1', got {text!r}")
    shown = text if len(text) <= 40 else text[:37] + "..."
    parts = [p.strip() for p in text.strip().split("-")]
    # 0-9 only ('²'.isdigit() is True); the length before int(), which refuses 5,000 digits
    if len(parts) < 2 or not all(p and p.isascii() and p.isdigit() for p in parts):
        raise SpecError(f"bad architecture {shown!r}: give widths joined by '-', e.g. 2-2-1 "
                        "(input width first, output width last; digits 0-9 only)")
    if any(len(p.lstrip("0")) > len(str(MAX_WIDTH)) or int(p) > MAX_WIDTH for p in parts):
        raise SpecError(f"bad architecture {shown!r}: widths above {MAX_WIDTH} are not "
                        "supported")
    widths = tuple(int(p) for p in parts)
    if any(w < 1 for w in widths):
        raise SpecError(f"bad architecture {shown!r}: every width must be at least 1")
    return widths


def _as_real_array(value: ArrayLike, what: str) -> np.ndarray:
    try:
        arr = np.asarray(value)
    except Exception as exc:  # ragged nested lists and the like
        raise ShapeError(f"{what} is not an array of numbers: {exc}") from None
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number)
                                   or arr.dtype == bool):
        raise ShapeError(f"{what} must hold numbers, got dtype {arr.dtype}")
    if np.iscomplexobj(arr):
        raise ShapeError(f"{what} must be real, got dtype {arr.dtype}")
    return arr.astype(np.float64, copy=False)


def check_batch(spec: NetworkSpec, params: ArrayLike, X: ArrayLike,
                y: ArrayLike) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Validate ``(params, X, y)`` for a gradient function of ``spec``.

    Returns float64 arrays ``params`` (P,), ``X`` (m, n_inputs) and ``Y`` (m, k);
    ``y`` may be given as (m,) when the network has one output.  Raises
    :class:`~symgrad.errors.ShapeError` naming the argument, the shape it has and
    the shape it needs.
    """
    params, X, y = (_as_real_array(v, n) for v, n in ((params, "params"), (X, "X"), (y, "y")))
    P, n, k = spec.n_parameters, spec.n_inputs, spec.n_outputs
    if params.shape != (P,):
        raise ShapeError(
            f"params has shape {params.shape}; the {spec.arch} network needs a 1-D array "
            f"of its {P} parameters in net.parameters order")
    if X.ndim != 2 or X.shape[1] != n:
        raise ShapeError(f"X has shape {X.shape}; it needs shape (m, {n}), one row per sample")
    m = X.shape[0]
    if m == 0:
        raise ShapeError("X has no rows; give at least one sample")
    if y.ndim == 1 and k == 1:
        y = y[:, None]
    if y.shape != (m, k):
        want = f"({m},) or ({m}, 1)" if k == 1 else f"({m}, {k})"
        raise ShapeError(f"y has shape {y.shape}; with {m} samples it needs shape {want}")
    check_targets(spec.loss, y)
    return params, X, y
