"""The ``symgrad`` command line: :mod:`~symgrad.cli.main` (entry point, exit codes),
:mod:`~symgrad.cli.options` (what every subcommand shares), one module per command."""
