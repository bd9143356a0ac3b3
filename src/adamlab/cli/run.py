"""``adamlab run``: the seed's experiment done right, or any experiment from a TOML spec."""

from __future__ import annotations

import argparse
import json
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from adamlab.bench.spec import default_spec_dict, load_spec, spec_from_dict
from adamlab.cli.merge import add_distribution_arguments, distribution_from_args
from adamlab.cli.progress import unit_progress


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "run",
        help="run an experiment (default: the seed's four optimizers on its six functions)",
        description=(
            "Run optimizers x functions x starts in batches and write records, figures, a "
            "summary table and report.md. Without --config it runs the seed notebook's "
            "experiment done right: Adam and SGD at lr 1e-3, AdaGrad and RMSprop at torch's "
            "defaults, the six seed functions, 60,000 steps, 100 starts from each standard "
            "domain and 100 from [-1, 1]^2."
        ),
    )
    parser.add_argument("--config", type=Path, help="TOML experiment spec")
    parser.add_argument("--out", type=Path, default=Path("adamlab-out"), help="output directory")
    parser.add_argument("--steps", type=int, help="steps per run (default 60000)")
    parser.add_argument("--starts", type=int, help="starts per start set (default 100)")
    parser.add_argument("--seed", type=int, help="random seed of the starting points")
    parser.add_argument("--functions", nargs="+", metavar="NAME", help="functions or suites")
    parser.add_argument(
        "--optimizer",
        action="append",
        metavar="NAME",
        help="optimizer registry name or package.module:Class (repeatable; replaces the list)",
    )
    parser.add_argument(
        "--optimizer-args",
        metavar="JSON",
        help="constructor arguments for --optimizer, e.g. '{\"lr\": 1e-3}'",
    )
    parser.add_argument("--dtype", choices=("float32", "float64"))
    parser.add_argument("--threads", type=int, help="torch threads (default 1)")
    parser.add_argument("--no-compile", action="store_true", help="run eagerly (no torch.compile)")
    parser.add_argument("--no-report", action="store_true", help="write records only")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument(
        "--no-tuned",
        action="store_true",
        help="skip the tuned comparison (without --config or --optimizer, the run also tunes "
        "every optimizer's lr on one shared grid into DIR/tuned and compares both regimes)",
    )
    add_distribution_arguments(parser)
    parser.set_defaults(handler=handle)


def build_spec_dict(args: argparse.Namespace) -> dict[str, Any]:
    overrides: dict[str, Any] = {}
    for key in ("steps", "seed", "dtype", "threads"):
        if getattr(args, key) is not None:
            overrides[key] = getattr(args, key)
    if args.functions:
        overrides["functions"] = list(args.functions)
    if args.no_compile:
        overrides["compile"] = False
    if args.optimizer:
        extra: dict[str, Any] = {}
        if args.optimizer_args:
            try:
                extra = json.loads(args.optimizer_args)
            except json.JSONDecodeError as error:
                raise ValueError(f"invalid --optimizer-args JSON: {error}") from None
            if not isinstance(extra, dict):
                raise ValueError(f"invalid --optimizer-args: {extra!r} (expected a JSON object)")
        overrides["optimizers"] = [{"name": name, **extra} for name in args.optimizer]
    elif args.optimizer_args:
        raise ValueError("--optimizer-args needs --optimizer")
    if args.config is not None:
        return {"__config__": str(args.config), **overrides}
    data = {**default_spec_dict(), **overrides}
    if args.starts is not None:
        data["starts"] = [{**s, "n": args.starts} for s in data["starts"]]
    return data


def _run_tuned(
    data: dict[str, Any], spec: Any, args: argparse.Namespace, executor: Any = None
) -> None:
    """The second regime: ``adamlab sweep`` on the run's optimizers and functions into
    DIR/tuned (its default grid, starts and steps, capped at the run's own)."""
    from adamlab.bench.sweep import run_sweep
    from adamlab.cli.sweep import DEFAULT_STARTS, DEFAULT_STEPS
    from adamlab.report.regimes import TUNED_DIR

    starts = min(DEFAULT_STARTS, spec.starts[0].n)
    base = {**data, "steps": min(DEFAULT_STEPS, spec.steps)}
    out = args.out / TUNED_DIR
    print(
        f"tuned comparison: every optimizer's lr on one shared grid, {base['steps']:,} steps, "
        f"{starts} tuning + {starts} evaluation starts per function, into {out}",
        flush=True,
    )
    tuning_units = len(spec.optimizers) * len(spec.functions)
    total = 3 * tuning_units * base["steps"]  # tuning once, evaluation twice per optimizer
    with unit_progress(total, args.quiet) as (progress, on_unit):
        result = run_sweep(
            base,
            out,
            tune_starts=starts,
            eval_starts=starts,
            progress=progress,
            on_unit=on_unit,
            executor=executor,
        )
    for label, choice in result["choices"].items():
        print(f"  {label}: tuned lr {choice['lr']:g} for all functions", flush=True)


def handle(args: argparse.Namespace) -> int:
    from adamlab.bench.runner import check_optimizers, run_experiment
    from adamlab.bench.shard import shard_units

    shard, executor = distribution_from_args(args)
    data = build_spec_dict(args)
    if "__config__" in data:
        if args.starts is not None:
            raise ValueError("--starts cannot be combined with --config (set n in the file)")
        spec = load_spec(data.pop("__config__"), data)
    else:
        spec = spec_from_dict(data)
    # import and construct every optimizer now, so a bad class fails in one line, not after
    # the progress bar has started
    check_optimizers(spec)
    print(spec.describe(), flush=True)
    print(f"writing to {args.out}", flush=True)

    total = len(shard_units(spec, shard)) * spec.steps
    with unit_progress(total, args.quiet) as (progress, on_unit):
        run_experiment(
            spec, args.out, progress=progress, on_unit=on_unit, shard=shard, executor=executor
        )
    if shard is not None:
        print(f"shard {shard} recorded in {args.out}; combine all {shard.count} with adamlab merge")
        return 0
    # the tuned regime belongs to the default experiment; a spec or a custom optimizer list
    # is the user's own experiment, tuned with `adamlab sweep` when they want it
    default_experiment = args.config is None and not args.optimizer
    tuned = default_experiment and not args.no_tuned
    if tuned:
        _run_tuned(data, spec, args, executor)
    if not args.no_report:
        from adamlab.report.html import write_report
        from adamlab.report.regimes import TUNED_DIR

        if tuned:
            # the two reports only read records: the tuned one renders in a second process
            # while this one renders the run's (figures and animations take most of the time)
            with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
                beside = pool.submit(write_report, args.out / TUNED_DIR)
                written = write_report(args.out) + beside.result()
        else:
            written = write_report(args.out)
        print(f"wrote {len(written)} files; open {args.out / 'report.html'}")
    return 0
