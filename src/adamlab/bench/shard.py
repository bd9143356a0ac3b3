"""Split an experiment across machines, then merge the pieces into the records of one run.

**Units and shards.** The units of an experiment are its (optimizer, function) pairs in spec
order: optimizers as listed, and the functions as listed within each optimizer. Shard k of N
(k = 1 .. N) takes units k - 1, k - 1 + N, k - 1 + 2N, ... (round robin). The order comes from
the spec alone, so the same spec gives shard k the same units on every machine, and the
shards' sizes differ by at most one unit. Each shard writes an ordinary output folder whose
manifest records ``shard = {index: k, count: N, units: [...]}`` beside the spec fingerprint.

**Merge.** :func:`merge_records` checks that the shard folders hold one experiment (equal
fingerprints), one split (equal N), every shard exactly once and every unit of each shard;
it then copies the unit files unchanged and writes ``runs.csv`` and the manifest with the
functions an unsharded run uses, over the units in the same order. The merged records
therefore equal an unsharded run's, wall-clock timings aside.

**Sweeps.** A sweep's evaluation depends on the learning rates chosen from *all* tuning
units, so it runs in two passes (:func:`run_sweep_shard`, :func:`merge_sweep`):

1. ``adamlab sweep --shard k/N --out A_k`` runs shard k of the tuning units into
   ``A_k/tuning``; ``adamlab merge M A_1 .. A_N`` merges them into ``M/tuning``.
2. Either ``adamlab sweep --out M`` (one machine) finds every tuning unit recorded, chooses
   the learning rates and runs the evaluation, as a resumed sweep does; or a copy ``B_k`` of
   ``M`` on each machine runs ``adamlab sweep --shard k/N --out B_k``: with the merged (whole)
   tuning in ``B_k/tuning`` the shard runs shard k of the evaluation units, and
   ``adamlab merge F B_1 .. B_N`` merges them and writes ``F/sweep.json``.

Each sweep shard writes ``sweep-shard.json`` (phase, shard, base experiment, sweep options)
so a merge can check that its inputs belong to one sweep and finish it.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from adamlab.bench import records
from adamlab.bench.spec import ExperimentSpec, OptimizerSpec, spec_from_dict

if TYPE_CHECKING:
    from adamlab.bench.engine import UnitResult
    from adamlab.bench.executors import Executor

__all__ = [
    "SWEEP_SHARD_JSON",
    "Shard",
    "experiment_units",
    "merge",
    "merge_records",
    "merge_sweep",
    "parse_shard",
    "run_sweep_shard",
    "shard_units",
    "sweep_shard_units",
    "unit_key",
]

SWEEP_SHARD_JSON = "sweep-shard.json"
_T = TypeVar("_T")
_SHAPE = "k/N with integers N >= 1 and 1 <= k <= N, e.g. 2/3"


def _check_shard(index: int, count: int, name: str, text: str) -> None:
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise ValueError(f"invalid {name}: {text!r} (expected {_SHAPE})")
    if isinstance(index, bool) or not isinstance(index, int) or not 1 <= index <= count:
        raise ValueError(f"invalid {name}: {text!r} (expected 1 <= k <= {count} in k/{count})")


@dataclass(frozen=True)
class Shard:
    """Shard ``index`` of ``count`` (1-based: 1 <= index <= count).

    >>> Shard(2, 3).select(["a", "b", "c", "d", "e"])
    ['b', 'e']
    >>> Shard(4, 3)
    Traceback (most recent call last):
    ...
    ValueError: invalid shard: '4/3' (expected 1 <= k <= 3 in k/3)
    """

    index: int
    count: int

    def __post_init__(self) -> None:
        _check_shard(self.index, self.count, "shard", f"{self.index}/{self.count}")

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    def select(self, items: Sequence[_T]) -> list[_T]:
        """This shard's items of ``items``: round robin, the first to shard 1."""
        return list(items[self.index - 1 :: self.count])

    def to_json(self) -> dict[str, int]:
        return {"index": self.index, "count": self.count}


