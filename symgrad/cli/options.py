"""Options every subcommand shares: the architecture and the network options.

Exit codes are documented in :mod:`symgrad.cli.main`.
"""

from __future__ import annotations

import argparse

from symgrad.errors import SymgradError
from symgrad.spec import ACTIVATIONS, LOSSES

EXIT_OK, EXIT_FAIL, EXIT_USAGE, EXIT_MISSING, EXIT_INTERNAL = 0, 1, 2, 3, 4
EXIT_UNDECIDED = 5  # undecided: work ran out of its time or memory budget (docs/limits.md)
EXIT_OUTPUT = 6  # an output (stdout, a --plot file) could not be written
EXIT_INTERRUPTED = 130  # Ctrl-C (128 + SIGINT, as shells report it)
#: Largest network (weights + biases) a subcommand accepts; keeps every command
#: to seconds, not hours (finite differences alone need two passes per parameter).
MAX_PARAMETERS = 20_000
#: Seeds are whole numbers 0 <= seed < SEED_LIMIT.  numpy's generators take any
#: integer >= 0 (no negative ones); 2**64 is far more than enough and stays an
#: exact integer in every JSON reader that has 64-bit integers.
SEED_LIMIT = 2**64


class UsageError(SymgradError, ValueError):
    """Bad command-line arguments."""


def add_network_options(parser: argparse.ArgumentParser, *, arch: bool = True) -> None:
    """Add ARCH and the network options shared by every subcommand."""
    if arch:
        parser.add_argument("arch", metavar="ARCH",
                            help="widths joined by '-', input first: e.g. 2-2-1")
    parser.add_argument("--activation", default="linear", metavar="NAME[,NAME...]",
                        help="hidden-layer activation, or one per hidden layer separated "
                             f"by commas ({', '.join(ACTIVATIONS)}; default linear)")
    parser.add_argument("--output-activation", default=None, metavar="NAME",
                        help="output activation (the same names and softmax; default linear)")
    parser.add_argument("--bias", action="store_true", help="give every neuron a bias")
    parser.add_argument("--loss", default=None, metavar="NAME",
                        help=f"per-sample loss ({', '.join(LOSSES)}; default half-squared, "
                             "cross-entropy for a softmax output)")
    parser.add_argument("--l2", default=0.0, type=_l2_value, metavar="LAMBDA",
                        help="add (LAMBDA/2) * sum of squared weights to every sample's loss")
    parser.add_argument("--l2-bias", action="store_true",
                        help="let the --l2 penalty cover the biases too")


