"""adamlab's fast path (``fused=True``) against torch.optim, step for step.

The fast path compiles the same functional rule (see ``adamlab.optim.fused``), so it must stay
within the oracle's own tolerance of torch's single-tensor path over 1000 steps, with every
flag; a learning-rate schedule must not recompile it at every step; and parameters without a
gradient must be left alone.
"""

from __future__ import annotations

import pytest
import torch

from adamlab.functional import sgd_init, sgd_update
from adamlab.optim import OPTIMIZERS, Adam, AdamW, fused
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


def _params(cases: list[OracleCase], fast: set[str]) -> list[object]:
    return [
        pytest.param(
            c,
            id=c.label,
            marks=() if c.label in fast else (pytest.mark.slow,),
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


@pytest.mark.parametrize("default_dtype", [torch.float32, torch.float64])
def test_0_dim_tensors_are_updated_in_place(default_dtype: torch.dtype) -> None:
    """0-dim float64 tensors (the step counter under a float64 default dtype, a scalar
    parameter and its moments) advance like torch's: compiled code loses its writes into a
    0-dim float64 argument, so the fast path passes them as 1-element views."""
    kept = torch.get_default_dtype()
    torch.set_default_dtype(default_dtype)
    try:
        ours = [
            torch.nn.Parameter(torch.ones((), dtype=torch.float64)),
            torch.nn.Parameter(torch.ones(3, 2, dtype=torch.float32)),
        ]
        theirs = [torch.nn.Parameter(p.detach().clone()) for p in ours]
        opt = Adam(ours, lr=0.1, amsgrad=True, fused=True)
        ref = torch.optim.Adam(theirs, lr=0.1, amsgrad=True, foreach=False)
        for step in range(6):
            for a, b in zip(ours, theirs, strict=True):
                a.grad = a.detach() * (step - 2.5)
                b.grad = b.detach() * (step - 2.5)
            opt.step()
            ref.step()
        for a, b in zip(ours, theirs, strict=True):
            assert opt.state[a]["step"].dtype == ref.state[b]["step"].dtype
            assert opt.state[a]["step"].item() == ref.state[b]["step"].item() == 6
            tolerance = 1e-10 if a.dtype == torch.float64 else 1e-5
            torch.testing.assert_close(a, b, rtol=tolerance, atol=0)
            for key in ("exp_avg", "exp_avg_sq", "max_exp_avg_sq"):
                torch.testing.assert_close(
                    opt.state[a][key], ref.state[b][key], rtol=tolerance, atol=0
                )
    finally:
        torch.set_default_dtype(kept)


def test_chunk_sizes() -> None:
    assert chunk_sizes(0) == []
    assert sum(chunk_sizes(1000)) == 1000
    assert len(set(chunk_sizes(1001))) <= 2
    assert max(chunk_sizes(1001, limit=100)) <= 100


def _step_both(
    ours: list[torch.Tensor],
    opt: Adam,
    theirs: list[torch.Tensor],
    ref: torch.optim.Adam,
    generator: torch.Generator,
) -> None:
    """One step of both optimizers on the same random gradients."""
    for a, b in zip(ours, theirs, strict=True):
        a.grad = torch.randn(a.shape, generator=generator)
        b.grad = a.grad.clone()
    opt.step()
    ref.step()


def _refuse(flat: object) -> object:
    raise AssertionError("a step went through torch.compile instead of the compiled graph")


def test_after_the_first_step_the_compiled_graph_is_called_without_dynamo(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ours, opt, theirs, ref = _pair([(4, 3), (5,)], lr=1e-2, amsgrad=True)
    generator = torch.Generator().manual_seed(2)
    for step in range(6):
        _step_both(ours, opt, theirs, ref, generator)
        if step == 0:
            # from now on every step must take the direct call
            for signature, compiled in list(fused._COMPILED.items()):
                assert compiled.graph is not None
                monkeypatch.setitem(fused._COMPILED, signature, compiled._replace(function=_refuse))
    for a, b in zip(ours, theirs, strict=True):  # float32: the oracle's float32 tolerance
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-7)
        for key in ("exp_avg", "exp_avg_sq", "max_exp_avg_sq"):
            torch.testing.assert_close(opt.state[a][key], ref.state[b][key], rtol=1e-5, atol=1e-9)


def test_state_tensors_of_another_layout_get_a_graph_of_their_own() -> None:
    """A graph is called only on tensors like those it was compiled for: a strided state
    tensor (here, loaded into the optimizer) is a different signature, compiled anew, and
    updated in place."""
    ours, opt, theirs, ref = _pair([(6,)], lr=1e-2)
    generator = torch.Generator().manual_seed(3)

    _step_both(ours, opt, theirs, ref, generator)
    _step_both(ours, opt, theirs, ref, generator)
    before = len(fused._COMPILED)
    backing = torch.zeros(12)
    strided = backing[::2]
    strided.copy_(opt.state[ours[0]]["exp_avg"])
    opt.state[ours[0]]["exp_avg"] = strided
    _step_both(ours, opt, theirs, ref, generator)
    _step_both(ours, opt, theirs, ref, generator)
    assert len(fused._COMPILED) == before + 1
    assert opt.state[ours[0]]["exp_avg"] is strided
    torch.testing.assert_close(strided, ref.state[theirs[0]]["exp_avg"], rtol=1e-5, atol=1e-9)
    torch.testing.assert_close(ours[0], theirs[0], rtol=1e-5, atol=1e-7)
    assert torch.all(backing[1::2] == 0)  # the gaps between the strided elements untouched


def test_a_field_created_by_the_step_is_returned_then_updated_in_place() -> None:
    """SGD's momentum buffer does not exist before its first step: that step returns it (and
    runs through torch.compile), later steps update it in place through the compiled graph."""
    generator = torch.Generator().manual_seed(4)
    theta = torch.randn(7, generator=generator, dtype=torch.float64)
    expected_theta, expected_state = theta.clone(), sgd_init(theta)
    state = sgd_init(theta)
    hyperparameters = {
        "lr": 0.1,
        "momentum": 0.9,
        "dampening": 0.0,
        "weight_decay": 0.0,
        "nesterov": True,
        "maximize": False,
    }
    for step in range(4):
        grad = torch.randn(7, generator=generator, dtype=torch.float64)
        (state,) = fused.fused_step(sgd_update, hyperparameters, [theta], [grad], [state])
        expected_theta, expected_state = sgd_update(
            expected_theta, grad, expected_state, **hyperparameters
        )
        assert state.b is not None
        if step == 0:
            buffer = state.b
        assert state.b is buffer  # created once, then written in place
        # float64: the oracle's float64 tolerance (compiled arithmetic may fuse a rounding)
        torch.testing.assert_close(theta, expected_theta, rtol=1e-10, atol=0)
        torch.testing.assert_close(state.b, expected_state.b, rtol=1e-10, atol=0)


def test_one_graph_serves_every_size_with_the_same_layout() -> None:
    """Sizes are dynamic: parameters of other sizes (equal where they were equal) reuse the
    graph without compiling, and still match torch; an equality of sizes that was not there
    before is another layout."""

    def run(shapes: list[tuple[int, ...]]) -> None:
        ours, opt, theirs, ref = _pair(shapes, lr=1e-2, weight_decay=0.1)
        generator = torch.Generator().manual_seed(5)
        for _ in range(3):
            _step_both(ours, opt, theirs, ref, generator)
        for a, b in zip(ours, theirs, strict=True):
            torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-7)

    run([(3, 4), (5,)])
    compiled = len(fused._COMPILED)
    run([(7, 2), (9,)])  # other sizes, still two different ones
    run([(11,), (2, 2, 2)])
    assert len(fused._COMPILED) == compiled
    run([(6,), (2, 3)])  # now equal: a layout of its own
    assert len(fused._COMPILED) == compiled + 1


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_scalars_computed_once_or_inline_give_the_same_bits(
    monkeypatch: pytest.MonkeyPatch, dtype: torch.dtype
) -> None:
    def run(hoist_from: int) -> list[torch.Tensor]:
        monkeypatch.setattr(fused, "HOIST_FROM_ELEMENTS", hoist_from)
        generator = torch.Generator().manual_seed(6)
        params = [torch.randn(s, generator=generator, dtype=dtype) for s in (50, 3)]
        opt = Adam(params, lr=1e-2, fused=True, amsgrad=True, weight_decay=0.1)
        for _ in range(5):
            for p in params:
                p.grad = torch.randn(p.shape, generator=generator, dtype=dtype)
            opt.step()
        return params + [t for p in params for t in opt.state[p].values()]

    for once, inline in zip(run(0), run(10**9), strict=True):
        assert torch.equal(once, inline)
