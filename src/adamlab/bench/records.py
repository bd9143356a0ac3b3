"""Records: the seam between running and analysis. Plain files, a schema version, no pickle.

Layout of an output directory::

    manifest.json            spec, fingerprint, seed, versions, threads, timings, schema version
    units/<opt>__<fn>.npz    one file per finished (optimizer, function) unit: every array of
                             :class:`adamlab.bench.engine.UnitResult`
    runs.csv                 one line per run (optimizer, function, start set, start, lr): the
                             scalar results, for spreadsheets and pandas

Every file is written to a temporary name and renamed into place, so a killed run never leaves
a half-written record. Analysis (tables, figures, reports) reads these files and never re-runs.
"""

from __future__ import annotations

import csv
import io
import json
import os
import platform
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import fields
from pathlib import Path
from typing import Any

import numpy as np
import torch

import adamlab
from adamlab.bench.engine import UnitResult
from adamlab.bench.spec import SCHEMA_VERSION, ExperimentSpec, spec_from_dict

MANIFEST = "manifest.json"
UNITS_DIR = "units"
RUNS_CSV = "runs.csv"
_SCALAR_FIELDS = ("optimizer", "function", "dim", "steps_run", "seconds", "compile_seconds")


def unit_filename(optimizer: str, function: str) -> str:
    return f"{optimizer}__{function}.npz"


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def environment() -> dict[str, Any]:
    """Versions and settings that can change results or timings."""
    return {
        "adamlab": adamlab.__version__,
        "torch": torch.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "threads": torch.get_num_threads(),
    }


def write_manifest(out: Path, spec: ExperimentSpec, extra: dict[str, Any] | None = None) -> None:
    manifest = {
        "schema_version": SCHEMA_VERSION,
        "fingerprint": spec.fingerprint(),
        "spec": spec.to_dict(),
        "environment": environment(),
        **(extra or {}),
    }
    atomic_write_text(out / MANIFEST, json.dumps(manifest, indent=2, sort_keys=True) + "\n")


def read_manifest(out: Path) -> dict[str, Any]:
    path = Path(out) / MANIFEST
    try:
        manifest: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValueError(f"no records in {out}: {MANIFEST} not found") from None
    except json.JSONDecodeError as error:
        raise ValueError(f"corrupt {path}: {error}") from None
    version = manifest.get("schema_version")
    if version != SCHEMA_VERSION:
        raise ValueError(
            f"records in {out} have schema version {version!r} (expected {SCHEMA_VERSION})"
        )
    return manifest


def refuse_other_experiment(
    out: Path, manifest: dict[str, Any], fingerprint: str, remedy: str
) -> None:
    """Raise ValueError if ``manifest`` (of the folder ``out``) is another experiment's than
    the spec with ``fingerprint``; ``remedy`` ends the message ("choose another --out ...")."""
    if manifest.get("fingerprint") != fingerprint:
        raise ValueError(
            f"{out} holds records of a different experiment "
            f"(spec {str(manifest.get('fingerprint'))[:12]} vs {fingerprint[:12]}); {remedy}"
        )


def write_unit(out: Path, result: UnitResult) -> Path:
    """Save one unit's arrays as an NPZ (atomically) and return its path."""
    arrays: dict[str, np.ndarray] = {}
    for field in fields(result):
        value = getattr(result, field.name)
        arrays[field.name] = np.asarray(value)
    arrays["schema_version"] = np.asarray(SCHEMA_VERSION)
    path = Path(out) / UNITS_DIR / unit_filename(result.optimizer, result.function)
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)  # type: ignore[arg-type]
    atomic_write_bytes(path, buffer.getvalue())
    return path


