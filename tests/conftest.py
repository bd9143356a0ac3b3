"""Fixtures shared by the tests: a perturbed optimizer for the oracle, a records comparison."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from adamlab.bench import records
from adamlab.optim import OPTIMIZERS, Adam, OptimizerEntry

#: Unit fields that hold wall-clock timings, the only ones two equal runs may differ in.
TIMING_FIELDS = {"seconds", "compile_seconds"}


class _PerturbedAdam(Adam):
    """Adam with lr scaled by (1 + 1e-9): a deviation the oracle must report."""

    @classmethod
    def rule_hyperparameters(cls, group: Mapping[str, Any]) -> dict[str, Any]:
        hyper = super().rule_hyperparameters(group)
        return {**hyper, "lr": hyper["lr"] * (1 + 1e-9)}


@pytest.fixture
def perturbed_adam() -> OptimizerEntry:
    """The registry's Adam entry, named ``perturbed``, with the lr off by one part in 1e9."""
    return replace(OPTIMIZERS["adam"], name="perturbed", cls=_PerturbedAdam)


def _assert_same_records(a: Path, b: Path) -> list[str]:
    """Two output folders hold the same unit files with equal arrays (timings aside), equal
    runs.csv bytes and the same spec, fingerprint, schema and status; returns the unit names."""
    names = sorted(p.name for p in (a / records.UNITS_DIR).glob("*.npz"))
    assert names == sorted(p.name for p in (b / records.UNITS_DIR).glob("*.npz"))
    for name in names:
        with (
            np.load(a / records.UNITS_DIR / name, allow_pickle=False) as x,
            np.load(b / records.UNITS_DIR / name, allow_pickle=False) as y,
        ):
            assert sorted(x.files) == sorted(y.files)
            for key in sorted(set(x.files) - TIMING_FIELDS):
                assert x[key].dtype == y[key].dtype, (name, key)
                np.testing.assert_array_equal(x[key], y[key], err_msg=f"{name}: {key}")
    assert (a / records.RUNS_CSV).read_bytes() == (b / records.RUNS_CSV).read_bytes()
    manifest_a, manifest_b = records.read_manifest(a), records.read_manifest(b)
    for key in ("spec", "fingerprint", "schema_version", "status"):
        assert manifest_a[key] == manifest_b[key], key
    return names


@pytest.fixture
def same_records() -> Callable[[Path, Path], list[str]]:
    """The records comparison of :func:`_assert_same_records`, for the equality tests
    (resume, shards and merge, executors)."""
    return _assert_same_records
