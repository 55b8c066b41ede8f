"""``--explain``: one line for each term of the output, linking ``docs/glossary.md``.

Every command that prints tags or columns a student may not know (``[pre-activation]``,
``band``, ``complex``, ``effective linear map``...) takes ``--explain``; after its
output it prints, once per term the output used, ``term: what it means (see:
docs/glossary.md#anchor)``.  The anchors are the headings of ``docs/glossary.md``; a
test checks that each exists.
"""

from __future__ import annotations

import argparse
import re

#: ``anchor: (pattern that finds the term in output, term, one-line meaning)``.
GLOSSARY: dict[str, tuple[str, str, str]] = {
    "pre-activation": (r"\[(?:sign\+)?pre-activation\]|\bpre-activation",
                       "pre-activation z", "a neuron's weighted sum before its activation, "
                       "z = sum_k w*a + b; the activation is a = f(z). The tag means a z "
                       "stands where an a belongs, or the other way round"),
    "delta": (r"\bdelta\d|\bdelta form|\bδ", "delta", "backprop's delta{l}{j} = dL/dz{l}{j}: "
              "how the loss changes with neuron (l, j)'s pre-activation"),
    "delta-form": (r"delta form", "delta form (backprop's adjoints)", "derivatives written "
                   "with the deltas (the adjoints backprop passes backwards) instead of "
                   "multiplied out"),
    "reverse-mode-program": (r"reverse-mode program", "reverse-mode program",
                             "the steps backprop runs, output to inputs, compiled to code; "
                             "the 'symbolic' column is this program"),
    "loss-and-cost": (r"\bd[LC]/d|\bcost C\b", "L and C", "L is the loss of one sample, C the "
                      "cost, the mean of L over a batch of m samples; dC/dw = (1/m) sum_i "
                      "dL_i/dw"),
    "proved-symbolically": (r"proved symbolically", "proved symbolically", "an exact "
                            "algebraic proof that the two sides are equal"),
    "random-points": (r"random points", "equal at N random points", "both sides agree to "
                      "50 digits at N random points: strong evidence, not a proof"),
    "counterexample": (r"counterexample", "counterexample", "values of the symbols where "
                       "the two sides differ, small integers where possible"),
    "undecided": (r"undecided", "undecided", "the work ran out of time or memory before a "
                  "verdict; more --timeout or --memory may decide it"),
    "sign": (r"\[sign(?:\+[a-z-]+)?\]", "[sign]", "the claim is minus the truth (or has a "
             "wrong sign besides another mistake)"),
    "scale": (r"\[(?:sign\+)?scale\]", "[scale]", "the claim is a constant times the truth "
              "(a lost 2 or 1/m, say)"),
    "wrong-parameter": (r"\[(?:sign\+)?wrong-parameter\]", "[wrong-parameter]", "the claim is "
                        "the derivative by another parameter (check the indices)"),
    "transposed-index": (r"\[(?:sign\+)?transposed-index\]", "[transposed-index]", "the "
                         "claim swapped the to-neuron and from-input indices of a weight"),
    "missing-factor": (r"\[(?:sign\+)?(?:missing|extra)-factor\]", "[missing-factor], "
                       "[extra-factor]", "truth = claim times a factor (or the other way "
                       "round): a link of the chain rule is missing or extra"),
    "missing-path": (r"\[(?:sign\+)?missing-path\]", "[missing-path]", "the chain follows one "
                     "path through the network, but the parameter reaches the quantity "
                     "through several; the chain rule sums over all of them"),
    "softmax-mistakes": (r"\[(?:sign\+)?softmax-(?:diagonal|elementwise)\]",
                         "[softmax-diagonal], [softmax-elementwise]", "softmax couples the "
                         "outputs: its derivative is a Jacobian, and with cross-entropy "
                         "dL/dz = a - y; the claim kept only the diagonal term or applied "
                         "a(1 - a) as if softmax were elementwise"),
    "broken-chain": (r"\[(?:sign\+)?broken-chain\]", "[broken-chain]", "the factors of the "
                     "chain do not connect, one to the next"),
    "other": (r"\[(?:sign\+)?other\]", "[other]", "the claim differs from the truth by more "
              "than a sign, a constant or a simple factor"),
    "symmetry": (r"^symmetry:|interchangeable:", "symmetry, interchangeable", "swapping two "
                 "hidden neurons with all their weights leaves the network's output "
                 "unchanged; neurons that start identical therefore stay identical"),
    "band": (r"\bband\b|\bsuspicious\b", "band", "good (relative error <= 1e-7), suspicious "
             "(<= 1e-4) or wrong: how far apart the gradient sources are"),
    "relative-error": (r"rel error|relative error", "rel error", "|a - b| / max(|a|, |b|, "
                       "floor): the largest disagreement between the sources of one entry"),
    "central": (r"\bcentral\b", "central", "central finite difference (C(p+h) - C(p-h)) / 2h, "
                "using no derivative formula"),
    "complex-step": (r"\bcomplex\b", "complex", "complex-step derivative Im C(p + ih) / h: no "
                     "subtraction, so exact to machine precision (analytic activations only)"),
    "disagrees": (r"\bdisagrees\b", "disagrees", "the source that differs from the others "
                  "when one does"),
    "effective-linear-map": (r"effective linear map", "effective linear map", "a linear "
                             "network is one matrix product, W2 @ W1: the map from inputs "
                             "to output that training actually learns"),
    "identifiable": (r"identifiab", "identifiable", "whether the data pin a value down; with "
                     "collinear inputs many weight settings fit equally, so single weights "
                     "are not identifiable"),
    "fixed-point": (r"fixed point in float64", "a fixed point in float64", "every update "
                    "rounds to zero in float64, so the parameters stop changing"),
}

_DOCS = "docs/glossary.md"


def glosses(text: str) -> list[str]:
    """One line per glossary term ``text`` uses, in the glossary's order.

    >>> glosses("    diagnosis:      missing factor w211  [missing-factor]")[0][:30]
    '[missing-factor], [extra-facto'
    """
    return [f"{term}: {meaning} (see: {_DOCS}#{anchor})"
            for anchor, (pattern, term, meaning) in GLOSSARY.items()
            if re.search(pattern, text, re.M)]


def add_explain_option(p: argparse.ArgumentParser) -> None:
    """``--explain``: gloss the output's terms (see :func:`glosses`)."""
    p.add_argument("--explain", action="store_true",
                   help=f"after the output, explain each term it uses in one line, with a "
                        f"link to {_DOCS}")


def explain_after(args: argparse.Namespace, text: str) -> None:
    """Print the glosses of ``text`` when ``--explain`` was given (not with --json)."""
    if getattr(args, "explain", False) and not getattr(args, "json", False):
        lines = glosses(text)
        if lines:
            print("\nterms:\n" + "\n".join(f"  {line}" for line in lines))
