"""Hyperparameter validation for every optimizer, in one place.

Messages keep torch.optim's wording (``Invalid beta parameter at index 0: 1.0``) and add the
argument's name and the valid range, so the error says what to change. NaN fails every
check because each test is written as ``lower <= value`` / ``value < upper``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import Tensor


def _as_float(value: float | Tensor, name: str) -> float:
    if isinstance(value, Tensor):
        if value.numel() != 1:
            raise ValueError(f"Tensor {name} must be 1-element, got shape {tuple(value.shape)}")
        return float(value.item())
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"Invalid {name}: {value!r} (expected a real number)")
    return float(value)


def check_lr(lr: float | Tensor) -> None:
    """lr must be finite and >= 0."""
    value = _as_float(lr, "lr")
    if not (math.isfinite(value) and value >= 0.0):
        raise ValueError(f"Invalid learning rate: lr={value} (expected a finite value >= 0)")


def check_eps(eps: float, name: str = "eps") -> None:
    """eps must be finite and >= 0."""
    value = _as_float(eps, name)
    if not (math.isfinite(value) and value >= 0.0):
        raise ValueError(f"Invalid epsilon value: {name}={value} (expected a finite value >= 0)")


def check_betas(betas: Sequence[float | Tensor]) -> None:
    """betas must be a pair, each in [0, 1)."""
    if len(betas) != 2:
        raise ValueError(f"Invalid betas: {tuple(betas)} (expected a pair (beta1, beta2))")
    for index, beta in enumerate(betas):
        value = _as_float(beta, f"betas[{index}]")
        if not 0.0 <= value < 1.0:
            raise ValueError(
                f"Invalid beta parameter at index {index}: betas[{index}]={value} "
                "(expected 0 <= beta < 1)"
            )


def check_unit_interval(value: float, name: str) -> None:
    """``name`` must lie in [0, 1) (e.g. RMSprop's alpha, a decay rate)."""
    number = _as_float(value, name)
    if not 0.0 <= number < 1.0:
        raise ValueError(f"Invalid {name} value: {name}={number} (expected 0 <= {name} < 1)")


def check_non_negative(value: float | Tensor, name: str) -> None:
    """``name`` must be finite and >= 0 (weight decay, momentum, lr_decay, ...)."""
    number = _as_float(value, name)
    if not (math.isfinite(number) and number >= 0.0):
        raise ValueError(f"Invalid {name} value: {name}={number} (expected a finite value >= 0)")


def check_nesterov(nesterov: bool, momentum: float, dampening: float) -> None:
    """Nesterov momentum needs momentum > 0 and zero dampening (as in torch)."""
    if nesterov and (momentum <= 0 or dampening != 0):
        raise ValueError(
            "Nesterov momentum requires a momentum and zero dampening: "
            f"got momentum={momentum}, dampening={dampening} "
            "(expected momentum > 0 and dampening = 0)"
        )


def check_no_duplicate_parameters(params: Sequence[Tensor]) -> None:
    """A parameter listed twice would be updated twice per step: reject it."""
    seen: set[int] = set()
    for index, param in enumerate(params):
        if id(param) in seen:
            raise ValueError(
                f"Invalid params: the parameter at index {index} appears more than once "
                "(expected each parameter once across all parameter groups)"
            )
        seen.add(id(param))


def check_floating_point(params: Sequence[Tensor]) -> None:
    """Optimizers here update real floating-point tensors only."""
    for index, param in enumerate(params):
        if not torch.is_floating_point(param):
            raise ValueError(
                f"Invalid params: parameter {index} has dtype {param.dtype} "
                "(expected a real floating-point dtype such as float32 or float64)"
            )
