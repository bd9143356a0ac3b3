"""``adamlab functions``: list the registered test functions and their ground truth."""

from __future__ import annotations

import argparse
import difflib

from adamlab.cli.errors import UsageError
from adamlab.functions import SUITES, TestFunction, resolve_suite_or_names


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``functions`` subcommand."""
    parser = subparsers.add_parser(
        "functions",
        help="list the test functions: dimension, domain, f*, category",
        description="List the test functions of a suite with their domain, f* and category.",
    )
    parser.add_argument(
        "--suite",
        default="all",
        metavar="NAME",
        help=f"which suite to list (one of: {', '.join(SUITES)}; default: all)",
    )
    parser.add_argument(
        "--dim",
        type=int,
        default=None,
        metavar="D",
        help="dimension of the N-dimensional functions (default 2; 2-D functions stay 2-D)",
    )
    parser.set_defaults(handler=run)


def check_suite(name: str) -> str:
    """Return ``name`` if it is a suite, else raise :class:`UsageError` naming the close ones."""
    if name in SUITES:
        return name
    close = difflib.get_close_matches(name, SUITES, n=3)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    raise UsageError(f"unknown suite {name!r}{hint} (known: {', '.join(SUITES)})")


def check_dim(dim: int | None) -> int | None:
    """Return ``dim`` if it is None or >= 2, else raise :class:`UsageError`."""
    if dim is not None and dim < 2:
        raise UsageError(f"invalid --dim {dim} (expected an integer >= 2)")
    return dim


def format_domain(f: TestFunction) -> str:
    """``[-5, 10]^3`` for a cube, ``[-15, -5] x [-3, 3]`` otherwise."""
    low, high = (b.tolist() for b in f.domain)
    pairs = [f"[{lo:g}, {hi:g}]" for lo, hi in zip(low, high, strict=True)]
    if len(set(pairs)) == 1:
        return f"{pairs[0]}^{f.dim}"
    return " x ".join(pairs)


def format_table(functions: list[TestFunction]) -> str:
    """An aligned text table: name, dim, domain, f*, category."""
    header = ("name", "dim", "domain", "f*", "category")
    rows = [
        (f.name, str(f.dim), format_domain(f), f"{f.f_star:.12g}", f.category) for f in functions
    ]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    right = {1, 3}  # numbers align right

    def line(cells: tuple[str, ...]) -> str:
        return "  ".join(
            cell.rjust(w) if i in right else cell.ljust(w)
            for i, (cell, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(header), rule, *(line(row) for row in rows)])


def run(args: argparse.Namespace) -> int:
    """Print the table for ``args.suite`` at ``args.dim``."""
    suite = check_suite(args.suite)
    dim = check_dim(args.dim)
    print(format_table(resolve_suite_or_names(suite, dim=dim)))
    return 0
