"""Tests for adamlab.optim.schedules: closed forms, torch's CosineAnnealingLR, the LR scheduler."""

from __future__ import annotations

import itertools
import math

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from adamlab.optim import Adam
from adamlab.optim.schedules import (
    SCHEDULES,
    ScheduleLR,
    constant,
    cosine_decay,
    get_schedule,
    inverse_sqrt,
    make_scheduler,
)


def _sgd(*lrs: float) -> torch.optim.SGD:
    groups = [{"params": [torch.zeros(1, requires_grad=True)], "lr": lr} for lr in lrs]
    return torch.optim.SGD(groups)


def _lrs(optimizer: torch.optim.Optimizer, scheduler: object, steps: int) -> list[list[float]]:
    """The lr of every group before each of ``steps`` optimizer steps."""
    seen = []
    for _ in range(steps):
        seen.append([float(g["lr"]) for g in optimizer.param_groups])
        optimizer.step()
        scheduler.step()  # type: ignore[attr-defined]
    return seen


def test_registry_names() -> None:
    assert set(SCHEDULES) >= {"constant", "cosine", "inverse_sqrt"}
    assert SCHEDULES["cosine"] is cosine_decay


def test_cosine_closed_form_by_hand() -> None:
    # T = 4: (1 + cos(pi s / 4)) / 2 = 1, (2 + sqrt 2) / 4, 1/2, (2 - sqrt 2) / 4, 0, then 0
    expected = [1.0, (2 + math.sqrt(2)) / 4, 0.5, (2 - math.sqrt(2)) / 4, 0.0, 0.0, 0.0]
    got = [cosine_decay(s, 4, 1.0) for s in range(7)]
    assert got == pytest.approx(expected, abs=1e-15)
    # lr_min shifts and scales: lr_min + (lr_max - lr_min) * the above
    got = [cosine_decay(s, 4, 0.5, lr_min=0.1) for s in range(7)]
    assert got == pytest.approx([0.1 + 0.4 * e for e in expected], abs=1e-15)
    assert cosine_decay(10**6, 4, 0.5, lr_min=0.1) == 0.1


def test_cosine_warmup_is_linear_from_zero_then_decays() -> None:
    total, warmup, peak = 20, 5, 0.3
    ramp = [cosine_decay(s, total, peak, warmup_steps=warmup) for s in range(warmup + 1)]
    assert ramp == pytest.approx([peak * s / warmup for s in range(warmup)] + [peak], abs=1e-15)
    # after the warm-up, the cosine over the remaining T - W steps
    for s in range(warmup, total + 1):
        p = (s - warmup) / (total - warmup)
        expected = peak * (1 + math.cos(math.pi * p)) / 2
        assert cosine_decay(s, total, peak, warmup_steps=warmup) == pytest.approx(expected)


@given(
    total=st.integers(1, 500),
    warmup_fraction=st.floats(0, 0.99),
    peak=st.floats(1e-6, 10),
    floor_fraction=st.floats(0, 1),
)
def test_cosine_stays_in_range_and_decays_monotonically(
    total: int, warmup_fraction: float, peak: float, floor_fraction: float
) -> None:
    warmup = int(warmup_fraction * total)
    floor = floor_fraction * peak
    values = [cosine_decay(s, total, peak, floor, warmup) for s in range(total + 3)]
    assert all(0 <= v <= peak * (1 + 1e-15) for v in values)
    after = values[warmup:]
    assert all(b <= a * (1 + 1e-15) + 1e-300 for a, b in itertools.pairwise(after))
    assert values[warmup] == pytest.approx(peak) and values[total] == pytest.approx(floor)


@pytest.mark.parametrize(("total", "floor"), [(1, 0.0), (10, 0.0), (100, 0.01), (37, 0.05)])
def test_cosine_matches_torch_cosine_annealing(total: int, floor: float) -> None:
    """Without warm-up, torch's CosineAnnealingLR(T_max=T, eta_min) is the same schedule."""
    reference = _sgd(0.1)
    theirs = _lrs(
        reference,
        torch.optim.lr_scheduler.CosineAnnealingLR(reference, T_max=total, eta_min=floor),
        total + 1,
    )
    ours = [cosine_decay(s, total, 0.1, lr_min=floor) for s in range(total + 1)]
    # torch updates the lr recursively, which rounds a little differently
    assert ours == pytest.approx([row[0] for row in theirs], rel=1e-12, abs=1e-15)


def test_make_scheduler_sets_exactly_the_pure_functions_values() -> None:
    optimizer = _sgd(0.1, 0.02)
    scheduler = make_scheduler(optimizer, "cosine", total_steps=30, lr_min=1e-3, warmup_steps=3)
    assert isinstance(scheduler, ScheduleLR)
    seen = _lrs(optimizer, scheduler, 35)
    for s, row in enumerate(seen):
        assert row == [cosine_decay(s, 30, peak, 1e-3, 3) for peak in (0.1, 0.02)]


