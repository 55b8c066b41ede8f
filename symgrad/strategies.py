"""Hypothesis strategies for property tests of gradient code.

Not imported by ``import symgrad`` (it needs Hypothesis, a dev dependency)::

    from hypothesis import given
    from symgrad import strategies as sgst

    @given(sgst.problems(networks=sgst.networks(max_depth=2)))
    def test_my_backprop(problem):
        net, params, X, y = problem
        ...

* :func:`networks` draws :class:`symgrad.Network` objects (depth, widths,
  activations, loss, bias, and L2 when asked), only combining ``bce`` with a
  sigmoid output and ``cross-entropy`` with a softmax one;
* :func:`parameters` draws a parameter vector in ``net.parameters`` order;
* :func:`batches` draws ``(X, y)`` with y in [0, 1] for the ``bce`` loss and
  rows that are probability vectors for ``cross-entropy``;
* :func:`problems` draws ``(net, params, X, y)`` together, rejecting draws where
  a ReLU pre-activation is within ``kink_margin`` of the kink or any
  pre-activation exceeds ``max_preactivation`` (saturated sigmoids make the
  cross-entropy infinite).  A kink depends on parameters *and* data, so only
  :func:`problems` can promise to avoid it; ``avoid_kinks`` in
  :func:`parameters` and :func:`batches` only keeps values away from 0 on ReLU
  networks, which removes the exact ties Hypothesis likes to try.

Every argument is keyword-only and checked when the strategy is created; a bad one
raises :class:`hypothesis.errors.InvalidArgument`.  Values are bounded floats
(no NaN, infinity or subnormals), so nothing overflows with the default bounds.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument
from hypothesis.extra.numpy import arrays

from symgrad.network import Network
from symgrad.references.backprop import forward
from symgrad.references.check import KINK_MARGIN
from symgrad.spec import (
    ACTIVATIONS,
    KINKED_ACTIVATIONS,
    LOSSES,
    OUTPUT_ACTIVATIONS,
    choices_message,
    kink_distance,
)

#: With ``avoid_kinks``, values on ReLU networks keep at least this distance from 0.
MIN_MAGNITUDE = 1e-2
#: :func:`problems` rejects draws with a pre-activation larger than this in size.
MAX_PREACTIVATION = 30.0
_KINKED = KINKED_ACTIVATIONS

__all__ = ["batches", "networks", "parameters", "problems"]


def _integer(name: str, value: object, low: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise InvalidArgument(f"{name} must be an integer >= {low}, got {value!r}")


def _bounds(lo_name: str, lo: float, hi_name: str, hi: float) -> None:
    for name, v in ((lo_name, lo), (hi_name, hi)):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise InvalidArgument(f"{name} must be a finite number, got {v!r}")
    if lo > hi:
        raise InvalidArgument(f"{lo_name}={lo!r} is larger than {hi_name}={hi!r}")


def _names(arg: str, value: str | Iterable[str] | None,
           choices: Collection[str]) -> tuple[str, ...]:
    if value is None:
        return tuple(choices)
    if isinstance(value, str):
        value = [value]
    try:
        names = tuple(value)
    except TypeError:
        raise InvalidArgument(f"{arg} must be a list of names, got {value!r}") from None
    if not names:
        raise InvalidArgument(f"{arg} must name at least one of: {', '.join(choices)}")
    for n in names:
        if n not in choices:
            raise InvalidArgument(f"{arg}: " + choices_message(arg.rstrip("s"), n, choices))
    return names


def _network(net: object, name: str = "net") -> None:
    if not isinstance(net, Network):
        raise InvalidArgument(f"{name} must be a symgrad.Network, got {type(net).__name__}")


def networks(*, min_depth: int = 1, max_depth: int = 3, min_width: int = 1, max_width: int = 4,
             activations: str | Iterable[str] | None = None,
             output_activations: str | Iterable[str] | None = None,
             losses: str | Iterable[str] | None = None,
             bias: bool | None = None, l2: bool = False) -> st.SearchStrategy[Network]:
    """Strategy for :class:`symgrad.Network` objects.

    Parameters
    ----------
    min_depth, max_depth : int
        Number of weight layers.
    min_width, max_width : int
        Width of every layer, input and output included.
    activations : list of str, optional
        Hidden-layer activations to draw from (default: all).
    output_activations : list of str, optional
        Output activations to draw from (default: ``activations``, or every
        output activation, softmax included, when ``activations`` is not given).
    losses : list of str, optional
        Losses to draw from (default: all).  ``bce`` is only drawn with a sigmoid
        output, so it needs ``"sigmoid"`` among the output activations;
        ``cross-entropy`` goes with ``"softmax"`` (and at least 2 outputs: it needs
        ``max_width >= 2``), and a softmax output with nothing else.
    bias : bool, optional
        Fix the bias; by default both are drawn.
    l2 : bool
        Also draw an L2 coefficient (0, or from 0.01 to 1) and whether it covers
        the biases; by default networks have no L2 penalty.

    Examples
    --------
    >>> from hypothesis import given
    >>> @given(networks(max_depth=2, losses=["bce"]))
    ... def test(net):
    ...     assert net.activations[-1] == "sigmoid"
    >>> test()
    """
    _integer("min_depth", min_depth, 1)
    _integer("max_depth", max_depth, min_depth)
    _integer("min_width", min_width, 1)
    _integer("max_width", max_width, min_width)
    hidden = _names("activations", activations, ACTIVATIONS)
    outs = (_names("output_activations", output_activations, OUTPUT_ACTIVATIONS)
            if output_activations is not None
            else OUTPUT_ACTIVATIONS if activations is None else hidden)
    losses = _names("losses", losses, LOSSES)
    needs = {"bce": "sigmoid", "cross-entropy": "softmax"}
    if max_width < 2:
        outs = tuple(o for o in outs if o != "softmax")
    elementwise = tuple(o for o in outs if o != "softmax")
    usable = tuple(x for x in losses if needs.get(x, "") in outs
                   or (x not in needs and elementwise))
    if not usable:
        raise InvalidArgument(f"no loss of {list(losses)} goes with an output activation of "
                              f"{list(outs)}: 'bce' needs a sigmoid output, 'cross-entropy' a "
                              "softmax output (and max_width >= 2), and softmax takes only "
                              "'cross-entropy'")
    losses = usable
    if bias is not None and not isinstance(bias, bool):
        raise InvalidArgument(f"bias must be None, True or False, got {bias!r}")
    if not isinstance(l2, bool):
        raise InvalidArgument(f"l2 must be True or False, got {l2!r}")
    bias_st = st.booleans() if bias is None else st.just(bias)
    l2_st = (st.one_of(st.just(0.0), st.floats(0.01, 1.0)) if l2 else st.just(0.0))

    @st.composite
    def draw_network(draw: st.DrawFn) -> Network:
        depth = draw(st.integers(min_depth, max_depth))
        widths = draw(st.lists(st.integers(min_width, max_width),
                               min_size=depth + 1, max_size=depth + 1))
        acts = [draw(st.sampled_from(hidden)) for _ in range(depth - 1)]
        loss = draw(st.sampled_from(losses))
        out = needs[loss] if loss in needs else draw(st.sampled_from(elementwise))
        if out == "softmax":
            widths[-1] = max(2, widths[-1])
        lam = draw(l2_st)
        return Network(widths, activation=acts + [out], bias=draw(bias_st), loss=loss,
                       l2=lam, l2_bias=bool(lam) and draw(st.booleans()))

    return draw_network()


def _elements(lo: float, hi: float, away_from_zero: bool) -> st.SearchStrategy[float]:
    """Bounded floats; with ``away_from_zero``, none in (-MIN_MAGNITUDE, MIN_MAGNITUDE)."""
    def floats(a: float, b: float) -> st.SearchStrategy[float]:
        return st.floats(a, b, allow_nan=False, allow_infinity=False, allow_subnormal=False)

    if not away_from_zero or lo >= MIN_MAGNITUDE or hi <= -MIN_MAGNITUDE:
        return floats(lo, hi)
    parts = []
    if hi >= MIN_MAGNITUDE:
        parts.append(floats(MIN_MAGNITUDE, hi))
    if lo <= -MIN_MAGNITUDE:
        parts.append(floats(lo, -MIN_MAGNITUDE))
    if not parts:
        raise InvalidArgument(
            f"with avoid_kinks=True on a ReLU network, values keep |v| >= {MIN_MAGNITUDE}; "
            f"the bounds [{lo}, {hi}] leave no room (widen them or pass avoid_kinks=False)")
    return st.one_of(parts)


def _kinked(net: Network) -> bool:
    return any(a in _KINKED for a in net.activations)


def parameters(net: Network, *, min_value: float = -1.0, max_value: float = 1.0,
               avoid_kinks: bool = True) -> st.SearchStrategy[np.ndarray]:
    """Strategy for a float64 parameter vector of ``net`` (``net.parameters`` order).

    With ``avoid_kinks`` (default) on a ReLU-type network every value keeps at
    least :data:`MIN_MAGNITUDE` away from 0; see :func:`problems` for draws that
    avoid the kinks themselves.

    Examples
    --------
    >>> from hypothesis import given
    >>> from symgrad import Network
    >>> net = Network([2, 2, 1])
    >>> @given(parameters(net, min_value=-0.5, max_value=0.5))
    ... def test(p):
    ...     assert p.shape == (6,) and abs(p).max() <= 0.5
    >>> test()
    """
    _network(net)
    _bounds("min_value", min_value, "max_value", max_value)
    elements = _elements(float(min_value), float(max_value), avoid_kinks and _kinked(net))
    return arrays(np.float64, net.spec.n_parameters, elements=elements)


def batches(net: Network, *, min_size: int = 1, max_size: int = 8, min_value: float = -1.0,
            max_value: float = 1.0,
            avoid_kinks: bool = True) -> st.SearchStrategy[tuple[np.ndarray, np.ndarray]]:
    """Strategy for ``(X, y)``: X of shape (m, n_inputs), y of shape (m, n_outputs).

    Inputs and (squared-loss) targets lie in ``[min_value, max_value]``;
    binary cross-entropy targets lie in [0, 1]; cross-entropy target rows are
    probability vectors (entries in [0, 1] summing to 1).  ``avoid_kinks`` keeps inputs away from 0
    on ReLU-type networks, as in :func:`parameters`.

    Examples
    --------
    >>> from hypothesis import given
    >>> from symgrad import Network
    >>> net = Network([3, 2], output_activation="sigmoid", loss="bce")
    >>> @given(batches(net, max_size=4))
    ... def test(batch):
    ...     X, y = batch
    ...     assert X.shape[1] == 3 and y.shape == (len(X), 2) and (0 <= y).all() and (y <= 1).all()
    >>> test()
    """
    _network(net)
    _integer("min_size", min_size, 1)
    _integer("max_size", max_size, min_size)
    _bounds("min_value", min_value, "max_value", max_value)
    x_el = _elements(float(min_value), float(max_value), avoid_kinks and _kinked(net))
    y_el = (st.floats(0.0, 1.0) if net.loss_name == "bce"
            else st.floats(0.0, 1.0).map(lambda v: v if v >= 1e-3 else 0.0)
            if net.loss_name == "cross-entropy"
            else _elements(float(min_value), float(max_value), False))
    n_in, n_out = net.spec.n_inputs, net.spec.n_outputs

    @st.composite
    def draw_batch(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
        m = draw(st.integers(min_size, max_size))
        X = draw(arrays(np.float64, (m, n_in), elements=x_el))
        y = draw(arrays(np.float64, (m, n_out), elements=y_el))
        if net.loss_name == "cross-entropy":    # probability rows: weights over classes
            y[:, -1] += (y.sum(axis=1) == 0)
            y /= y.sum(axis=1, keepdims=True)
        return X, y

    return draw_batch()


def problems(*, networks: st.SearchStrategy[Network] | Network | None = None,
             kink_margin: float = KINK_MARGIN, max_preactivation: float = MAX_PREACTIVATION,
             min_value: float = -1.0, max_value: float = 1.0, min_size: int = 1,
             max_size: int = 8) -> st.SearchStrategy[tuple[Network, np.ndarray, np.ndarray,
                                                           np.ndarray]]:
    """Strategy for ``(net, params, X, y)`` away from ReLU kinks and saturation.

    ``networks`` is a strategy for networks (default ``networks()``) or one
    :class:`~symgrad.Network`.  Draws where a ReLU-type pre-activation is within
    ``kink_margin`` of 0, or any pre-activation exceeds ``max_preactivation`` in
    size, are rejected (with ``hypothesis.assume``).

    Examples
    --------
    >>> from hypothesis import given, settings
    >>> from symgrad import Network
    >>> from symgrad.references.check import min_kink_distance
    >>> @settings(max_examples=20)
    ... @given(problems(networks=Network([2, 3, 1], activation="relu")))
    ... def test(problem):
    ...     net, params, X, y = problem
    ...     assert min_kink_distance(net, params, X) >= 1e-3
    >>> test()
    """
    global_networks = globals()["networks"]
    nets: st.SearchStrategy[Network]
    if networks is None:
        nets = global_networks()
    elif isinstance(networks, Network):
        nets = st.just(networks)
    elif isinstance(networks, st.SearchStrategy):
        nets = networks
    else:
        raise InvalidArgument(f"networks must be a strategy or a Network, got {networks!r}")
    for name, v in (("kink_margin", kink_margin), ("max_preactivation", max_preactivation)):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not v >= 0:
            raise InvalidArgument(f"{name} must be a number >= 0, got {v!r}")
    _bounds("min_value", min_value, "max_value", max_value)
    _integer("min_size", min_size, 1)
    _integer("max_size", max_size, min_size)

    @st.composite
    def draw_problem(draw: st.DrawFn) -> tuple[Network, np.ndarray, np.ndarray, np.ndarray]:
        net = draw(nets)
        params = draw(parameters(net, min_value=min_value, max_value=max_value))
        X, y = draw(batches(net, min_size=min_size, max_size=max_size, min_value=min_value,
                            max_value=max_value))
        zs, _ = forward(net.spec, params, X)
        assume(all(np.abs(z).max() <= max_preactivation for z in zs))
        assume(all(kink_distance(a, z).min() >= kink_margin
                   for z, a in zip(zs, net.activations) if a in _KINKED))
        return net, params, X, y

    return draw_problem()