def read_unit(path: Path) -> UnitResult:
    """Load one unit's NPZ (no pickle) back into a :class:`UnitResult`."""
    with np.load(path, allow_pickle=False) as data:
        if int(data["schema_version"]) != SCHEMA_VERSION:
            raise ValueError(f"{path}: schema version {int(data['schema_version'])}")
        values: dict[str, Any] = {}
        for field in fields(UnitResult):
            array = data[field.name]
            if field.name in _SCALAR_FIELDS:
                values[field.name] = array.item()
            else:
                values[field.name] = array
    return UnitResult(**values)


def iter_units(out: Path) -> Iterator[UnitResult]:
    for path in sorted((Path(out) / UNITS_DIR).glob("*.npz")):
        yield read_unit(path)


class Records:
    """Everything an analysis needs from one output directory, loaded once."""

    def __init__(self, out: str | Path) -> None:
        self.out = Path(out)
        self.manifest = read_manifest(self.out)
        self.spec = spec_from_dict(_spec_input(self.manifest["spec"]))
        opt_order = {o.label: i for i, o in enumerate(self.spec.optimizers)}
        fn_order = {f: i for i, f in enumerate(self.spec.functions)}
        self.units = sorted(
            iter_units(self.out),
            key=lambda u: (opt_order.get(u.optimizer, 999), fn_order.get(u.function, 999)),
        )
        if not self.units:
            raise ValueError(f"no finished units in {self.out / UNITS_DIR}")

    @property
    def optimizers(self) -> list[str]:
        return list(dict.fromkeys(u.optimizer for u in self.units))

    @property
    def functions(self) -> list[str]:
        return list(dict.fromkeys(u.function for u in self.units))

    @property
    def start_sets(self) -> list[str]:
        return [s.key for s in self.spec.starts]

    def unit(self, optimizer: str, function: str) -> UnitResult:
        for unit in self.units:
            if unit.optimizer == optimizer and unit.function == function:
                return unit
        raise KeyError((optimizer, function))


def _spec_input(spec_dict: dict[str, Any]) -> dict[str, Any]:
    """Turn a stored spec (``ExperimentSpec.to_dict``) back into ``spec_from_dict`` input."""
    data = dict(spec_dict)
    data["optimizers"] = [
        {
            "name": o["name"],
            "label": o["label"],
            **{k: v for k, v in o["kwargs"]},
            **({"lrs": o["lrs"]} if o["lrs"] else {}),
            "schedule": o["schedule"],
        }
        for o in spec_dict["optimizers"]
    ]
    data["starts"] = [
        {
            k: v
            for k, v in s.items()
            if not (k == "box" and v is None) and not (k == "points" and not v)
        }
        for s in spec_dict["starts"]
    ]
    data["dims"] = dict(spec_dict.get("dims", []))
    return data


def write_runs_csv(out: Path, units: Sequence[UnitResult], targets: Sequence[float]) -> None:
    """One line per run with its scalar results (hit evaluations per target, -1 = never)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    max_dim = max(u.dim for u in units)
    coords = max_dim <= 3
    header = ["optimizer", "function", "start_set", "start_index", "lr"]
    if coords:
        header += [f"x0_{i}" for i in range(max_dim)] + [f"xT_{i}" for i in range(max_dim)]
    header += ["final_gap", "best_gap", "distance", "diverged_step", "evals_run"]
    header += [f"hit_evals@{t:g}" for t in targets]
    writer.writerow(header)
    for u in units:
        for row in range(len(u.lr)):
            line: list[Any] = [u.optimizer, u.function, u.start_set[row], int(u.start_index[row])]
            line.append(repr(float(u.lr[row])))
            if coords:
                pad = [""] * (max_dim - u.dim)
                line += [repr(float(x)) for x in u.start[row]] + pad
                line += [repr(float(x)) for x in u.final[row]] + pad
            line += [repr(float(u.final_gap[row])), repr(float(u.best_gap[row]))]
            line += [repr(float(u.distance[row])), int(u.diverged_step[row])]
            line += [int(u.evals_run[row]), *(int(h) for h in u.hit_evals[row])]
            writer.writerow(line)
    atomic_write_text(Path(out) / RUNS_CSV, buffer.getvalue())
