"""Find the likely bug behind a backprop mismatch (used by :mod:`symgrad.testing.assertions`).

Given the user's gradients and the exact ones on several batches, this module
tests a list of hypotheses, each a gradient that a typical bug would produce, and
keeps those that explain the user's numbers on *every* batch:

* the true gradient times a factor ``c`` fitted per batch: ``c = -1`` is a wrong
  sign, ``c = m`` (the batch size) a missing ``1/m``, a constant 2 or 1/2 the
  ``1/2`` of the squared loss;
* the gradient with one layer's activation derivative replaced by 1 (a missing
  ``f'``), or applied to the activation ``a`` instead of ``z`` (``sigmoid'(a)``),
  or with the squared-error output delta used for a cross-entropy loss;
* per layer: the weight gradient transposed (or reshaped instead of transposed),
  a factor that only one block has, and which layers are right and which wrong.

The variant gradients come from :func:`variant_gradient`, a small numpy backward
pass whose activation and loss derivatives are lambdified from SymPy's
``diff`` of :func:`symgrad.network.activation_expr` and
:func:`symgrad.network.loss_expr`; with no change requested it reproduces the
compiled symbolic gradient (the tests check this).  It shares no code with the
user's function or with :mod:`symgrad.references.backprop`.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, Protocol, TypedDict

import numpy as np
import sympy as sp

from symgrad.network import Network, activation_expr, loss_expr
from symgrad.spec import KINKED_ACTIVATIONS, NetworkSpec

#: Two fitted factors are "the same number" when they agree to this relative tolerance.
FACTOR_RTOL = 1e-6

#: One layer number, or several.
Layers = int | Collection[int]
#: The test's tolerance: ``close(yours, true)`` for two arrays of the same shape.
Close = Callable[[np.ndarray, np.ndarray], bool]


class Trial(Protocol):
    """One batch the user's function ran on, and both gradients there."""

    params: np.ndarray
    X: np.ndarray
    Y: np.ndarray
    m: int
    yours: np.ndarray
    true: np.ndarray


class _Change(TypedDict, total=False):
    """The keyword arguments of :func:`variant_gradient` one bug hypothesis uses."""

    unit_slope: Layers
    slope_of_a: Layers
    loss: str


#: A bug hypothesis: ``(code, text, [gradient per trial])``; the truth has code None.
_Hypothesis = tuple[str | None, str | None, list[np.ndarray]]


@dataclass(frozen=True)
class Finding:
    """One diagnosis: a short ``code`` (``"sign"``, ``"batch-mean"``, ...) and a sentence."""

    code: str
    text: str


@cache
def _activation(name: str) -> tuple[Callable[..., Any], Callable[..., Any]]:
    z = sp.Symbol("z", real=True)
    expr = activation_expr(name, z)
    return sp.lambdify(z, expr, "numpy"), sp.lambdify(z, sp.diff(expr, z), "numpy")


@cache
def _loss_slope(name: str) -> Callable[..., Any]:
    a, y = sp.symbols("a y", real=True)
    return sp.lambdify((a, y), sp.diff(loss_expr(name, [a], [y]), a), "numpy")


