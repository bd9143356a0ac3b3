"""``adamlab plot TARGET``: draw figures into a folder.

Targets:
    functions: the seed's six test functions in one figure (``seed_functions.png``) and one
        figure per registered function (``<name>.png``; ``--suite`` picks fewer).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from functools import partial
from pathlib import Path

from matplotlib.figure import Figure

from adamlab.cli.errors import UsageError
from adamlab.cli.functions import check_suite
from adamlab.functions import SUITES, resolve_suite_or_names
from adamlab.plot.surfaces import function_figure, seed_functions_figure


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``plot`` subcommand and its targets."""
    parser = subparsers.add_parser(
        "plot",
        help="draw figures (plot functions: the test-function surfaces)",
        description="Draw figures into a folder.",
    )
    targets = parser.add_subparsers(dest="target", metavar="TARGET", required=True)

    functions = targets.add_parser(
        "functions",
        help="surface and contour map of every test function",
        description="Write seed_functions.png (the seed's six functions) and <name>.png for "
        "every test function of the suite (default: all registered functions).",
    )
    functions.add_argument("--out", required=True, type=Path, metavar="DIR", help="output folder")
    functions.add_argument(
        "--dpi", type=int, default=110, metavar="N", help="resolution of the PNGs (default 110)"
    )
    functions.add_argument(
        "--suite",
        default="all",
        metavar="NAME",
        help=f"draw <name>.png for this suite's functions (one of: {', '.join(SUITES)}; "
        "default: all)",
    )
    functions.add_argument(
        "--resolution",
        type=int,
        default=240,
        metavar="N",
        help="grid points per axis of the contour maps (default 240)",
    )
    functions.set_defaults(handler=plot_functions)


def _check_positive(flag: str, value: int, minimum: int = 1) -> int:
    if value < minimum:
        raise UsageError(f"invalid {flag} {value} (expected an integer >= {minimum})")
    return value


def plot_functions(args: argparse.Namespace) -> int:
    """Write the test-function figures to ``args.out``."""
    suite = check_suite(args.suite)
    dpi = _check_positive("--dpi", args.dpi)
    resolution = _check_positive("--resolution", args.resolution, minimum=10)
    out: Path = args.out
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} exists and is not a folder")
    out.mkdir(parents=True, exist_ok=True)
    # a 3D surface needs fewer points than a contour map, but too few turn narrow valleys
    # into a comb of spikes
    surface_resolution = max(10, min(100, resolution // 2))
    print(f"plot functions: out={out} suite={suite} dpi={dpi} resolution={resolution}")

    # (file name, figure builder): figures are built one at a time so memory stays flat
    figures: list[tuple[str, Callable[[], Figure]]] = [
        (
            "seed_functions.png",
            partial(
                seed_functions_figure,
                resolve_suite_or_names("seed"),
                title="The seed experiment's six test functions",
                resolution=resolution,
                surface_resolution=surface_resolution,
            ),
        )
    ]
    for f in resolve_suite_or_names(suite):
        one = partial(
            function_figure,
            f,
            resolution=resolution,
            surface_resolution=surface_resolution,
        )
        figures.append((f"{f.name}.png", one))
    for filename, build in figures:
        path = out / filename
        build().savefig(path, dpi=dpi)
        print(f"wrote {path}")
    return 0
