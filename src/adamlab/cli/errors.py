"""The one exception the command line turns into a one-line message and exit code 2."""


class UsageError(Exception):
    """Bad input from the user: a wrong flag, a missing file, an unknown name."""
