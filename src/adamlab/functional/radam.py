"""RAdam (Liu et al., 2020): Adam with the variance of its adaptive step size rectified.

Early on, v_t averages only a few squared gradients, so 1 / sqrt(v_hat) has a large (for
t <= 4, unbounded) variance. RAdam estimates the length rho_t of the simple moving average
that v_t approximates, and takes a plain momentum step until rho_t > 5, then an Adam step
scaled by the rectification factor r_t, which tends to 1::

    t       <- t + 1
    m_t     <- beta1 m_{t-1} + (1 - beta1) g_t
    v_t     <- beta2 v_{t-1} + (1 - beta2) g_t^2
    m_hat   <- m_t / (1 - beta1^t)
    rho_inf <- 2 / (1 - beta2) - 1
    rho_t   <- rho_inf - 2 t beta2^t / (1 - beta2^t)
    if rho_t > 5:
        l_t <- sqrt(1 - beta2^t) / (sqrt(v_t) + eps)                   (adaptive learning rate)
        r_t <- sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t))
        theta_t <- theta_{t-1} - alpha m_hat l_t r_t
    else:
        theta_t <- theta_{t-1} - alpha m_hat                           (SGD with momentum)

Note:
    The paper's Algorithm 2 switches at rho_t > 4 and writes l_t = sqrt((1 - beta2^t) / v_t)
    without eps; torch (and the authors' code) switch at rho_t > 5 and add eps to sqrt(v_t)
    before the bias correction, which is what this module does. With the default
    beta2 = 0.999 the first five steps are momentum steps.

References:
    L. Liu, H. Jiang, P. He, W. Chen, X. Liu, J. Gao and J. Han. On the Variance of the
    Adaptive Learning Rate and Beyond. ICLR 2020, arXiv:1908.03265.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor

from adamlab.functional._scalars import (
    Scalar,
    add_scaled,
    as_scalar,
    bias_correction,
    default_step_dtype,
    next_step,
    step_value,
)

#: torch's threshold on rho_t above which the rectified adaptive step is used.
RHO_THRESHOLD = 5.0


class RAdamState(NamedTuple):
    """RAdam's state for one parameter tensor.

    Attributes:
        step: t (0-dim tensor; torch state key ``step``).
        m: first-moment estimate m_t (torch key ``exp_avg``).
        v: second raw-moment estimate v_t (torch key ``exp_avg_sq``).
    """

    step: Tensor
    m: Tensor
    v: Tensor


def radam_init(theta: Tensor, *, step_dtype: torch.dtype | None = None) -> RAdamState:
    """Return RAdam's initial state: t = 0, m_0 = 0, v_0 = 0.

    >>> radam_init(torch.zeros(2)).m.tolist()
    [0.0, 0.0]
    """
    zeros = torch.zeros_like(theta, memory_format=torch.preserve_format)
    return RAdamState(
        step=torch.zeros((), dtype=step_dtype or default_step_dtype()),
        m=zeros,
        v=zeros.clone(),
    )


def rectification(rho_t: Scalar, rho_inf: float) -> Scalar:
    """RAdam's variance rectification factor r_t (defined for rho_t > 4; tends to 1).

    r_t = sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t))

    >>> rectification(999.0, 1999.0) < 1.0 < rectification(1999.0, 1999.0) + 1e-12
    True
    """
    return ((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5


def radam_update(
    theta: Tensor,
    grad: Tensor,
    state: RAdamState,
    *,
    lr: Scalar = 1e-3,
    beta1: float = 0.9,
    beta2: float = 0.999,
    eps: float = 1e-8,
    weight_decay: float = 0.0,
    decoupled_weight_decay: bool = False,
    maximize: bool = False,
) -> tuple[Tensor, RAdamState]:
    """One RAdam step: return ``(theta_t, state_t)``.

    Args:
        theta: parameters theta_{t-1}, any shape.
        grad: the gradient g_t, same shape as ``theta``. Never modified.
        state: the state after t - 1 steps (see :func:`radam_init`).
        lr: step size alpha (float, 0-dim tensor, or a tensor broadcastable to ``theta``).
        beta1, beta2: decay rates of the moment estimates, in [0, 1).
        eps: added to sqrt(v_t) in the adaptive learning rate (outside the root, before the
            bias correction, as torch).
        weight_decay: lambda; an L2 term added to g_t, or with ``decoupled_weight_decay`` a
            shrink theta <- theta (1 - alpha lambda) before the step (as AdamW).
        decoupled_weight_decay: see ``weight_decay``.
        maximize: ascend instead of descend (use -g_t).

    Returns:
        The new parameters and the new state. No input tensor is modified.

    Note:
        The branch on rho_t depends only on t and beta2, so it is taken in Python (as torch's
        eager path does); under ``torch.compile`` it costs a graph break.

    >>> theta, g = torch.tensor([1.0]), torch.tensor([0.5])
    >>> new_theta, _ = radam_update(theta, g, radam_init(theta), lr=0.1)
    >>> round(new_theta.item(), 6)  # rho_1 = 1 <= 5: a momentum step, alpha m_hat = 0.1 * 0.5
    0.95
    """
    t = next_step(state.step)
    lr = as_scalar(lr)
    step = step_value(t)
    # torch.optim's maximize: descend on -f, i.e. use -g_t
    g = -grad if maximize else grad

    if weight_decay != 0:
        if decoupled_weight_decay:
            # theta_{t-1} <- theta_{t-1} (1 - alpha lambda)      (decoupled decay)
            theta = theta * (1 - lr * weight_decay)
        else:
            # g_t <- g_t + lambda theta_{t-1}
            g = add_scaled(g, theta, weight_decay)

    # m_t = beta1 m_{t-1} + (1 - beta1) g_t         (lerp: m_{t-1} + (1 - beta1)(g_t - m_{t-1}))
    m = torch.lerp(state.m, g, 1 - beta1)
    # v_t = beta2 v_{t-1} + (1 - beta2) g_t^2
    v = torch.addcmul(beta2 * state.v, g, g, value=1 - beta2)

    bias_correction1 = bias_correction(beta1, t)
    bias_correction2 = bias_correction(beta2, t)
    # m_hat = m_t / (1 - beta1^t)
    m_hat = m / bias_correction1
    # rho_inf = 2 / (1 - beta2) - 1: the length of the SMA that v_t approximates as t -> inf
    rho_inf = 2 / (1 - beta2) - 1
    # rho_t = rho_inf - 2 t beta2^t / (1 - beta2^t)
    rho_t = rho_inf - 2 * step * (beta2**step) / bias_correction2

    if rho_t > RHO_THRESHOLD:
        # l_t = sqrt(1 - beta2^t) / (sqrt(v_t) + eps)
        adaptive_lr = bias_correction2**0.5 / (v.sqrt() + eps)
        # theta_t = theta_{t-1} - alpha m_hat l_t r_t
        theta = theta - m_hat * lr * adaptive_lr * rectification(rho_t, rho_inf)
    else:
        # theta_t = theta_{t-1} - alpha m_hat         (too few samples to trust v: momentum SGD)
        theta = theta - m_hat * lr
    return theta, RAdamState(step=t, m=m, v=v)
