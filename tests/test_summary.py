"""The summary table on hand-built records with hand-computed answers."""

from __future__ import annotations

import csv
import io
import math
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from adamlab.bench.engine import UnitResult
from adamlab.bench.metrics import wilson_interval
from adamlab.bench.summary import (
    format_markdown_table,
    summary_columns,
    summary_rows,
    write_summary_csv,
)


def _unit(optimizer: str, function: str, **arrays: Any) -> UnitResult:
    n = len(arrays["final_gap"])
    base: dict[str, Any] = {
        "start_set": np.array(["a"] * n),
        "dim": 2,
        "lr": np.full(n, 0.1),
        "start_index": np.arange(n),
        "start": np.zeros((n, 2)),
        "final": np.zeros((n, 2)),
        "best_gap": np.zeros(n),
        "distance": np.zeros(n),
        "diverged_step": np.full(n, -1),
        "evals_run": np.full(n, 11),
        "curve_steps": np.array([0, 10]),
        "curve": np.ones((2, n)),
        "trace_steps": np.array([0]),
        "trace": np.zeros((1, 0, 2)),
        "trace_rows": np.zeros(0, dtype=np.int64),
        "steps_run": 10,
        "seconds": 0.0,
        "compile_seconds": 0.0,
    }
    base.update(arrays)
    return UnitResult(optimizer=optimizer, function=function, **base)


@pytest.fixture
def records() -> SimpleNamespace:
    # targets recorded: 1e-2, 1e-4, 1e-8 (the summary reads columns 1 and 2)
    first = _unit(
        "adam",
        "booth",
        start_set=np.array(["a", "a", "a", "b", "b"]),
        start_index=np.array([0, 1, 2, 0, 1]),
        final_gap=np.array([1e-9, 3e-5, 2.0, 0.5, np.nan]),
        distance=np.array([1e-5, 1e-3, 4.0, 1.0, 2.0]),
        hit_evals=np.array(
            [[2, 4, 9], [3, 7, -1], [-1, -1, -1], [5, -1, -1], [-1, -1, -1]],
        ),
        diverged_step=np.array([-1, -1, -1, -1, 3]),
    )
    second = _unit(
        "sgd",
        "booth",
        final_gap=np.array([1.0, 1.0]),
        hit_evals=np.array([[-1, -1, -1], [-1, -1, -1]]),
    )
    return SimpleNamespace(units=[first, second], spec=SimpleNamespace(targets=(1e-2, 1e-4, 1e-8)))


def test_rows_are_grouped_by_optimizer_function_and_start_set(records: SimpleNamespace) -> None:
    rows = summary_rows(records)
    keys = [(r["optimizer"], r["function"], r["start_set"], r["n"]) for r in rows]
    assert keys == [("adam", "booth", "a", 3), ("adam", "booth", "b", 2), ("sgd", "booth", "a", 2)]
    assert all(list(r) == summary_columns() for r in rows)


def test_hand_computed_values(records: SimpleNamespace) -> None:
    a, b, sgd = summary_rows(records)
    # set a: two of three reach 1e-4 (evaluations 4 and 7 = steps 3 and 6), one reaches 1e-8
    assert a["success@1e-04"] == pytest.approx(2 / 3)
    low, high = wilson_interval(2, 3)
    assert (a["success@1e-04_low"], a["success@1e-04_high"]) == (float(low), float(high))
    assert a["success@1e-08"] == pytest.approx(1 / 3)
    assert a["median_steps@1e-04"] == 4.5
    assert a["median_steps@1e-08"] == 8.0
    assert a["median_final_gap"] == 3e-5
    assert a["median_distance"] == 1e-3
    assert a["diverged"] == 0
    # set b: nobody reaches 1e-4; the diverged run's NaN final gap is left out of the median
    assert b["success@1e-04"] == 0.0
    assert b["success@1e-04_low"] == 0.0
    assert math.isnan(b["median_steps@1e-04"])
    assert b["median_final_gap"] == 0.5
    assert b["median_distance"] == 1.5
    assert b["diverged"] == 1
    assert sgd["success@1e-08"] == 0.0
    assert sgd["success@1e-08_high"] == pytest.approx(float(wilson_interval(0, 2)[1]))


def test_learning_rate_sweeps_give_one_row_per_lr() -> None:
    unit = _unit(
        "adam",
        "booth",
        lr=np.array([0.1, 0.1, 0.01, 0.01]),
        final_gap=np.zeros(4),
        hit_evals=np.array([[1], [2], [-1], [3]]),
    )
    rows = summary_rows(
        SimpleNamespace(units=[unit], spec=SimpleNamespace(targets=(1e-4,))), [1e-4]
    )
    assert [(r["lr"], r["success@1e-04"], r["median_steps@1e-04"]) for r in rows] == [
        (0.1, 1.0, 0.5),
        (0.01, 0.5, 2.0),
    ]


def test_unrecorded_target_is_an_error(records: SimpleNamespace) -> None:
    with pytest.raises(ValueError, match="1e-06 is not among the recorded targets"):
        summary_rows(records, [1e-6])


def test_markdown_table(records: SimpleNamespace) -> None:
    text = format_markdown_table(summary_rows(records))
    lines = text.splitlines()
    assert len(lines) == 2 + 3
    assert lines[0].startswith("| optimizer | function | start set | lr | n |")
    assert "| adam | booth | a | 0.1 | 3 | 0.67 [" in lines[2]
    assert "| 4.5 | 8 | 3.00e-05 | 1.00e-03 | 0 |" in lines[2]
    # undefined medians print as "-"
    assert "| - | - |" in lines[3]


def test_csv_round_trip(records: SimpleNamespace, tmp_path: Any) -> None:
    rows = summary_rows(records)
    path = tmp_path / "summary.csv"
    write_summary_csv(path, rows)
    buffer = io.StringIO()
    write_summary_csv(buffer, rows)
    assert path.read_text(encoding="utf-8") == buffer.getvalue()
    read = list(csv.DictReader(io.StringIO(buffer.getvalue())))
    assert [r["optimizer"] for r in read] == ["adam", "adam", "sgd"]
    assert float(read[0]["success@1e-04"]) == rows[0]["success@1e-04"]
    assert read[1]["median_steps@1e-04"] == ""
