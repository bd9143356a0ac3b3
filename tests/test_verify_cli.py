"""``adamlab verify``: the table, the exit codes, and the rows each scope plans."""

from __future__ import annotations

import argparse
from dataclasses import replace
from typing import Any

import pytest
import torch

from adamlab.cli import main
from adamlab.cli.verify import COLUMNS, build_config
from adamlab.optim import OPTIMIZERS, Lion, OptimizerEntry

TWINNED = [name for name, entry in OPTIMIZERS.items() if entry.torch_twin is not None]
NO_TWIN = [name for name, entry in OPTIMIZERS.items() if entry.torch_twin is None]


def _config(**overrides: Any) -> argparse.Namespace:
    flags = {"steps": 1000, "optimizer": None, "dtype": None, "scope": "defaults"}
    return argparse.Namespace(**{**flags, **overrides})


def test_quick_run_prints_the_table(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["verify", "--quick", "--optimizer", "sgd", "--optimizer", "adam", "--steps", "30"])
    out = capsys.readouterr().out
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("verify: scope=quick steps=30")
    header = lines[1].split()
    assert header[:2] == ["optimizer", "options"] and header[-1] == "verdict"
    rows = [line for line in lines if line.startswith(("sgd ", "adam "))]
    assert [row.split()[0] for row in rows] == ["sgd", "adam"]  # the order asked for
    for row in rows:
        cells = row.split()
        assert cells[2:6] == ["float64", "mlp", "single-tensor", "30"]
        assert cells[-1] == "pass"
    assert "2 comparisons" in out and "2 pass, 0 fail" in out


def test_dtype_flag_selects_rows(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["verify", "--quick", "--optimizer", "rmsprop", "--dtype", "float32"]) == 0
    rows = [line for line in capsys.readouterr().out.splitlines() if line.startswith("rmsprop")]
    assert len(rows) == 1 and rows[0].split()[2] == "float32"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--optimizer", "adamm"], "unknown optimizer 'adamm'; did you mean adam"),
        (["--steps", "0"], "invalid --steps 0"),
        (["--dtype", "float16"], "invalid choice: 'float16'"),
        (["--quick", "--full"], "not allowed with argument"),
    ],
)
def test_bad_input_exits_2_with_one_line(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["verify", *argv]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1
    assert captured.err.startswith("adamlab: error: ") and message in captured.err


def test_optimizers_without_twin_have_a_passing_paper_row(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert NO_TWIN == ["adabelief", "lion", "adam_atan2"]
    argv = ["verify", "--quick"] + [arg for name in NO_TWIN for arg in ("--optimizer", name)]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "skipped" not in out
    rows = [line.split() for line in out.splitlines() if line.split()[:1] in ([n] for n in NO_TWIN)]
    assert [row[0] for row in rows] == NO_TWIN
    for row in rows:
        assert row[1:6] == ["defaults", "float64", "mlp", "paper", "1000"]
        assert row[-2:] == ["1e-10", "pass"]
    assert "3 pass, 0 fail" in out
    assert "paper: largest relative deviation" in out


def test_nothing_is_skipped_by_default() -> None:
    config = build_config(_config())
    assert config.skipped == ()
    assert config.optimizers == tuple(OPTIMIZERS)


def test_optimizer_without_any_reference_is_skipped(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    bare = replace(OPTIMIZERS["lion"], name="bare", paper_reference=None)
    monkeypatch.setitem(OPTIMIZERS, "bare", bare)
    assert main(["verify", "--optimizer", "bare"]) == 0
    out = capsys.readouterr().out
    assert "skipped (no torch.optim twin, no paper reference): bare" in out
    assert "nothing to verify" in out


class _LionWithAnotherBeta2(Lion):
    """A deliberately wrong Lion: beta2 0.98 where the paper (and adamlab) use 0.99."""

    def __init__(self, params: Any, lr: float = 1e-4, **kwargs: Any) -> None:
        super().__init__(params, lr=lr, betas=(0.9, 0.98), **kwargs)


def test_a_rule_that_differs_from_its_paper_exits_1(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    wrong = replace(OPTIMIZERS["lion"], name="wrong_lion", cls=_LionWithAnotherBeta2)
    monkeypatch.setitem(OPTIMIZERS, "wrong_lion", wrong)
    assert main(["verify", "--quick", "--optimizer", "wrong_lion", "--steps", "20"]) == 1
    out = capsys.readouterr().out
    row = next(line.split() for line in out.splitlines() if line.startswith("wrong_lion "))
    assert row[4] == "paper" and row[-1] == "FAIL"
    assert "FAIL wrong_lion [defaults]: worst at step" in out


def test_a_deviation_exits_1(
    perturbed_adam: OptimizerEntry,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setitem(OPTIMIZERS, "perturbed", perturbed_adam)
    assert main(["verify", "--quick", "--optimizer", "perturbed", "--steps", "20"]) == 1
    out = capsys.readouterr().out
    assert "FAIL perturbed [defaults]: worst at step" in out
    assert "1 comparisons" in out and "0 pass, 1 fail" in out


def test_default_scope_plans_every_optimizer_on_every_cell_and_other_paths() -> None:
    config = build_config(_config())
    assert config.optimizers == tuple(OPTIMIZERS) and config.skipped == ()
    cases = config.cases()
    for path, names in (("single-tensor", TWINNED), ("paper", NO_TWIN)):
        rows = [c for c in cases if c.path.name == path]
        assert {(c.entry.name, c.dtype, c.problem.name) for c in rows} == {
            (name, dtype, problem)
            for name in names
            for dtype in (torch.float64, torch.float32)
            for problem in ("mlp", "rosenbrock")
        }
        assert all(c.options == OPTIMIZERS[c.entry.name].oracle_cases[0] for c in rows)
    others = {(c.entry.name, c.path.name) for c in cases if c.path.name != "single-tensor"}
    assert ("adam", "fused") in others and ("adam", "foreach") in others
    assert ("rmsprop", "fused") not in others  # torch's RMSprop has no fused path


def test_full_scope_plans_every_oracle_case() -> None:
    cases = build_config(_config(scope="full", dtype="float64")).cases()
    oracle = [c for c in cases if c.path.name in ("single-tensor", "paper")]
    expected = sum(len(entry.oracle_cases) for entry in OPTIMIZERS.values()) * 2  # x 2 problems
    assert len(oracle) == expected


def test_columns() -> None:
    assert COLUMNS[0] == "optimizer" and COLUMNS[-1] == "verdict"
    assert {"options", "dtype", "problem", "steps", "max abs dev", "max rel dev"} <= set(COLUMNS)
