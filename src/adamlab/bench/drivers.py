"""How a batch of starts takes one optimizer step: through a pure rule, or through a class.

Registry optimizers are driven by their pure update rule from :mod:`adamlab.functional`, the
same function their ``torch.optim`` class calls, applied to the whole ``[B, d]`` batch at once
with a ``[B, 1]`` learning rate (one per row). A user's own ``package.module:Class`` is driven
through its class: one parameter tensor per learning rate, one ``step()`` per iteration.
Either way each row (start) evolves independently of the others.
"""

from __future__ import annotations

import importlib
import inspect
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from adamlab.bench.spec import OptimizerSpec
from adamlab.optim import OPTIMIZERS, FunctionalOptimizer
from adamlab.optim.schedules import get_schedule

#: ``(theta, grad, state, t) -> (theta, state)`` where t is the 0-dim step about to be taken.
StepFn = Callable[[Tensor, Tensor, Any, Tensor], tuple[Tensor, Any]]


def load_optimizer_class(target: str) -> type[torch.optim.Optimizer]:
    """Import ``package.module:Class`` and check it is a ``torch.optim.Optimizer`` subclass."""
    module_name, _, class_name = target.partition(":")
    if not module_name or not class_name:
        raise ValueError(f"invalid optimizer {target!r} (expected package.module:Class)")
    try:
        module = importlib.import_module(module_name)
    except Exception as error:  # an import can fail in any way; report it in one line
        raise ValueError(
            f"cannot import module {module_name!r} for optimizer {target!r}: "
            f"{type(error).__name__}: {error}"
        ) from None
    cls = getattr(module, class_name, None)
    if cls is None:
        raise ValueError(f"module {module_name!r} has no attribute {class_name!r}")
    if not (isinstance(cls, type) and issubclass(cls, torch.optim.Optimizer)):
        raise ValueError(f"{target!r} is not a torch.optim.Optimizer subclass")
    return cls


def optimizer_class(spec: OptimizerSpec) -> tuple[type[torch.optim.Optimizer], dict[str, Any]]:
    """The class to build and the constructor arguments (registry-fixed ones included)."""
    if spec.is_registry:
        entry = OPTIMIZERS[spec.name]
        return entry.cls, {**entry.kwargs, **spec.kwargs_dict}
    return load_optimizer_class(spec.name), spec.kwargs_dict


def validated_group(spec: OptimizerSpec) -> tuple[type[torch.optim.Optimizer], dict[str, Any]]:
    """Build the optimizer once on a dummy parameter: validates the hyperparameters (clear
    ValueError on a bad one) and fills in the class defaults; returns the param group."""
    cls, kwargs = optimizer_class(spec)
    dummy = torch.zeros(1, requires_grad=True)
    for lr in spec.lrs or (None,):
        trial = dict(kwargs) if lr is None else {**kwargs, "lr": lr}
        try:
            optimizer = cls([dummy], **trial)
        except TypeError as error:
            raise ValueError(f"invalid arguments for optimizer {spec.label!r}: {error}") from None
    group = {k: v for k, v in optimizer.param_groups[0].items() if k != "params"}
    return cls, group


def row_learning_rates(spec: OptimizerSpec, group: dict[str, Any], n_starts: int) -> Tensor:
    """One learning rate per batch row: rows are (lr, start) pairs, lr-major."""
    lrs = spec.lrs or (float(group["lr"]),)
    return torch.tensor(lrs, dtype=torch.float64).repeat_interleave(n_starts)


@dataclass(frozen=True)
class Driver:
    """Everything the engine needs to advance a batch of rows by one step."""

    init: Callable[[Tensor], Any]
    step: StepFn
    compilable: bool
    #: each coordinate's update reads only that coordinate (and shared scalars such as the
    #: step count), so the rule may step the coordinates of a batch separately
    elementwise: bool = False
    #: the same driver for a block of the batch's rows (its per-row learning rates sliced),
    #: so that a batch may be stepped block by block; None: the whole batch only
    on_rows: Callable[[slice], Driver] | None = None


def functional_driver(
    spec: OptimizerSpec,
    cls: type[FunctionalOptimizer],
    group: dict[str, Any],
    lr_rows: Tensor,
    schedule: Callable[[Tensor], Tensor] | None,
) -> Driver:
    """Drive a registry optimizer through its pure rule, with a ``[B, 1]`` learning rate."""
    hyper = cls.rule_hyperparameters(group)
    init_options = cls.init_options(group)
    if "step_dtype" in inspect.signature(cls.init_rule).parameters:
        # a float64 step counter stays exact far beyond float32's 2^24 steps
        init_options = {**init_options, "step_dtype": torch.float64}

    def init(theta: Tensor) -> Any:
        return cls.init_rule(theta, **init_options)

    def driver(lr_column: Tensor) -> Driver:
        def step(theta: Tensor, grad: Tensor, state: Any, t: Tensor) -> tuple[Tensor, Any]:
            lr = lr_column.to(theta.dtype)
            if schedule is not None:
                lr = lr * schedule(t)
            return cls.update_rule(theta, grad, state, **{**hyper, "lr": lr})

        # every registry rule is element-wise (tests/test_engine.py steps each one by columns)
        return Driver(
            init=init,
            step=step,
            compilable=True,
            elementwise=True,
            on_rows=lambda rows: driver(lr_column[rows]),
        )

    return driver(lr_rows.reshape(-1, 1))


