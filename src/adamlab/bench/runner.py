"""Run a whole experiment into an output directory, unit by unit, resumably.

Each finished (optimizer, function) unit is written atomically as soon as it finishes; a
second run with the same spec and directory skips the units already there. A different spec
pointed at the same directory is refused, so records of two experiments never mix.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import torch

from adamlab.bench import records
from adamlab.bench.drivers import schedule_factor, validated_group
from adamlab.bench.engine import UnitResult, run_unit
from adamlab.bench.spec import ExperimentSpec


def check_optimizers(spec: ExperimentSpec) -> None:
    """Import and construct every optimizer once (ValueError on a bad one), so a spec whose
    ``module:Class``, hyperparameters or schedule are wrong fails before anything is written."""
    for optimizer in spec.optimizers:
        validated_group(optimizer)
        schedule_factor(optimizer.schedule, 1)


def prepare_output(out: Path, spec: ExperimentSpec) -> None:
    """Create ``out`` (or check it is this spec's) and write the manifest."""
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
        if existing.get("fingerprint") != spec.fingerprint():
            raise ValueError(
                f"{out} holds records of a different experiment "
                f"(spec {str(existing.get('fingerprint'))[:12]} vs {spec.fingerprint()[:12]}); "
                "choose another --out or delete it"
            )
    else:
        records.write_manifest(out, spec, {"status": "running"})


def run_experiment(
    spec: ExperimentSpec,
    out: Path,
    progress: Callable[[int], None] | None = None,
    on_unit: Callable[[UnitResult, bool], None] | None = None,
) -> list[UnitResult]:
    """Run every unit not yet recorded in ``out``; return all units (loaded or new)."""
    torch.set_num_threads(spec.threads)
    check_optimizers(spec)
    prepare_output(out, spec)
    units: list[UnitResult] = []
    timings: dict[str, dict[str, float]] = {}
    started = time.perf_counter()
    for optimizer in spec.optimizers:
        for function in spec.functions:
            path = out / records.UNITS_DIR / records.unit_filename(optimizer.label, function)
            if path.exists():
                unit = records.read_unit(path)
                reused = True
                if progress is not None:
                    progress(spec.steps)
            else:
                unit = run_unit(spec, optimizer, function, progress=progress)
                records.write_unit(out, unit)
                reused = False
            timings[f"{optimizer.label}/{function}"] = {
                "seconds": unit.seconds,
                "first_chunk_seconds": unit.compile_seconds,
                "steps_run": unit.steps_run,
            }
            units.append(unit)
            if on_unit is not None:
                on_unit(unit, reused)
    records.write_runs_csv(out, units, spec.targets)
    row_steps = sum(len(u.lr) * u.steps_run for u in units)
    records.write_manifest(
        out,
        spec,
        {
            "status": "complete",
            "timings": {
                "units": timings,
                "wall_seconds_this_invocation": time.perf_counter() - started,
                "row_steps": row_steps,
            },
        },
    )
    return units
