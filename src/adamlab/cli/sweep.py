"""``adamlab sweep``: tune every optimizer's learning rate on one shared grid, then evaluate."""

from __future__ import annotations

import argparse
import tomllib
from pathlib import Path
from typing import Any

from adamlab.bench.spec import default_spec_dict
from adamlab.cli.merge import add_distribution_arguments, distribution_from_args
from adamlab.cli.progress import unit_progress

#: Steps and starts of the default sweep (smaller than `adamlab run`: 25 lrs per run).
DEFAULT_STEPS = 5_000
DEFAULT_STARTS = 50


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "sweep",
        help="tune each optimizer's lr on one shared log grid, then evaluate on fresh starts",
        description=(
            "Run every optimizer over one shared log-spaced learning-rate grid on every "
            "function from a tuning start set, choose per optimizer the best lr per function "
            "and the best single lr for all functions, and re-run the single lr (beside the "
            "given settings) from a disjoint evaluation start set. Writes DIR/tuning and "
            "DIR/evaluation records, DIR/sweep.json (choices and tuning budget), the "
            "learning-rate sensitivity figure and the report (see `adamlab report`)."
        ),
    )
    parser.add_argument(
        "--config",
        type=Path,
        help="TOML experiment spec (optimizers, functions, steps, ...); an optional [sweep] "
        "table may set lr_grid = [lo, hi, n], tune_starts, eval_starts, target",
    )
    parser.add_argument("--out", type=Path, default=Path("adamlab-sweep"), help="output directory")
    parser.add_argument("--steps", type=int, help=f"steps per run (default {DEFAULT_STEPS})")
    parser.add_argument(
        "--starts", type=int, help=f"tuning starts and evaluation starts (default {DEFAULT_STARTS})"
    )
    parser.add_argument(
        "--lr-grid",
        nargs=3,
        metavar=("LO", "HI", "N"),
        help="log-spaced learning-rate grid (default 1e-5 10 25)",
    )
    parser.add_argument("--functions", nargs="+", metavar="NAME", help="functions or suites")
    parser.add_argument("--no-compile", action="store_true", help="run eagerly (no torch.compile)")
    parser.add_argument("--no-report", action="store_true", help="write records only")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    add_distribution_arguments(parser)
    parser.set_defaults(handler=handle)


def _read_config(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValueError(f"config file not found: {path}") from None
    except tomllib.TOMLDecodeError as error:
        raise ValueError(f"invalid TOML in {path}: {error}") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ValueError(f"cannot read config file {path}: {error}") from None


def _grid_args(raw: Any) -> tuple[float, float, int]:
    try:
        low, high, points = raw
        n = int(points)
        if float(n) != float(points):
            raise ValueError
        return float(low), float(high), n
    except (TypeError, ValueError):
        raise ValueError(f"invalid lr grid: {raw!r} (expected LO HI N, e.g. 1e-5 10 25)") from None


def build_sweep_args(args: argparse.Namespace) -> tuple[dict[str, Any], dict[str, Any]]:
    """(base spec dict, sweep options) from the flags and the optional config file."""
    from adamlab.bench.sweep import DEFAULT_LR_GRID, lr_grid

    if args.config is not None:
        base = _read_config(args.config)
    else:
        base = {**default_spec_dict(), "steps": DEFAULT_STEPS}
    sweep_table = base.pop("sweep", {})
    if not isinstance(sweep_table, dict):
        raise ValueError(f"invalid [sweep] table: {sweep_table!r}")
    unknown = set(sweep_table) - {"lr_grid", "tune_starts", "eval_starts", "target"}
    if unknown:
        raise ValueError(f"unknown [sweep] key {sorted(unknown)[0]!r}")
    if args.steps is not None:
        base["steps"] = args.steps
    if args.functions:
        base["functions"] = list(args.functions)
    if args.no_compile:
        base["compile"] = False
    grid_raw = args.lr_grid or sweep_table.get("lr_grid") or DEFAULT_LR_GRID
    options: dict[str, Any] = {
        "grid": lr_grid(*_grid_args(grid_raw)),
        "tune_starts": sweep_table.get("tune_starts", DEFAULT_STARTS),
        "eval_starts": sweep_table.get("eval_starts", DEFAULT_STARTS),
        "target": sweep_table.get("target"),
    }
    if args.starts is not None:
        options["tune_starts"] = options["eval_starts"] = args.starts
    for key in ("tune_starts", "eval_starts"):
        value = options[key]
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"invalid {key}: {value!r} (expected an integer >= 1)")
    return base, options


def handle(args: argparse.Namespace) -> int:
    from adamlab.bench.spec import spec_from_dict
    from adamlab.bench.sweep import run_sweep, tuning_spec_dict

    shard, executor = distribution_from_args(args)
    base, options = build_sweep_args(args)
    tuning = spec_from_dict(tuning_spec_dict(base, options["grid"], options["tune_starts"]))
    print(tuning.describe().splitlines()[0], flush=True)
    grid = options["grid"]
    print(
        f"  lr grid: {len(grid)} points {grid[0]:g} .. {grid[-1]:g} (log-spaced, shared); "
        f"{options['tune_starts']} tuning starts, {options['eval_starts']} evaluation starts",
        flush=True,
    )
    print(f"writing to {args.out}", flush=True)
    n_opt, n_fn = len(tuning.optimizers), len(tuning.functions)
    total = 3 * n_opt * n_fn * tuning.steps  # tuning once, evaluation twice per optimizer
    if shard is not None:
        from adamlab.bench.shard import run_sweep_shard, sweep_shard_units

        # one phase (the tuning, or the evaluation once DIR/tuning holds the merged tuning)
        total = len(sweep_shard_units(base, args.out, shard, options)) * tuning.steps
    with unit_progress(total, args.quiet) as (progress, on_unit):
        if shard is not None:
            info = run_sweep_shard(
                base,
                args.out,
                shard,
                progress=progress,
                on_unit=on_unit,
                executor=executor,
                **options,
            )
        else:
            result = run_sweep(
                base,
                args.out,
                progress=progress,
                on_unit=on_unit,
                executor=executor,
                **options,
            )
    if shard is not None:
        folder = args.out / info["phase"]
        print(f"shard {shard} of the {info['phase']}: {len(info['units'])} units in {folder}")
        print(f"next: adamlab merge OUT <the {shard.count} shard folders of this phase>")
        return 0
    for label, choice in result["choices"].items():
        per = ", ".join(f"{f} {c['lr']:g}" for f, c in choice["per_function"].items())
        print(f"  {label}: lr {choice['lr']:g} for all functions (per function: {per})")
    print(f"  {result['budget_text']}")
    if not args.no_report:
        from adamlab.report.html import write_report

        written = write_report(args.out)
        print(f"wrote {len(written)} files; open {args.out / 'report.html'}")
    return 0
