"""``adamlab verify``: step every optimizer beside its torch.optim twin and print the deviations.

The rows come from the registry (:data:`adamlab.optim.OPTIMIZERS`) through
:func:`adamlab.verify.oracle_matrix`; entries without a torch twin are compared with their
paper's equations instead (:mod:`adamlab.verify.references`, the ``paper`` rows), and an entry
with neither is listed as skipped. Exit code 0 when every row is within its tolerance, 1 when
one is not, 2 for bad input.

With ``--reference`` it compares one optimizer of any origin with any reference instead
(:func:`adamlab.verify.compare`)::

    adamlab verify --optimizer my.mod:MyOpt --reference torch.optim:Adam \
        --optimizer-args '{"lr": 1e-3}' --steps 500
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from adamlab.cli.errors import UsageError
from adamlab.optim import OPTIMIZERS, OptimizerEntry, get_optimizer
from adamlab.verify import (
    ADAMLAB_FUSED,
    DEFAULT_STEPS,
    DTYPES,
    FOREACH,
    FUSED,
    PAPER,
    PROBLEMS,
    SINGLE_TENSOR,
    OracleCase,
    OracleResult,
    Side,
    compare_side_by_side,
    format_options,
    oracle_matrix,
    resolve,
)
from adamlab.verify.compare import check_tolerance

#: The table's columns, in order; numbers are right-aligned.
COLUMNS = (
    "optimizer",
    "options",
    "dtype",
    "problem",
    "reference",
    "steps",
    "max abs dev",
    "max rel dev",
    "tolerance",
    "verdict",
)
_NUMERIC = {"steps", "max abs dev", "max rel dev", "tolerance"}
#: The columns with ``--reference``: the reference's name instead of the reference path.
COMPARE_COLUMNS = (
    "optimizer",
    "reference",
    "options",
    "dtype",
    "problem",
    "steps",
    "max abs dev",
    "max rel dev",
    "tolerance",
    "verdict",
)


@dataclass(frozen=True)
class VerifyConfig:
    """What ``adamlab verify`` runs, validated.

    Attributes:
        steps: steps per comparison.
        optimizers: registry names with a torch twin or a paper reference, in the order asked.
        skipped: requested registry names with neither.
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
        """The rows: the oracle, then (unless quick) the other paths.

        The oracle is torch's single-tensor twin, or for an entry without one the paper's
        equations (``paper`` rows, :data:`adamlab.verify.PAPER`), under the same tolerance.

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
        help="prove each optimizer equals its torch.optim twin (or its paper), step for step",
        description="Step every registered optimizer and its torch.optim twin side by side "
        "from identical starts and report the largest deviation over all parameters and state "
        "tensors. Optimizers torch lacks (adabelief, lion, adam_atan2) are compared with "
        "their papers' equations instead (the 'paper' rows), resynchronised after every "
        "step. By default each optimizer runs with its default hyperparameters on every "
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
        help="only this registered optimizer (repeatable; default: all)",
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
        help="only default hyperparameters in float64 on the MLP, against the oracle "
        "(torch's single-tensor path, or the paper)",
    )
    scope.add_argument(
        "--full",
        action="store_const",
        const="full",
        dest="scope",
        help="every oracle case on every dtype and problem (several minutes)",
    )
    compare = parser.add_argument_group(
        "any optimizer against any reference",
        "--reference compares the one --optimizer (registry name or package.module:Class) "
        "with the reference class on every dtype and problem, from identical starts; "
        "exit 0 when every row is within tolerance, 1 when one is not",
    )
    compare.add_argument(
        "--reference",
        metavar="CLASS",
        help="the class to compare against, e.g. torch.optim:Adam (or a registry name)",
    )
    compare.add_argument(
        "--optimizer-args",
        metavar="JSON",
        help="constructor arguments for both sides, e.g. '{\"lr\": 1e-3}'",
    )
    compare.add_argument(
        "--reference-args",
        metavar="JSON",
        help="constructor arguments for the reference instead (default: --optimizer-args)",
    )
    compare.add_argument(
        "--tolerance",
        type=float,
        metavar="REL",
        help="largest accepted relative deviation (default: the oracle's, "
        + ", ".join(
            f"{str(d).removeprefix('torch.')} {t:g}" for d, t in SINGLE_TENSOR.tolerance.items()
        )
        + ")",
    )
    compare.add_argument(
        "--params-only",
        action="store_true",
        help="compare the parameters only, not the optimizer state",
    )
    parser.set_defaults(handler=run, scope="defaults")


_COMPARE_FLAGS = ("optimizer_args", "reference_args", "tolerance", "params_only")


def _has_oracle(entry: OptimizerEntry) -> bool:
    """A torch twin or the paper's equations to compare with."""
    return entry.torch_twin is not None or entry.paper_reference is not None


