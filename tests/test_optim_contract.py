"""The torch.optim contract, checked against each registered optimizer's torch twin.

Everything a torch user relies on beyond the update itself: defaults, state dicts that move
both ways between adamlab and torch, LR schedulers, param groups, the closure, a tensor lr,
parameters without a gradient, and ``p.grad`` left alone. Each test runs both optimizers on
the oracle's MLP (which has a frozen and an unused tensor) and compares every parameter and
state tensor with :class:`adamlab.verify.Comparison`.
"""

from __future__ import annotations

import copy
import inspect
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pytest
import torch
from torch import Tensor

from adamlab.optim import OPTIMIZERS, OptimizerEntry
from adamlab.verify import PROBLEMS, SINGLE_TENSOR, Comparison, clone_params, take_step

MLP = PROBLEMS["mlp"]
DTYPES = [torch.float64, torch.float32]
TWINNED = [name for name, entry in OPTIMIZERS.items() if entry.torch_twin is not None]


def _cases(first_only: bool = False) -> list[Any]:
    """(name, options) pairs; cases other than each optimizer's defaults are ``slow``."""
    params = []
    for name in TWINNED:
        cases = OPTIMIZERS[name].oracle_cases
        for index, options in enumerate(cases[:1] if first_only else cases):
            label = ",".join(f"{k}={v}" for k, v in options.items()) or "defaults"
            marks = () if index == 0 else pytest.mark.slow
            params.append(pytest.param(name, options, id=f"{name}[{label}]", marks=marks))
    return params


def _pair(
    entry: OptimizerEntry, options: Mapping[str, Any], dtype: torch.dtype
) -> tuple[list[Tensor], torch.optim.Optimizer, list[Tensor], torch.optim.Optimizer]:
    """adamlab and torch optimizers over identical copies of the MLP's parameters."""
    start = MLP.make_params(dtype)
    ours, theirs = clone_params(start), clone_params(start)
    return ours, entry.make(ours, **options), theirs, entry.make_twin(theirs, **options)


def _lockstep(
    ours: Sequence[Tensor],
    our_opt: torch.optim.Optimizer,
    theirs: Sequence[Tensor],
    their_opt: torch.optim.Optimizer,
    steps: int,
    after_step: Callable[[], None] = lambda: None,
) -> Comparison:
    """Step both ``steps`` times, comparing after every step."""
    comparison = Comparison()
    for step in range(1, steps + 1):
        take_step(our_opt, ours, MLP)
        take_step(their_opt, theirs, MLP)
        after_step()
        comparison.add(ours, our_opt, theirs, their_opt, where=f"step {step}, ")
    return comparison


def _tolerance(dtype: torch.dtype) -> float:
    return SINGLE_TENSOR.tolerance[dtype]


def _check(comparison: Comparison, dtype: torch.dtype) -> None:
    assert comparison.mismatch is None, comparison.mismatch
    assert comparison.within(_tolerance(dtype)), f"{comparison.max_rel} at {comparison.worst}"


# -- defaults -------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", TWINNED)
def test_defaults_match_torch(name: str) -> None:
    """Every hyperparameter both constructors take has the same default."""
    entry = OPTIMIZERS[name]
    assert entry.torch_twin is not None
    ours = inspect.signature(entry.cls.__init__).parameters
    theirs = inspect.signature(entry.torch_twin.__init__).parameters
    shared = [p for p in ours if p in theirs and p not in ("self", "params")]
    assert "lr" in shared
    for argument in shared:
        assert ours[argument].default == theirs[argument].default, argument


# -- state dicts, both ways -----------------------------------------------------------------------


