"""``symgrad check ARCH``: three-way gradient check at a random point."""

from __future__ import annotations

from symgrad.cli.glossary import add_explain_option, explain_after
from symgrad.cli.options import (
    EXIT_FAIL,
    EXIT_OK,
    UsageError,
    add_network_options,
    network_from_args,
    seed_value,
)
from symgrad.cli.terminal import check_plot_option, draw_plot, plot_failed, reserve_plot
from symgrad.limits import MAX_DATA_CELLS

#: --batch limits.  Finite differences take two passes (three with the complex
#: step) over the batch per parameter, so the work grows as batch x parameters**2;
#: CHECK_WORK keeps a check to about a minute; symgrad.limits.MAX_DATA_CELLS bounds
#: batch x neurons (each array of activations under about 80 MB).
MAX_BATCH = 1_000_000
CHECK_WORK = 10**10


def add_parser(sub):
    p = sub.add_parser(
        "check", help="compare symbolic, backprop and finite-difference gradients",
        description="Compare the symbolic gradient of the cost with a hand-written numpy "
                    "backprop and finite differences (central; complex step when every "
                    "activation is analytic) at random parameters and data from --seed. "
                    "Exit 0 when all agree, 1 when any disagree, 2 on bad input.")
    add_network_options(p)
    add_explain_option(p)
    p.add_argument("--seed", type=seed_value, default=0,
                   help="random seed, 0 to 2**64-1 (default 0)")
    p.add_argument("--batch", type=int, default=8, metavar="M",
                   help="number of random samples (default 8)")
    p.add_argument("--backend", choices=("numpy", "numba", "auto"), default="numpy",
                   help="backend of the compiled symbolic gradient (default numpy: for a "
                        "small batch it beats numba's one-off JIT compile; auto = fastest "
                        "installed)")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--plot", metavar="FILE.png",
                   help="draw finite-difference error against step size h (log-log) for a "
                        "few parameters at the same point into a new file (needs matplotlib)")
    p.add_argument("--force", action="store_true", help="let --plot replace an existing file")
    p.set_defaults(func=run_check)
    return p


def batch_limit(spec) -> int:
    """Largest --batch for a network (see :data:`CHECK_WORK` and
    :data:`symgrad.limits.MAX_DATA_CELLS`)."""
    n = spec.n_parameters
    return max(1, min(MAX_BATCH, CHECK_WORK // (n * n), MAX_DATA_CELLS // sum(spec.widths)))


def run_check(args) -> int:
    from symgrad.cli.terminal import NumericNotes, escape_lines
    from symgrad.references.check import check

    if args.batch < 1:
        raise UsageError(f"--batch must be at least 1, got {args.batch}")
    if args.plot:
        check_plot_option(args.plot)
    net = network_from_args(args)
    limit = batch_limit(net.spec)
    if args.batch > limit:
        raise UsageError(f"--batch {args.batch} is too big for the {net.spec.arch} network "
                         f"({net.spec.n_parameters} parameters): at most {limit} (finite "
                         "differences take two passes over the batch per parameter)")
    failure = None
    with reserve_plot(args) as plot, NumericNotes() as notes:
        report = check(net, seed=args.seed, batch=args.batch, backend=args.backend)
        if plot is not None:
            failure = draw_plot(plot, lambda f: _plot_steps(net, args, f))
    plotted = plot is not None and failure is None
    if args.json:
        import json

        extra = {"plot": args.plot if plotted else None} if args.plot else {}
        if notes.lines():
            extra["notes"] = [n.removeprefix("note: ") for n in notes.lines()]
        print(json.dumps({**report.to_dict(), **extra}, indent=2))
    else:
        lines = [report.to_text(), *notes.lines()] + ([f"plot: {args.plot}"] if plotted else [])
        print(escape_lines("\n".join(lines)))
        explain_after(args, "\n".join(lines))
    if failure is not None:
        plot_failed(args.plot, failure)
    return EXIT_OK if report.ok else EXIT_FAIL


def _plot_steps(net, args, target):
    """Draw error vs step h at the same random point :func:`check` used."""
    from symgrad.references.check import random_problem
    from symgrad.training.plots import plot_steps

    params, X, y = random_problem(net, args.seed, args.batch)
    plot_steps(net, params, X, y, target)