def build_config(args: argparse.Namespace) -> VerifyConfig:
    """Validate the parsed flags; raise :class:`UsageError` / ValueError for bad input."""
    if args.steps < 1:
        raise UsageError(f"invalid --steps {args.steps} (expected an integer >= 1)")
    for flag in _COMPARE_FLAGS:
        if getattr(args, flag, None):
            name = "--" + flag.replace("_", "-")
            raise UsageError(f"{name} needs --reference (the class to compare against)")
    for name in args.optimizer or ():
        if ":" in name:
            raise UsageError(
                f"--optimizer {name} needs --reference (the class to compare against), "
                "e.g. --reference torch.optim:Adam"
            )
    requested = [get_optimizer(name).name for name in args.optimizer or OPTIMIZERS]
    requested = list(dict.fromkeys(requested))  # keep order, drop repeats
    return VerifyConfig(
        steps=args.steps,
        optimizers=tuple(n for n in requested if _has_oracle(OPTIMIZERS[n])),
        skipped=tuple(n for n in requested if not _has_oracle(OPTIMIZERS[n])),
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
        "reference": max(len(c.path.name) for c in cases),
        "steps": len(f"{steps} (diverged)"),
        "max abs dev": 9,
        "max rel dev": 9,
        "tolerance": 9,
        "verdict": 4,
    }
    return [max(len(column), longest[column]) for column in COLUMNS]


def _line(cells: tuple[str, ...], widths: list[int], columns: Sequence[str] = COLUMNS) -> str:
    return "  ".join(
        cell.rjust(width) if column in _NUMERIC else cell.ljust(width)
        for column, cell, width in zip(columns, cells, widths, strict=True)
    ).rstrip()


def run(args: argparse.Namespace) -> int:
    """Run the oracle table; 0 when every row passes, 1 otherwise."""
    if getattr(args, "reference", None) is not None:
        return run_compare(build_compare_config(args))
    config = build_config(args)
    print(config.describe())
    if config.skipped:
        print(f"skipped (no torch.optim twin, no paper reference): {', '.join(config.skipped)}")
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
    for path in (SINGLE_TENSOR, PAPER, FOREACH, FUSED, ADAMLAB_FUSED):
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


# -- any optimizer against any reference ----------------------------------------------------


@dataclass(frozen=True)
class CompareConfig:
    """What ``adamlab verify --reference`` runs, validated.

    Attributes:
        ours: the optimizer under test, built with its arguments.
        reference: the class it is compared against, built with its arguments.
        steps: steps per comparison.
        dtypes: dtype names.
        problems: oracle problem names.
        tolerance: the largest accepted relative deviation, or None for the oracle's own.
        state: compare the optimizer state too (False with ``--params-only``).
    """

    ours: Side
    reference: Side
    steps: int
    dtypes: tuple[str, ...]
    problems: tuple[str, ...]
    tolerance: float | None
    state: bool

    def describe(self) -> str:
        """One line echoing the configuration."""
        tolerance = "oracle" if self.tolerance is None else f"{self.tolerance:g}"
        return (
            f"verify: {self.ours.name}({format_options(self.ours.kwargs)}) against "
            f"{self.reference.name}({format_options(self.reference.kwargs)}) "
            f"steps={self.steps} dtypes={','.join(self.dtypes)} "
            f"problems={','.join(self.problems)} tolerance={tolerance} "
            f"compare={'parameters and state' if self.state else 'parameters'}"
        )


