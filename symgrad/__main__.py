"""``python -m symgrad`` runs the command line."""

from symgrad.cli import run

if __name__ == "__main__":
    run()
