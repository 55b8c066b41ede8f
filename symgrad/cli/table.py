"""``symgrad table ARCH``: the derivative of the output, loss or cost by every parameter."""

from __future__ import annotations

from symgrad.cli.options import EXIT_OK, UsageError, add_network_options, network_from_args


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


def render(obj, args) -> str:
    """``obj`` (a table or derivation) in the format the arguments ask for."""
    from symgrad.render.printing import FORMATS
    from symgrad.render.tables import check_choice

    check_choice("format", args.format, FORMATS)
    if args.standalone and args.format != "latex":
        raise UsageError(f"--standalone needs --format latex (got --format {args.format})")
    if args.format == "latex":
        return obj.to_latex(standalone=args.standalone)
    return obj.to_markdown() if args.format == "markdown" else obj.to_text()


def add_parser(sub):
    p = sub.add_parser(
        "table", help="table of the exact derivative by every parameter",
        description="Print d(output), dL or dC by every parameter of the network, one row "
                    "per parameter, as aligned text, a Markdown table or a LaTeX (booktabs) "
                    "table.  Exit 0 on success, 2 on bad input.")
    add_network_options(p)
    add_output_options(p)
    p.add_argument("--form", default="compact", metavar="FORM",
                   help="compact (default; intermediate names z, a), expanded (inputs and "
                        "parameters only) or delta (backprop's deltas, defined below)")
    p.set_defaults(func=run_table)
    return p


def run_table(args) -> int:
    from symgrad.render.tables import gradient_table

    net = network_from_args(args)
    table = gradient_table(net, of=args.of, form=args.form, weight_template=args.weight_name)
    text = render(table, args)
    print(text, end="" if text.endswith("\n") else "\n")
    return EXIT_OK
