"""RMSProp (Tieleman & Hinton, 2012), with the centered and momentum options of torch.optim.

Each coordinate's step is divided by a running root mean square of its gradients::

    v_t   <- alpha v_{t-1} + (1 - alpha) g_t^2            (alpha: smoothing constant)
    c_t   <- alpha c_{t-1} + (1 - alpha) g_t              (centered only: mean of g)
    r_t   <- sqrt(v_t - c_t^2) + eps   if centered   else   sqrt(v_t) + eps
    b_t   <- mu b_{t-1} + g_t / r_t                       (momentum only, b_0 = 0)
    theta_t <- theta_{t-1} - lr b_t     with momentum,  else  theta_{t-1} - lr g_t / r_t

References:
    T. Tieleman and G. Hinton. Lecture 6.5, rmsprop. COURSERA: Neural Networks for Machine
    Learning, 2012.
    A. Graves. Generating Sequences With Recurrent Neural Networks. arXiv:1308.0850, 2013
    (the centered variant).
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


class RMSpropState(NamedTuple):
    """RMSProp's state for one parameter tensor.

    Attributes:
        step: t (0-dim tensor; torch key ``step``).
        v: running mean of squared gradients v_t (torch key ``square_avg``).
        b: momentum buffer b_t, or None without momentum (torch key ``momentum_buffer``).
        c: running mean of gradients c_t, or None unless centered (torch key ``grad_avg``).
    """

    step: Tensor
    v: Tensor
    b: Tensor | None = None
    c: Tensor | None = None


def rmsprop_init(
    theta: Tensor,
    *,
    momentum: float = 0.0,
    centered: bool = False,
    step_dtype: torch.dtype | None = None,
) -> RMSpropState:
    """Return RMSProp's initial state: t = 0, v_0 = 0, and b_0 = 0 / c_0 = 0 where used.

    >>> state = rmsprop_init(torch.zeros(2), centered=True)
    >>> state.c.tolist(), state.b is None
    ([0.0, 0.0], True)
    """
    zeros = torch.zeros_like(theta, memory_format=torch.preserve_format)
    return RMSpropState(
        step=torch.zeros((), dtype=step_dtype or default_step_dtype()),
        v=zeros,
        b=zeros.clone() if momentum > 0 else None,
        c=zeros.clone() if centered else None,
    )


def rmsprop_update(
    theta: Tensor,
    grad: Tensor,
    state: RMSpropState,
    *,
    lr: Scalar = 1e-2,
    alpha: float = 0.99,
    eps: float = 1e-8,
    weight_decay: float = 0.0,
    momentum: float = 0.0,
    centered: bool = False,
    maximize: bool = False,
) -> tuple[Tensor, RMSpropState]:
    """One RMSProp step: return ``(theta_t, state_t)``.

    Args:
        theta: parameters theta_{t-1}, any shape.
        grad: the gradient g_t, same shape. Never modified.
        state: see :func:`rmsprop_init` (initialised with the same momentum / centered).
        lr: learning rate (float, 0-dim tensor, or broadcastable tensor such as ``[B, 1]``).
        alpha: smoothing constant of the running averages, in [0, 1).
        eps: added to the root (outside it, as torch; TensorFlow puts it inside).
        weight_decay: L2 penalty lambda: g_t <- g_t + lambda theta_{t-1}.
        momentum: mu >= 0, momentum on the normalised step (0 disables it).
        centered: normalise by an estimate of the gradient's variance instead of its second
            moment (Graves 2013).
        maximize: ascend instead of descend.

    Note:
        There is no bias correction: v_t starts at 0, so early steps are larger than lr
        (the first is lr / sqrt(1 - alpha) = 10 lr at alpha = 0.99). torch and TensorFlow agree.

    >>> theta0 = torch.tensor([1.0])
    >>> theta, _ = rmsprop_update(theta0, torch.tensor([2.0]), rmsprop_init(theta0), lr=0.01)
    >>> round(theta.item(), 6)  # 1 - 0.01 * 2 / sqrt(0.01 * 4)
    0.9
    """
    t = next_step(state.step)
    lr = as_scalar(lr)
    # torch.optim's maximize: descend on -f, i.e. use -g_t
    g = -grad if maximize else grad
    if weight_decay != 0:
        # g_t <- g_t + lambda theta_{t-1}
        g = add_scaled(g, theta, weight_decay)

    # v_t = alpha v_{t-1} + (1 - alpha) g_t^2
    v = torch.addcmul(alpha * state.v, g, g, value=1 - alpha)
    c = state.c
    if centered and c is not None:
        # c_t = alpha c_{t-1} + (1 - alpha) g_t      (lerp: c + (1 - alpha)(g - c))
        c = torch.lerp(c, g, 1 - alpha)
        # r_t = sqrt(v_t - c_t^2) + eps
        r = torch.addcmul(v, c, c, value=-1).sqrt() + eps
    else:
        # r_t = sqrt(v_t) + eps
        r = v.sqrt() + eps

    b = state.b
    if momentum > 0 and b is not None:
        # b_t = mu b_{t-1} + g_t / r_t
        b = momentum * b + g / r
        # theta_t = theta_{t-1} - lr b_t
        theta = add_scaled(theta, b, -lr)
    else:
        # theta_t = theta_{t-1} - lr g_t / r_t
        theta = theta - lr * g / r
    return theta, RMSpropState(step=t, v=v, b=b, c=c)
