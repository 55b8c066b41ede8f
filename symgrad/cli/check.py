"""``symgrad check ARCH``: three-way gradient check at a random point."""

from __future__ import annotations

from symgrad.cli.options import (
    EXIT_FAIL,
    EXIT_OK,
    UsageError,
    add_network_options,
    network_from_args,
)


def add_parser(sub):
    p = sub.add_parser(
        "check", help="compare symbolic, backprop and finite-difference gradients",
        description="Compare the symbolic gradient of the cost with a hand-written numpy "
                    "backprop and finite differences (central; complex step when every "
                    "activation is analytic) at random parameters and data from --seed. "
                    "Exit 0 when all agree, 1 when any disagree, 2 on bad input.")
    add_network_options(p)
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--batch", type=int, default=8, metavar="M",
                   help="number of random samples (default 8)")
    p.add_argument("--backend", choices=("numpy", "numba", "auto"), default="numpy",
                   help="backend of the compiled symbolic gradient (default numpy: for a "
                        "small batch it beats numba's one-off JIT compile; auto = fastest "
                        "installed)")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--plot", metavar="FILE.png",
                   help="draw finite-difference error against step size h (log-log) for a "
                        "few parameters at the same point (needs matplotlib)")
    p.set_defaults(func=run_check)
    return p


def run_check(args) -> int:
    from symgrad.references.check import check

    if args.batch < 1:
        raise UsageError(f"--batch must be at least 1, got {args.batch}")
    if args.plot:
        from symgrad.cli.train import check_plot_option

        check_plot_option(args.plot)
    net = network_from_args(args)
    report = check(net, seed=args.seed, batch=args.batch, backend=args.backend)
    if args.plot:
        _plot_steps(net, args)
    if args.json and args.plot:
        import json

        print(json.dumps({**report.to_dict(), "plot": args.plot}, indent=2))
    else:
        print(report.to_json() if args.json else report.to_text())
        if args.plot:
            print(f"plot: {args.plot}")
    return EXIT_OK if report.ok else EXIT_FAIL


def _plot_steps(net, args):
    """Draw error vs step h at the same random point :func:`check` used."""
    from symgrad.references.check import random_problem
    from symgrad.training.plots import plot_steps

    params, X, y = random_problem(net, args.seed, args.batch)
    plot_steps(net, params, X, y, args.plot)
