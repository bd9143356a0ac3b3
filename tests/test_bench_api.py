"""``adamlab.bench.run``: the records it returns equal those ``run_experiment`` writes."""

from __future__ import annotations

import csv
from dataclasses import fields
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from adamlab.bench import RunRecords, records, run, spec_from_dict
from adamlab.bench.engine import UnitResult
from adamlab.bench.runner import run_experiment

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
_TIMINGS = {"seconds", "compile_seconds"}


def _spec_dict(**overrides: Any) -> dict[str, Any]:
    return {
        "optimizers": [
            {"name": "adam", "lr": 0.05},
            {"name": "my_optimizer.signsgd:SignSGD", "lr": 0.01, "momentum": 0.5},
        ],
        "functions": ["booth", "himmelblau"],
        "starts": [{"name": "domain", "n": 3}, {"name": "seed", "n": 2}],
        "steps": 60,
        "compile": False,
        "targets": [1.0, 1e-3],
        **overrides,
    }


def _assert_units_equal(a: UnitResult, b: UnitResult) -> None:
    for field in fields(UnitResult):
        if field.name in _TIMINGS:
            continue
        left, right = getattr(a, field.name), getattr(b, field.name)
        if isinstance(left, np.ndarray):
            np.testing.assert_array_equal(left, right, err_msg=field.name)
        else:
            assert left == right, field.name


@pytest.fixture(autouse=True)
def _examples_on_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(EXAMPLES))


def test_records_equal_those_run_experiment_writes(tmp_path: Path) -> None:
    spec = spec_from_dict(_spec_dict())
    written = run_experiment(spec, tmp_path / "written")
    returned = run(_spec_dict())  # a dict, run in a temporary folder

    assert isinstance(returned, RunRecords) and returned.temporary
    assert not returned.out.exists()  # the temporary folder is gone; the records stay
    assert returned.spec == spec
    assert returned.manifest["fingerprint"] == spec.fingerprint()
    assert returned.optimizers == ["adam", "signsgd"]
    assert returned.functions == ["booth", "himmelblau"]
    assert returned.start_sets == ["domain", "seed"]
    assert len(returned.units) == len(written) == 4
    for unit in written:
        _assert_units_equal(returned.unit(unit.optimizer, unit.function), unit)


def test_rows_match_runs_csv(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = run(spec_from_dict(_spec_dict()), out)
    assert not result.temporary and result.out == out
    assert (out / records.MANIFEST).exists()
    with (out / records.RUNS_CSV).open(encoding="utf-8", newline="") as handle:
        lines = list(csv.DictReader(handle))
    rows = result.rows()
    assert len(rows) == len(lines) == 2 * 2 * 5
    for row, line in zip(rows, lines, strict=True):
        assert row["optimizer"] == line["optimizer"] and row["function"] == line["function"]
        assert row["start_set"] == line["start_set"]
        assert row["start_index"] == int(line["start_index"])
        assert row["start"] == (float(line["x0_0"]), float(line["x0_1"]))
        assert row["final"] == (float(line["xT_0"]), float(line["xT_1"]))
        for key in ("lr", "final_gap", "best_gap", "distance"):
            assert row[key] == float(line[key]), key
        for key in ("diverged_step", "evals_run", "hit_evals@1", "hit_evals@0.001"):
            assert row[key] == int(line[key]), key
    assert [r["start_set"] for r in result.rows("signsgd", "booth", "seed")] == ["seed"] * 2


def test_rerun_into_the_same_folder_reuses_the_units(tmp_path: Path) -> None:
    first = run(_spec_dict(), tmp_path)
    second = run(_spec_dict(), tmp_path)
    for a, b in zip(first.units, second.units, strict=True):
        _assert_units_equal(a, b)
        assert a.seconds == b.seconds  # read back, not re-run


def test_user_class_equals_its_plain_loop() -> None:
    from my_optimizer.signsgd import SignSGD

    from adamlab.functions import get

    result = run(_spec_dict(functions=["himmelblau"], steps=40))
    fn = get("himmelblau")
    for row in result.rows(optimizer="signsgd"):
        x = torch.nn.Parameter(torch.tensor(row["start"], dtype=torch.float64))
        optimizer = SignSGD([x], lr=row["lr"], momentum=0.5)
        for _ in range(40):
            optimizer.zero_grad()
            fn(x).backward()
            optimizer.step()
        assert row["final"] == pytest.approx(tuple(x.tolist()), rel=1e-12, abs=1e-12)


def test_thread_count_is_restored() -> None:
    before = torch.get_num_threads()
    run(_spec_dict(optimizers=["adam"], functions=["booth"], steps=5, threads=before + 1))
    assert torch.get_num_threads() == before


@pytest.mark.parametrize(
    ("spec", "out", "message"),
    [
        (42, None, "invalid spec: 42"),
        ({**_spec_dict(), "steps": 0}, None, "invalid steps: 0"),
        ({**_spec_dict(), "optimizers": ["my_optimizer.signsgd:Nope"]}, None, "has no attribute"),
        (_spec_dict(), 3.5, "invalid out: 3.5"),
    ],
)
def test_bad_input_raises_value_error(spec: Any, out: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        run(spec, out)


def test_a_folder_of_another_experiment_is_refused(tmp_path: Path) -> None:
    run(_spec_dict(optimizers=["adam"], steps=5), tmp_path)
    with pytest.raises(ValueError, match="holds records of a different experiment"):
        run(_spec_dict(optimizers=["adam"], steps=6), tmp_path)
