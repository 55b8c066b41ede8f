"""Names: every name a user sees is made here.

``w111``, ``w_1_10_2``, ``w_{111}``, ``w_{1,10,2}``: plain names come from
:func:`symbol_name`, LaTeX ones from :func:`latex_name`, weights under a
user's template (``w{l}{k}{j}``) from :func:`weight_label`; nothing else in the
project formats names.  :mod:`symgrad.spec` re-exports all of them.

This module imports nothing from symgrad but the errors.
"""

from __future__ import annotations

import difflib
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


#: Kinds of names the network gives to things other than weights: inputs, targets,
#: pre-activations, activations, biases and adjoints.  A weight-name template must
#: not start like one of them, or ``x{l}{j}{k}`` would name w111 like input x111.
RESERVED_STEMS = ("x", "y", "z", "a", "b", "delta")


def check_weight_template(template: str) -> str:
    """Validate a weight-name template such as ``"w{l}{j}{k}"`` or ``"w{l}{k}{j}"``.

    It is a name (a letter, then letters, digits or underscores) followed by the
    three placeholders ``{l}``, ``{j}`` and ``{k}`` in any order, each once.  The
    name must not be one the network uses for something else (:data:`RESERVED_STEMS`,
    alone or followed by digits and underscores): ``a{l}{j}{k}`` would make weight
    names such as ``a_1_10_2`` that read like activations, ``x{l}{j}{k}`` names
    that read like inputs.

    >>> check_weight_template("v{l}{k}{j}")
    'v{l}{k}{j}'
    """
    import re

    if not isinstance(template, str):
        raise SpecTypeError(f"weight-name template must be a string, got {template!r}")
    ok = re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*(?:\{[ljk]\}){3}", template)
    if not ok or any(template.count("{" + c + "}") != 1 for c in "ljk"):
        raise SpecError(
            f"bad weight-name template {template!r}: it needs a letter first and each of "
            "{l} (layer), {j} (to-neuron) and {k} (from-input) once, e.g. w{l}{j}{k} or w{l}{k}{j}"
        )
    stem = template.split("{", 1)[0]
    clash = re.fullmatch(r"(" + "|".join(RESERVED_STEMS) + r")[0-9_]*", stem)
    if clash:
        kind = clash.group(1)
        raise SpecError(
            f"bad weight-name template {template!r}: weight names such as "
            f"{weight_label(1, 1, 1, template)} could be mistaken for the network's "
            f"{_KIND_WORDS[kind]} ({kind}...); start the name differently, e.g. "
            "w{l}{j}{k} or v{l}{j}{k}"
        )
    return template


_KIND_WORDS = {"x": "inputs", "y": "targets", "z": "pre-activations", "a": "activations",
               "b": "biases", "delta": "adjoints"}


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
    import re

    values = {"l": l, "j": j, "k": k}
    order = [values[c] for c in re.findall(r"\{([ljk])\}", template)]
    stem = template.split("{", 1)[0]
    return latex_name(stem, *order) if latex else symbol_name(stem, *order)
