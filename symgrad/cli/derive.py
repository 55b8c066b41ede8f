"""``symgrad derive ARCH PARAM``: the chain rule for one parameter, step by step.

Runs under ``--timeout``/``--memory`` like ``symgrad table`` (exit 5 when they run out).
"""

from __future__ import annotations

from symgrad.cli.glossary import add_explain_option
from symgrad.cli.options import add_network_options
from symgrad.cli.table import add_output_options, output_options, render, run_budgeted


def add_parser(sub):
    p = sub.add_parser(
        "derive", help="the chain rule for one parameter, step by step",
        description="Write the forward equations PARAM enters, the chain rule for the "
                    "derivative of the output (or loss, or cost) by PARAM with every factor "
                    "named and evaluated, and the result (the row of 'symgrad table').  "
                    "Exit 0 on success, 2 on bad input (e.g. an unknown parameter), 5 when the "
                    "work runs out of time or memory.")
    add_network_options(p)
    add_explain_option(p)
    p.add_argument("param", metavar="PARAM",
                   help="a parameter name such as w111 or b21 (weights per --weight-name)")
    add_output_options(p)
    p.add_argument("--form", default="scalar", choices=("scalar", "matrix"),
                   help="scalar (default): the chain rule for one parameter; matrix: the "
                        "backprop equations per layer that PARAM's layer needs (PARAM: W2, "
                        "b1 or one of their entries)")
    p.set_defaults(func=run_derive)
    return p


def run_derive(args) -> int:
    return run_budgeted("derive", _derivation_text, args, args.param, args.of,
                        args.weight_name, output_options(args), args.form)


def _derivation_text(spec, param: str, of: str, weight_template: str, options,
                     form: str = "scalar") -> str:
    """The derivation, rendered (runs in the worker)."""
    from symgrad.budget import network_for
    from symgrad.render.derivation import derivation
    from symgrad.render.matrix import matrix_equations

    if form == "matrix":
        return render(matrix_equations(network_for(spec), of=of, parameter=param,
                                       weight_template=weight_template), options)
    d = derivation(network_for(spec), param, of=of, weight_template=weight_template)
    return render(d, options)
