"""Every experiment spec in experiments/ (the ones docs/findings.md quotes) parses and runs.

Each spec runs 20 steps eagerly with 3 starts per start set, so a typo or a renamed optimizer,
schedule or function breaks this test rather than the next person who re-runs a finding.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from adamlab.bench.records import Records
from adamlab.bench.runner import run_experiment
from adamlab.bench.spec import load_spec

SPECS = sorted((Path(__file__).resolve().parents[1] / "experiments").glob("*.toml"))


def test_there_are_specs() -> None:
    assert SPECS, "experiments/ holds no *.toml spec"


@pytest.mark.parametrize("path", SPECS, ids=[p.stem for p in SPECS])
def test_spec_parses_and_runs_20_steps(path: Path, tmp_path: Path) -> None:
    full = load_spec(path)
    small_starts = [
        {"name": s.name, "n": 3, **({"label": s.label} if s.label else {})} for s in full.starts
    ]
    spec = load_spec(path, overrides={"steps": 20, "compile": False, "starts": small_starts})
    assert spec.optimizers == full.optimizers and spec.functions == full.functions
    run_experiment(spec, tmp_path / "out")
    records = Records(tmp_path / "out")
    assert len(records.units) == len(spec.optimizers) * len(spec.functions)