def test_inverse_sqrt_and_constant() -> None:
    assert [inverse_sqrt(s, 0.5) for s in (0, 3, 8)] == [0.5, 0.25, 0.5 / 3]
    optimizer = _sgd(0.5)
    seen = _lrs(optimizer, make_scheduler(optimizer, "inverse_sqrt"), 50)
    assert [row[0] for row in seen] == [0.5 / math.sqrt(t) for t in range(1, 51)]
    optimizer = _sgd(0.5)
    assert _lrs(optimizer, make_scheduler(optimizer, "constant"), 5) == [[0.5]] * 5
    assert constant(7, 0.5) == 0.5


def test_adamlab_optimizers_read_the_scheduled_lr() -> None:
    """With a constant gradient and eps = 0, every Adam step has size lr: the scheduled one."""
    param = torch.nn.Parameter(torch.zeros(1, dtype=torch.float64))
    optimizer = Adam([param], lr=0.5, eps=0.0)
    scheduler = make_scheduler(optimizer, "inverse_sqrt")
    for _ in range(3):
        param.grad = torch.ones(1, dtype=torch.float64)
        optimizer.step()
        scheduler.step()
    assert param.item() == pytest.approx(-0.5 * (1 + 1 / math.sqrt(2) + 1 / math.sqrt(3)))
    assert optimizer.param_groups[0]["lr"] == 0.5 / math.sqrt(4)


def test_scheduler_state_round_trip() -> None:
    optimizer = _sgd(0.1)
    scheduler = make_scheduler(optimizer, "cosine", total_steps=10)
    _lrs(optimizer, scheduler, 4)
    fresh_optimizer = _sgd(0.1)
    fresh = make_scheduler(fresh_optimizer, "cosine", total_steps=10)
    fresh_optimizer.load_state_dict(optimizer.state_dict())
    fresh.load_state_dict(scheduler.state_dict())
    assert _lrs(fresh_optimizer, fresh, 3) == _lrs(optimizer, scheduler, 3)


@pytest.mark.parametrize(
    ("name", "params", "message"),
    [
        ("cosin", {}, r"unknown schedule 'cosin'; did you mean cosine\?"),
        ("cosine", {}, r"invalid parameters for schedule 'cosine'"),
        ("cosine", {"total": 10}, r"invalid parameters for schedule 'cosine'"),
        ("cosine", {"total_steps": 0}, r"Invalid total_steps: total_steps=0 \(expected >= 1\)"),
        ("cosine", {"total_steps": 5, "warmup_steps": 5}, r"Invalid warmup_steps"),
        ("cosine", {"total_steps": 5, "lr_min": 0.2}, r"Invalid lr_min: lr_min=0\.2"),
        ("inverse_sqrt", {"total_steps": 5}, r"invalid parameters for schedule 'inverse_sqrt'"),
    ],
)
def test_bad_schedules_are_rejected_at_construction(
    name: str, params: dict[str, float], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        make_scheduler(_sgd(0.1), name, **params)


def test_negative_step_is_rejected() -> None:
    for schedule in SCHEDULES.values():
        with pytest.raises(ValueError, match=r"Invalid step: step=-1"):
            schedule(-1, lr_max=0.1, **({"total_steps": 3} if schedule is cosine_decay else {}))
    with pytest.raises(ValueError, match="known: constant"):
        get_schedule("nope")


def test_a_scheduled_unit_compiles_without_graph_breaks() -> None:
    """The engine's compiled step reads the schedule as a gather: one graph, the eager values."""
    from torch._dynamo.utils import counters

    from adamlab.bench.engine import run_unit
    from adamlab.bench.spec import spec_from_dict

    data = {
        "steps": 40,
        "functions": ["booth"],
        "optimizers": [{"name": "adam", "schedule": "cosine", "lr": 1e-1}],
        "starts": [{"name": "domain", "n": 3}],
    }
    threads = torch.get_num_threads()
    try:
        eager_spec = spec_from_dict({**data, "compile": False})
        eager = run_unit(eager_spec, eager_spec.optimizers[0], "booth")
        counters.clear()
        compiled_spec = spec_from_dict({**data, "compile": True})
        compiled = run_unit(compiled_spec, compiled_spec.optimizers[0], "booth")
    finally:
        torch.set_num_threads(threads)
    assert not counters["unimplemented"], list(counters["unimplemented"])
    assert counters["stats"]["unique_graphs"] == 1
    assert abs(compiled.final - eager.final).max() < 1e-12
