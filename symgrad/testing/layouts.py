"""Calling a user's backprop function in one of three layouts.

Used by :mod:`symgrad.testing.assertions`.

Each layout turns ``(params, X, Y)`` in symgrad's order into the arguments the
user's function takes, and turns what it returns back into one flat float64
vector in ``net.parameters`` order.  Anything returned in the wrong type, shape
or with the wrong keys raises :class:`GradientFormatError` (an ``AssertionError``)
with the expected and the actual form; exceptions raised *by* the user's function
propagate unchanged, with a note saying which call raised them.

:func:`call` runs the user's function with a time limit.  Python cannot stop a
thread, so the function runs in a daemon thread (with a copy of the caller's
:mod:`contextvars` context, so ``np.errstate`` and the like still apply) and the
caller waits for it at most ``timeout`` seconds; a call that has not returned by
then raises :class:`BackpropTimeout` at once, and the thread is abandoned: it
keeps running (and holding whatever it holds) until it returns or the process
exits, which it does not delay.  A function that holds the GIL in C code without
releasing it blocks the waiting thread too, so no time limit can help there.
"""

from __future__ import annotations

import contextvars
import difflib
import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, NoReturn

import numpy as np

from symgrad.testing.diagnosis import split

if TYPE_CHECKING:
    from symgrad.spec import NetworkSpec

LAYOUTS = ("matrices", "vector", "dict")


class GradientFormatError(AssertionError):
    """Your backprop function returned a value of the wrong type, shape or keys."""


class BackpropTimeout(AssertionError):
    """Your backprop function did not return within the time limit (``timeout=``)."""


def call(fn: Callable[..., Any], args: tuple[Any, ...], timeout: float | None,
         where: str) -> Any:
    """``fn(*args)``, or :class:`BackpropTimeout` after ``timeout`` seconds.

    ``timeout=None`` calls ``fn`` in this thread with no limit.  Otherwise ``fn``
    runs in a daemon thread (see the module's docstring for what that cannot
    do); what it returns is returned and what it raises is raised here.
    ``where`` names the call in the message ("batch 2 of 4 (m=3, ...)").
    """
    if timeout is None:
        return fn(*args)
    outcome: list[tuple[bool, Any]] = []
    context = contextvars.copy_context()

    def target() -> None:
        try:
            outcome.append((True, context.run(fn, *args)))
        except BaseException as exc:  # handed to the caller, like a direct call
            outcome.append((False, exc))

    worker = threading.Thread(target=target, name="symgrad-backprop-call", daemon=True)
    worker.start()
    worker.join(timeout)
    if not outcome:
        raise BackpropTimeout(
            f"your function did not return within {timeout:g} s on {where}; it may loop "
            "forever or wait for something that never comes. It is left running in a "
            "background thread (Python cannot stop one) until it returns or the process "
            "exits. Pass a larger timeout= if it is only slow, or timeout=None for no limit")
    done, value = outcome[0]
    if done:
        return value
    raise value


class _Checker:
    """Reads the user's return value; remembers whether it was low-precision float."""

    def __init__(self, layout: str):
        self.layout = layout
        self.low_precision = False

    def array(self, value: object, what: str) -> np.ndarray:
        try:
            arr = np.asarray(value)
        except Exception as exc:  # ragged lists and the like
            raise GradientFormatError(f"{self._where()}: {what} is not an array: {exc}") from None
        if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
            raise GradientFormatError(
                f"{self._where()}: {what} must hold numbers, got {type(value).__name__} "
                f"with dtype {arr.dtype}")
        if np.iscomplexobj(arr):
            raise GradientFormatError(f"{self._where()}: {what} is complex ({arr.dtype}); "
                                      "return real gradients")
        if arr.dtype in (np.float16, np.float32):
            self.low_precision = True
        return arr.astype(np.float64)

    def fail(self, text: str) -> NoReturn:
        raise GradientFormatError(f"{self._where()}: {text}")

    def _where(self) -> str:
        return f"layout {self.layout!r}"


def arguments(layout: str, spec: NetworkSpec, params: np.ndarray, X: np.ndarray, Y: np.ndarray,
              *, transpose: bool = False, flat_y: bool = False) -> tuple[Any, ...]:
    """The positional arguments for the user's function (fresh copies)."""
    y = Y[:, 0].copy() if flat_y else Y.copy()
    if layout == "vector":
        return (params.copy(), X.copy(), y)
    if layout == "dict":
        return ({n: float(v) for n, v in zip(spec.parameter_names(), params)}, X.copy(), y)
    weights, biases = split(spec, params)
    weights = [(W.T if transpose else W).copy() for W in weights]
    return (weights, [b.copy() for b in biases], X.copy(), y)


def flatten(layout: str, spec: NetworkSpec, result: object, checker: _Checker, *,
            transpose: bool = False) -> np.ndarray:
    """The user's result as a float64 vector in parameter order (or GradientFormatError)."""
    if layout == "vector":
        return _from_vector(spec, result, checker)
    if layout == "dict":
        return _from_dict(spec, result, checker)
    return _from_matrices(spec, result, checker, transpose)


