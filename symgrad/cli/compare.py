"""``symgrad compare ARCH EXPR1 EXPR2``: are two derivatives identically equal?

Exit 0 when they are, 1 when they are not (with a counterexample and the
conditions under which they coincide), 2 when an argument cannot be read, 5 when
the work runs out of time or memory (``--timeout``, ``--memory``) before the
question is decided.
"""

from __future__ import annotations

import json
import sys

from symgrad.cli.glossary import explain_after
from symgrad.cli.options import (
    EXIT_FAIL,
    EXIT_OK,
    EXIT_UNDECIDED,
    add_network_options,
    network_from_args,
)
from symgrad.cli.verify import (
    add_budget_options,
    add_claim_options,
    budget_from_args,
    can_encode,
    emit,
    notation_from_args,
    parse_aliases,
)


def add_parser(sub):
    p = sub.add_parser(
        "compare", help="decide whether two derivatives or expressions are identically equal",
        description="Compare two derivatives (e.g. dL/dw111 dL/dw121) or expressions. When "
                    "they differ, show a counterexample and the conditions under which they "
                    "coincide; for two neurons of one hidden layer, show why identical "
                    "neurons stay identical under gradient descent. Exit 0 when equal, 1 "
                    "when not, 2 on bad input, 5 when undecided (out of time or memory).")
    add_network_options(p)
    p.add_argument("first", metavar="EXPR1", help="a derivative such as dL/dw111, or an expression")
    p.add_argument("second", metavar="EXPR2", help="the other derivative or expression")
    add_claim_options(p)
    add_budget_options(p)
    p.set_defaults(func=run_compare)
    return p


def run_compare(args) -> int:
    from symgrad.budget import Pool
    from symgrad.claims.compare import compare
    from symgrad.spec import check_weight_template

    net = network_from_args(args)
    template = check_weight_template(args.weight_name)
    aliases = parse_aliases(args.alias)
    with Pool(budget_from_args(args)) as pool:
        result = compare(net, args.first, args.second, aliases, weight_template=template,
                         pool=pool, notation=notation_from_args(args))
    if args.json:
        print(json.dumps(result.to_dict(), indent=2))
    else:
        emit(result.to_text(ascii=not can_encode("\u2713", sys.stdout)))
        explain_after(args, result.to_text())
    if result.equal is None:
        emit("symgrad: compare: undecided; more time or memory may decide it "
             "(--timeout SECONDS, --memory MB)", sys.stderr)
        return EXIT_UNDECIDED
    return EXIT_OK if result.equal else EXIT_FAIL
