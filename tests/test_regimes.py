"""The default ``adamlab run`` puts its optimizers at their given settings beside their tuned
settings: the sweep lands in DIR/tuned and report.md compares the two regimes in words.

The section's numbers are checked against the evaluation records recomputed here with numpy
(first-hit evaluations -> success rates, winners), not against the report's own helpers.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch

from adamlab.bench.records import Records
from adamlab.bench.sweep import read_sweep
from adamlab.cli import main
from adamlab.report.regimes import TUNED_DIR, best_optimizers

FUNCTIONS = ["booth", "three_hump_camel"]
QUICK = ["--steps", "150", "--starts", "6", "--no-compile", "--quiet"]


@pytest.fixture(autouse=True)
def _keep_threads() -> Iterator[None]:
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("regimes") / "out"
    threads = torch.get_num_threads()
    try:
        assert main(["run", "--out", str(out), "--functions", *FUNCTIONS, *QUICK]) == 0
    finally:
        torch.set_num_threads(threads)
    return out


def _success(records: Records, label: str, function: str, column: int) -> float:
    unit = records.unit(label, function)
    return float(np.mean(np.asarray(unit.hit_evals)[:, column] >= 0))


def test_default_run_writes_both_regimes(run_dir: Path) -> None:
    sweep = read_sweep(run_dir / TUNED_DIR)
    evaluation = Records(run_dir / TUNED_DIR / "evaluation")
    given = ["adam", "sgd", "adagrad", "rmsprop"]
    assert sorted(evaluation.optimizers) == sorted([*given, *(f"{g}-tuned" for g in given)])
    assert evaluation.functions == FUNCTIONS
    # the tuned regime uses the run's own optimizers at the seed's settings as the given one
    lrs = {label: float(evaluation.unit(label, "booth").lr[0]) for label in given}
    assert lrs == {"adam": 1e-3, "sgd": 1e-3, "adagrad": 1e-2, "rmsprop": 1e-2}
    for label in given:
        tuned_lr = float(evaluation.unit(f"{label}-tuned", "booth").lr[0])
        assert tuned_lr == pytest.approx(sweep["choices"][label]["lr"])
        assert tuned_lr in sweep["lr_grid"]
    assert (run_dir / "figures" / "regimes.png").stat().st_size > 10_000
    assert (run_dir / TUNED_DIR / "report.html").exists()


def test_report_states_the_recomputed_rates_and_winners(run_dir: Path) -> None:
    text = (run_dir / "report.md").read_text(encoding="utf-8")
    section = text.split("## Given settings vs tuned settings", 1)[1].split("\n## ", 1)[0]
    sweep = read_sweep(run_dir / TUNED_DIR)
    evaluation = Records(run_dir / TUNED_DIR / "evaluation")
    column = [round(np.log10(t)) for t in evaluation.spec.targets].index(
        round(np.log10(sweep["target"]))
    )
    changed = 0
    for function in FUNCTIONS:
        rows = {}
        for label in ("adam", "sgd", "adagrad", "rmsprop"):
            given = _success(evaluation, label, function, column)
            tuned = _success(evaluation, f"{label}-tuned", function, column)
            rows[label] = (given, tuned)
            display = "Booth" if function == "booth" else "Three-hump camel"
            line = next(
                ln for ln in section.splitlines() if ln.startswith(f"| {display} | {label} |")
            )
            cells = [c.strip() for c in line.strip("|").split("|")]
            assert float(cells[4].split()[0]) == pytest.approx(given, abs=0.005)
            assert float(cells[5].split()[0]) == pytest.approx(tuned, abs=0.005)
        best_given = {k for k, v in rows.items() if v[0] == max(r[0] for r in rows.values())}
        best_tuned = {k for k, v in rows.items() if v[1] == max(r[1] for r in rows.values())}
        # ties on the rate are broken by median steps, so the report's winner is one of these
        if max(r[0] for r in rows.values()) == 0:
            best_given = set()
        if max(r[1] for r in rows.values()) == 0:
            best_tuned = set()
        if not best_given and best_tuned:
            changed += 1
    # Booth is solved by every tuned optimizer within 150 steps, never at the seed's settings
    assert _success(evaluation, "adam-tuned", "booth", column) == 1.0
    assert _success(evaluation, "adam", "booth", column) == 0.0
    match = re.search(r"Tuning changed the best optimizer on (\d+) of 2 functions", section)
    assert match is not None
    assert int(match.group(1)) >= changed
    for label in ("adam", "sgd", "adagrad", "rmsprop"):
        given = np.mean([_success(evaluation, label, f, column) for f in FUNCTIONS])
        tuned = np.mean([_success(evaluation, f"{label}-tuned", f, column) for f in FUNCTIONS])
        assert f"mean success rate over the 2 functions {given:.2f} → {tuned:.2f}" in section
    assert "tuned/report.html" in section


def test_best_optimizers_breaks_ties_by_median_steps() -> None:
    row = {"success@1e-04": 0.0, "median_steps@1e-04": float("nan")}
    assert best_optimizers([("a", row), ("b", row)], "1e-04") == []
    tie = {"success@1e-04": 0.5, "median_steps@1e-04": 12.0}
    assert best_optimizers([("a", tie), ("b", dict(tie))], "1e-04") == ["a", "b"]


def test_no_tuned_and_custom_experiments_skip_the_sweep(tmp_path: Path) -> None:
    argv = ["run", "--functions", "booth", "--steps", "5", "--starts", "2", "--no-compile"]
    argv += ["--quiet", "--no-report"]
    assert main([*argv, "--out", str(tmp_path / "a"), "--no-tuned"]) == 0
    assert not (tmp_path / "a" / TUNED_DIR).exists()
    assert main([*argv, "--out", str(tmp_path / "b"), "--optimizer", "adam"]) == 0
    assert not (tmp_path / "b" / TUNED_DIR).exists()