def parse_shard(text: str, name: str = "--shard") -> Shard:
    """Parse ``"k/N"``; a ValueError names ``name``, the value and the valid range.

    >>> parse_shard("2/3")
    Shard(index=2, count=3)
    >>> parse_shard("0/3")
    Traceback (most recent call last):
    ...
    ValueError: invalid --shard: '0/3' (expected 1 <= k <= 3 in k/3)
    """
    match = re.fullmatch(r"\s*([0-9]+)\s*/\s*([0-9]+)\s*", text)
    if match is None:
        raise ValueError(f"invalid {name}: {text!r} (expected {_SHAPE})")
    index, count = int(match.group(1)), int(match.group(2))
    _check_shard(index, count, name, text)
    return Shard(index, count)


def experiment_units(spec: ExperimentSpec) -> list[tuple[OptimizerSpec, str]]:
    """Every (optimizer, function) unit of ``spec``, in spec order."""
    return [(optimizer, function) for optimizer in spec.optimizers for function in spec.functions]


def unit_key(optimizer: str, function: str) -> str:
    """How a unit is named in manifests and messages: ``"adam/booth"``."""
    return f"{optimizer}/{function}"


def shard_units(spec: ExperimentSpec, shard: Shard | None) -> list[tuple[OptimizerSpec, str]]:
    """The units of ``shard`` (all units when None); N may not exceed the unit count."""
    units = experiment_units(spec)
    if shard is None:
        return units
    if shard.count > len(units):
        raise ValueError(
            f"invalid --shard: '{shard}' (the experiment has {len(units)} units: expected "
            f"N <= {len(units)})"
        )
    return shard.select(units)


def shard_manifest(spec: ExperimentSpec, shard: Shard) -> dict[str, Any]:
    """The manifest entry of a shard: its k, N and unit names."""
    units = [unit_key(o.label, f) for o, f in shard_units(spec, shard)]
    return {**shard.to_json(), "units": units}


# -- merging record folders -------------------------------------------------------------------


def _distinct_sources(out: Path, sources: Sequence[Path]) -> None:
    if not sources:
        raise ValueError("nothing to merge: give at least one shard directory")
    seen: dict[Path, Path] = {}
    for source in sources:
        resolved = source.resolve()
        if resolved in seen:
            raise ValueError(f"shard directory given twice: {seen[resolved]} and {source}")
        seen[resolved] = source
        if resolved == out.resolve():
            raise ValueError(f"the merge output {out} is one of the shard directories")


def _read_shard(source: Path, manifest: Mapping[str, Any]) -> Shard:
    raw = manifest.get("shard")
    if not isinstance(raw, Mapping):
        raise ValueError(
            f"{source} holds a whole experiment, not a shard (its manifest records no "
            "--shard k/N); nothing to merge"
        )
    return Shard(int(raw["index"]), int(raw["count"]))


def _same_experiment(sources: Sequence[Path], manifests: Sequence[Mapping[str, Any]]) -> None:
    first = manifests[0].get("fingerprint")
    for source, manifest in zip(sources, manifests, strict=True):
        if manifest.get("fingerprint") != first:
            raise ValueError(
                f"shards of different experiments: {sources[0]} holds spec {str(first)[:12]}, "
                f"{source} holds spec {str(manifest.get('fingerprint'))[:12]}"
            )


def _stored_spec(source: Path, manifest: Mapping[str, Any]) -> ExperimentSpec:
    spec = spec_from_dict(records._spec_input(manifest["spec"]))
    if spec.fingerprint() != manifest.get("fingerprint"):
        raise ValueError(
            f"{source}: the stored spec does not match its fingerprint (records of another "
            "adamlab version?)"
        )
    return spec


def _names(keys: Sequence[str], limit: int = 4) -> str:
    more = f", ... ({len(keys)} in all)" if len(keys) > limit else ""
    return ", ".join(keys[:limit]) + more


def _check_out(out: Path, spec: ExperimentSpec) -> None:
    """Refuse, before anything is written, an ``out`` holding other records than ``spec``'s."""
    if not (out / records.MANIFEST).exists():
        return
    manifest = records.read_manifest(out)
    records.refuse_other_experiment(
        out, manifest, spec.fingerprint(), "choose another output folder or delete it"
    )
    if manifest.get("shard") is not None:
        raise ValueError(f"{out} is a shard folder; merge into another folder")


def merge_records(out: str | Path, sources: Sequence[str | Path]) -> ExperimentSpec:
    """Merge the shard folders ``sources`` (all N shards of one experiment) into ``out``.

    Raises ValueError, before anything is written, when the folders hold different
    experiments or splits, a shard is missing or given twice, a shard is unfinished, or a
    folder holds a unit of another shard.
    """
    return _plan_merge(Path(out), [Path(source) for source in sources])()


