"""Scalar helpers shared by the update rules: the step counter, bias corrections, x + a*y.

They exist so that every rule computes exactly what torch.optim's single-tensor path computes,
operation for operation: then adamlab and torch agree to the last bit on the same inputs, and
a verification over thousands of steps cannot drift apart through rounding alone.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TypeAlias

import torch
from torch import Tensor

#: A hyperparameter that may be a Python float or a tensor (0-dim, or one value per batch row).
Scalar: TypeAlias = float | Tensor


def next_step(step: Tensor) -> Tensor:
    """Return t + 1 as a new tensor of the same dtype (the input is not modified)."""
    return step + 1


def bias_correction(beta: float, t: Tensor) -> float | Tensor:
    """Return 1 - beta^t.

    Eagerly, as a Python float from ``t.item()`` (what torch.optim does, and cheaper than
    0-dim tensor arithmetic per parameter); under ``torch.compile`` as a float64 tensor, so
    the compiled graph does not depend on the step's value.
    """
    return 1 - beta ** step_value(t)


def add_scaled(x: Tensor, y: Tensor, alpha: Scalar) -> Tensor:
    """Return x + alpha * y rounded once (a fused multiply-add), as torch's ``x.add(y, alpha=)``.

    ``alpha`` may be a tensor broadcastable to ``y`` (one learning rate per batch row); then
    ``addcmul`` computes the same fused x + alpha * y.
    """
    if isinstance(alpha, Tensor):
        return torch.addcmul(x, alpha.to(y.dtype), y)
    return torch.add(x, y, alpha=alpha)


def as_scalar(value: Scalar) -> Scalar:
    """A 1-element tensor hyperparameter as a 0-dim tensor (torch.optim's ``_to_scalar``).

    torch keeps a tensor learning rate a tensor, so its step-size arithmetic runs in the
    tensor's dtype; doing the same keeps adamlab bit-identical to torch for tensor lrs too.
    Floats and per-row tensors (``[B, 1]``) pass unchanged.
    """
    if isinstance(value, Tensor) and value.dim() != 0 and value.numel() == 1:
        return value.squeeze()
    return value


def default_step_dtype() -> torch.dtype:
    """torch.optim's dtype for ``step``: float32, or float64 when that is the default dtype."""
    return torch.float64 if torch.get_default_dtype() == torch.float64 else torch.float32


def step_value(t: Tensor) -> float | Tensor:
    """t as a Python float eagerly (as torch.optim reads it), as a float64 tensor when compiling."""
    if torch.compiler.is_compiling():
        return t.to(torch.float64)
    return float(t)


# -- computing a scalar once per compiled call ---------------------------------------------------

_hoisting = False


# The identity as an operator the compiler cannot see into, so its input is computed into a
# buffer first. Registered through the low-level Library API: its call costs ~4 us against
# ~12 us for torch.library.custom_op's wrapper, and the fast path makes two per tensor.
_LIBRARY = torch.library.Library("adamlab", "DEF")
_LIBRARY.define("materialize(Tensor x) -> Tensor")


def _materialize_impl(x: Tensor) -> Tensor:
    return x.clone()


_LIBRARY.impl("materialize", _materialize_impl, "CompositeExplicitAutograd")


@torch.library.register_fake("adamlab::materialize")
def _materialize_fake(x: Tensor) -> Tensor:
    return torch.empty_like(x)


def _materialize(x: Tensor) -> Tensor:
    return torch.ops.adamlab.materialize.default(x)


@contextmanager
def hoisted_scalars(enabled: bool = True) -> Iterator[None]:
    """Within this block, :func:`once` makes compiled graphs compute 0-dim values once.

    Off by default: each hoisted value costs the compiled graph one more call, which pays off
    over large tensors but not over small ones, so callers pass ``enabled`` from their sizes
    (``hoisted_scalars(False)`` leaves the switch off). Tracing reads the switch, and dynamo
    guards on it, so each setting gets its own graph.
    """
    global _hoisting
    previous, _hoisting = _hoisting, enabled
    try:
        yield
    finally:
        _hoisting = previous


def once(value: Scalar) -> Scalar:
    """``value`` itself; while compiling inside :func:`hoisted_scalars`, a 0-dim tensor value
    is first computed into its own buffer.

    Why: inductor inlines a 0-dim expression such as ``lr / (1 - beta1^t)`` into the
    element-wise loop that reads it, so a pow, a sqrt and divisions in float64 run once per
    element (every 8 elements, vectorized) instead of once per step. Materialising it keeps
    the same operations, in the same order, on the same values: the result is bit-identical.
    """
    if isinstance(value, Tensor) and _hoisting and value.dim() == 0:
        return _materialize(value) if torch.compiler.is_compiling() else value
    return value
