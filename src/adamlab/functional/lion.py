"""Lion (Chen et al., 2023): the sign of an interpolated momentum, found by program search.

Every coordinate moves by exactly alpha per step (before weight decay); only the direction
adapts. Two momentum rates: beta1 mixes the gradient into the step's direction, beta2 (slower)
updates the stored momentum afterwards. Algorithm 2 of the paper::

    c_t     <- beta1 m_{t-1} + (1 - beta1) g_t
    theta_t <- theta_{t-1} - alpha (sign(c_t) + lambda theta_{t-1})
    m_t     <- beta2 m_{t-1} + (1 - beta2) g_t

Note:
    sign(0) = 0, so a coordinate whose c_t is exactly 0 does not move. The decoupled weight
    decay is written as theta (1 - alpha lambda) - alpha sign(c_t), the same update. Because
    the step has norm alpha sqrt(d) whatever the gradient's size, the paper recommends an
    alpha 3-10x smaller than AdamW's and a lambda 3-10x larger; the default alpha is 1e-4.

References:
    X. Chen, C. Liang, D. Huang, E. Real, K. Wang, Y. Liu, H. Pham, X. Dong, T. Luong,
    C.-J. Hsieh, Y. Lu and Q. V. Le. Symbolic Discovery of Optimization Algorithms.
    NeurIPS 2023, arXiv:2302.06675.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor

from adamlab.functional._scalars import (
    Scalar,
    add_scaled,
    as_scalar,
    default_step_dtype,
    next_step,
)


class LionState(NamedTuple):
    """Lion's state for one parameter tensor.

    Attributes:
        step: t, counted for bookkeeping only; Lion's update does not use it (state key ``step``).
        m: momentum m_t (state key ``exp_avg``, as in the authors' PyTorch code).
    """

    step: Tensor
    m: Tensor


def lion_init(theta: Tensor, *, step_dtype: torch.dtype | None = None) -> LionState:
    """Return Lion's initial state: t = 0, m_0 = 0.

    >>> lion_init(torch.zeros(2)).m.tolist()
    [0.0, 0.0]
    """
    return LionState(
        step=torch.zeros((), dtype=step_dtype or default_step_dtype()),
        m=torch.zeros_like(theta, memory_format=torch.preserve_format),
    )


def lion_update(
    theta: Tensor,
    grad: Tensor,
    state: LionState,
    *,
    lr: Scalar = 1e-4,
    beta1: float = 0.9,
    beta2: float = 0.99,
    weight_decay: float = 0.0,
    maximize: bool = False,
) -> tuple[Tensor, LionState]:
    """One Lion step: return ``(theta_t, state_t)``.

    Args:
        theta: parameters theta_{t-1}, any shape.
        grad: the gradient g_t, same shape as ``theta``. Never modified.
        state: the state after t - 1 steps (see :func:`lion_init`).
        lr: step size alpha (float, 0-dim tensor, or a tensor broadcastable to ``theta``).
        beta1: weight of the old momentum in the step's direction c_t, in [0, 1).
        beta2: decay rate of the stored momentum m_t, in [0, 1).
        weight_decay: lambda, decoupled: theta <- theta (1 - alpha lambda) (as AdamW).
        maximize: ascend instead of descend (use -g_t).

    Returns:
        The new parameters and the new state. No input tensor is modified.

    >>> theta, g = torch.tensor([1.0, 1.0, 1.0]), torch.tensor([3.0, -1e-9, 0.0])
    >>> new_theta, _ = lion_update(theta, g, lion_init(theta), lr=0.5)
    >>> new_theta.tolist()  # each coordinate moves by alpha (none where the gradient is 0)
    [0.5, 1.5, 1.0]
    """
    t = next_step(state.step)
    lr = as_scalar(lr)
    # torch.optim's maximize: descend on -f, i.e. use -g_t
    g = -grad if maximize else grad

    if weight_decay != 0:
        # theta_{t-1} <- theta_{t-1} (1 - alpha lambda)          (decoupled decay)
        theta = theta * (1 - lr * weight_decay)
    # c_t = beta1 m_{t-1} + (1 - beta1) g_t         (lerp: m_{t-1} + (1 - beta1)(g_t - m_{t-1}))
    c = torch.lerp(state.m, g, 1 - beta1)
    # theta_t = theta_{t-1} - alpha sign(c_t)
    theta = add_scaled(theta, c.sign(), -lr)
    # m_t = beta2 m_{t-1} + (1 - beta2) g_t
    m = torch.lerp(state.m, g, 1 - beta2)
    return theta, LionState(step=t, m=m)