def _json_arguments(text: str | None, flag: str) -> dict[str, Any] | None:
    """Parse a JSON object of constructor arguments (lists become tuples, e.g. betas)."""
    if text is None:
        return None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise UsageError(f"invalid {flag} JSON {text!r}: {error}") from None
    if not isinstance(value, dict):
        raise UsageError(
            f'invalid {flag}: {text!r} (expected a JSON object such as {{"lr": 1e-3}})'
        )
    return {key: _tuples(item) for key, item in value.items()}


def _tuples(value: Any) -> Any:
    return tuple(_tuples(v) for v in value) if isinstance(value, list) else value


def build_compare_config(args: argparse.Namespace) -> CompareConfig:
    """Validate the flags of ``--reference`` mode; :class:`UsageError` / ValueError if bad."""
    if args.steps < 1:
        raise UsageError(f"invalid --steps {args.steps} (expected an integer >= 1)")
    if not args.optimizer or len(args.optimizer) != 1:
        raise UsageError(
            f"--reference needs exactly one --optimizer (got {len(args.optimizer or [])})"
        )
    if args.scope == "full":
        raise UsageError("--full cannot be combined with --reference (it has no oracle cases)")
    if args.tolerance is not None:
        try:
            check_tolerance(args.tolerance)
        except ValueError:
            raise UsageError(
                f"invalid --tolerance {args.tolerance} (expected a finite number > 0)"
            ) from None
    options = _json_arguments(args.optimizer_args, "--optimizer-args")
    reference_options = _json_arguments(args.reference_args, "--reference-args")
    ours = resolve(args.optimizer[0], options)
    reference = resolve(
        args.reference,
        options if reference_options is None else reference_options,
        role="reference",
    )
    dtypes = (args.dtype,) if args.dtype else tuple(DTYPES)
    problems = tuple(PROBLEMS)
    if args.scope == "quick":
        dtypes, problems = dtypes[:1], problems[:1]
    return CompareConfig(
        ours=ours,
        reference=reference,
        steps=args.steps,
        dtypes=dtypes,
        problems=problems,
        tolerance=args.tolerance,
        state=not args.params_only,
    )


def format_compare_row(result: OracleResult, options: Mapping[str, Any]) -> tuple[str, ...]:
    """One ``--reference`` table row, cells in :data:`COMPARE_COLUMNS` order."""
    cells = format_row(result)
    # format_row's cells: optimizer, options, dtype, problem, path (the reference), steps, ...
    return (cells[0], result.path, format_options(options), *cells[2:4], *cells[5:])


def run_compare(config: CompareConfig) -> int:
    """Print the ``--reference`` table; 0 when every row passes, 1 otherwise."""
    print(config.describe())
    options = config.ours.kwargs
    plan = [(dtype, problem) for dtype in config.dtypes for problem in config.problems]
    longest = {
        "optimizer": len(config.ours.name),
        "reference": len(config.reference.name),
        "options": len(format_options(options)),
        "dtype": len("float64"),
        "problem": max(len(name) for name in config.problems),
        "steps": len(f"{config.steps} (diverged)"),
        "max abs dev": 9,
        "max rel dev": 9,
        "tolerance": 9,
        "verdict": 4,
    }
    widths = [max(len(column), longest[column]) for column in COMPARE_COLUMNS]
    print(_line(COMPARE_COLUMNS, widths, COMPARE_COLUMNS))
    print("  ".join("-" * w for w in widths))
    started = time.perf_counter()
    results = []
    for dtype, problem in plan:
        result = compare_side_by_side(
            config.ours,
            config.reference,
            PROBLEMS[problem],
            DTYPES[dtype],
            steps=config.steps,
            tolerance=config.tolerance,
            state=config.state,
        )
        results.append(result)
        print(_line(format_compare_row(result, options), widths, COMPARE_COLUMNS), flush=True)
    elapsed = time.perf_counter() - started
    failed = [r for r in results if not r.passed]
    for result in failed:
        detail = result.mismatch or f"worst at {result.worst}"
        dtype = str(result.dtype).removeprefix("torch.")
        print(f"FAIL {dtype} {result.problem}: {detail}")
    worst = max((r.max_rel for r in results), default=0.0)
    print(
        f"{len(results)} comparisons in {elapsed:.1f} s: {len(results) - len(failed)} pass, "
        f"{len(failed)} fail; largest relative deviation {_number(worst)}"
    )
    return 1 if failed else 0