@pytest.mark.parametrize(("name", "options"), _cases())
@pytest.mark.parametrize("source", ["torch", "adamlab"])
def test_state_dict_interop(name: str, options: dict[str, Any], source: str) -> None:
    """A state dict saved after 100 steps by one library loads into the other and continues.

    Both libraries load the same saved dict onto copies of the saving side's parameters and
    continue 100 steps; they must agree. (The reference is torch *after loading*: torch's own
    ``load_state_dict`` casts every state tensor but ``step`` to the parameter's dtype, so e.g.
    NAdam's float32 ``mu_product`` becomes float64 on a float64 parameter, in torch too.)
    """
    entry = OPTIMIZERS[name]
    dtype = torch.float64
    params = clone_params(MLP.make_params(dtype))
    saver = (
        entry.make_twin(params, **options) if source == "torch" else entry.make(params, **options)
    )
    for _ in range(100):
        take_step(saver, params, MLP)
    saved = copy.deepcopy(saver.state_dict())

    ours, theirs = clone_params(params), clone_params(params)
    our_opt, their_opt = entry.make(ours, **options), entry.make_twin(theirs, **options)
    our_opt.load_state_dict(saved)
    their_opt.load_state_dict(saved)
    loaded = Comparison()
    loaded.add(ours, our_opt, theirs, their_opt)
    assert loaded.mismatch is None and loaded.max_abs == 0.0  # the same state was loaded
    assert len(our_opt.state) == len(their_opt.state) == len(saver.state)
    _check(_lockstep(ours, our_opt, theirs, their_opt, steps=100), dtype)


# -- learning-rate schedulers and param groups ----------------------------------------------------

SCHEDULERS: dict[str, Callable[[torch.optim.Optimizer], torch.optim.lr_scheduler.LRScheduler]] = {
    "StepLR": lambda opt: torch.optim.lr_scheduler.StepLR(opt, step_size=40, gamma=0.5),
    "CosineAnnealingLR": lambda opt: torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=150),
}


@pytest.mark.parametrize("scheduler", list(SCHEDULERS))
@pytest.mark.parametrize("name", TWINNED)
def test_lr_scheduler_drives_both_alike(name: str, scheduler: str) -> None:
    entry = OPTIMIZERS[name]
    dtype = torch.float64
    ours, our_opt, theirs, their_opt = _pair(entry, {}, dtype)
    schedules = [SCHEDULERS[scheduler](our_opt), SCHEDULERS[scheduler](their_opt)]
    lrs: list[tuple[float, float]] = []

    def advance() -> None:
        for schedule in schedules:
            schedule.step()
        lrs.append((our_opt.param_groups[0]["lr"], their_opt.param_groups[0]["lr"]))

    _check(_lockstep(ours, our_opt, theirs, their_opt, steps=150, after_step=advance), dtype)
    assert all(a == b for a, b in lrs)
    assert len({a for a, _ in lrs}) > 2  # the schedule did change lr


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", TWINNED)
def test_param_groups_with_different_lr(name: str, dtype: torch.dtype) -> None:
    entry = OPTIMIZERS[name]
    start = MLP.make_params(dtype)
    ours, theirs = clone_params(start), clone_params(start)

    def groups(params: list[Tensor]) -> list[dict[str, Any]]:
        # W1 and b1 at a tenth of the default lr, W2 / frozen / unused at the default
        return [{"params": params[:2], "lr": 1e-4}, {"params": params[2:]}]

    our_opt, their_opt = entry.make(groups(ours)), entry.make_twin(groups(theirs))
    assert [g["lr"] for g in our_opt.param_groups] == [g["lr"] for g in their_opt.param_groups]
    _check(_lockstep(ours, our_opt, theirs, their_opt, steps=100), dtype)


