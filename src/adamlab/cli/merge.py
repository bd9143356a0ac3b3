"""``adamlab merge OUT SHARD_DIR...``: combine ``--shard k/N`` folders into one run's records.

Also home of the ``--shard``, ``--executor``, ``--workers`` and ``--ray-address`` flags that
``adamlab run`` and ``adamlab sweep`` share (:func:`add_distribution_arguments`).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from adamlab.bench.executors import Executor
    from adamlab.bench.shard import Shard


def add_distribution_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``--shard``, ``--executor``, ``--workers`` and ``--ray-address`` to a running
    subcommand."""
    parser.add_argument(
        "--shard",
        metavar="K/N",
        help="run only shard K of N (1 <= K <= N) of the units, e.g. 2/3; combine the N "
        "output folders with `adamlab merge` (see docs/sharding.md)",
    )
    parser.add_argument(
        "--executor",
        choices=("local", "ray"),
        default="local",
        help="where units run: on this machine (default) or as Ray tasks "
        '(needs pip install "adamlab[ray]")',
    )
    parser.add_argument(
        "--workers",
        metavar="N",
        help="with --executor local: how many batches (one per optimizer) run at once, each in "
        "a worker process of its own with --threads threads (default 1: one after another in "
        "this process; auto: usable cores // threads)",
    )
    parser.add_argument(
        "--ray-address",
        metavar="ADDR",
        help="address of a running Ray cluster (default: start a local one); with --executor ray",
    )


def distribution_from_args(args: argparse.Namespace) -> tuple[Shard | None, Executor]:
    """The validated shard (None: all units) and executor of the flags."""
    from adamlab.bench.executors import make_executor
    from adamlab.bench.shard import parse_shard

    shard = parse_shard(args.shard) if args.shard is not None else None
    return shard, make_executor(args.executor, args.ray_address, _parse_workers(args))


def _parse_workers(args: argparse.Namespace) -> int | None:
    """``--workers`` as :class:`~adamlab.bench.executors.LocalExecutor` takes it (None: auto),
    1 where it is not given; with another executor it must not be given."""
    text = args.workers
    if args.executor != "local" and text is not None:
        raise ValueError(f"invalid --workers: {text!r} (needs --executor local)")
    if text is None:
        return 1
    if text == "auto":
        return None
    try:
        workers = int(text)
    except ValueError:
        workers = 0
    if workers < 1:
        raise ValueError(f"invalid --workers: {text!r} (expected an integer >= 1 or auto)")
    return workers


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "merge",
        help="combine the folders of `run --shard` or `sweep --shard` into one run's records",
        description=(
            "Check that the shard folders hold one experiment (equal spec fingerprints), "
            "every shard k/N exactly once and every unit of each, then copy the units into "
            "OUT and write runs.csv and manifest.json as an unsharded run writes them. "
            "Sweep shards: tuning shards merge into OUT/tuning (then evaluate with "
            "`adamlab sweep --out OUT`, or shard the evaluation); evaluation shards merge "
            "into OUT/evaluation and OUT/sweep.json is written."
        ),
    )
    parser.add_argument("out", type=Path, metavar="OUT", help="output folder of the merged run")
    parser.add_argument(
        "shards", type=Path, nargs="+", metavar="SHARD_DIR", help="the N shard output folders"
    )
    parser.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    from adamlab.bench.shard import merge

    result = merge(args.out, args.shards)
    count = len(args.shards)
    if result["kind"] == "run":
        spec = result["spec"]
        units = len(spec.optimizers) * len(spec.functions)
        print(
            f"merged {count} shards of experiment {spec.fingerprint()[:12]} "
            f"({units} units) into {args.out}"
        )
        print(f"next: adamlab report {args.out}")
    elif result["phase"] == "tuning":
        print(f"merged the tuning of {count} sweep shards into {args.out / 'tuning'}")
        print(
            f"next: adamlab sweep --out {args.out} (the same options) runs the evaluation here; "
            "or copy the folder to each machine and run `adamlab sweep --shard K/N` on the "
            "copies, then merge those"
        )
    else:
        print(f"merged the evaluation of {count} sweep shards into {args.out}")
        for label, choice in result["sweep"]["choices"].items():
            print(f"  {label}: lr {choice['lr']:g} for all functions")
        print(f"next: adamlab report {args.out}")
    return 0
