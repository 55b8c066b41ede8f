"""Names: how every symbol is spelled, and the "unknown x; did you mean y?" message.

This module imports no SymPy and nothing else of symgrad but the errors.  Every
name a user sees (``w111``, ``w_1_10_2``, ``w_{111}``, ``w_{1,10,2}``) is produced by
:func:`symbol_name` or :func:`latex_name`; nothing else in the project formats
names.  :mod:`symgrad.spec` re-exports all of it (``symgrad.spec.symbol_name``).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection

from symgrad.errors import SpecError, SpecTypeError


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
