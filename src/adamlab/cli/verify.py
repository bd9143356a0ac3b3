"""``adamlab verify``: step every optimizer beside its torch.optim twin and print the deviations.

The rows come from the registry (:data:`adamlab.optim.OPTIMIZERS`) through
:func:`adamlab.verify.oracle_matrix`; entries without a torch twin are listed as skipped (their
own reference tests check them). Exit code 0 when every row is within its tolerance, 1 when
one is not, 2 for bad input.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass

from adamlab.cli.errors import UsageError
from adamlab.optim import OPTIMIZERS, get_optimizer
from adamlab.verify import (
    ADAMLAB_FUSED,
    DEFAULT_STEPS,
    DTYPES,
    FOREACH,
    FUSED,
    PROBLEMS,
    SINGLE_TENSOR,
    OracleCase,
    OracleResult,
    format_options,
    oracle_matrix,
)

#: The table's columns, in order; numbers are right-aligned.
COLUMNS = (
    "optimizer",
    "options",
    "dtype",
    "problem",
    "torch path",
    "steps",
    "max abs dev",
    "max rel dev",
    "tolerance",
    "verdict",
)
_NUMERIC = {"steps", "max abs dev", "max rel dev", "tolerance"}


@dataclass(frozen=True)
class VerifyConfig:
    """What ``adamlab verify`` runs, validated.

    Attributes:
        steps: steps per comparison.
        optimizers: registry names with a torch twin, in registry order.
        skipped: requested registry names without a torch twin.
        dtypes: dtype names, in the order the matrix uses them.
        scope: ``"quick"``, ``"defaults"`` or ``"full"`` (see :func:`oracle_matrix`).
    """

    steps: int
    optimizers: tuple[str, ...]
    skipped: tuple[str, ...]
    dtypes: tuple[str, ...]
    scope: str

    def describe(self) -> str:
        """One line echoing the configuration."""
        return (
            f"verify: scope={self.scope} steps={self.steps} dtypes={','.join(self.dtypes)} "
            f"problems={','.join(PROBLEMS)} optimizers={','.join(self.optimizers) or '(none)'}"
        )

    def cases(self) -> list[OracleCase]:
        """The rows: the single-tensor oracle, then (unless quick) the other paths.

        ``adamlab-fused`` rows run adamlab's ``fused=True`` path (where the class has one)
        against torch's single-tensor path under the oracle's own tolerance.

        The foreach and fused rows are information, against a looser tolerance (see
        :data:`adamlab.verify.FOREACH`): each optimizer's defaults on the MLP, in the first
        dtype (every dtype with ``--full``). Other oracle cases are left out there because
        with large steps the ulp-level differences of those paths grow chaotically.
        """
        dtypes = [DTYPES[name] for name in self.dtypes]
        rows = list(oracle_matrix(self.optimizers, dtypes=dtypes, scope=self.scope))
        if self.scope != "quick":
            rows += oracle_matrix(
                self.optimizers,
                dtypes=dtypes,
                problems=["mlp"],
                paths=(FOREACH, FUSED, ADAMLAB_FUSED),
                scope="defaults" if self.scope == "full" else "quick",
            )
        return rows


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``verify`` subcommand."""
    parser = subparsers.add_parser(
        "verify",
        help="prove each optimizer equals its torch.optim twin, step for step",
        description="Step every registered optimizer and its torch.optim twin side by side "
        "from identical starts and report the largest deviation over all parameters and state "
        "tensors. By default each optimizer runs with its default hyperparameters on every "
        "dtype and problem, plus torch's foreach and fused paths for comparison; --full adds "
        "every oracle case (every flag on and off).",
    )
    parser.add_argument(
        "--steps",
        type=int,
        default=DEFAULT_STEPS,
        metavar="N",
        help=f"steps per comparison (default {DEFAULT_STEPS})",
    )
    parser.add_argument(
        "--optimizer",
        action="append",
        default=None,
        metavar="NAME",
        help="only this registered optimizer (repeatable; default: all with a torch twin)",
    )
    parser.add_argument(
        "--dtype",
        choices=tuple(DTYPES),
        default=None,
        help="only this dtype (default: float64 and float32)",
    )
    scope = parser.add_mutually_exclusive_group()
    scope.add_argument(
        "--quick",
        action="store_const",
        const="quick",
        dest="scope",
        help="only default hyperparameters in float64 on the MLP, single-tensor path",
    )
    scope.add_argument(
        "--full",
        action="store_const",
        const="full",
        dest="scope",
        help="every oracle case on every dtype and problem (several minutes)",
    )
    parser.set_defaults(handler=run, scope="defaults")


