"""Subcommands of the ``symgrad`` command line, one module each (see :mod:`symgrad.cli`)."""
