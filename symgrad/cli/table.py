"""``symgrad table ARCH``: the derivative of the output, loss or cost by every parameter.

The symbolic work (and the rendering) runs in a worker process under
``--timeout``/``--memory`` (:mod:`symgrad.budget`); when it runs out, one line on
stderr says which limit and how to raise it, and the exit code is 5.
"""

from __future__ import annotations

import argparse

from symgrad.cli.glossary import add_explain_option, explain_after
from symgrad.cli.options import EXIT_OK, UsageError, add_network_options, network_from_args
from symgrad.cli.verify import add_budget_options, budget_from_args, out_of_budget
from symgrad.errors import BudgetExceeded


def add_output_options(p):
    """Options shared by ``table`` and ``derive``: --of, --format, --standalone, --weight-name."""
    p.add_argument("--of", default="output", metavar="WHAT",
                   help="what to differentiate: output (the single output), loss (per-sample "
                        "L) or cost (C, the batch mean of L); default output")
    p.add_argument("--format", default="text", metavar="FORMAT",
                   help="text (default), markdown (GitHub math) or latex")
    p.add_argument("--standalone", action="store_true",
                   help="with --format latex: a complete document for pdflatex")
    p.add_argument("--weight-name", default="w{l}{j}{k}", metavar="TEMPLATE",
                   help="how weights are written, with {l} layer, {j} to-neuron, {k} "
                        "from-input (default w{l}{j}{k}; e.g. w{l}{k}{j})")
    add_budget_options(p)


def run_budgeted(command: str, task, args, *task_args) -> int:
    """Print ``task(spec, *task_args)`` (text) run under the budget of ``args``.

    Exit 0, or 5 with one line on stderr when the budget runs out; bad input
    raised by the task comes back as its error (exit 2).
    """
    from symgrad import budget

    net = network_from_args(args)
    budget.remember(net)
    try:
        text = budget.run(task, net.spec, *task_args, budget=budget_from_args(args))
    except BudgetExceeded as exc:
        return out_of_budget(command, exc)
    print(text, end="" if text.endswith("\n") else "\n")
    explain_after(args, text)
    return EXIT_OK


def output_options(args) -> argparse.Namespace:
    """The options :func:`render` reads, alone (they travel to the worker)."""
    return argparse.Namespace(format=args.format, standalone=args.standalone,
                              label=getattr(args, "label", None),
                              no_float=getattr(args, "no_float", False))


def render(obj, args) -> str:
    """``obj`` (a table or derivation) in the format the arguments ask for."""
    from symgrad.render.printing import FORMATS
    from symgrad.render.tables import check_choice

    check_choice("format", args.format, FORMATS)
    if args.standalone and args.format != "latex":
        raise UsageError(f"--standalone needs --format latex (got --format {args.format})")
    for flag, given in (("--label", args.label is not None), ("--no-float", args.no_float)):
        if given and args.format != "latex":
            raise UsageError(f"{flag} needs --format latex (got --format {args.format})")
    if args.label is not None and args.no_float:
        raise UsageError("--label needs the float it labels; drop --label or --no-float")
    if args.label is not None or args.no_float:
        return obj.to_latex(standalone=args.standalone, label=args.label,
                            float=not args.no_float)
    if args.format == "latex":
        return obj.to_latex(standalone=args.standalone)
    return obj.to_markdown() if args.format == "markdown" else obj.to_text()


def add_parser(sub):
    p = sub.add_parser(
        "table", help="table of the exact derivative by every parameter",
        description="Print d(output), dL or dC by every parameter of the network, one row "
                    "per parameter, as aligned text, a Markdown table or a LaTeX (booktabs) "
                    "table.  Exit 0 on success, 2 on bad input, 5 when the work runs out of "
                    "time or memory.")
    add_network_options(p)
    add_explain_option(p)
    add_output_options(p)
    p.add_argument("--form", default="compact", metavar="FORM",
                   help="compact (default; intermediate names z, a), expanded (inputs and "
                        "parameters only), delta (backprop's deltas, defined below) or matrix "
                        "(the four backprop equations per layer, with shapes)")
    p.add_argument("--label", metavar="KEY",
                   help="with --format latex: \\label{KEY} after the caption, for \\ref{KEY}")
    p.add_argument("--no-float", action="store_true",
                   help="with --format latex: a bare tabular where it is written, no table "
                        "float or caption (the notes go in a paragraph above it)")
    p.set_defaults(func=run_table)
    return p


def run_table(args) -> int:
    return run_budgeted("table", _table_text, args, args.of, args.form, args.weight_name,
                        output_options(args))


def _table_text(spec, of: str, form: str, weight_template: str, options) -> str:
    """The table, rendered (runs in the worker)."""
    from symgrad.budget import network_for
    from symgrad.derive import FORMS
    from symgrad.render.matrix import matrix_equations
    from symgrad.render.tables import check_choice, gradient_table

    check_choice("form", form, (*FORMS, "matrix"))
    if form == "matrix":
        return render(matrix_equations(network_for(spec), of=of,
                                       weight_template=weight_template), options)
    table = gradient_table(network_for(spec), of=of, form=form,
                           weight_template=weight_template)
    return render(table, options)
