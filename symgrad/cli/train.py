"""``symgrad train ARCH``: fit the network by gradient descent and explain the result.

Ctrl-C
------
An interrupted run still reports the state it reached: :func:`symgrad.train`
puts back the last completed epoch (an epoch cut in the middle is undone) and
raises :class:`~symgrad.training.train.TrainingInterrupted` carrying that
result, which is printed (and plotted) like any other, with exit code 130.

The ``--seed`` type here is ``check``'s too; the ``--plot`` / ``--force`` handling
both share is in :mod:`symgrad.cli.terminal`.
"""

from __future__ import annotations

import json
import math
import sys

from symgrad.cli.glossary import add_explain_option, explain_after
from symgrad.cli.options import (
    EXIT_FAIL,
    EXIT_INTERRUPTED,
    EXIT_OK,
    UsageError,
    add_network_options,
    network_from_args,
    seed_value,
)
from symgrad.cli.terminal import (
    NumericNotes,
    check_plot_option,
    draw_plot,
    escape_lines,
    plot_failed,
    reserve_plot,
)
from symgrad.limits import MAX_DATA_CELLS
from symgrad.training.progress import ProgressBar

#: Most epochs kept in the trajectory, the plot and the JSON history (every epoch's
#: cost is still computed and used for the stopping rules).
MAX_RECORDED = 2000
SYNTHETIC_ONLY = ("slope", "intercept", "noise", "samples")
#: Synthetic data: at most this many samples, and samples x neurons (all widths)
#: at most symgrad.limits.MAX_DATA_CELLS (the rule data files follow too), so each
#: array of activations stays under about 80 MB.  Files are checked by load_csv.
MAX_SAMPLES = 1_000_000


def add_parser(sub):
    p = sub.add_parser(
        "train", help="fit the network to data by gradient descent (linear regression)",
        description="Fit the network by gradient descent with its exact compiled gradients, "
                    "then report the final parameters and cost, for linear networks the "
                    "effective linear map next to the least-squares fit, whether the inputs "
                    "are collinear, and whether the hidden neurons stayed identical. "
                    "Exit 0 when training ran, 1 when it diverged or could not move, 2 on "
                    "bad input, 3 when --plot lacks matplotlib.")
    add_network_options(p)
    add_explain_option(p)
    data = p.add_argument_group("data (one of --data or --synthetic)")
    source = data.add_mutually_exclusive_group(required=True)
    source.add_argument("--data", metavar="FILE.csv",
                        help="CSV with a header; the target is the column named y (or y1..yk, "
                             "else the last column), every other column is an input")
    source.add_argument("--synthetic", action="store_true",
                        help="generate y = slope*x + intercept + noise*N(0,1), x ~ N(0,1)")
    data.add_argument("--target-class", metavar="COLUMN",
                      help="with --data: COLUMN holds each sample's class, 0 to K-1 for K "
                           "outputs (one-hot targets); every other column is an input")
    data.add_argument("--slope", metavar="S[,S...]",
                      help="synthetic slope, one per feature (default 1)")
    data.add_argument("--intercept", type=float, metavar="B",
                      help="synthetic intercept (default 0)")
    data.add_argument("--noise", type=float, metavar="SD",
                      help="standard deviation of the synthetic noise (default 0)")
    data.add_argument("--samples", type=int, metavar="M",
                      help="synthetic sample count (default 100)")
    data.add_argument("--split", type=float, metavar="A",
                      help="turn the one feature x into the seed's inputs x1 = A*x, "
                           "x2 = (1-A)*x; 0 < A < 1")
    run = p.add_argument_group("training")
    run.add_argument("--epochs", type=int, default=1000, help="passes over the data (default 1000)")
    run.add_argument("--lr", type=float, default=0.01, help="learning rate (default 0.01)")
    run.add_argument("--momentum", type=float, default=0.0, help="momentum in [0, 1) (default 0)")
    run.add_argument("--batch-size", type=int, default=None, metavar="B",
                     help="mini-batch size (default: the whole data set)")
    run.add_argument("--init", default="random", metavar="KIND",
                     help="random, symmetric (identical hidden neurons) or zeros (default random)")
    run.add_argument("--seed", type=seed_value, default=0,
                     help="seed for the synthetic data, the initial weights and the shuffling, "
                          "0 to 2**64-1 (default 0)")
    run.add_argument("--tol", type=float, default=0.0,
                     help="stop when the cost changes by at most TOL in an epoch (default 0: off)")
    run.add_argument("--backend", default="auto",
                     help="numpy, numba or auto (default auto: whichever is estimated to "
                          "finish the run first)")
    out = p.add_argument_group("output")
    out.add_argument("--quiet", action="store_true", help="no progress bar")
    out.add_argument("--json", action="store_true", help="print the result as JSON")
    out.add_argument("--plot", metavar="FILE.png",
                     help="draw the cost curve and the parameter trajectories into a new file "
                          "(needs matplotlib)")
    out.add_argument("--force", action="store_true",
                     help="let --plot replace an existing file")
    p.set_defaults(func=run_train)
    return p


