"""``adamlab sweep``: one shared lr grid, disjoint tuning and evaluation starts, stated budget."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from adamlab.bench.records import Records
from adamlab.bench.spec import spec_from_dict
from adamlab.bench.sweep import (
    EVAL_LABEL,
    SWEEP_JSON,
    TUNE_LABEL,
    LrScore,
    choose_learning_rates,
    evaluation_spec_dict,
    lr_grid,
    read_sweep,
    run_sweep,
    score_rows,
    tuned_label,
    tuning_spec_dict,
)
from adamlab.cli import main
from adamlab.plot.stats import lr_sensitivity, lr_sensitivity_figure

GRID = lr_grid(1e-3, 1.0, 4)
BASE: dict[str, Any] = {
    "optimizers": [{"name": "adam", "lr": 1e-3}, {"name": "sgd", "lr": 1e-3}],
    "functions": ["booth", "rosenbrock"],
    "steps": 100,
    "compile": False,
    "targets": [1e-1, 1e-4, 1e-8],
}


@pytest.fixture(scope="module")
def sweep(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("sweep")
    return out, run_sweep(BASE, out, grid=GRID, tune_starts=5, eval_starts=4)


def test_lr_grid_is_log_spaced_with_both_ends() -> None:
    grid = lr_grid()
    assert len(grid) == 25 and grid[0] == 1e-5 and grid[-1] == 10.0
    assert np.allclose(np.diff(np.log10(grid)), 0.25)
    assert lr_grid(1e-3, 1e-1, 3) == (0.001, 0.01, 0.1)


@pytest.mark.parametrize("args", [(1.0, 0.1, 5), (0.0, 1.0, 5), (1e-3, math.inf, 5), (1e-3, 1, 1)])
def test_lr_grid_rejects_bad_input(args: tuple[float, float, int]) -> None:
    with pytest.raises(ValueError, match="invalid lr grid"):
        lr_grid(*args)


def test_every_optimizer_tunes_on_the_same_grid(sweep: tuple[Path, dict[str, Any]]) -> None:
    out, result = sweep
    tuning = Records(out / "tuning")
    assert result["lr_grid"] == list(GRID)
    for unit in tuning.units:
        assert sorted(set(unit.lr.tolist())) == list(GRID)
        assert set(unit.start_set.astype(str)) == {TUNE_LABEL}
        assert len(unit.lr) == len(GRID) * 5


def test_tuning_and_evaluation_starts_are_disjoint(sweep: tuple[Path, dict[str, Any]]) -> None:
    out, _ = sweep
    tuning, evaluation = Records(out / "tuning"), Records(out / "evaluation")
    for function in BASE["functions"]:
        tune = {tuple(p) for p in tuning.unit("adam", function).start.tolist()}
        unit = evaluation.unit("adam", function)
        assert set(unit.start_set.astype(str)) == {EVAL_LABEL}
        evals = {tuple(p) for p in unit.start.tolist()}
        assert len(evals) == 4 and not tune & evals
        # both regimes of an optimizer start from the same evaluation points
        assert np.array_equal(unit.start, evaluation.unit("adam-tuned", function).start)


def test_evaluation_runs_given_and_tuned_settings(sweep: tuple[Path, dict[str, Any]]) -> None:
    out, result = sweep
    evaluation = Records(out / "evaluation")
    assert evaluation.optimizers == ["adam", "adam-tuned", "sgd", "sgd-tuned"]
    for label in ("adam", "sgd"):
        assert set(evaluation.unit(label, "booth").lr.tolist()) == {1e-3}
        chosen = result["choices"][label]["lr"]
        assert chosen in GRID
        assert set(evaluation.unit(tuned_label(label), "booth").lr.tolist()) == {chosen}


def test_budget_is_grid_times_starts_times_evaluations_times_functions(
    sweep: tuple[Path, dict[str, Any]],
) -> None:
    out, result = sweep
    budget = result["budget"]
    expected = len(GRID) * 5 * (BASE["steps"] + 1) * len(BASE["functions"])
    assert budget["evaluations_per_optimizer"] == {"adam": expected, "sgd": expected}
    spent = budget["evaluations_spent_per_optimizer"]
    assert all(0 < v <= expected for v in spent.values())
    assert f"{expected:,} evaluations per optimizer" in result["budget_text"]
    assert read_sweep(out) == json.loads((out / SWEEP_JSON).read_text())


def test_single_lr_is_the_best_mean_over_functions(sweep: tuple[Path, dict[str, Any]]) -> None:
    out, result = sweep
    tuning = Records(out / "tuning")
    target_column = list(tuning.spec.targets).index(result["target"])
    for label, choice in result["choices"].items():
        scores = {}
        for lr in GRID:
            per = []
            for function in BASE["functions"]:
                unit = tuning.unit(label, function)
                per.append(score_rows(unit, unit.lr == lr, target_column))
            scores[lr] = (
                -np.mean([s.success for s in per]),
                np.mean([s.log_art for s in per]),
                np.mean([s.log_gap for s in per]),
                lr,
            )
        assert choice["lr"] == min(scores, key=lambda lr: scores[lr])
        for function, best in choice["per_function"].items():
            unit = tuning.unit(label, function)
            keys = {lr: score_rows(unit, unit.lr == lr, target_column).key() for lr in GRID}
            assert best["lr"] == min(keys, key=lambda lr: keys[lr])


def test_score_keys_rank_success_then_runtime_then_gap() -> None:
    better = LrScore(lr=1.0, success=1.0, log_art=3.0, log_gap=-9.0, runs=4)
    slower = LrScore(lr=0.1, success=1.0, log_art=4.0, log_gap=-12.0, runs=4)
    failing = LrScore(lr=0.01, success=0.5, log_art=2.0, log_gap=-16.0, runs=4)
    assert sorted([failing, slower, better], key=LrScore.key) == [better, slower, failing]


def test_choice_by_hand_on_two_lrs(sweep: tuple[Path, dict[str, Any]]) -> None:
    out, _ = sweep
    choices = choose_learning_rates(Records(out / "tuning"), target=1e-1)
    assert set(choices) == {"adam", "sgd"}
    for choice in choices.values():
        assert set(choice.per_function) == set(BASE["functions"])
        assert choice.at_overall["booth"].lr == choice.lr
    with pytest.raises(ValueError, match="tuning target"):
        choose_learning_rates(Records(out / "tuning"), target=1e-3)


def test_sensitivity_medians_match_the_records(sweep: tuple[Path, dict[str, Any]]) -> None:
    out, result = sweep
    tuning = Records(out / "tuning")
    unit = tuning.unit("adam", "booth")
    lrs, med, q1, q3, diverged = lr_sensitivity(unit, TUNE_LABEL)
    assert lrs.tolist() == list(GRID)
    for i, lr in enumerate(GRID):
        gaps = unit.final_gap[unit.lr == lr]
        if not diverged[i]:
            assert med[i] == pytest.approx(np.median(gaps))
            assert q1[i] <= med[i] <= q3[i]
    chosen = {k: v["lr"] for k, v in result["choices"].items()}
    fig = lr_sensitivity_figure(tuning, start_set=TUNE_LABEL, chosen=chosen)
    axes = [ax for ax in fig.axes if ax.get_visible()]
    assert len(axes) == len(BASE["functions"])
    assert {line.get_label() for line in axes[0].get_lines()} >= {"adam", "sgd"}
    assert all(ax.get_xscale() == "log" and ax.get_yscale() == "log" for ax in axes)


def test_cli_sweep_writes_records_json_and_figure(tmp_path: Path) -> None:
    config = tmp_path / "sweep.toml"
    config.write_text(
        'functions = ["booth"]\nsteps = 50\ncompile = false\n'
        '[[optimizers]]\nname = "adam"\n[sweep]\nlr_grid = [1e-3, 1e-1, 3]\n'
    )
    out = tmp_path / "out"
    code = main(["sweep", "--config", str(config), "--out", str(out), "--starts", "3", "--quiet"])
    assert code == 0
    result = read_sweep(out)
    assert result["lr_grid"] == [0.001, 0.01, 0.1]
    assert result["tune_starts"] == result["eval_starts"] == 3
    assert (out / "tuning" / "manifest.json").exists()
    assert (out / "evaluation" / "manifest.json").exists()
    assert (out / "figures" / "lr_sensitivity.png").stat().st_size > 10_000
    assert (out / "report.html").exists()


@pytest.mark.parametrize(
    "argv",
    [["--lr-grid", "1", "0.1", "3"], ["--lr-grid", "1e-3", "1", "x"], ["--starts", "0"]],
)
def test_cli_sweep_rejects_bad_flags(
    argv: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["sweep", "--out", str(tmp_path / "o"), "--quiet", *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("adamlab: error: invalid") and len(err.splitlines()) == 1


def test_a_user_class_keeps_its_run_label_in_the_sweep() -> None:
    base = {"optimizers": [{"name": "torch.optim:RMSprop"}], "functions": ["booth"]}
    tuning = spec_from_dict(tuning_spec_dict(base, (1e-3, 1e-2), 2))
    evaluation = spec_from_dict(evaluation_spec_dict(base, {"rmsprop": 1e-2}, 2))
    assert [o.label for o in tuning.optimizers] == ["rmsprop"]
    assert [o.label for o in evaluation.optimizers] == ["rmsprop", "rmsprop-tuned"]
