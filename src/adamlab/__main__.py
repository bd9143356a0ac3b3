"""``python -m adamlab``: the same command line as the ``adamlab`` script."""

from adamlab.cli import entry_point

if __name__ == "__main__":
    entry_point()
