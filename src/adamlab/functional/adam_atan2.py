"""Adam-atan2 (Everett et al., 2024): Adam with atan2 in place of the eps-guarded division.

Adam's direction m_hat / (sqrt(v_hat) + eps) needs eps only to avoid 0 / 0, and eps breaks
the step's invariance to the gradient's scale wherever |g| is near eps. atan2(y, x) is the
angle of the point (x, y): bounded in (-pi/2, pi/2) for x >= 0, close to y / x when
|y| << x, defined (as 0) at y = x = 0, and unchanged when y and x are scaled together::

    t     <- t + 1
    m_t   <- beta1 m_{t-1} + (1 - beta1) g_t
    v_t   <- beta2 v_{t-1} + (1 - beta2) g_t^2
    m_hat <- m_t / (1 - beta1^t)
    v_hat <- v_t / (1 - beta2^t)
    theta_t <- theta_{t-1} - alpha a atan2(m_hat, b sqrt(v_hat))

Note:
    a = b = 1 by default (the form in adamlab's methodology notes). For |m_hat| << b sqrt(v_hat)
    the step is alpha (a / b) m_hat / sqrt(v_hat), Adam's without eps; when |m_hat| = sqrt(v_hat)
    (a constant gradient) it is alpha a pi / 4, so a = 4 / pi ~ 1.27 (used by some
    implementations) makes that case match Adam's step alpha exactly. Every step is bounded by
    alpha a pi / 2. Weight decay is decoupled, as in AdamW.

References:
    K. Everett, L. Xiao, M. Wortsman, A. A. Alemi, R. Novak, P. J. Liu, I. Gur,
    J. Sohl-Dickstein, L. P. Kaelbling, J. Lee and J. Pennington. Scaling Exponents Across
    Parameterizations and Optimizers. ICML 2024, arXiv:2407.05872.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor

from adamlab.functional._scalars import (
    Scalar,
    as_scalar,
    bias_correction,
    default_step_dtype,
    next_step,
)


class AdamAtan2State(NamedTuple):
    """Adam-atan2's state for one parameter tensor (Adam's, without AMSGrad).

    Attributes:
        step: t (0-dim tensor; state key ``step``).
        m: first-moment estimate m_t (state key ``exp_avg``).
        v: second raw-moment estimate v_t (state key ``exp_avg_sq``).
    """

    step: Tensor
    m: Tensor
    v: Tensor


def adam_atan2_init(theta: Tensor, *, step_dtype: torch.dtype | None = None) -> AdamAtan2State:
    """Return Adam-atan2's initial state: t = 0, m_0 = 0, v_0 = 0.

    >>> adam_atan2_init(torch.zeros(2)).v.tolist()
    [0.0, 0.0]
    """
    zeros = torch.zeros_like(theta, memory_format=torch.preserve_format)
    return AdamAtan2State(
        step=torch.zeros((), dtype=step_dtype or default_step_dtype()),
        m=zeros,
        v=zeros.clone(),
    )


def adam_atan2_update(
    theta: Tensor,
    grad: Tensor,
    state: AdamAtan2State,
    *,
    lr: Scalar = 1e-3,
    beta1: float = 0.9,
    beta2: float = 0.999,
    a: float = 1.0,
    b: float = 1.0,
    weight_decay: float = 0.0,
    maximize: bool = False,
) -> tuple[Tensor, AdamAtan2State]:
    """One Adam-atan2 step: return ``(theta_t, state_t)``.

    Args:
        theta: parameters theta_{t-1}, any shape.
        grad: the gradient g_t, same shape as ``theta``. Never modified.
        state: the state after t - 1 steps (see :func:`adam_atan2_init`).
        lr: step size alpha (float, 0-dim tensor, or a tensor broadcastable to ``theta``).
        beta1, beta2: decay rates of the moment estimates, in [0, 1).
        a: scale of the step, > 0: theta moves by at most alpha a pi / 2 per coordinate.
        b: scale of the root in atan2's second argument, > 0.
        weight_decay: lambda, decoupled: theta <- theta (1 - alpha lambda) (as AdamW).
        maximize: ascend instead of descend (use -g_t).

    Returns:
        The new parameters and the new state. No input tensor is modified.

    >>> theta, g = torch.zeros(3), torch.tensor([2.0, -1e-15, 0.0])
    >>> new_theta, _ = adam_atan2_update(theta, g, adam_atan2_init(theta), lr=4.0)
    >>> [round(x, 6) for x in new_theta.tolist()]  # -alpha atan2(g, |g|) = -pi sign(g); 0 at g = 0
    [-3.141593, 3.141593, 0.0]
    """
    t = next_step(state.step)
    lr = as_scalar(lr)
    # torch.optim's maximize: descend on -f, i.e. use -g_t
    g = -grad if maximize else grad
    if weight_decay != 0:
        # theta_{t-1} <- theta_{t-1} (1 - alpha lambda)          (decoupled decay)
        theta = theta * (1 - lr * weight_decay)

    # m_t = beta1 m_{t-1} + (1 - beta1) g_t         (lerp: m_{t-1} + (1 - beta1)(g_t - m_{t-1}))
    m = torch.lerp(state.m, g, 1 - beta1)
    # v_t = beta2 v_{t-1} + (1 - beta2) g_t^2
    v = torch.addcmul(beta2 * state.v, g, g, value=1 - beta2)

    # m_hat = m_t / (1 - beta1^t)
    m_hat = m / bias_correction(beta1, t)
    # b sqrt(v_hat),  v_hat = v_t / (1 - beta2^t)
    root = (v / bias_correction(beta2, t)).sqrt() * b
    # theta_t = theta_{t-1} - alpha a atan2(m_hat, b sqrt(v_hat))
    theta = theta - (lr * a) * torch.atan2(m_hat, root)
    return theta, AdamAtan2State(step=t, m=m, v=v)