def _from_vector(spec: NetworkSpec, result: object, checker: _Checker) -> np.ndarray:
    P = spec.n_parameters
    if isinstance(result, tuple) and len(result) == 2 and np.ndim(result[0]) == 0 \
            and np.shape(result[1]) == (P,):
        result = result[1]          # (cost, grad), like symgrad's own functions
    grad = checker.array(result, "the returned gradient")
    if grad.shape != (P,):
        checker.fail(f"the returned gradient has shape {grad.shape}; the {spec.arch} network "
                     f"needs a 1-D array of its {P} parameters in net.parameters order "
                     f"({', '.join(spec.parameter_names()[:4])}{', ...' if P > 4 else ''})")
    return grad


def _from_dict(spec: NetworkSpec, result: object, checker: _Checker) -> np.ndarray:
    if not isinstance(result, Mapping):
        checker.fail(f"your function must return a dict {{name: gradient}}, "
                     f"got {type(result).__name__}")
    names = spec.parameter_names()
    got = {str(k): v for k, v in result.items()}
    missing = [n for n in names if n not in got]
    extra = [k for k in got if k not in names]
    if missing or extra:
        parts: list[str] = []
        if missing:
            parts.append(f"missing {len(missing)} key(s): {', '.join(missing[:8])}"
                         + (" ..." if len(missing) > 8 else ""))
        for k in extra[:5]:
            close = difflib.get_close_matches(k, names, n=1)
            parts.append(f"unknown key {k!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
        checker.fail("; ".join(parts) + f"; the keys are the parameter names {names[0]}, ...")
    values = []
    for n in names:
        v = checker.array(got[n], f"the value for {n!r}")
        if v.size != 1:
            checker.fail(f"the value for {n!r} has shape {v.shape}; give one number per "
                         "parameter (the gradient of the batch-mean cost)")
        values.append(v.reshape(()))
    return np.array(values, dtype=float)


def _from_matrices(spec: NetworkSpec, result: object, checker: _Checker,
                   transpose: bool) -> np.ndarray:
    if not (isinstance(result, (tuple, list)) and len(result) == 2):
        checker.fail("your function must return a pair (weight_grads, bias_grads) of lists, "
                     f"got {_kind(result)}")
    wgrads, bgrads = result
    depth = spec.depth
    if isinstance(wgrads, np.ndarray) and wgrads.ndim == 2 and isinstance(bgrads, np.ndarray) \
            and bgrads.ndim == 2:
        checker.fail("your function returned two matrices; it must return a pair "
                     "(weight_grads, bias_grads) of lists, one entry per layer (did you return "
                     "the weight gradients only? return (weight_grads, []) without biases)")
    wgrads = _sequence(wgrads, "weight_grads", depth, checker)
    flat = []
    for l, g in enumerate(wgrads, 1):
        n_in, n_out = spec.widths[l - 1], spec.widths[l]
        want = (n_in, n_out) if transpose else (n_out, n_in)
        arr = checker.array(g, f"weight_grads[{l - 1}]")
        if arr.shape != want:
            hint = (" (the transpose: return the gradient in the same shape as weights"
                    f"[{l - 1}], or use transpose={not transpose} if your convention is "
                    f"{'(n_in, n_out)' if not transpose else '(n_out, n_in)'})"
                    if arr.shape == want[::-1] else "")
            checker.fail(f"weight_grads[{l - 1}] (layer {l}) has shape {arr.shape}; it needs "
                         f"{want}, the shape of weights[{l - 1}]{hint}")
        flat.append((arr.T if transpose else arr).ravel())
    if not spec.bias:
        if bgrads is not None and len(_sequence(bgrads, "bias_grads", None, checker)):
            checker.fail("this network has no biases, so bias_grads must be empty "
                         f"(an empty list or None), got {len(bgrads)} entries")
        return np.concatenate(flat)
    bgrads = _sequence(bgrads, "bias_grads", depth, checker)
    for l, g in enumerate(bgrads, 1):
        n_out = spec.widths[l]
        arr = checker.array(g, f"bias_grads[{l - 1}]")
        if arr.shape not in ((n_out,), (n_out, 1), (1, n_out)):
            checker.fail(f"bias_grads[{l - 1}] (layer {l}) has shape {arr.shape}; it needs "
                         f"({n_out},), one number per neuron"
                         + (" (did you forget to sum over the batch?)"
                            if arr.ndim == 2 and n_out in arr.shape else ""))
        flat.append(arr.ravel())
    return np.concatenate(flat)


def _sequence(value: object, what: str, length: int | None, checker: _Checker) -> list[Any]:
    if isinstance(value, np.ndarray) and value.dtype != object:
        checker.fail(f"{what} must be a list with one array per layer, got one array of "
                     f"shape {value.shape}")
    if not isinstance(value, (list, tuple, np.ndarray)):
        checker.fail(f"{what} must be a list with one array per layer, got {_kind(value)}")
    if length is not None and len(value) != length:
        checker.fail(f"{what} has {len(value)} entries; the network has {length} layer(s) "
                     "of weights, one entry each")
    return list(value)


def _kind(value: object) -> str:
    if isinstance(value, (tuple, list)):
        return f"a {type(value).__name__} of length {len(value)}"
    return type(value).__name__
