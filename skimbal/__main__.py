"""``python -m skimbal`` runs the ``skimbal`` command line."""

from .cli import main

if __name__ == "__main__":
    main()