def _plan_merge(out: Path, paths: list[Path]) -> Callable[[], ExperimentSpec]:
    """Check a merge of shard folders; return the function that writes it."""
    _distinct_sources(out, paths)
    manifests = [records.read_manifest(source) for source in paths]
    _same_experiment(paths, manifests)
    spec = _stored_spec(paths[0], manifests[0])
    shards = [_read_shard(s, m) for s, m in zip(paths, manifests, strict=True)]
    count = shards[0].count
    for source, shard in zip(paths, shards, strict=True):
        if shard.count != count:
            raise ValueError(
                f"shards of different splits: {paths[0]} is shard {shards[0]}, {source} is "
                f"shard {shard} (expected one N for all)"
            )
    owner: dict[int, Path] = {}
    for source, shard in zip(paths, shards, strict=True):
        if shard.index in owner:
            raise ValueError(f"duplicate shard {shard}: {owner[shard.index]} and {source}")
        owner[shard.index] = source
    missing = [k for k in range(1, count + 1) if k not in owner]
    if missing:
        keys = [
            unit_key(o.label, f) for k in missing for o, f in shard_units(spec, Shard(k, count))
        ]
        raise ValueError(
            f"missing shard{'s' if len(missing) > 1 else ''} "
            f"{', '.join(f'{k}/{count}' for k in missing)} (units {_names(keys)}): "
            f"give all {count} shard directories"
        )
    source_of: dict[str, Path] = {}
    for source, shard in zip(paths, shards, strict=True):
        expected = {
            records.unit_filename(o.label, f): unit_key(o.label, f)
            for o, f in shard_units(spec, shard)
        }
        present = {p.name for p in (source / records.UNITS_DIR).glob("*.npz")}
        lacking = [key for name, key in expected.items() if name not in present]
        if lacking:
            raise ValueError(
                f"{source}: shard {shard} is unfinished, {len(lacking)} of its {len(expected)} "
                f"units missing ({_names(lacking)}); run the same command again to finish it"
            )
        stray = sorted(present - set(expected))
        if stray:
            raise ValueError(
                f"{source}: {stray[0]} does not belong to shard {shard} (a unit of another "
                "shard, recorded twice?)"
            )
        source_of.update(dict.fromkeys(expected, source))
    _check_out(out, spec)
    return lambda: _write_merge(out, spec, paths, shards, manifests, source_of)


def _write_merge(
    out: Path,
    spec: ExperimentSpec,
    paths: Sequence[Path],
    shards: Sequence[Shard],
    manifests: Sequence[Mapping[str, Any]],
    source_of: Mapping[str, Path],
) -> ExperimentSpec:
    import torch

    from adamlab.bench.runner import complete_manifest, prepare_output

    # the manifest's environment records torch's thread count: the spec's, as in a run
    torch.set_num_threads(spec.threads)
    prepare_output(out, spec)
    started = time.perf_counter()
    units: list[UnitResult] = []
    for optimizer, function in experiment_units(spec):
        name = records.unit_filename(optimizer.label, function)
        data = (source_of[name] / records.UNITS_DIR / name).read_bytes()
        records.atomic_write_bytes(out / records.UNITS_DIR / name, data)
        units.append(records.read_unit(out / records.UNITS_DIR / name))
    records.write_runs_csv(out, units, spec.targets)
    merged_from = [
        {
            "directory": str(source),
            "shard": shard.to_json(),
            "environment": manifest.get("environment"),
            "wall_seconds": manifest.get("timings", {}).get("wall_seconds_this_invocation"),
        }
        for source, shard, manifest in sorted(
            zip(paths, shards, manifests, strict=True), key=lambda item: item[1].index
        )
    ]
    records.write_manifest(
        out, spec, {**complete_manifest(units, started), "merged_from": merged_from}
    )
    return spec