def class_driver(
    cls: type[torch.optim.Optimizer],
    kwargs: dict[str, Any],
    lrs: Sequence[float],
    n_starts: int,
    schedule: Callable[[Tensor], Tensor] | None,
) -> Driver:
    """Drive any ``torch.optim.Optimizer`` through its class: one parameter per learning rate.

    The optimizer sees ``[n_starts, d]`` parameter tensors; rows stay independent only if the
    optimizer is element-wise (Adam-like). One that couples coordinates through norms (LAMB,
    Shampoo, ...) should be run with one start at a time.
    """
    holder: dict[str, Any] = {}

    def init(theta: Tensor) -> Any:
        params = [torch.nn.Parameter(chunk.clone()) for chunk in theta.split(n_starts)]
        groups = [{"params": [p], "lr": lr} for p, lr in zip(params, lrs, strict=True)]
        holder["optimizer"] = cls(groups, **{k: v for k, v in kwargs.items() if k != "lr"})
        holder["params"] = params
        holder["base_lrs"] = list(lrs)
        return None

    def step(theta: Tensor, grad: Tensor, state: Any, t: Tensor) -> tuple[Tensor, Any]:
        optimizer: torch.optim.Optimizer = holder["optimizer"]
        params: list[torch.nn.Parameter] = holder["params"]
        factor = 1.0 if schedule is None else float(schedule(t))
        with torch.no_grad():
            for param, group, base_lr, g, th in zip(
                params,
                optimizer.param_groups,
                holder["base_lrs"],
                grad.split(n_starts),
                theta.split(n_starts),
                strict=True,
            ):
                param.copy_(th)  # rows frozen by the engine (diverged) are restored here
                param.grad = g.clone()
                group["lr"] = base_lr * factor
        optimizer.step()
        return torch.cat([p.detach() for p in params]), state

    return Driver(init=init, step=step, compilable=False)


def make_driver(
    spec: OptimizerSpec, n_starts: int | Sequence[int], total_steps: int
) -> tuple[Driver, Tensor]:
    """The driver for one optimizer spec and its per-row learning rates ``[B]``.

    ``n_starts`` may list several blocks of rows (one per function of a batch), each laid out
    as (lr, start) pairs; only the pure-rule drivers take more than one.
    """
    cls, group = validated_group(spec)
    blocks = [n_starts] if isinstance(n_starts, int) else list(n_starts)
    lr_rows = torch.cat([row_learning_rates(spec, group, n) for n in blocks])
    schedule = schedule_factor(spec.schedule, total_steps)
    if spec.is_registry and issubclass(cls, FunctionalOptimizer):
        return functional_driver(spec, cls, group, lr_rows, schedule), lr_rows
    if len(blocks) != 1:
        raise ValueError(f"optimizer {spec.label!r} runs one function per batch")
    (n_starts,) = blocks
    _, kwargs = optimizer_class(spec)
    lrs = spec.lrs or (float(group["lr"]),)
    if any(not math.isfinite(lr) for lr in lrs):
        raise ValueError(f"invalid lr for optimizer {spec.label!r}: {lrs}")
    return class_driver(cls, kwargs, lrs, n_starts, schedule), lr_rows


def schedule_factor(name: str, total_steps: int) -> Callable[[Tensor], Tensor] | None:
    """The learning-rate multiplier at step t for a named schedule, or None for constant.

    The schedule functions of :mod:`adamlab.optim.schedules` are evaluated once per step into a
    table (lr_max = 1, so the table holds the factor); the step loop only indexes it, which
    keeps the compiled step free of Python arithmetic on the step number.
    """
    if name == "constant":
        return None
    schedule = get_schedule(name)
    extra = (
        {"total_steps": total_steps}
        if "total_steps" in inspect.signature(schedule).parameters
        else {}
    )
    table = torch.tensor(
        [schedule(step, lr_max=1.0, **extra) for step in range(total_steps + 1)],
        dtype=torch.float64,
    )

    def factor(t: Tensor) -> Tensor:
        # a gather, not table[t]: indexing with a 0-dim tensor reads t as a Python int, which
        # breaks the compiled graph at every step
        return table.index_select(0, t.long().reshape(1)).reshape(())

    return factor
