"""``python -m symgrad`` runs the command line."""

from symgrad.cli.main import run

if __name__ == "__main__":
    run()
