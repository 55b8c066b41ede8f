"""The ``symgrad`` command line.

Every subcommand takes the architecture first, as widths joined by ``-``
(``symgrad check 2-2-1``), and the same network options.

Exit codes
----------
0  success (every gradient agrees, every claim is correct)
1  the check failed (a gradient disagrees, a claim is wrong)
2  bad input (arguments, architecture, claim text, data file); one line on stderr
3  an optional extra is missing (the message says what to install)
4  internal error (a bug in symgrad; one line on stderr, please report it), or a
   cache on disk broken beyond repair (the line names the folder to delete)
5  undecided: symbolic work ran out of its time or memory budget (--timeout,
   --memory; docs/limits.md), or a claim could be neither proved nor refuted
6  an output could not be written (stdout or a --plot file: disk full, I/O error);
   one line on stderr; a report already printed is complete
130  interrupted by Ctrl-C (``train`` first prints the state it reached)

When several apply, ``verify`` exits with 1 if any claim is wrong, else 2 if any
claim cannot be read, else 5 if any is undecided, else 0.

Each subcommand lives in ``symgrad/cli/<name>.py`` and provides
``add_parser(subparsers)`` (which sets ``func``) and the function itself; the
options they share are in :mod:`symgrad.cli.options`.  A command's machinery
(SymPy included) is imported only when that command runs, so ``--version`` and
``--help`` start fast.
"""

from __future__ import annotations

import argparse
import importlib
import os
import signal
import sys
from typing import Any, TextIO, cast

from symgrad.cli.options import (
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_MISSING,
    EXIT_OK,
    EXIT_OUTPUT,
    EXIT_USAGE,
    UsageError,
)
from symgrad.cli.terminal import GuardedStream, OutputError, escape
from symgrad.errors import CacheError, MissingExtraError, SymgradError

#: The subcommands, in ``--help`` order; each is the module ``symgrad.cli.<name>``.
COMMANDS = ("check", "verify", "compare", "table", "derive", "train")


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
    """Run the command line; return the exit code.

    stdout and stderr are wrapped for the run (:class:`~symgrad.cli.terminal.GuardedStream`)
    so a failed write is reported, not raised; every line printed here is escaped
    (:func:`~symgrad.cli.terminal.escape`), so user text in a message cannot drive the
    terminal.
    """
    streams = sys.stdout, sys.stderr
    sys.stdout = cast(TextIO, GuardedStream(sys.stdout, "the output"))
    sys.stderr = cast(TextIO, GuardedStream(sys.stderr, "the error messages", keep="\n\r\t"))
    try:
        return _main(argv)
    finally:
        sys.stdout, sys.stderr = streams


def _say(line: str) -> None:
    """Print one escaped line on stderr; if even that fails, there is no one to tell."""
    try:
        print(escape(line), file=sys.stderr)
    except (OSError, ValueError):
        pass


def _drop_pending_output(stream: Any) -> None:
    """After a failed write, send what is still buffered for the process's own stdout or
    stderr to /dev/null, so Python's exit does not fail on it again."""
    if not any(stream is own for own in (sys.__stdout__, sys.__stderr__) if own is not None):
        return
    try:
        fd = stream.fileno()
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, fd)
        os.close(null)
    except (OSError, ValueError):
        pass


def _main(argv) -> int:
    try:
        parser = build_parser()
        try:
            args = parser.parse_args(argv)
        except SystemExit:      # --help, --version: their text must reach the reader too
            sys.stdout.flush()
            raise
        if not getattr(args, "func", None):
            parser.print_help(sys.stderr)
            return EXIT_USAGE
        code = args.func(args)
        sys.stdout.flush()
        return code
    except OutputError as exc:
        _drop_pending_output(exc.stream)
        _say(f"symgrad: error: {exc}")
        return EXIT_OUTPUT
    except MissingExtraError as exc:
        _say(f"symgrad: {exc}")
        return EXIT_MISSING
    except CacheError as exc:
        _say(f"symgrad: error: {exc}")
        return EXIT_INTERNAL
    except SymgradError as exc:
        _say(f"symgrad: error: {exc}")
        return EXIT_USAGE
    except KeyboardInterrupt:
        if _as_command:         # a second press from here on would turn exit 130 into
            signal.signal(signal.SIGINT, signal.SIG_IGN)     # a death by SIGINT (-2)
        _say("symgrad: interrupted (Ctrl-C)")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        sys.stderr.close()  # the reader went away (e.g. `| head`); nothing to report
        return EXIT_OK
    except Exception as exc:  # a bug: one line, not a traceback
        _say(f"symgrad: internal error: {type(exc).__name__}: {exc} "
             "(please report this at the symgrad issue tracker)")
        return EXIT_INTERNAL


#: Set by :func:`run`: the process ends when :func:`main` returns, so after a Ctrl-C
#: has been taken, later ones are ignored (in-process callers keep their handler).
_as_command = False


def run() -> None:
    """Console-script entry point."""
    global _as_command
    _as_command = True
    code = main()
    # Only exiting is left: a second Ctrl-C (people press again when the first seems
    # slow) must not turn the documented exit code into a death by SIGINT.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    sys.exit(code)