def _l2_value(text: str) -> float:
    """``--l2``'s value: a plain decimal number (no 'nan' or 'inf'; the spec checks the range)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--l2 needs a number such as 0.01, got {text!r}") \
            from None
    if not value == value or value in (float("inf"), float("-inf")):
        raise argparse.ArgumentTypeError(f"--l2 needs a finite number, got {text!r}")
    return value


def network_from_args(args):
    """Build the :class:`~symgrad.Network` the shared options describe.

    Before building it, :func:`estimate_cost` refuses a command whose work or
    memory would be past a limit of :mod:`symgrad.limits`.
    """
    from symgrad.network import Network
    from symgrad.spec import make_spec, parse_arch

    widths = parse_arch(args.arch)
    n_params = sum(a * b for a, b in zip(widths[:-1], widths[1:])) + (
        sum(widths[1:]) if args.bias else 0)
    if n_params > MAX_PARAMETERS:
        raise UsageError(
            f"the {args.arch} network has {n_params} parameters; the command line handles at "
            f"most {MAX_PARAMETERS} (symbolic work grows with every weight); use the Python "
            "API for bigger networks")
    activation = args.activation
    if "," in activation:
        activation = [a.strip() for a in activation.split(",")]
    elif len(widths) == 2 and activation != "linear":
        raise UsageError(
            f"--activation sets the hidden layers, and the {args.arch} network has none; "
            f"for its output neurons use --output-activation {activation}")
    spec = make_spec(widths, activation, args.output_activation, args.bias, args.loss,
                     args.l2, args.l2_bias)
    if args.l2_bias and not args.l2:
        raise UsageError("--l2-bias extends the --l2 penalty to the biases; give --l2 LAMBDA too")
    estimate_cost(args, spec)
    return Network(widths, activation=activation,
                   output_activation=args.output_activation,
                   bias=args.bias, loss=args.loss, l2=args.l2, l2_bias=args.l2_bias)


def estimate_cost(args, spec) -> None:
    """Refuse, before any work, a command that would run past a limit.

    ``args.command`` names the subcommand.  From the architecture and the options
    alone it estimates:

    * ``verify`` and ``compare``: the size of the expanded derivatives the claims
      are checked against (:func:`symgrad.limits.derivative_size`), at most
      :data:`~symgrad.limits.MAX_SYMBOLIC_SIZE`;
    * ``table --form expanded``: the size of the whole expanded table
      (:func:`symgrad.limits.table_size`), the same limit; the compact and delta
      forms, and ``derive``, grow only with the number of parameters;
    * ``train``: at most :data:`~symgrad.limits.MAX_EPOCHS` epochs and, with
      ``--synthetic``, at most :data:`~symgrad.limits.MAX_TRAIN_WORK` epochs x
      samples x parameters.

    ``check --batch``, ``train --samples`` and the ``train --data`` file are
    limited by their own commands before any work (``batch_limit`` in
    :mod:`symgrad.cli.check`; ``MAX_SAMPLES`` and
    :data:`~symgrad.limits.MAX_DATA_CELLS` in :mod:`symgrad.cli.train`), and
    :func:`symgrad.training.data.load_csv` checks the file and limits what it
    reads (:data:`~symgrad.limits.MAX_DATA_BYTES`,
    :data:`~symgrad.limits.MAX_DATA_CELLS`).  Raises :class:`UsageError` with one
    line that names the limit and the way forward.
    """
    from symgrad import limits

    command = getattr(args, "command", None)
    arch, acts = spec.arch, spec.activations
    if command in ("verify", "compare"):
        size = limits.derivative_size(spec.widths, acts, spec.bias, "output")
        if size > limits.MAX_SYMBOLIC_SIZE:
            raise UsageError(
                f"{command} on the {arch} network: its expanded derivatives have about "
                f"{size:,} symbols and operations (a sum over every path through the "
                f"network); the limit is {limits.MAX_SYMBOLIC_SIZE:,}; use a shallower or "
                "narrower network, or 'symgrad table' (compact form) and 'symgrad check'")
    elif command == "table" and getattr(args, "form", None) == "expanded":
        of = "output" if args.of == "output" else "loss"
        size = limits.table_size(spec.widths, acts, spec.bias, of)
        if size > limits.MAX_SYMBOLIC_SIZE:
            raise UsageError(
                f"table --form expanded of the {arch} network would print about {size:,} "
                f"symbols and operations (sums over every path through the network); the "
                f"limit is {limits.MAX_SYMBOLIC_SIZE:,}; use --form compact or --form delta")
    elif command == "train":
        _estimate_training(args, spec, limits)


def _estimate_training(args, spec, limits) -> None:
    epochs = getattr(args, "epochs", 0) or 0
    if epochs > limits.MAX_EPOCHS:
        raise UsageError(
            f"--epochs {epochs} is past the limit of {limits.MAX_EPOCHS:,} epochs for one "
            "run (each is a pass over the data: 10**9 of them take days); use fewer "
            "--epochs, or --tol to stop when the cost settles")
    if getattr(args, "data", None) is not None:
        return      # samples unknown until read; cli/train.py checks the file first
    samples = 100 if getattr(args, "samples", None) is None else args.samples
    if not 1 <= samples <= limits.MAX_DATA_CELLS // sum(spec.widths):
        return                        # cli/train.py refuses those samples with its own words
    work = epochs * samples * spec.n_parameters
    if work > limits.MAX_TRAIN_WORK:
        most = max(1, limits.MAX_TRAIN_WORK // (samples * spec.n_parameters))
        raise UsageError(
            f"train --epochs {epochs} on {samples} samples of the {spec.arch} network is "
            f"about {work:.2g} multiply-adds; the limit is {limits.MAX_TRAIN_WORK:.0e} "
            f"epochs x samples x parameters; use at most {most:,} --epochs (or fewer "
            "--samples)")


def seed_value(text):
    """argparse type of ``--seed``: a whole number 0 <= seed < :data:`SEED_LIMIT`."""
    try:
        value = int(text)
    except ValueError:
        value = None
    if value is None or not 0 <= value < SEED_LIMIT:
        raise argparse.ArgumentTypeError(
            f"the seed must be a whole number from 0 to 2**64-1 (numpy's random generators "
            f"take no negative seeds), got {text!r}")
    return value
