"""Run a whole experiment into an output directory, unit by unit, resumably.

Each finished (optimizer, function) unit is written atomically as soon as it finishes; a
second run with the same spec and directory skips the units already there. A different spec
pointed at the same directory is refused, so records of two experiments never mix.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch

from adamlab.bench import records
from adamlab.bench.drivers import schedule_factor, validated_group
from adamlab.bench.engine import UnitResult
from adamlab.bench.executors import Executor, LocalExecutor
from adamlab.bench.shard import Shard, shard_manifest, shard_units
from adamlab.bench.spec import ExperimentSpec


def check_optimizers(spec: ExperimentSpec) -> None:
    """Import and construct every optimizer once (ValueError on a bad one), so a spec whose
    ``module:Class``, hyperparameters or schedule are wrong fails before anything is written."""
    for optimizer in spec.optimizers:
        validated_group(optimizer)
        schedule_factor(optimizer.schedule, 1)


def prepare_output(out: Path, spec: ExperimentSpec, shard: Shard | None = None) -> None:
    """Create ``out`` (or check it is this spec's, and this shard's) and write the manifest."""
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as error:
        raise ValueError(f"cannot write to output directory {out}: {error.strerror}") from None
    manifest_path = out / records.MANIFEST
    if manifest_path.exists():
        existing = records.read_manifest(out)
        records.refuse_other_experiment(
            out, existing, spec.fingerprint(), "choose another --out or delete it"
        )
        # a run killed while writing a unit leaves that write's temporary file behind; the
        # unit itself is not recorded and runs again
        for stale in (out / records.UNITS_DIR).glob(".*.tmp"):
            stale.unlink(missing_ok=True)
        held = existing.get("shard")
        held_pair = (held["index"], held["count"]) if held else None
        if held_pair != ((shard.index, shard.count) if shard else None):
            what = f"shard {held['index']}/{held['count']}" if held else "the whole experiment"
            wanted = f"shard {shard}" if shard else "the whole experiment"
            raise ValueError(
                f"{out} holds {what} of this experiment, not {wanted}; choose another --out "
                "(shards are combined with `adamlab merge`)"
            )
    else:
        records.write_manifest(out, spec, {"status": "running", **_shard_entry(spec, shard)})


def _shard_entry(spec: ExperimentSpec, shard: Shard | None) -> dict[str, Any]:
    return {"shard": shard_manifest(spec, shard)} if shard is not None else {}


def complete_manifest(units: Sequence[UnitResult], started: float) -> dict[str, Any]:
    """The manifest entries of a finished folder: status and the units' wall-clock timings."""
    timings = {
        f"{unit.optimizer}/{unit.function}": {
            "seconds": unit.seconds,
            "first_chunk_seconds": unit.compile_seconds,
            "steps_run": unit.steps_run,
        }
        for unit in units
    }
    return {
        "status": "complete",
        "timings": {
            "units": timings,
            "wall_seconds_this_invocation": time.perf_counter() - started,
            "row_steps": sum(len(u.lr) * u.steps_run for u in units),
        },
    }


def run_experiment(
    spec: ExperimentSpec,
    out: Path,
    progress: Callable[[int], None] | None = None,
    on_unit: Callable[[UnitResult, bool], None] | None = None,
    *,
    shard: Shard | None = None,
    executor: Executor | None = None,
) -> list[UnitResult]:
    """Run every unit not yet recorded in ``out``; return all units (loaded or new).

    Args:
        shard: run only this shard's units (see :mod:`adamlab.bench.shard`); the manifest
            records it, and ``adamlab merge`` combines the shards' folders.
        executor: runs the missing units (default: one after another in this process); the
            records are written here, the same whichever executor computed them.
    """
    torch.set_num_threads(spec.threads)
    check_optimizers(spec)
    wanted = shard_units(spec, shard)
    prepare_output(out, spec, shard)
    done: dict[tuple[str, str], UnitResult] = {}
    started = time.perf_counter()

    def finished(unit: UnitResult, reused: bool) -> None:
        done[(unit.optimizer, unit.function)] = unit
        if on_unit is not None:
            on_unit(unit, reused)

    missing = []
    for optimizer, function in wanted:
        path = out / records.UNITS_DIR / records.unit_filename(optimizer.label, function)
        if path.exists():
            if progress is not None:
                progress(spec.steps)
            finished(records.read_unit(path), True)
        else:
            missing.append((optimizer, function))
    for unit in (executor or LocalExecutor()).run(spec, missing, progress=progress):
        records.write_unit(out, unit)
        finished(unit, False)
    units = [done[(optimizer.label, function)] for optimizer, function in wanted]
    records.write_runs_csv(out, units, spec.targets)
    records.write_manifest(
        out, spec, {**complete_manifest(units, started), **_shard_entry(spec, shard)}
    )
    return units
