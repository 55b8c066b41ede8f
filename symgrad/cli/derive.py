"""``symgrad derive ARCH PARAM``: the chain rule for one parameter, step by step."""

from __future__ import annotations

from symgrad.cli.options import EXIT_OK, add_network_options, network_from_args
from symgrad.cli.table import add_output_options, render


def add_parser(sub):
    p = sub.add_parser(
        "derive", help="the chain rule for one parameter, step by step",
        description="Write the forward equations PARAM enters, the chain rule for the "
                    "derivative of the output (or loss, or cost) by PARAM with every factor "
                    "named and evaluated, and the result (the row of 'symgrad table').  "
                    "Exit 0 on success, 2 on bad input (e.g. an unknown parameter).")
    add_network_options(p)
    p.add_argument("param", metavar="PARAM",
                   help="a parameter name such as w111 or b21 (weights per --weight-name)")
    add_output_options(p)
    p.set_defaults(func=run_derive)
    return p


def run_derive(args) -> int:
    from symgrad.render.derivation import derivation

    net = network_from_args(args)
    d = derivation(net, args.param, of=args.of, weight_template=args.weight_name)
    text = render(d, args)
    print(text, end="" if text.endswith("\n") else "\n")
    return EXIT_OK
