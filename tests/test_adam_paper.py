"""Tests for ``adamlab paper adam`` and the uncorrected Adam it needs (paper, section 6.4)."""

from __future__ import annotations

import gzip
import json
import math
import struct
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from adamlab.cli import main
from adamlab.functional import adam_init, adam_update
from adamlab.tasks import adam_paper
from adamlab.tasks.adam_paper import AdamPaperConfig, VaeCell
from adamlab.tasks.data import MNIST_FILES


def test_adam_without_bias_correction_follows_the_uncorrected_equations() -> None:
    """bias_correction=False is theta -= alpha m_t / (sqrt(v_t) + eps), written out in floats."""
    grads = [0.5, -1.5, 2.0, 0.25]
    lr, beta1, beta2, eps = 0.1, 0.9, 0.9999, 1e-8
    theta_t = torch.tensor([1.0], dtype=torch.float64)
    state = adam_init(theta_t)
    theta, m, v = 1.0, 0.0, 0.0
    for g in grads:
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        theta = theta - lr * m / (v**0.5 + eps)
        grad = torch.tensor([g], dtype=torch.float64)
        theta_t, state = adam_update(
            theta_t, grad, state, lr=lr, beta1=beta1, beta2=beta2, eps=eps, bias_correction=False
        )
        assert abs(theta_t.item() - theta) < 1e-12
    # the first uncorrected step is (1 - beta1) / sqrt(1 - beta2) = 10 times alpha
    first, _ = adam_update(
        torch.zeros(1), torch.ones(1), adam_init(torch.zeros(1)), lr=0.1, bias_correction=False
    )
    assert abs(first.item() - (-0.1 * 0.1 / 0.001**0.5)) < 1e-5


def test_adam_bias_correction_default_is_unchanged() -> None:
    """The default (bias_correction=True) stays bit-identical to torch.optim.Adam."""
    torch.manual_seed(0)
    param = torch.randn(5, requires_grad=True)
    twin = param.detach().clone().requires_grad_(True)
    opt = torch.optim.Adam([twin], lr=1e-2, foreach=False)
    theta, state = param.detach(), adam_init(param.detach())
    for _ in range(5):
        grad = torch.randn(5)
        twin.grad = grad.clone()
        opt.step()
        theta, state = adam_update(theta, grad, state, lr=1e-2, bias_correction=True)
        assert torch.equal(theta, twin.detach())


# -- the reproduction ---------------------------------------------------------------------


def write_idx(path: Path, array: np.ndarray) -> None:
    """Write ``array`` as a gzip IDX file (uint8, magic 0x0000 08 ndim, big-endian sizes)."""
    header = struct.pack(">I", 0x0800 | array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    path.with_name(path.name + ".gz").write_bytes(
        gzip.compress(header + array.astype(np.uint8).tobytes())
    )


def _cell(beta2: float, log10_lr: int, corrected: bool, loss: float) -> VaeCell:
    return VaeCell(0.9, beta2, log10_lr, corrected, [loss, loss], [loss, loss])


def test_vae_loss_rows_are_independent() -> None:
    """A batch of stacked rows gives each row the loss it has alone (the grid relies on it)."""
    params = [torch.stack([p, p * 1.5]) for p in adam_paper._init_vae(0, 6, 5, 3)]
    x = torch.rand(2, 4, 6)
    noise = torch.randn(2, 4, 3)
    both = adam_paper.vae_loss(params, x, noise)
    for row in range(2):
        alone = adam_paper.vae_loss(
            [p[row : row + 1] for p in params], x[row : row + 1], noise[row : row + 1]
        )
        torch.testing.assert_close(both[row : row + 1], alone)


def test_bias_correction_claim_counts_settings() -> None:
    """Unstable only at beta2 = 0.9999 (NaN and 3x loss): the claim holds, with those counts."""
    cells = []
    for beta2 in adam_paper.VAE_BETA2:
        for p in (-3, -1):
            cells.append(_cell(beta2, p, True, 30.0))
            bad = {-3: 90.0, -1: math.nan} if beta2 == 0.9999 else {-3: 31.0, -1: 30.0}
            cells.append(_cell(beta2, p, False, bad[p]))
    claim = adam_paper._claim_64(cells)
    assert claim["holds"]
    near = claim["per_beta2"]["0.9999"]["early"]
    assert near["settings_worse_without_bc"] == 2 and near["settings"] == 2
    assert near["worst_ratio_without_over_with"] == pytest.approx(3.0)
    assert claim["per_beta2"]["0.99"]["early"]["settings_worse_without_bc"] == 0
    stable = [replace(c, early=[30.0, 30.0]) if not c.bias_correction else c for c in cells]
    assert not adam_paper._claim_64(stable)["holds"]


def test_quick_run_writes_figures_results_and_summary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "adam"
    assert main(["paper", "adam", "--out", str(out), "--quick", "--dpi", "30"]) == 0
    assert "paper adam: out=" in capsys.readouterr().out
    for name in ("adam_6_1_logreg.png", "adam_6_2_mlp.png", "adam_6_4_vae.png", "summary.md"):
        assert (out / name).stat().st_size > 0
    results = json.loads((out / "results.json").read_text())
    claims = [c["claim"][:3] for c in results["claims"]]
    assert claims == ["6.1", "6.2", "6.4"]
    config = AdamPaperConfig.quick()
    assert len(results["6.4"]) == 2 * 3 * 2 * len(config.vae_log10_lr)
    for section, grid in (("6.1", config.logreg_grid), ("6.2", config.mlp_grid)):
        assert set(results[section]["chosen_lr"]) == set(grid)
        for name, lr in results[section]["chosen_lr"].items():
            assert lr in grid[name]
            runs = results[section]["runs"][name]
            assert [run["seed"] for run in runs] == list(range(config.seeds))
            assert all(run["lr"] == lr for run in runs)
    summary = (out / "summary.md").read_text()
    assert summary.count("## ") == 3 and "lr grid" in summary


def test_mnist_idx_folder_runs_logistic_regression(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    for stem, shape in zip(MNIST_FILES, ((200, 28, 28), (200,), (50, 28, 28), (50,)), strict=True):
        array = rng.integers(0, 10 if len(shape) == 1 else 256, size=shape)
        write_idx(tmp_path / stem, array)
    out = tmp_path / "out"
    argv = ["paper", "adam", "--out", str(out), "--quick", "--mnist", str(tmp_path)]
    assert main([*argv, "--sections", "6.1", "--seeds", "1", "--dpi", "30"]) == 0
    results = json.loads((out / "results.json").read_text())
    assert results["data"] == "mnist" and results["n_train"] == 200
    assert results["6.2"] is None and results["6.4"] == []


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--seeds", "0"], "Invalid seeds"),
        (["--epochs", "0"], "Invalid logreg_epochs"),
        (["--mnist", "/nonexistent/mnist"], "not a folder"),
        (["--threads", "0"], "invalid --threads"),
    ],
)
def test_bad_input_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], message: str
) -> None:
    assert main(["paper", "adam", "--out", str(tmp_path), "--quick", *extra]) == 2
    assert message in capsys.readouterr().err


