"""``adamlab run``: the seed's experiment done right, or any experiment from a TOML spec."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from adamlab.bench.spec import default_spec_dict, load_spec, spec_from_dict


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


def handle(args: argparse.Namespace) -> int:
    from adamlab.bench.runner import run_experiment

    data = build_spec_dict(args)
    if "__config__" in data:
        if args.starts is not None:
            raise ValueError("--starts cannot be combined with --config (set n in the file)")
        spec = load_spec(data.pop("__config__"), data)
    else:
        spec = spec_from_dict(data)
    print(spec.describe(), flush=True)
    print(f"writing to {args.out}", flush=True)

    total = len(spec.optimizers) * len(spec.functions) * spec.steps
    bar = None
    if not args.quiet:
        from tqdm import tqdm

        bar = tqdm(total=total, unit="step", file=sys.stderr, mininterval=1.0, smoothing=0.1)

    def on_unit(unit: Any, reused: bool) -> None:
        note = " (already recorded)" if reused else f" ({unit.seconds:.1f} s)"
        message = f"  done {unit.optimizer} on {unit.function}{note}"
        if bar is not None:
            bar.write(message)
        else:
            print(message, flush=True)

    try:
        run_experiment(spec, args.out, progress=bar.update if bar else None, on_unit=on_unit)
    finally:
        if bar is not None:
            bar.close()
    if not args.no_report:
        from adamlab.report.html import write_report

        written = write_report(args.out)
        print(f"wrote {len(written)} files; open {args.out / 'report.html'}")
    return 0
