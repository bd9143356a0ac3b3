"""The ``adamlab`` command line: ``main(argv) -> int``.

Each subcommand lives in its own module of this package and exposes
``register(subparsers) -> None``, which adds its parser and sets ``handler`` (a function
``(args) -> int``) as a default. ``main`` parses, dispatches, and turns a
:class:`UsageError` or ``ValueError`` raised while validating input into one line on stderr
and exit code 2, so a user never sees a traceback for a mistake of theirs (``ADAMLAB_DEBUG=1``
shows it, for a ValueError that is a bug rather than bad input).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from adamlab import __version__
from adamlab.cli.errors import UsageError

#: Set this environment variable (to anything non-empty) to get the traceback of a
#: ``ValueError`` instead of the one-line message.
DEBUG_ENV = "ADAMLAB_DEBUG"

#: Subcommand modules, in the order ``adamlab --help`` lists them.
SUBCOMMANDS: tuple[str, ...] = (
    "adamlab.cli.verify",
    "adamlab.cli.functions",
    "adamlab.cli.plot",
    "adamlab.cli.run",
    "adamlab.cli.paper",
    "adamlab.cli.sweep",
    "adamlab.cli.report",
    "adamlab.cli.merge",
)


class _ArgumentParser(argparse.ArgumentParser):
    """argparse prints usage and exits 2 itself; raise instead, so main() prints one line."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{self.prog}: {message}")


def build_parser() -> argparse.ArgumentParser:
    parser = _ArgumentParser(
        prog="adamlab",
        description="Adam and its rivals from scratch: verify, benchmark, report.",
    )
    parser.add_argument("--version", action="version", version=f"adamlab {__version__}")
    subparsers = parser.add_subparsers(
        dest="command", metavar="COMMAND", parser_class=_ArgumentParser
    )
    for module_name in SUBCOMMANDS:
        importlib.import_module(module_name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default: ``sys.argv[1:]``) and return the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(list(argv) if argv is not None else None)
        if getattr(args, "handler", None) is None:
            parser.print_help()
            return 2
        return int(args.handler(args))
    except (UsageError, ValueError) as error:
        if os.environ.get(DEBUG_ENV) and not isinstance(error, UsageError):
            # a ValueError may also be a bug, not a mistake of the user's: show its traceback
            raise
        message = str(error).splitlines()[0] if str(error) else type(error).__name__
        print(f"adamlab: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("adamlab: interrupted", file=sys.stderr)
        return 130


def entry_point() -> None:
    """Console-script entry: exit with :func:`main`'s code."""
    sys.exit(main())