def _plan_copy_whole(out: Path, sources: Sequence[Path]) -> Callable[[], None]:
    """Check that every source holds one complete, unsharded record folder identically;
    return the function that copies it to ``out``."""
    manifests = [records.read_manifest(source) for source in sources]
    _same_experiment(sources, manifests)
    spec = _stored_spec(sources[0], manifests[0])
    for source, manifest in zip(sources, manifests, strict=True):
        if manifest.get("shard") is not None or manifest.get("status") != "complete":
            raise ValueError(f"{source} does not hold the complete (merged) tuning records")
        if (source / records.RUNS_CSV).read_bytes() != (sources[0] / records.RUNS_CSV).read_bytes():
            raise ValueError(f"the tuning records in {sources[0]} and {source} differ")
    _check_out(out, spec)

    def write() -> None:
        from adamlab.bench.runner import prepare_output

        prepare_output(out, spec)
        names = [records.unit_filename(o.label, f) for o, f in experiment_units(spec)]
        for name in names:
            data = (sources[0] / records.UNITS_DIR / name).read_bytes()
            records.atomic_write_bytes(out / records.UNITS_DIR / name, data)
        for name in (records.RUNS_CSV, records.MANIFEST):
            records.atomic_write_bytes(out / name, (sources[0] / name).read_bytes())

    return write


# -- sweeps -------------------------------------------------------------------------------------


def _holds_whole(folder: Path, spec: ExperimentSpec) -> bool:
    """True when ``folder`` holds ``spec``'s complete records, merged or never sharded."""
    if not (folder / records.MANIFEST).exists():
        return False
    manifest = records.read_manifest(folder)
    return (
        manifest.get("fingerprint") == spec.fingerprint()
        and manifest.get("shard") is None
        and manifest.get("status") == "complete"
    )


def _sweep_phase(
    base: Mapping[str, Any],
    out: Path,
    grid: Sequence[float],
    tune_starts: int,
    eval_starts: int,
    target: float | None,
) -> tuple[str, Path, ExperimentSpec]:
    """(phase, its record folder, its spec) of a sweep shard run into ``out``."""
    from adamlab.bench import sweep

    tuning_spec = spec_from_dict(sweep.tuning_spec_dict(base, grid, tune_starts))
    tuning_dir = out / sweep.TUNING_DIR
    if not _holds_whole(tuning_dir, tuning_spec):
        return "tuning", tuning_dir, tuning_spec
    tuning = records.Records(tuning_dir)
    chosen = target if target is not None else sweep.default_target(tuning_spec.targets)
    choices = sweep.choose_learning_rates(tuning, chosen)
    lrs = {label: choice.lr for label, choice in choices.items()}
    spec = spec_from_dict(sweep.evaluation_spec_dict(base, lrs, eval_starts))
    return "evaluation", out / sweep.EVALUATION_DIR, spec


def sweep_shard_units(
    base: Mapping[str, Any], out: str | Path, shard: Shard, options: Mapping[str, Any]
) -> list[tuple[OptimizerSpec, str]]:
    """The units :func:`run_sweep_shard` with these options would run into ``out`` (all of
    them, recorded or not): shard ``shard`` of the tuning or of the evaluation."""
    from adamlab.bench import sweep

    grid = options.get("grid") or sweep.lr_grid(*sweep.DEFAULT_LR_GRID)
    _, _, spec = _sweep_phase(
        base,
        Path(out),
        grid,
        options.get("tune_starts", 50),
        options.get("eval_starts", 50),
        options.get("target"),
    )
    return shard_units(spec, shard)


def run_sweep_shard(
    base: Mapping[str, Any],
    out: str | Path,
    shard: Shard,
    *,
    grid: Sequence[float] | None = None,
    tune_starts: int = 50,
    eval_starts: int = 50,
    target: float | None = None,
    progress: Callable[[int], None] | None = None,
    on_unit: Callable[[UnitResult, bool], None] | None = None,
    executor: Executor | None = None,
) -> dict[str, Any]:
    """Run shard ``shard`` of one phase of a sweep into ``out`` and describe it.

    The phase is the tuning unless ``out/tuning`` already holds the complete, merged tuning
    records of this sweep; then it is the evaluation at the learning rates chosen from them.
    Arguments are those of :func:`adamlab.bench.sweep.run_sweep`. Returns (and writes to
    ``out/sweep-shard.json``) the phase, the shard, the base experiment, the sweep options,
    the phase's spec fingerprint and the units run.
    """
    from adamlab.bench import sweep
    from adamlab.bench.runner import run_experiment

    out = Path(out)
    if grid is None:
        grid = sweep.lr_grid(*sweep.DEFAULT_LR_GRID)
    grid = tuple(float(v) for v in grid)
    phase, folder, spec = _sweep_phase(base, out, grid, tune_starts, eval_starts, target)
    units = run_experiment(
        spec, folder, progress=progress, on_unit=on_unit, shard=shard, executor=executor
    )
    info = {
        "phase": phase,
        "shard": shard.to_json(),
        "base": json.loads(json.dumps(dict(base))),
        "options": {
            "grid": list(grid),
            "tune_starts": tune_starts,
            "eval_starts": eval_starts,
            "target": target,
        },
        "fingerprint": spec.fingerprint(),
        "units": [unit_key(u.optimizer, u.function) for u in units],
    }
    records.atomic_write_text(
        out / SWEEP_SHARD_JSON, json.dumps(info, indent=2, sort_keys=True) + "\n"
    )
    return info


