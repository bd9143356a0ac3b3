"""``adamlab paper adam --tensorboard DIR``: the event files hold the curves the task recorded."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from adamlab.cli import main
from adamlab.tasks import adam_paper, data
from adamlab.tasks.logging import TensorBoardLogger

# the smallest run that still goes through every training loop: 1 seed, 1 epoch, tiny models
TINY = ["--quick", "--seeds", "1", "--epochs", "1", "--dpi", "20"]


def scalars(logdir: Path, run: str, tag: str) -> list[tuple[int, float]]:
    """(step, value) of ``tag`` in the event files of ``logdir/run``."""
    events = EventAccumulator(str(logdir / run))
    events.Reload()
    return [(event.step, event.value) for event in events.Scalars(tag)]


def assert_same(logged: list[tuple[int, float]], steps: list[int], values: list[float]) -> None:
    assert [step for step, _ in logged] == steps
    # TensorBoard keeps float32; the losses are float32 values, so they come back exactly
    np.testing.assert_array_equal([value for _, value in logged], np.array(values, np.float32))


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """One tiny ``paper adam`` run with --tensorboard: (logdir, its results.json)."""
    root = tmp_path_factory.mktemp("paper")
    logdir = root / "tb"
    argv = ["paper", "adam", "--out", str(root / "out"), *TINY, "--tensorboard", str(logdir)]
    assert main(argv) == 0
    return logdir, json.loads((root / "out" / "results.json").read_text())


@pytest.mark.parametrize("section", ["6.1", "6.2"])
def test_classifier_curves_equal_the_recorded_training_cost(
    tiny_run: tuple[Path, dict[str, Any]], section: str
) -> None:
    logdir, results = tiny_run
    comparison = results[section]
    batches = -(-results["n_train"] // adam_paper.BATCH)  # ceil: the last minibatch is short
    for optimizer, runs in comparison["runs"].items():
        for run in runs:
            name = f"{section}/{optimizer}/lr={run['lr']:g}/seed={run['seed']}"
            epochs = list(range(len(run["cost"])))
            assert_same(scalars(logdir, name, f"{section}/training_cost"), epochs, run["cost"])
            accuracy = scalars(logdir, name, f"{section}/test_accuracy")
            assert_same(accuracy, [epochs[-1]], [run["test_accuracy"]])
            minibatch = scalars(logdir, name, f"{section}/minibatch_loss")
            assert [step for step, _ in minibatch] == list(range(1, batches * epochs[-1] + 1))
        # every grid point is a run too; with one seed its final cost is the grid's mean
        for lr, mean_final in comparison["grid_mean_final_cost"][optimizer].items():
            name = f"{section}/{optimizer}/lr={lr}/seed=0"
            assert scalars(logdir, name, f"{section}/training_cost")[-1][1] == np.float32(
                mean_final
            )


def test_vae_curves_equal_the_recorded_losses(tiny_run: tuple[Path, dict[str, Any]]) -> None:
    logdir, results = tiny_run
    config = results["config"]
    steps = [config["vae_early"], config["vae_steps"]]
    assert len(results["6.4"]) == 2 * 3 * 2 * len(config["vae_log10_lr"])
    for cell in results["6.4"]:
        corrected = "on" if cell["bias_correction"] else "off"
        for seed, (early, final) in enumerate(zip(cell["early"], cell["final"], strict=True)):
            name = (
                f"6.4/beta1={cell['beta1']:g}/beta2={cell['beta2']:g}/"
                f"bias_correction={corrected}/log10_lr={cell['log10_lr']}/seed={seed}"
            )
            assert_same(scalars(logdir, name, "6.4/neg_elbo"), steps, [early, final])
            minibatch = scalars(logdir, name, "6.4/minibatch_neg_elbo")
            assert [step for step, _ in minibatch] == list(range(1, config["vae_steps"] + 1))


def test_logging_does_not_change_training(tmp_path: Path) -> None:
    """The same run with and without a logger gives the same Run, bit for bit."""
    features = data.standardise(data.load_digits())
    config = adam_paper.AdamPaperConfig.quick()
    kwargs: dict[str, Any] = {"section": "6.2", "config": config}
    plain = adam_paper.train_classifier(features, "adam", 1e-3, 0, 1, **kwargs)
    with TensorBoardLogger(tmp_path) as logger:
        logged = adam_paper.train_classifier(features, "adam", 1e-3, 0, 1, **kwargs, logger=logger)
    assert logged == plain


def test_missing_tensorboard_is_one_line_and_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # a None entry in sys.modules makes the import fail as if the package were absent
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)
    out = tmp_path / "out"
    argv = ["paper", "adam", "--out", str(out), *TINY, "--tensorboard", str(tmp_path / "tb")]
    assert main(argv) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1
    assert 'pip install "adamlab[tensorboard]"' in error
    assert not out.exists()  # refused before anything is written


def test_tensorboard_path_that_is_a_file_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "tb").write_text("")
    argv = ["paper", "adam", "--out", str(tmp_path / "out"), *TINY, "--tensorboard"]
    assert main([*argv, str(tmp_path / "tb")]) == 2
    assert "is not a folder" in capsys.readouterr().err