def build_config(args: argparse.Namespace) -> VerifyConfig:
    """Validate the parsed flags; raise :class:`UsageError` / ValueError for bad input."""
    if args.steps < 1:
        raise UsageError(f"invalid --steps {args.steps} (expected an integer >= 1)")
    requested = [get_optimizer(name).name for name in args.optimizer or OPTIMIZERS]
    requested = list(dict.fromkeys(requested))  # keep order, drop repeats
    return VerifyConfig(
        steps=args.steps,
        optimizers=tuple(n for n in requested if OPTIMIZERS[n].torch_twin is not None),
        skipped=tuple(n for n in requested if OPTIMIZERS[n].torch_twin is None),
        dtypes=(args.dtype,) if args.dtype else tuple(DTYPES),
        scope=args.scope,
    )


def _number(value: float) -> str:
    return "0" if value == 0 else f"{value:.3g}"


def format_row(result: OracleResult) -> tuple[str, ...]:
    """One table row for ``result``, cells in :data:`COLUMNS` order."""
    steps = f"{result.steps} (diverged)" if result.diverged else str(result.steps)
    return (
        result.optimizer,
        format_options(result.options),
        str(result.dtype).removeprefix("torch."),
        result.problem,
        result.path,
        steps,
        _number(result.max_abs),
        _number(result.max_rel),
        _number(result.tolerance),
        "pass" if result.passed else "FAIL",
    )


def _widths(cases: list[OracleCase], steps: int) -> list[int]:
    # the rows stream as they finish, so the widths are set from the plan beforehand
    longest = {
        "optimizer": max(len(c.entry.name) for c in cases),
        "options": max(len(format_options(c.options)) for c in cases),
        "dtype": len("float64"),
        "problem": max(len(name) for name in PROBLEMS),
        "torch path": max(len(c.path.name) for c in cases),
        "steps": len(f"{steps} (diverged)"),
        "max abs dev": 9,
        "max rel dev": 9,
        "tolerance": 9,
        "verdict": 4,
    }
    return [max(len(column), longest[column]) for column in COLUMNS]


def _line(cells: tuple[str, ...], widths: list[int]) -> str:
    return "  ".join(
        cell.rjust(width) if column in _NUMERIC else cell.ljust(width)
        for column, cell, width in zip(COLUMNS, cells, widths, strict=True)
    ).rstrip()


def run(args: argparse.Namespace) -> int:
    """Run the oracle table; 0 when every row passes, 1 otherwise."""
    config = build_config(args)
    print(config.describe())
    if config.skipped:
        print(f"skipped (no torch.optim twin): {', '.join(config.skipped)}")
    cases = config.cases()
    if not cases:
        print("nothing to verify")
        return 0
    widths = _widths(cases, config.steps)
    print(_line(COLUMNS, widths))
    print("  ".join("-" * w for w in widths))
    started = time.perf_counter()
    results = []
    for case in cases:
        result = case.run(config.steps)
        results.append(result)
        print(_line(format_row(result), widths), flush=True)
    elapsed = time.perf_counter() - started

    failed = [r for r in results if not r.passed]
    for result in failed:
        detail = result.mismatch or f"worst at {result.worst}"
        print(f"FAIL {result.optimizer} [{format_options(result.options)}]: {detail}")
    print(
        f"{len(results)} comparisons in {elapsed:.1f} s: {len(results) - len(failed)} pass, "
        f"{len(failed)} fail"
    )
    for path in (SINGLE_TENSOR, FOREACH, FUSED, ADAMLAB_FUSED):
        rows = [r for r in results if r.path == path.name]
        if rows:
            worst = max(r.max_rel for r in rows)
            limits = ", ".join(
                f"{str(dtype).removeprefix('torch.')} {_number(tol)}"
                for dtype, tol in path.tolerance.items()
            )
            print(
                f"  {path.name}: largest relative deviation {_number(worst)} (tolerance {limits})"
            )
    return 1 if failed else 0
