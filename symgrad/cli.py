"""The ``symgrad`` command line.

Every subcommand takes the architecture first, as widths joined by ``-``
(``symgrad check 2-2-1``), and the same network options.

Exit codes
----------
0  success (every gradient agrees, every claim is correct)
1  the check failed (a gradient disagrees, a claim is wrong)
2  bad input (arguments, architecture, claim text, data file); one line on stderr
3  an optional extra is missing (the message says what to install)
4  internal error (a bug in symgrad; one line on stderr, please report it)

Each subcommand lives in ``symgrad/commands/<name>.py`` and provides
``add_parser(subparsers)`` (which sets ``func``) and the function itself.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from symgrad.errors import MissingExtraError, SymgradError
from symgrad.spec import ACTIVATIONS, LOSSES

EXIT_OK, EXIT_FAIL, EXIT_USAGE, EXIT_MISSING, EXIT_INTERNAL = 0, 1, 2, 3, 4
#: Largest network (weights + biases) a subcommand accepts; keeps every command
#: to seconds, not hours (finite differences alone need two passes per parameter).
MAX_PARAMETERS = 20_000

#: Order of subcommands in ``--help``; modules not listed here come after, by name.
ORDER = ["check", "verify", "compare", "table", "derive", "train"]


def command_modules() -> list:
    """Names of the subcommand modules in ``symgrad/commands``, in help order."""
    import pkgutil

    import symgrad.commands as package

    found = [m.name for m in pkgutil.iter_modules(package.__path__) if not m.name.startswith("_")]
    return sorted(found, key=lambda n: (ORDER.index(n) if n in ORDER else len(ORDER), n))


class UsageError(SymgradError, ValueError):
    """Bad command-line arguments."""


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage error as one line and exit code 2."""

    def error(self, message):
        raise UsageError(f"{message} (see '{self.prog} --help')")


def add_network_options(parser, *, arch=True):
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


def build_parser() -> argparse.ArgumentParser:
    from symgrad import __version__

    parser = _Parser(prog="symgrad",
                     description="The exact truth about neural-network gradients.")
    parser.add_argument("--version", action="version", version=f"symgrad {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in command_modules():
        importlib.import_module(f"symgrad.commands.{name}").add_parser(sub)
    return parser


def main(argv=None) -> int:
    """Run the command line; return the exit code."""
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        if not getattr(args, "func", None):
            parser.print_help(sys.stderr)
            return EXIT_USAGE
        return args.func(args)
    except MissingExtraError as exc:
        print(f"symgrad: {exc}", file=sys.stderr)
        return EXIT_MISSING
    except SymgradError as exc:
        print(f"symgrad: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("symgrad: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        sys.stderr.close()  # the reader went away (e.g. `| head`); nothing to report
        return EXIT_OK
    except Exception as exc:  # a bug: one line, not a traceback
        print(f"symgrad: internal error: {type(exc).__name__}: {exc} "
              "(please report this at the symgrad issue tracker)", file=sys.stderr)
        return EXIT_INTERNAL


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())