def _read_sweep_shard(source: Path) -> dict[str, Any]:
    path = source / SWEEP_SHARD_JSON
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValueError(f"{source} is not a sweep shard: {SWEEP_SHARD_JSON} not found") from None
    except json.JSONDecodeError as error:
        raise ValueError(f"corrupt {path}: {error}") from None
    return data


def merge_sweep(out: str | Path, sources: Sequence[str | Path]) -> dict[str, Any]:
    """Merge the folders of ``adamlab sweep --shard k/N`` runs into ``out``.

    Tuning shards merge into ``out/tuning``; the evaluation then still has to run (see the
    module docstring). Evaluation shards merge into ``out/evaluation`` beside their common
    tuning records, and the sweep is finished: ``out/sweep.json`` is written by
    :func:`~adamlab.bench.sweep.run_sweep`, which finds every unit recorded and runs nothing.

    Returns ``{"phase": ..., "sweep": sweep.json's dict or None}``.
    """
    from adamlab.bench import sweep

    out = Path(out)
    paths = [Path(source) for source in sources]
    _distinct_sources(out, paths)
    infos = [_read_sweep_shard(source) for source in paths]
    for source, info in zip(paths, infos, strict=True):
        for key in ("base", "options"):
            if info.get(key) != infos[0].get(key):
                raise ValueError(
                    f"shards of different sweeps: {paths[0]} and {source} differ in their "
                    f"{'base experiment' if key == 'base' else 'sweep options'}"
                )
    phases = sorted({str(info.get("phase")) for info in infos})
    if phases == ["tuning"]:
        merge_records(out / sweep.TUNING_DIR, [p / sweep.TUNING_DIR for p in paths])
        return {"phase": "tuning", "sweep": None}
    if phases != ["evaluation"]:
        raise ValueError(
            f"cannot merge sweep shards of different phases ({', '.join(phases)}): merge the "
            "tuning shards first, then the evaluation shards"
        )
    # check both parts before writing either
    copy_tuning = _plan_copy_whole(out / sweep.TUNING_DIR, [p / sweep.TUNING_DIR for p in paths])
    evaluation = [p / sweep.EVALUATION_DIR for p in paths]
    merge_evaluation = _plan_merge(out / sweep.EVALUATION_DIR, evaluation)
    copy_tuning()
    merge_evaluation()
    options = infos[0]["options"]
    result = sweep.run_sweep(
        infos[0]["base"],
        out,
        grid=options["grid"],
        tune_starts=options["tune_starts"],
        eval_starts=options["eval_starts"],
        target=options["target"],
    )
    return {"phase": "evaluation", "sweep": result}


def merge(out: str | Path, sources: Sequence[str | Path]) -> dict[str, Any]:
    """Merge ``adamlab run --shard`` folders or ``adamlab sweep --shard`` folders into ``out``.

    Returns ``{"kind": "run" | "sweep", "phase": ..., "spec": ..., "sweep": ...}``.
    """
    paths = [Path(source) for source in sources]
    is_sweep = [(p / SWEEP_SHARD_JSON).exists() for p in paths]
    if all(is_sweep):
        return {"kind": "sweep", **merge_sweep(out, paths)}
    if any(is_sweep):
        first_sweep = paths[is_sweep.index(True)]
        first_run = paths[is_sweep.index(False)]
        raise ValueError(
            f"cannot merge a sweep shard ({first_sweep}) with a run shard ({first_run})"
        )
    return {"kind": "run", "phase": None, "spec": merge_records(out, paths), "sweep": None}
