"""``python -m skimbal`` runs the ``skimbal`` command line."""

from .cli import run

if __name__ == "__main__":
    run()
