"""The summary table of a benchmark: one row per (optimizer, function, start set, lr).

Read from records, never from a re-run. Each row holds, over the runs (starts) of its group:

* ``n``: the number of runs.
* ``success@T`` with ``success@T_low`` / ``success@T_high``: the fraction of runs whose
  best-so-far gap ``f - f*`` reached the target ``T`` (``hit_evals >= 0`` for ``T``), with its
  95 % Wilson score interval. A diverged run that never reached ``T`` counts as a failure.
* ``median_steps@T``: the median number of optimizer steps to reach ``T`` among the runs
  that reached it (steps = ``hit_evals - 1``: evaluation 1 scores the start ``theta_0``);
  NaN when no run did. Read it together with the success rate: a fast median over 3 % of the
  runs says little.
* ``median_final_gap``: the median of ``f(theta_T) - f*`` at the last finite iterate.
* ``median_distance``: the median distance from the last iterate to the nearest global
  minimizer.
* ``diverged``: the number of runs whose iterate or value became non-finite.

>>> rows = summary_rows(_doctest_records())
>>> rows[0]["n"], rows[0]["success@1e-04"], rows[0]["median_steps@1e-04"]
(4, 0.5, 9.5)
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any, Protocol

import numpy as np

from adamlab.bench.engine import UnitResult
from adamlab.bench.metrics import median_and_iqr, success_rate

#: The targets the summary reports by default: a loose and a tight gap f - f*.
SUMMARY_TARGETS: tuple[float, ...] = (1e-4, 1e-8)

__all__ = [
    "SUMMARY_TARGETS",
    "format_markdown_table",
    "summary_columns",
    "summary_rows",
    "target_key",
    "write_summary_csv",
]


class _SpecLike(Protocol):
    @property
    def targets(self) -> tuple[float, ...]: ...


class RecordsLike(Protocol):
    """What :func:`summary_rows` needs: the units and a spec that lists the targets."""

    @property
    def units(self) -> list[UnitResult]: ...

    @property
    def spec(self) -> Any: ...


def target_key(target: float) -> str:
    """The column suffix of a target: ``target_key(1e-4) == "1e-04"``."""
    return f"{target:.0e}" if target == float(f"{target:.0e}") else f"{target:g}"


def summary_columns(targets: Sequence[float] = SUMMARY_TARGETS) -> list[str]:
    """The keys of every summary row, in table order."""
    columns = ["optimizer", "function", "start_set", "lr", "n"]
    for target in targets:
        key = target_key(target)
        columns += [f"success@{key}", f"success@{key}_low", f"success@{key}_high"]
    columns += [f"median_steps@{target_key(t)}" for t in targets]
    columns += ["median_final_gap", "median_distance", "diverged"]
    return columns


def _target_index(all_targets: Sequence[float], target: float) -> int:
    for index, value in enumerate(all_targets):
        if math.isclose(value, target, rel_tol=1e-9):
            return index
    raise ValueError(
        f"target {target:g} is not among the recorded targets "
        f"({', '.join(f'{t:g}' for t in all_targets)})"
    )


def _median(values: np.ndarray) -> float:
    return float(median_and_iqr(values).median) if values.size else math.nan


def summary_rows(
    records: RecordsLike, targets: Sequence[float] = SUMMARY_TARGETS
) -> list[dict[str, Any]]:
    """One row per (optimizer, function, start set, learning rate), in the records' order.

    Args:
        records: a :class:`~adamlab.bench.records.Records` (or anything with ``units`` and
            ``spec.targets``).
        targets: the gap targets to report; each must be one of the recorded targets.

    Returns:
        A list of dicts with the keys :func:`summary_columns` lists (see the module docstring
        for the definitions). Rates are floats in [0, 1]; medians are NaN when undefined.

    Raises:
        ValueError: if a target was not recorded.
    """
    recorded = tuple(records.spec.targets)
    columns = [_target_index(recorded, t) for t in targets]
    rows: list[dict[str, Any]] = []
    for unit in records.units:
        labels = np.asarray(unit.start_set).astype(str)
        lrs = np.asarray(unit.lr, dtype=np.float64)
        for start_set in dict.fromkeys(labels.tolist()):
            for lr in dict.fromkeys(lrs[labels == start_set].tolist()):
                select = (labels == start_set) & (lrs == lr)
                hits = np.asarray(unit.hit_evals)[select]
                row: dict[str, Any] = {
                    "optimizer": unit.optimizer,
                    "function": unit.function,
                    "start_set": start_set,
                    "lr": float(lr),
                    "n": int(np.count_nonzero(select)),
                }
                for target, column in zip(targets, columns, strict=True):
                    key = target_key(target)
                    rate, low, high = success_rate(hits[:, column] >= 0)
                    row[f"success@{key}"] = rate
                    row[f"success@{key}_low"] = low
                    row[f"success@{key}_high"] = high
                for target, column in zip(targets, columns, strict=True):
                    reached = hits[:, column]
                    steps = (reached[reached >= 0] - 1).astype(np.float64)
                    row[f"median_steps@{target_key(target)}"] = _median(steps)
                row["median_final_gap"] = _median(np.asarray(unit.final_gap)[select])
                row["median_distance"] = _median(np.asarray(unit.distance)[select])
                row["diverged"] = int(np.count_nonzero(np.asarray(unit.diverged_step)[select] >= 0))
                rows.append(row)
    return rows


def _targets_of(rows: Sequence[dict[str, Any]]) -> list[str]:
    if not rows:
        return [target_key(t) for t in SUMMARY_TARGETS]
    return [
        key.removeprefix("success@")
        for key in rows[0]
        if key.startswith("success@") and not key.endswith(("_low", "_high"))
    ]


def _fmt_number(value: float, digits: int = 2) -> str:
    if isinstance(value, float) and math.isnan(value):
        return "-"
    return f"{value:.{digits}e}"


def _fmt_steps(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:g}"


def format_rate(row: dict[str, Any], key: str) -> str:
    """``"0.93 [0.86, 0.97]"``: a success rate and its 95 % Wilson interval."""
    return (
        f"{row[f'success@{key}']:.2f} "
        f"[{row[f'success@{key}_low']:.2f}, {row[f'success@{key}_high']:.2f}]"
    )


def format_markdown_table(rows: Sequence[dict[str, Any]]) -> str:
    """The summary rows as a GitHub Markdown table (rates with 95 % Wilson intervals).

    >>> line = format_markdown_table(summary_rows(_doctest_records())).splitlines()[2]
    >>> print(line.replace(" | ", "|"))
    | opt|fn|s|0.01|4|0.50 [0.15, 0.85]|0.25 [0.05, 0.70]|9.5|30|2.50e-01|1.00e-02|1 |
    """
    keys = _targets_of(rows)
    header = ["optimizer", "function", "start set", "lr", "n"]
    header += [f"success ≤ {k} [95 % CI]" for k in keys]
    header += [f"median steps to {k}" for k in keys]
    header += ["median final f − f*", "median distance to x*", "diverged"]
    lines = [
        "| " + " | ".join(header) + " |",
        "|" + "|".join("---" if i < 3 else "---:" for i in range(len(header))) + "|",
    ]
    for row in rows:
        cells = [row["optimizer"], row["function"], row["start_set"], f"{row['lr']:g}"]
        cells.append(str(row["n"]))
        cells += [format_rate(row, k) for k in keys]
        cells += [_fmt_steps(row[f"median_steps@{k}"]) for k in keys]
        cells += [_fmt_number(row["median_final_gap"]), _fmt_number(row["median_distance"])]
        cells.append(str(row["diverged"]))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _csv_value(value: Any) -> Any:
    if isinstance(value, float):
        return "" if math.isnan(value) else repr(value)
    return value


def write_summary_csv(path_or_buffer: str | Path | IO[str], rows: Sequence[dict[str, Any]]) -> None:
    """Write the summary rows as CSV (header from the first row; NaN as an empty cell).

    >>> buffer = io.StringIO()
    >>> write_summary_csv(buffer, summary_rows(_doctest_records()))
    >>> buffer.getvalue().splitlines()[0].split(",")[:5]
    ['optimizer', 'function', 'start_set', 'lr', 'n']
    """
    columns = list(rows[0]) if rows else summary_columns()
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_csv_value(row[c]) for c in columns])
    if isinstance(path_or_buffer, str | Path):
        Path(path_or_buffer).write_text(buffer.getvalue(), encoding="utf-8")
    else:
        path_or_buffer.write(buffer.getvalue())


def _doctest_records() -> Any:
    """Four runs of one unit: 2 reach 1e-4 (after 5 and 14 steps), 1 reaches 1e-8."""
    from types import SimpleNamespace

    n = 4
    unit = UnitResult(
        optimizer="opt",
        function="fn",
        start_set=np.array(["s"] * n),
        dim=2,
        lr=np.full(n, 0.01),
        start_index=np.arange(n),
        start=np.zeros((n, 2)),
        final=np.zeros((n, 2)),
        final_gap=np.array([1e-9, 1e-5, 1.0, 0.5]),
        best_gap=np.array([1e-9, 1e-5, 1.0, 0.5]),
        distance=np.array([1e-4, 1e-2, 1.0, 0.01]),
        hit_evals=np.array([[6, 31], [15, -1], [-1, -1], [-1, -1]]),
        diverged_step=np.array([-1, -1, -1, 7]),
        evals_run=np.full(n, 101),
        curve_steps=np.array([0]),
        curve=np.zeros((1, n)),
        trace_steps=np.array([0]),
        trace=np.zeros((1, 0, 2)),
        trace_rows=np.zeros(0, dtype=np.int64),
        steps_run=100,
        seconds=0.0,
        compile_seconds=0.0,
    )
    return SimpleNamespace(units=[unit], spec=SimpleNamespace(targets=(1e-4, 1e-8)))
