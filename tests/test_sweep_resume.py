"""`adamlab sweep` resumes like `adamlab run`: it writes through the same runner, so units
already recorded are reused and the final records equal an uninterrupted sweep's."""

from __future__ import annotations

import filecmp
from pathlib import Path

import numpy as np

from adamlab.bench import records
from adamlab.bench.sweep import run_sweep

BASE = {
    "optimizers": [{"name": "adam"}, {"name": "sgd"}],
    "functions": ["booth", "matyas"],
    "steps": 60,
    "compile": False,
}


def _sweep(out: Path) -> dict:
    return run_sweep(BASE, out, grid=[1e-3, 1e-2, 1e-1], tune_starts=3, eval_starts=3)


def _arrays(folder: Path) -> dict[str, dict[str, np.ndarray]]:
    timing = {"seconds", "compile_seconds"}
    result = {}
    for path in sorted((folder / records.UNITS_DIR).glob("*.npz")):
        with np.load(path, allow_pickle=False) as data:
            result[path.name] = {k: data[k] for k in data.files if k not in timing}
    return result


def test_interrupted_sweep_resumes_to_the_same_records(tmp_path: Path) -> None:
    whole, resumed = tmp_path / "whole", tmp_path / "resumed"
    expected = _sweep(whole)
    _sweep(resumed)
    # an interruption after the first tuning unit: later units and the choices are missing
    tuning_units = sorted((resumed / "tuning" / records.UNITS_DIR).glob("*.npz"))
    for path in tuning_units[1:]:
        path.unlink()
    for path in (resumed / "evaluation" / records.UNITS_DIR).glob("*.npz"):
        path.unlink()
    (resumed / "sweep.json").unlink()
    assert _sweep(resumed) == expected
    for part in ("tuning", "evaluation"):
        a, b = _arrays(whole / part), _arrays(resumed / part)
        assert a.keys() == b.keys()
        for name in a:
            for key in a[name]:
                np.testing.assert_array_equal(a[name][key], b[name][key], err_msg=f"{name}:{key}")
        assert filecmp.cmp(whole / part / records.RUNS_CSV, resumed / part / records.RUNS_CSV)