def _slopes(text):
    try:
        values = [float(s) for s in text.split(",")]
    except ValueError:
        raise UsageError(f"--slope takes numbers separated by commas, e.g. 3 or 3,-1; "
                         f"got {text!r}") from None
    return values[0] if len(values) == 1 else values


def _check_synthetic(args, spec):
    """Refuse synthetic data too big for memory before any of it is drawn."""
    slopes = 1 if args.slope is None else len(args.slope.split(","))
    if slopes > spec.n_inputs:
        raise UsageError(f"--slope gives {slopes} slopes but the {spec.arch} network has "
                         f"{spec.n_inputs} input{'s' if spec.n_inputs > 1 else ''}; give one "
                         "slope per input")
    limit = max(1, min(MAX_SAMPLES, MAX_DATA_CELLS // sum(spec.widths)))
    if args.samples is not None and args.samples > limit:
        raise UsageError(f"--samples {args.samples} is too many for the {spec.arch} network: "
                         f"at most {limit} (samples x neurons <= 10**7 keeps memory "
                         "in bounds); use --data for bigger data sets")


def _load(args, spec):
    from symgrad.training.data import check_widths, load_csv, split_feature, synthetic

    if args.data is not None:
        given = [f"--{n}" for n in SYNTHETIC_ONLY if getattr(args, n) is not None]
        if given:
            raise UsageError(f"{', '.join(given)} only apply to --synthetic, not to --data")
        data = load_csv(args.data)
        if args.target_class is not None:
            from symgrad.training.classes import class_targets

            data = class_targets(data, args.target_class, spec.n_outputs)
    else:
        if args.target_class is not None:
            raise UsageError("--target-class names a column of a --data file")
        _check_synthetic(args, spec)
        data = synthetic(samples=100 if args.samples is None else args.samples,
                         slope=1.0 if args.slope is None else _slopes(args.slope),
                         intercept=args.intercept or 0.0, noise=args.noise or 0.0,
                         seed=args.seed)
        if not all(math.isfinite(v) for v in data.y.ravel()):
            raise UsageError("--slope, --intercept and --noise are so large that the synthetic "
                             "targets overflow float64 (inf); use smaller values")
    if args.split is not None:
        data = split_feature(data, args.split)
    check_widths(data, spec)
    return data


def _data_dict(data):
    return {"source": data.source, "samples": data.n_samples,
            "inputs": list(data.input_names), "targets": list(data.target_names)}


def _json_ready(value):
    """``value`` with every non-finite float replaced by None (JSON has no inf or NaN);
    TrainingResult.to_dict() leaves some inside ``least_squares`` after an overflow."""
    if isinstance(value, dict):
        return {k: _json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_ready(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _report(result, data, args, plotted, notes):
    if args.json:
        report = _json_ready(result.to_dict())
        report["data"] = _data_dict(data)
        report["plot"] = args.plot if plotted else None
        if notes:
            report["notes"] = [n.removeprefix("note: ") for n in notes]
        return json.dumps(report, indent=2, allow_nan=False)
    lines = result.to_text().splitlines()
    lines.insert(1, f"data: {data.describe()}")
    lines += notes
    if plotted:
        lines.append(f"plot: {args.plot}")
    return "\n".join(lines)


def run_train(args) -> int:
    from symgrad.training.train import TrainingInterrupted, train

    if args.plot:
        check_plot_option(args.plot)
    net = network_from_args(args)
    notes = NumericNotes()
    with notes:
        data = _load(args, net.spec)
    bar = ProgressBar() if sys.stderr.isatty() and not args.quiet else None
    options = dict(lr=args.lr, init=args.init, seed=args.seed, momentum=args.momentum,
                   batch_size=args.batch_size, tol=args.tol, split=data.split,
                   record_every=max(1, args.epochs // MAX_RECORDED), backend=args.backend)
    failure = None
    interrupted = False
    with reserve_plot(args) as plot, notes:
        try:
            try:
                result = train(net, data.X, data.y, epochs=args.epochs, progress=bar,
                               **options)
            except TrainingInterrupted as stop:
                interrupted, result = True, stop.result
            if bar is not None:     # the last frame: the epoch the run really ended on
                bar.finish(result.epochs_run, args.epochs, result.stop, result.cost)
        finally:
            if bar is not None:
                bar.close()
        if plot is not None:
            from symgrad.training.plots import plot_training

            failure = draw_plot(plot, lambda f: plot_training(result, f))
    plotted = plot is not None and failure is None
    report = _report(result, data, args, plotted, notes.lines())
    print(escape_lines(report))
    explain_after(args, report)
    if interrupted or isinstance(failure, KeyboardInterrupt):
        lost = "" if plotted or not args.plot else "; no plot"
        print(f"symgrad: interrupted (Ctrl-C) after epoch {result.epochs_run} of {args.epochs}; "
              f"the report shows the state reached{lost}", file=sys.stderr)
        return EXIT_INTERRUPTED
    if failure is not None:
        plot_failed(args.plot, failure)
    if result.stop in ("diverged", "stationary"):
        print(f"symgrad: training {'diverged' if result.stop == 'diverged' else 'could not move'}"
              f"; see the report", file=sys.stderr)
        return EXIT_FAIL
    return EXIT_OK
