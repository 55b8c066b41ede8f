"""The network spec: architecture, activations, loss, and the names of every symbol.

This module imports no SymPy.  It is the only code the three independent gradient
references share: the symbolic gradients (:mod:`symgrad.derive`), the hand-written
backprop (:mod:`symgrad.references.backprop`) and the finite differences
(:mod:`symgrad.references.finite_diff`) read the architecture from a :class:`NetworkSpec`.

It also owns symbol naming.  Every name a user sees (``w111``, ``w_1_10_2``,
``w_{111}``, ``w_{1,10,2}``) is produced by :func:`symbol_name` or
:func:`latex_name`; nothing else in the project formats names.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from symgrad.errors import ShapeError, SpecError, SpecTypeError

#: Activation names, in the order they are listed in error messages.
ACTIVATIONS = ("linear", "sigmoid", "tanh", "relu", "leaky_relu", "softplus")
#: Activations that are analytic (complex-step differentiation is exact for them).
ANALYTIC_ACTIVATIONS = frozenset({"linear", "sigmoid", "tanh", "softplus"})
#: The others are piecewise linear with a kink at 0 (finite differences keep away).
KINKED_ACTIVATIONS = frozenset(ACTIVATIONS) - ANALYTIC_ACTIVATIONS
#: Slope of leaky_relu for negative inputs.
LEAKY_SLOPE_NUM, LEAKY_SLOPE_DEN = 1, 100
MAX_WIDTH = 10_000  #: widest layer (``parse_arch``, ``Network``)
#: Loss names.  ``half-squared``: (y - yhat)**2/2, ``squared``: (y - yhat)**2,
#: ``bce``: -(y*log(yhat) + (1 - y)*log(1 - yhat)); each summed over outputs.
LOSSES = ("half-squared", "squared", "bce")


def choices_message(kind: str, value: object, choices: Collection[str]) -> str:
    """Return "unknown <kind> 'x'; did you mean 'y'? choices: a, b, c"."""
    text = f"unknown {kind} {value!r}"
    if isinstance(value, str):
        close = difflib.get_close_matches(value, list(choices), n=1, cutoff=0.6)
        if close:
            text += f"; did you mean {close[0]!r}?"
    return text + " (choices: " + ", ".join(choices) + ")"


def symbol_name(kind: str, *indices: int) -> str:
    """Return the plain name of a symbol: ``w111``, ``b12``, ``x3``, ``w_1_10_2``.

    Indices are concatenated when every one is below 10; when any index is 10 or
    more (and there is more than one index), they are joined with underscores so
    the name stays unambiguous (``w_1_10_2`` is layer 1, neuron 10, input 2).

    >>> symbol_name("w", 1, 1, 2), symbol_name("w", 1, 10, 2), symbol_name("x", 12)
    ('w112', 'w_1_10_2', 'x12')
    """
    if len(indices) > 1 and any(i >= 10 for i in indices):
        return kind + "".join(f"_{i}" for i in indices)
    return kind + "".join(str(i) for i in indices)


def latex_name(kind: str, *indices: int) -> str:
    r"""Return the LaTeX form of a symbol name: ``w_{111}``, ``w_{1,10,2}``, ``x_{3}``.

    >>> latex_name("w", 1, 1, 2), latex_name("w", 1, 10, 2), latex_name("\\delta", 2, 1)
    ('w_{112}', 'w_{1,10,2}', '\\delta_{21}')
    """
    if not indices:
        return kind
    sep = "," if len(indices) > 1 and any(i >= 10 for i in indices) else ""
    return kind + "_{" + sep.join(str(i) for i in indices) + "}"


#: The default weight-name template: layer, to-neuron, from-input (Nielsen's order).
WEIGHT_TEMPLATE = "w{l}{j}{k}"
#: Names the network gives to things other than weights; a weight-name template must
#: not start like one (``x{l}{j}{k}`` would name weight (1, 1, 1) like input x111).
RESERVED_STEMS = {"x": "inputs", "y": "targets", "z": "pre-activations", "a": "activations",
                  "b": "biases", "delta": "adjoints"}


def check_weight_template(template: str) -> str:
    """Validate a weight-name template such as ``"w{l}{j}{k}"`` or ``"w{l}{k}{j}"``.

    A name (a letter, then letters, digits or underscores; not one of :data:`RESERVED_STEMS`,
    alone or followed by digits and underscores), then ``{l}``, ``{j}``, ``{k}`` in any order.
    """
    if not isinstance(template, str):
        raise SpecTypeError(f"weight-name template must be a string, got {template!r}")
    ok = re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*(?:\{[ljk]\}){3}", template)
    if not ok or any(template.count("{" + c + "}") != 1 for c in "ljk"):
        raise SpecError(
            f"bad weight-name template {template!r}: it needs a letter first and each of "
            "{l} (layer), {j} (to-neuron) and {k} (from-input) once, e.g. w{l}{j}{k} or w{l}{k}{j}")
    clash = re.fullmatch(r"(" + "|".join(RESERVED_STEMS) + r")[0-9_]*", template.split("{")[0])
    if clash:
        raise SpecError(f"bad weight-name template {template!r}: weight names such as "
                        f"{weight_label(1, 1, 1, template)} could be mistaken for the network's "
                        f"{RESERVED_STEMS[clash.group(1)]} ({clash.group(1)}...); start the name "
                        "differently, e.g. w{l}{j}{k} or v{l}{j}{k}")
    return template


def weight_label(l: int, j: int, k: int, template: str = WEIGHT_TEMPLATE,
                 latex: bool = False) -> str:
    """Name of weight (l, j, k) under a template (``w{l}{k}{j}`` swaps j and k).

    Indices are placed in the template's order and then named by
    :func:`symbol_name` / :func:`latex_name`, so big indices stay unambiguous.

    >>> weight_label(1, 2, 3), weight_label(1, 2, 3, "w{l}{k}{j}")
    ('w123', 'w132')
    >>> weight_label(1, 10, 2, latex=True)
    'w_{1,10,2}'
    """
    values = {"l": l, "j": j, "k": k}
    order = [values[c] for c in re.findall(r"\{([ljk])\}", template)]
    stem = template.split("{", 1)[0]
    return latex_name(stem, *order) if latex else symbol_name(stem, *order)


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
        return all(a in ANALYTIC_ACTIVATIONS for a in self.activations)

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
        if self.loss != "half-squared":
            parts.append(f"{self.loss} loss")
        count = f"{self.n_weights} weight{'s' if self.n_weights != 1 else ''}"
        if self.bias:
            count += f", {self.n_biases} bias{'es' if self.n_biases != 1 else ''}"
        return ", ".join(parts + [count])


def _check_name(kind: str, value: object, choices: Collection[str]) -> str:
    if not isinstance(value, str):
        raise SpecTypeError(f"{kind} must be a string, got {type(value).__name__} {value!r} "
                            f"(choices: {', '.join(choices)})")
    if value not in choices:
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
              loss: str = "half-squared") -> NetworkSpec:
    """Validate the arguments of :class:`symgrad.Network` and return the spec.

    ``activation`` is one name for every hidden layer, or a list with one name per
    hidden layer, or a list with one name per non-input layer (its last entry is
    then the output activation).  ``output_activation`` defaults to ``"linear"``.
    """
    widths = _check_widths(widths)
    depth = len(widths) - 1
    if isinstance(activation, str):
        hidden = [_check_name("activation", activation, ACTIVATIONS)] * (depth - 1)
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
        acts = [_check_name("activation", a, ACTIVATIONS) for a in acts]
        if len(acts) == depth - 1:
            hidden, out = acts, None
        elif len(acts) == depth:
            hidden, out = acts[:-1], acts[-1]
            if output_activation is not None and output_activation != out:
                raise SpecError(f"activation list gives the output activation {out!r} but "
                                f"output_activation is {output_activation!r}; give it in one place")
        else:
            raise SpecError(f"activation list has {len(acts)} names; a "
                            f"{'-'.join(map(str, widths))} network needs {depth - 1} (one per "
                            f"hidden layer) or {depth} (one per non-input layer)")
    if out is None:
        out = "linear" if output_activation is None else output_activation
    out = _check_name("output_activation", out, ACTIVATIONS)
    if not isinstance(bias, bool):
        raise SpecTypeError(f"bias must be True or False, got {bias!r}")
    loss = _check_name("loss", loss, LOSSES)
    if loss == "bce" and out != "sigmoid":
        raise SpecError(f"loss 'bce' needs outputs in (0, 1): use output_activation='sigmoid' "
                        f"(got {out!r})")
    return NetworkSpec(widths, tuple(hidden) + (out,), bias, loss)


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
    return params, X, y