def _hand_made_comparison() -> adam_paper.Comparison:
    """Adam chose the top of its grid, AdaGrad the bottom, SGD-Nesterov an interior lr."""
    grid = {
        "adam": {"0.0003": 0.6, "0.001": 0.5, "0.003": 0.2},
        "adagrad": {"0.01": 0.3, "0.03": 0.4, "0.1": 0.6},
        "sgd_nesterov": {"0.01": 0.9, "0.03": 0.7, "0.1": 0.8},
    }
    chosen = {"adam": 3e-3, "adagrad": 1e-2, "sgd_nesterov": 3e-2}
    runs = {
        name: [adam_paper.Run(name, lr, seed, [1.0, grid[name][f"{lr:g}"]], 0.9) for seed in (0, 1)]
        for name, lr in chosen.items()
    }
    return adam_paper.Comparison("6.2", 1, grid, chosen, runs)


@pytest.mark.parametrize(
    ("lr", "grid", "edge"),
    [
        (3e-3, (3e-4, 1e-3, 3e-3), "highest"),
        (3e-4, (3e-4, 1e-3, 3e-3), "lowest"),
        (1e-3, (3e-4, 1e-3, 3e-3), None),
        (0.1, (0.1,), "only value"),
        # a grid read back from f"{lr:g}" keys: 0.0003 is 3e-4 within rounding
        (3e-4, (float("0.0003"), 1e-3), "lowest"),
    ],
)
def test_grid_edge(lr: float, grid: tuple[float, ...], edge: str | None) -> None:
    assert adam_paper.grid_edge(lr, grid) == edge


def test_summary_flags_a_chosen_lr_at_the_edge_of_its_grid() -> None:
    comparison = _hand_made_comparison()
    assert comparison.chosen_at_edge() == {"adam": "highest", "adagrad": "lowest"}
    assert comparison.to_dict()["chosen_lr_at_edge_of_grid"] == comparison.chosen_at_edge()
    claim = {
        "final_cost": {k: adam_paper._mean_std(comparison.final_costs(k)) for k in comparison.runs}
    }
    lines = adam_paper._comparison_lines(comparison, claim)
    rows = {line.split(" | ")[0].lstrip("| "): line for line in lines if line.startswith("| ")}
    assert "| 0.003 (at the edge of the grid: highest) |" in rows["Adam"]
    assert "| 0.01 (at the edge of the grid: lowest) |" in rows["AdaGrad"]
    assert "edge" not in rows["SGD-Nesterov"]
    assert "Not bracketed: the chosen lr of Adam, AdaGrad is at the edge of its grid" in "\n".join(
        lines
    )
    # an interior choice everywhere: no flag, no warning
    interior = replace(
        comparison, chosen_lr={**comparison.chosen_lr, "adam": 1e-3, "adagrad": 3e-2}
    )
    assert interior.chosen_at_edge() == {}
    assert "edge" not in "\n".join(adam_paper._comparison_lines(interior, claim))