def split(spec: NetworkSpec, flat: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Split a flat vector in parameter order into per-layer weight matrices and biases."""
    weights: list[np.ndarray] = []
    biases: list[np.ndarray] = []
    at = 0
    for n_in, n_out in zip(spec.widths[:-1], spec.widths[1:]):
        weights.append(np.asarray(flat[at:at + n_in * n_out]).reshape(n_out, n_in))
        at += n_in * n_out
    for n_out in spec.widths[1:] if spec.bias else ():
        biases.append(np.asarray(flat[at:at + n_out]))
        at += n_out
    return weights, biases


def variant_gradient(spec: NetworkSpec, params: np.ndarray, X: np.ndarray, Y: np.ndarray, *,
                     unit_slope: Layers | None = None, slope_of_a: Layers | None = None,
                     loss: str | None = None) -> np.ndarray:
    """dC/dparams with one deliberate change (none by default).

    ``unit_slope=l`` replaces layer l's activation derivative by 1;
    ``slope_of_a=l`` evaluates it at the activation instead of the pre-activation
    (each also takes a set of layers); ``loss`` differentiates another loss at the
    output.
    """
    unit, at_a = _layer_set(unit_slope), _layer_set(slope_of_a)
    weights, biases = split(spec, params)
    zs: list[np.ndarray | None] = [None]        # zs[l] is layer l's z; the inputs have none
    acts = [X]
    with np.errstate(all="ignore"):
        for l, W in enumerate(weights, 1):
            z = acts[-1] @ W.T + (biases[l - 1] if spec.bias else 0.0)
            zs.append(z)
            if spec.activations[l - 1] == "softmax":
                e = np.exp(z - z.max(axis=1, keepdims=True))
                acts.append(e / e.sum(axis=1, keepdims=True))
                continue
            acts.append(np.broadcast_to(_activation(spec.activations[l - 1])[0](z), z.shape))
        m = X.shape[0]
        upstream = _loss_slope(loss or spec.loss)(acts[-1], Y)   # dL/da at the output
        gw: list[np.ndarray] = []                                # from the top layer down,
        gb: list[np.ndarray] = []                                # each before the one above
        for l in range(len(weights), 0, -1):
            a = acts[l]
            if spec.activations[l - 1] == "softmax":             # the Jacobian, or 1
                delta = upstream if l in unit else a * (
                    upstream - (upstream * a).sum(axis=1, keepdims=True))
            else:
                slope = _activation(spec.activations[l - 1])[1]
                here = 1.0 if l in unit else slope(a if l in at_a else zs[l])
                delta = upstream * here                          # dL/dz = dL/da * f'(z)
            gw.insert(0, delta.T @ acts[l - 1] / m)              # dC/dW = mean of delta a^T
            gb.insert(0, delta.sum(axis=0) / m)
            upstream = delta @ weights[l - 1]                    # dL/da below = W^T delta
    grad = np.concatenate([g.ravel() for g in gw] + (gb if spec.bias else []))
    penalised = list(spec.penalised)                             # L2: + lambda p
    grad[penalised] += spec.l2 * params[penalised]
    return grad


def _layer_set(layers: Layers | None) -> frozenset[int]:
    if layers is None:
        return frozenset()
    return frozenset([layers]) if isinstance(layers, int) else frozenset(layers)


def fit_factor(u: np.ndarray, t: np.ndarray) -> float | None:
    """Least-squares ``c`` with ``u ~ c * t`` (None when ``t`` is zero)."""
    tt = float(np.dot(t, t))
    return float(np.dot(u, t)) / tt if tt > 0 else None


def _same(values: Sequence[float], target: Sequence[float]) -> bool:
    return all(abs(v - x) <= FACTOR_RTOL * max(abs(x), 1e-300) for v, x in zip(values, target))


def describe_factor(cs: Sequence[float], ms: Sequence[int],
                    loss: str) -> tuple[str, str] | tuple[None, None]:
    """Name a per-batch factor list: ``(code, text)``; ``(None, None)`` for 1."""
    if _same(cs, [1.0] * len(cs)):
        return None, None
    if _same(cs, [-1.0] * len(cs)):
        return "sign", ("wrong sign: yours = -1 x true; you may return the descent step "
                        "(-gradient) or compute y - yhat where the loss needs yhat - y")
    if all(abs(c) < 1e-12 for c in cs):
        return "zero", ("yours are all 0: the gradient is never filled in, or was "
                        "written into an integer array")
    shows_m = any(m > 1 for m in ms)
    if shows_m and _same(cs, [float(m) for m in ms]):
        return "batch-mean", ("yours = m x true, where m is the batch size: the 1/m of the "
                              "cost C = (1/m) sum L is missing (you summed over the batch "
                              "instead of averaging)")
    if shows_m and _same(cs, [-float(m) for m in ms]):
        return "batch-mean", ("yours = -m x true (m = batch size): wrong sign, and the 1/m "
                              "of the cost C = (1/m) sum L is missing")
    if shows_m and _same(cs, [1.0 / m for m in ms]):
        return "double-mean", ("yours = true / m (m = batch size): you divide by the batch "
                               "size twice")
    for c, why in _constant_reasons(loss):
        if _same(cs, [c] * len(cs)):
            return "loss-factor", why
    if _same(cs, [cs[0]] * len(cs)):
        return "factor", f"yours = {cs[0]:.6g} x true on every batch (a constant factor)"
    return None, None


def _constant_reasons(loss: str) -> list[tuple[float, str]]:
    if loss == "half-squared":
        return [(2.0, "yours = 2 x true: the loss is (y - yhat)**2/2, so dL/dyhat = yhat - y; "
                      "your code differentiates (y - yhat)**2 (the 1/2 of the loss is missing)"),
                (0.5, "yours = true / 2: an extra 1/2; dL/dyhat of (y - yhat)**2/2 is yhat - y")]
    if loss == "squared":
        return [(0.5, "yours = true / 2: the loss is (y - yhat)**2, so dL/dyhat = 2*(yhat - y); "
                      "your code uses yhat - y (the derivative of (y - yhat)**2/2)"),
                (2.0, "yours = 2 x true: an extra factor 2 on dL/dyhat = 2*(yhat - y)")]
    return [(2.0, "yours = 2 x true (a constant factor 2)"),
            (0.5, "yours = true / 2 (a constant factor 1/2)")]


def _variants(net: Network, trials: Sequence[Trial]) -> list[_Hypothesis]:
    """``[(code, text, [gradient per trial])]`` for the bug hypotheses that apply."""
    spec = net.spec
    out: list[tuple[str, str, _Change]] = []
    smooth = [l for l, a in enumerate(spec.activations, 1) if a not in ("linear",)]
    for l in smooth:
        act = spec.activations[l - 1]
        where = "the output layer" if l == spec.depth else f"layer {l}"
        hint = (" (for a sigmoid output this is the cross-entropy shortcut delta = "
                "yhat - y used with a squared loss)"
                if l == spec.depth and act == "sigmoid" and spec.loss != "bce" else "")
        out.append(("activation-derivative",
                    f"missing activation derivative in {where}: yours matches the gradient "
                    f"with {act}'(z{l}) replaced by 1 in delta{l} = dC/dz{l}{hint}",
                    {"unit_slope": l}))
        if act not in KINKED_ACTIVATIONS:
            out.append(("derivative-at-a",
                        f"{act}' evaluated at the activation a{l} instead of at z{l} in "
                        f"{where} (e.g. {act}_prime(a) where a = {act}(z) already)",
                        {"slope_of_a": l}))
    hidden = [l for l in smooth if l < spec.depth]
    for layers in ([hidden] if len(hidden) > 1 else []) + ([smooth] if len(smooth) > 1 and
                                                            smooth != hidden else []):
        names = ", ".join(map(str, layers))
        out.append(("activation-derivative",
                    f"missing activation derivative in layers {names}: yours matches the "
                    "gradient with every f'(z) of those layers replaced by 1 (the backward "
                    "step delta = f'(z) * (delta_above @ W_above) lost its f'(z))",
                    {"unit_slope": layers}))
        smooth_only = [l for l in layers if spec.activations[l - 1] not in KINKED_ACTIVATIONS]
        if len(smooth_only) > 1:
            out.append(("derivative-at-a",
                        f"f' evaluated at the activation a instead of at z in layers "
                        f"{', '.join(map(str, smooth_only))} (e.g. sigmoid_prime(a) where "
                        "a = sigmoid(z) already)", {"slope_of_a": smooth_only}))
    if spec.loss == "bce":
        out.append(("loss-delta", "the squared-error output delta (yhat - y) * f'(z) is used for "
                    "the cross-entropy loss, whose output delta is yhat - y",
                    {"loss": "half-squared"}))
    result: list[_Hypothesis] = []
    for code, text, change in out:
        grads = [variant_gradient(spec, t.params, t.X, t.Y, **change) for t in trials]
        if not all(np.allclose(g, t.true, rtol=1e-9, atol=1e-12) for g, t in zip(grads, trials)):
            result.append((code, text, grads))
    return result


def _match(trials: Sequence[Trial], hypotheses: list[_Hypothesis], close: Close,
           loss: str) -> list[Finding]:
    """Findings for hypotheses that explain the user's whole gradient on every batch."""
    found: list[Finding] = []
    ms = [t.m for t in trials]
    for code, text, grads in hypotheses:
        fitted = [fit_factor(t.yours, g) for t, g in zip(trials, grads)]
        cs = [c for c in fitted if c is not None and np.isfinite(c)]
        if len(cs) < len(fitted):
            continue
        if not all(close(t.yours, c * g) for t, c, g in zip(trials, cs, grads)):
            continue
        fcode, ftext = describe_factor(cs, ms, loss)
        if fcode is None or ftext is None:          # no named factor: the bug alone, if exact
            if code is not None and text is not None and _same(cs, [1.0] * len(cs)):
                found.append(Finding(code, text))
        elif code is None:                          # the truth times a named factor
            found.append(Finding(fcode, ftext))
        elif fcode != "zero":                       # the bug and a factor on top
            found.append(Finding(code, f"{text}; and {ftext}"))
            found.append(Finding(fcode, ftext))
    return found


def _blocks(spec: NetworkSpec) -> list[tuple[int, str, slice]]:
    """``[(layer, "weights"|"biases", slice)]`` in parameter order."""
    blocks: list[tuple[int, str, slice]] = []
    at = 0
    for l, (n_in, n_out) in enumerate(zip(spec.widths[:-1], spec.widths[1:]), 1):
        blocks.append((l, "weights", slice(at, at + n_in * n_out)))
        at += n_in * n_out
    for l, n_out in enumerate(spec.widths[1:] if spec.bias else (), 1):
        blocks.append((l, "biases", slice(at, at + n_out)))
        at += n_out
    return blocks


def _block_findings(net: Network, trials: Sequence[Trial], close: Close) -> list[Finding]:
    """Per block (one layer's weights or biases): right or wrong, transposed, factor."""
    spec = net.spec
    found: list[Finding] = []
    factors: dict[str, list[tuple[int, str]]] = {}      # factor text -> blocks with it
    wrong: set[tuple[int, str]] = set()
    for l, kind, sl in _blocks(spec):
        if all(close(t.yours[sl], t.true[sl]) for t in trials):
            continue
        wrong.add((l, kind))
        n_in, n_out = spec.widths[l - 1], spec.widths[l]
        if kind == "weights" and all(
                close(t.yours[sl], t.true[sl].reshape(n_out, n_in).T.ravel()) for t in trials):
            how = (f"is the transpose of the true one: entry [j, k] holds dC/dw{l}kj"
                   if n_in == n_out else
                   f"holds the right numbers in the wrong places: the ({n_in}, {n_out}) "
                   "gradient was reshaped, not transposed, to the weight shape")
            found.append(Finding("transposed", f"layer {l}: your weight gradient {how} "
                                 "(compute dC/dW as delta.T @ a_prev, not a_prev.T @ delta)"))
            continue
        fitted = [fit_factor(t.yours[sl], t.true[sl]) for t in trials]
        cs = [c for c in fitted if c is not None]
        if len(cs) == len(fitted) and all(
                close(t.yours[sl], c * t.true[sl]) for t, c in zip(trials, cs)):
            code, text = describe_factor(cs, [t.m for t in trials], spec.loss)
            if code is not None and text is not None:
                factors.setdefault(text, []).append((l, kind))
    for text, where in factors.items():
        parts = [f"the {kind} of {_layers([l for l, k in where if k == kind])}"
                 for kind in ("weights", "biases") if any(k == kind for _, k in where)]
        found.append(Finding("layer-factor", f"{' and '.join(parts)} only: {text}"))
    if wrong and len(wrong) < len(_blocks(spec)):
        found.append(Finding("layer", _layer_text(spec, wrong)))
    return found


def _layers(ls: Sequence[int]) -> str:
    return ("layer " if len(ls) == 1 else "layers ") + ", ".join(map(str, ls))


def _layer_text(spec: NetworkSpec, wrong: set[tuple[int, str]]) -> str:
    layers_wrong = sorted({l for l, _ in wrong})
    layers_right = [l for l in range(1, spec.depth + 1) if l not in layers_wrong]
    text = f"{_layers(layers_wrong)} wrong"
    if layers_right:
        text += f", {_layers(layers_right)} right"
    if spec.bias and all(k == "biases" for _, k in wrong):
        return text + (": only bias gradients are wrong and every weight gradient is right, "
                       "so the deltas are right; the mistake is in dC/db = "
                       "delta.sum(axis=0) / m")
    weights_only = [l for l in layers_wrong if spec.bias and (l, "biases") not in wrong]
    if weights_only:
        text += (f"; in {_layers(weights_only)} the bias gradients are right, so delta is "
                 f"right there and the mistake is in dC/dW = delta.T @ a_prev / m")
    top = max(layers_wrong)
    if layers_wrong == list(range(1, top + 1)) and top < spec.depth:
        step = f"delta{top} = f'(z{top}) * (delta{top + 1} @ W{top + 1})"
        if top > 1:
            text += (f"; the layers above {top} are right and every layer below is wrong, so "
                     f"the error enters when the delta is passed down: {step}")
        elif not weights_only:
            text += f"; check {step} and dC/dW1 = delta1.T @ X / m"
    elif len(layers_wrong) == 1 and top > 1 and not weights_only:
        text += (f"; the layers below {top} are right, so delta{top} is right and the mistake "
                 f"is in layer {top}'s own formula dC/dW{top} = delta{top}.T @ a{top - 1} / m")
    return text


def diagnose(net: Network, trials: Sequence[Trial], close: Close) -> list[Finding]:
    """Return the :class:`Finding` list for failing ``trials`` (objects with
    ``params, X, Y, m, yours, true``); ``close(a, b)`` is the test's tolerance."""
    truth = (None, None, [t.true for t in trials])
    spec_names = net.spec.parameter_names()
    bad = [n for i, n in enumerate(spec_names) if any(not np.isfinite(t.yours[i]) for t in trials)]
    if bad:
        names = ", ".join(bad[:6]) + (", ..." if len(bad) > 6 else "")
        return [Finding("not-finite", f"your gradient has NaN or inf entries ({names}): "
                        "overflow in exp, 0/0, or an uninitialised array")]
    found = _match(trials, [truth] + _variants(net, trials), close, net.spec.loss)
    blocks = _block_findings(net, trials, close)
    # A whole-gradient explanation makes per-block factors redundant.
    found += [f for f in blocks if not (found and f.code == "layer-factor")]
    unique = []
    for f in found:
        if f not in unique:
            unique.append(f)
    return unique
