"""Options every subcommand shares: the architecture and the network options.

Exit codes are documented in :mod:`symgrad.cli.main`.
"""

from __future__ import annotations

import argparse

from symgrad.errors import SymgradError
from symgrad.spec import ACTIVATIONS, LOSSES

EXIT_OK, EXIT_FAIL, EXIT_USAGE, EXIT_MISSING, EXIT_INTERNAL = 0, 1, 2, 3, 4
EXIT_UNDECIDED = 5  # undecided: work ran out of its time or memory budget (docs/limits.md)
#: Largest network (weights + biases) a subcommand accepts; keeps every command
#: to seconds, not hours (finite differences alone need two passes per parameter).
MAX_PARAMETERS = 20_000


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
                        help="output activation (default linear)")
    parser.add_argument("--bias", action="store_true", help="give every neuron a bias")
    parser.add_argument("--loss", default="half-squared", metavar="NAME",
                        help=f"per-sample loss ({', '.join(LOSSES)}; default half-squared)")


def network_from_args(args):
    """Build the :class:`~symgrad.Network` the shared options describe."""
    from symgrad.network import Network
    from symgrad.spec import parse_arch

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
    return Network(widths, activation=activation,
                   output_activation=args.output_activation,
                   bias=args.bias, loss=args.loss)
