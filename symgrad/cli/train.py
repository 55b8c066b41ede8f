"""``symgrad train ARCH``: fit the network by gradient descent and explain the result."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from symgrad.cli.options import (
    EXIT_FAIL,
    EXIT_OK,
    UsageError,
    add_network_options,
    network_from_args,
)

#: Most epochs kept in the trajectory, the plot and the JSON history (every epoch's
#: cost is still computed and used for the stopping rules).
MAX_RECORDED = 2000
SYNTHETIC_ONLY = ("slope", "intercept", "noise", "samples")


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
    data = p.add_argument_group("data (one of --data or --synthetic)")
    source = data.add_mutually_exclusive_group(required=True)
    source.add_argument("--data", metavar="FILE.csv",
                        help="CSV with a header; the target is the column named y (or y1..yk, "
                             "else the last column), every other column is an input")
    source.add_argument("--synthetic", action="store_true",
                        help="generate y = slope*x + intercept + noise*N(0,1), x ~ N(0,1)")
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
    run.add_argument("--seed", type=int, default=0,
                     help="seed for the synthetic data, the initial weights and the shuffling")
    run.add_argument("--tol", type=float, default=0.0,
                     help="stop when the cost changes by at most TOL in an epoch (default 0: off)")
    run.add_argument("--backend", default="auto", help="numpy, numba or auto (default auto)")
    out = p.add_argument_group("output")
    out.add_argument("--quiet", action="store_true", help="no progress bar")
    out.add_argument("--json", action="store_true", help="print the result as JSON")
    out.add_argument("--plot", metavar="FILE.png",
                     help="draw the cost curve and the parameter trajectories (needs matplotlib)")
    p.set_defaults(func=run_train)
    return p


def _slopes(text):
    try:
        values = [float(s) for s in text.split(",")]
    except ValueError:
        raise UsageError(f"--slope takes numbers separated by commas, e.g. 3 or 3,-1; "
                         f"got {text!r}") from None
    return values[0] if len(values) == 1 else values


def _load(args, spec):
    from symgrad.training.data import check_widths, load_csv, split_feature, synthetic

    if args.data is not None:
        given = [f"--{n}" for n in SYNTHETIC_ONLY if getattr(args, n) is not None]
        if given:
            raise UsageError(f"{', '.join(given)} only apply to --synthetic, not to --data")
        data = load_csv(args.data)
    else:
        data = synthetic(samples=100 if args.samples is None else args.samples,
                         slope=1.0 if args.slope is None else _slopes(args.slope),
                         intercept=args.intercept or 0.0, noise=args.noise or 0.0,
                         seed=args.seed)
    if args.split is not None:
        data = split_feature(data, args.split)
    check_widths(data, spec)
    return data


def check_plot_option(path):
    """Fail early (before any work) when ``--plot path`` cannot be written."""
    from symgrad.training.plots import require_matplotlib

    target = Path(path)
    if target.suffix.lower() != ".png":
        raise UsageError(f"--plot writes a PNG image; give a file name ending in .png, "
                         f"got {path!r}")
    if not target.parent.is_dir():
        raise UsageError(f"--plot {path!r}: the directory {str(target.parent)!r} does not exist")
    require_matplotlib()


class ProgressBar:
    """A one-line progress bar on stderr, redrawn at most every 0.1 s after 0.5 s."""

    def __init__(self, stream=sys.stderr, width=30):
        self.stream, self.width = stream, width
        self.start = self.last = time.monotonic()
        self.drawn = False

    def __call__(self, epoch, epochs, cost):
        now = time.monotonic()
        if epoch < epochs and (now - self.start < 0.5 or now - self.last < 0.1):
            return
        self.last = now
        done = int(self.width * epoch / max(epochs, 1))
        bar = "#" * done + "." * (self.width - done)
        self.stream.write(f"\r[{bar}] {epoch}/{epochs} epochs  cost {cost:.4g}  ")
        self.stream.flush()
        self.drawn = True

    def close(self):
        if self.drawn:
            self.stream.write("\n")
            self.stream.flush()


def run_train(args) -> int:
    from symgrad.training.train import train

    if args.plot:
        check_plot_option(args.plot)
    net = network_from_args(args)
    data = _load(args, net.spec)
    bar = ProgressBar() if sys.stderr.isatty() and not args.quiet else None
    try:
        result = train(net, data.X, data.y, epochs=args.epochs, lr=args.lr, init=args.init,
                       seed=args.seed, momentum=args.momentum, batch_size=args.batch_size,
                       record_every=max(1, args.epochs // MAX_RECORDED), tol=args.tol,
                       split=data.split, backend=args.backend, progress=bar)
    finally:
        if bar is not None:
            bar.close()
    if args.plot:
        from symgrad.training.plots import plot_training

        plot_training(result, args.plot)
    if args.json:
        report = result.to_dict()
        report["data"] = {"source": data.source, "samples": data.n_samples,
                          "inputs": list(data.input_names), "targets": list(data.target_names)}
        report["plot"] = args.plot
        print(json.dumps(report, indent=2, allow_nan=False))
    else:
        lines = result.to_text().splitlines()
        lines.insert(1, f"data: {data.describe()}")
        if args.plot:
            lines.append(f"plot: {args.plot}")
        print("\n".join(lines))
    if result.stop in ("diverged", "stationary"):
        print(f"symgrad: training {'diverged' if result.stop == 'diverged' else 'could not move'}"
              f"; see the report", file=sys.stderr)
        return EXIT_FAIL
    return EXIT_OK
