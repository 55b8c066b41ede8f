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

Each subcommand lives in ``symgrad/cli/<name>.py`` and provides
``add_parser(subparsers)`` (which sets ``func``) and the function itself; the
options they share are in :mod:`symgrad.cli.options`.  A command's machinery
(SymPy included) is imported only when that command runs, so ``--version`` and
``--help`` start fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from symgrad.cli.options import (
    EXIT_INTERNAL,
    EXIT_MISSING,
    EXIT_OK,
    EXIT_USAGE,
    UsageError,
)
from symgrad.errors import MissingExtraError, SymgradError

#: The subcommands, in ``--help`` order; each is the module ``symgrad.cli.<name>``.
COMMANDS = ("check", "verify", "compare", "table", "derive", "train")


def command_modules() -> list[str]:
    """Names of the subcommand modules, in help order."""
    return list(COMMANDS)


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage error as one line and exit code 2."""

    def error(self, message):
        raise UsageError(f"{message} (see '{self.prog} --help')")


def build_parser() -> argparse.ArgumentParser:
    from symgrad._version import __version__

    parser = _Parser(prog="symgrad",
                     description="The exact truth about neural-network gradients.")
    parser.add_argument("--version", action="version", version=f"symgrad {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in COMMANDS:
        importlib.import_module(f"symgrad.cli.{name}").add_parser(sub)
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
