"""The same spec and seed give identical records, and the thread count is fixed and recorded."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from adamlab.bench import records
from adamlab.bench.runner import run_experiment
from adamlab.bench.spec import spec_from_dict

#: Wall-clock fields of a unit: not results, they differ between any two runs.
TIMING_FIELDS = {"seconds", "compile_seconds"}


def test_same_spec_and_seed_give_identical_records(tmp_path: Path) -> None:
    spec = spec_from_dict(
        {
            "optimizers": [{"name": "adam", "lr": 1e-2}, {"name": "rmsprop"}],
            "functions": ["booth", "rosenbrock"],
            "starts": [{"name": "domain", "n": 4}, {"name": "seed", "n": 3}],
            "steps": 200,
            "seed": 11,
            "threads": 2,
            "compile": False,
        }
    )
    threads = torch.get_num_threads()
    try:
        run_experiment(spec, tmp_path / "a")
        run_experiment(spec, tmp_path / "b")
    finally:
        torch.set_num_threads(threads)
    a, b = tmp_path / "a", tmp_path / "b"
    names = sorted(p.name for p in (a / records.UNITS_DIR).glob("*.npz"))
    assert len(names) == 4
    assert names == sorted(p.name for p in (b / records.UNITS_DIR).glob("*.npz"))
    for name in names:
        with (
            np.load(a / records.UNITS_DIR / name, allow_pickle=False) as x,
            np.load(b / records.UNITS_DIR / name, allow_pickle=False) as y,
        ):
            for key in sorted(set(x.files) - TIMING_FIELDS):
                np.testing.assert_array_equal(x[key], y[key], err_msg=f"{name}: {key}")
    assert (a / records.RUNS_CSV).read_bytes() == (b / records.RUNS_CSV).read_bytes()
    manifest = records.read_manifest(a)
    assert manifest["fingerprint"] == records.read_manifest(b)["fingerprint"]
    assert manifest["spec"]["threads"] == manifest["environment"]["threads"] == 2


def test_a_different_seed_gives_different_starts(tmp_path: Path) -> None:
    base = {
        "optimizers": [{"name": "adam"}],
        "functions": ["booth"],
        "starts": [{"name": "domain", "n": 3}],
        "steps": 2,
        "compile": False,
    }
    threads = torch.get_num_threads()
    try:
        first = run_experiment(spec_from_dict({**base, "seed": 1}), tmp_path / "a")
        second = run_experiment(spec_from_dict({**base, "seed": 2}), tmp_path / "b")
    finally:
        torch.set_num_threads(threads)
    assert not np.array_equal(first[0].start, second[0].start)