# -- step(): closure, tensor lr, no gradient, p.grad untouched ------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", TWINNED)
def test_closure_loss_is_returned(name: str, dtype: torch.dtype) -> None:
    """``step(closure)`` evaluates the closure with grad enabled and returns its loss."""
    entry = OPTIMIZERS[name]
    ours, our_opt, theirs, their_opt = _pair(entry, {}, dtype)

    def closure_for(params: list[Tensor], optimizer: torch.optim.Optimizer) -> Callable[[], Any]:
        def closure() -> Tensor:
            optimizer.zero_grad()
            loss = MLP.loss(params)
            loss.backward()
            return loss

        return closure

    for _ in range(20):
        our_loss = our_opt.step(closure_for(ours, our_opt))
        their_loss = their_opt.step(closure_for(theirs, their_opt))
        assert isinstance(our_loss, Tensor) and isinstance(their_loss, Tensor)
        assert torch.equal(our_loss, their_loss)
    comparison = Comparison()
    comparison.add(ours, our_opt, theirs, their_opt)
    _check(comparison, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", TWINNED)
def test_tensor_lr_accepted(name: str, dtype: torch.dtype) -> None:
    """A 0-dim tensor lr works as in torch, bit for bit.

    (It need not equal a run with the Python float it holds: torch keeps the tensor and does
    its step-size arithmetic in the tensor's dtype, and so does adamlab.)
    """
    entry = OPTIMIZERS[name]
    start = MLP.make_params(dtype)
    ours, theirs = clone_params(start), clone_params(start)
    our_opt = entry.make(ours, lr=torch.tensor(1e-3, dtype=dtype))
    their_opt = entry.make_twin(theirs, lr=torch.tensor(1e-3, dtype=dtype))
    _check(_lockstep(ours, our_opt, theirs, their_opt, steps=50), dtype)


@pytest.mark.parametrize("name", TWINNED)
def test_float32_tensor_lr_on_float64_parameters_matches_torch(name: str) -> None:
    """torch 2.13 keeps a tensor lr a tensor, so its step-size arithmetic (lr / (1 - beta1^t),
    1 - lr * lambda, ...) runs in float32 here; adamlab does the same and agrees bit for bit."""
    entry = OPTIMIZERS[name]
    start = MLP.make_params(torch.float64)
    ours, theirs = clone_params(start), clone_params(start)
    our_opt = entry.make(ours, lr=torch.tensor(1e-3))
    their_opt = entry.make_twin(theirs, lr=torch.tensor(1e-3))
    _check(_lockstep(ours, our_opt, theirs, their_opt, steps=50), torch.float64)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", TWINNED)
def test_parameters_without_grad_are_skipped(name: str, dtype: torch.dtype) -> None:
    """The frozen and the unused MLP tensors stay put and gain no state beyond torch's."""
    entry = OPTIMIZERS[name]
    ours, our_opt, theirs, their_opt = _pair(entry, {}, dtype)
    skipped = [3, 4]  # scale (requires_grad=False) and unused (never in the forward pass)
    before = [ours[i].clone() for i in skipped]
    states_before = [copy.deepcopy(dict(our_opt.state.get(ours[i], {}))) for i in skipped]
    _check(_lockstep(ours, our_opt, theirs, their_opt, steps=10), dtype)
    for i, value, state in zip(skipped, before, states_before, strict=True):
        assert ours[i].grad is None
        assert torch.equal(ours[i], value)
        after = dict(our_opt.state.get(ours[i], {}))
        assert after.keys() == state.keys() == dict(their_opt.state.get(theirs[i], {})).keys()
        assert all(torch.equal(after[k], state[k]) for k in after)  # e.g. Adagrad's eager state
    if not their_opt.state.get(theirs[4]):
        assert ours[4] not in our_opt.state or not our_opt.state[ours[4]]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("name", "options"), _cases())
def test_step_leaves_grad_unchanged(name: str, options: dict[str, Any], dtype: torch.dtype) -> None:
    entry = OPTIMIZERS[name]
    params = clone_params(MLP.make_params(dtype))
    optimizer = entry.make(params, **options)
    for _ in range(3):
        _, grads = MLP.value_and_grad(params)
        for param, grad in zip(params, grads, strict=True):
            param.grad = grad
        saved = [None if g is None else g.clone() for g in grads]
        optimizer.step()
        for param, grad, copy_ in zip(params, grads, saved, strict=True):
            assert param.grad is grad  # the same tensor object ...
            if copy_ is not None:
                assert grad is not None and torch.equal(grad, copy_)  # ... with the same values
