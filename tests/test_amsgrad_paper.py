"""Tests for ``adamlab paper amsgrad``: Reddi, Kale & Kumar (2018), Theorem 1 and Figure 1.

The outcomes are asserted on horizons long enough for them to be settled (Theorem 1 within
3e4 steps, the online problem within 6e4), eagerly; the full default run (2e6 steps, compiled)
is marked slow. The batched, chunked simulation is pinned to a plain-Python transcription of
the paper's Adam / AMSGrad with projection, and the regret to a brute-force computation.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from adamlab.cli import main
from adamlab.functional import adam_init, adam_update
from adamlab.optim.schedules import inverse_sqrt
from adamlab.tasks import amsgrad_paper as paper
from adamlab.tasks.amsgrad_paper import (
    STOCHASTIC,
    SYNTHETIC,
    ReproductionConfig,
    ReproductionResult,
    RunRecord,
    theorem1_problem,
)


def _simulate(
    problem: paper.LinearProblem, steps: int, seeds: tuple[int | None, ...] = (None,), **kw: object
) -> dict[tuple[str, int | None], RunRecord]:
    config = ReproductionConfig(compile=False, **kw)  # type: ignore[arg-type]
    rows = [paper._Row(problem, a, s) for s in seeds for a in paper.ALGORITHMS]
    runs = paper.simulate(rows, steps, config, notes=[])
    return {(r.algorithm, r.seed): r for r in runs}


def reference_run(
    gradients: np.ndarray, beta1: float, beta2: float, alpha: float, amsgrad: bool, eps: float
) -> tuple[np.ndarray, float]:
    """Projected Adam / AMSGrad in plain Python floats: iterates x_1..x_T and x_{T+1}.

    Bias-corrected as torch (and adamlab); AMSGrad's maximum over the uncorrected v.
    """
    m = v = v_max = 0.0
    x = 0.0
    xs = np.empty(len(gradients))
    for i, g in enumerate(gradients):
        t = i + 1
        xs[i] = x
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        v_max = max(v_max, v)
        v_used = v_max if amsgrad else v
        m_hat = m / (1 - beta1**t)
        v_hat = v_used / (1 - beta2**t)
        x = x - alpha / math.sqrt(t) * m_hat / (math.sqrt(v_hat) + eps)
        x = min(1.0, max(-1.0, x))
    return xs, x


@pytest.mark.parametrize("problem", [theorem1_problem(3.0), SYNTHETIC], ids=lambda p: p.name)
def test_simulation_matches_the_papers_update_written_out(problem: paper.LinearProblem) -> None:
    steps = 3000
    runs = _simulate(problem, steps, points_per_decade=100_000)  # record every step
    t = np.arange(1, steps + 1)
    gradients = problem.gradients(t, None)
    for algorithm in paper.ALGORITHMS:
        run = runs[(algorithm, None)]
        xs, final = reference_run(
            gradients, problem.beta1, problem.beta2, problem.alpha, algorithm == "amsgrad", 1e-8
        )
        np.testing.assert_array_equal(run.t, t)
        np.testing.assert_allclose(run.x, xs, rtol=0, atol=1e-12)
        assert run.final_x == pytest.approx(final, abs=1e-12)
        # the regret, by brute force: the best fixed point of a linear loss is -1 or +1
        cumulative = np.cumsum(gradients * xs)
        best = np.minimum(np.cumsum(gradients) * -1.0, np.cumsum(gradients) * 1.0)
        np.testing.assert_allclose(run.average_regret, (cumulative - best) / t, atol=1e-9)
        np.testing.assert_array_equal(run.x_low, run.x)  # one step per segment here
        np.testing.assert_array_equal(run.x_high, run.x)


def test_adam_rows_of_a_mixed_batch_are_plain_adam_bit_for_bit() -> None:
    """The batch runs Adam rows through AMSGrad's path with the maximum reset to 0.

    Compared with batches of the same shape and the same [B] learning rates run with
    ``amsgrad=False`` / ``True`` throughout (torch's kernels may round differently for tensors
    of other lengths, so the baseline keeps the shape).
    """
    f64 = torch.float64
    rows = 4
    zeros = torch.zeros(rows, dtype=f64)
    amsgrad = torch.tensor([False, True, False, True])
    gen = torch.Generator().manual_seed(0)
    grads = torch.where(torch.rand(300, rows, generator=gen) < 0.05, 50.0, -1.0).to(f64)
    lrs = torch.tensor([[inverse_sqrt(k, 0.3)] * rows for k in range(len(grads))], dtype=f64)
    state = adam_init(zeros, amsgrad=True, step_dtype=f64)
    xs, *_ = paper._advance(zeros, state, zeros, zeros, grads, lrs, amsgrad, 0.9, 0.99, 1e-8)
    for flag in (False, True):
        theta = zeros.clone()
        single = adam_init(theta, amsgrad=flag, step_dtype=f64)
        selected = amsgrad == flag
        for k in range(len(grads)):
            assert torch.equal(xs[k][selected], theta[selected]), (flag, k)
            theta, single = adam_update(
                theta, grads[k], single, lr=lrs[k], beta1=0.9, beta2=0.99, amsgrad=flag
            )
            theta = theta.clamp(-1.0, 1.0)


def test_theorem1_adam_goes_to_plus_one_amsgrad_to_minus_one() -> None:
    problem = theorem1_problem(3.0)
    runs = _simulate(problem, 30_000)
    adam, ams = runs[("adam", None)], runs[("amsgrad", None)]
    assert adam.final_x > 0.99 and ams.final_x < -0.99
    # Theorem 1: Adam's average regret tends to 2 (C - 2) / 3; AMSGrad's to 0
    assert adam.final_average_regret == pytest.approx(2 * (3 - 2) / 3, rel=0.03)
    assert ams.final_average_regret < 0.02
    assert problem.regret_at_plus_one == pytest.approx(2 / 3)


def test_online_problem_adam_goes_to_plus_one_amsgrad_to_minus_one() -> None:
    runs = _simulate(SYNTHETIC, 60_000)
    adam, ams = runs[("adam", None)], runs[("amsgrad", None)]
    assert adam.final_x > 0.98 and ams.final_x < -0.98
    assert ams.final_average_regret < adam.final_average_regret
    # the last 10% of the recorded grid: Adam's band stays near +1, AMSGrad's near -1
    late = adam.t > 0.9 * 60_000
    assert adam.x_low[late].min() > 0.9 and ams.x_high[late].max() < -0.9


def test_recorder_envelope_brackets_every_iterate() -> None:
    steps = 5000
    runs = _simulate(STOCHASTIC, steps, seeds=(3,), points_per_decade=5)
    dense = _simulate(STOCHASTIC, steps, seeds=(3,), points_per_decade=100_000)
    for algorithm in paper.ALGORITHMS:
        coarse, every = runs[(algorithm, 3)], dense[(algorithm, 3)]
        assert coarse.t[-1] == steps
        previous = 0
        for i, t in enumerate(coarse.t):
            segment = every.x[previous:t]
            assert coarse.x_low[i] == segment.min() and coarse.x_high[i] == segment.max()
            assert coarse.x[i] == every.x[t - 1]
            previous = t


def test_stochastic_gradients_are_seeded() -> None:
    t = np.arange(1, 10_001)
    first = STOCHASTIC.gradients(t, np.random.default_rng(5))
    again = STOCHASTIC.gradients(t, np.random.default_rng(5))
    np.testing.assert_array_equal(first, again)
    assert set(np.unique(first)) == {1010.0, -10.0}
    assert abs((first == 1010.0).mean() - 0.01) < 0.004


def test_results_round_trip_through_json_and_draw(tmp_path: Path) -> None:
    config = ReproductionConfig(steps=2000, theorem1_steps=300, seeds=2, compile=False)
    result = paper.reproduce(config)
    assert len(result.runs) == 2 + 2 + 2 * 2
    data = json.loads(json.dumps(result.to_dict()))
    again = ReproductionResult.from_dict(data)
    assert again.config == config
    for a, b in zip(result.runs, again.runs, strict=True):
        np.testing.assert_array_equal(a.x, b.x)
        assert a.final_x == b.final_x
    assert [o["problem"] for o in data["outcomes"]] == ["theorem1", "synthetic", "stochastic"]
    fig = paper.figure(again)
    assert len(fig.axes) == 6
    assert all(ax.get_xscale() == "log" for ax in fig.axes)
    fig.savefig(tmp_path / "figure.png", dpi=40)
    assert "Theorem 1" in paper.summary(result)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"steps": 0}, r"Invalid steps: steps=0"),
        ({"seeds": 0}, r"Invalid seeds"),
        ({"chunk_steps": 12}, r"Invalid chunk_steps"),
        ({"x1": 1.5}, r"Invalid x1: x1=1\.5"),
        ({"C": 2.0}, r"Invalid C: C=2\.0 \(expected C > 2\)"),
    ],
)
def test_config_validation(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ReproductionConfig(**kwargs)  # type: ignore[arg-type]


def test_cli_writes_figure_results_and_readme(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "amsgrad"
    argv = ["paper", "amsgrad", "--out", str(out), "--steps", "3000", "--theorem1-steps", "300"]
    assert main([*argv, "--seeds", "2", "--no-compile", "--dpi", "30"]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith("paper amsgrad: out=")  # the validated config, echoed
    assert "Theorem 1" in printed and "Matches" in printed
    assert {p.name for p in out.iterdir()} == {"amsgrad.png", "results.json", "README.md"}
    results = json.loads((out / "results.json").read_text())
    assert results["config"]["steps"] == 3000
    assert "amsgrad.png" in (out / "README.md").read_text()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--steps", "0"], "Invalid steps: steps=0"),
        (["--seeds", "-1"], "Invalid seeds"),
        (["--dpi", "1"], "invalid --dpi 1"),
    ],
)
def test_cli_rejects_bad_input_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], message: str
) -> None:
    assert main(["paper", "amsgrad", "--out", str(tmp_path), *extra]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


def test_cli_rejects_a_file_as_output_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "file"
    path.write_text("")
    assert main(["paper", "amsgrad", "--out", str(path), "--steps", "10"]) == 2
    assert "exists and is not a folder" in capsys.readouterr().err


def test_cli_lists_the_papers(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["paper", "nonsense", "--out", "x"]) == 2
    assert "amsgrad" in capsys.readouterr().err


@pytest.mark.slow
def test_full_reproduction_matches_the_paper() -> None:
    """The default run: 3e5 steps of Theorem 1, 2e6 of the synthetic problems, compiled."""
    result = paper.reproduce(ReproductionConfig())
    outcomes = {o.problem: o for o in paper.assess(result)}
    assert outcomes["theorem1"].verdict == "matches"
    assert outcomes["synthetic"].verdict == "matches"
    assert outcomes["theorem1"].adam_regret == pytest.approx(2 / 3, rel=0.01)
    stochastic = outcomes["stochastic"]
    assert all(r.final_x > 0.9 for r in result.select("stochastic", "adam"))
    assert stochastic.amsgrad_x < 0 < stochastic.adam_x
    assert stochastic.amsgrad_regret < stochastic.adam_regret
    assert not result.notes  # compiled without falling back to eager
