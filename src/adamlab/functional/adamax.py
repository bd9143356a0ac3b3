"""AdaMax (Kingma & Ba, 2015, section 7.1): Adam with the infinity norm in place of v.

The second moment's L2 norm becomes an L-infinity norm, an exponentially weighted maximum
that needs no bias correction::

    t     <- t + 1
    m_t   <- beta1 m_{t-1} + (1 - beta1) g_t
    u_t   <- max(beta2 u_{t-1}, |g_t| + eps)
    theta_t <- theta_{t-1} - (alpha / (1 - beta1^t)) m_t / u_t

The paper writes u_t = max(beta2 u_{t-1}, |g_t|); like torch (and TensorFlow) the rule adds
eps inside the maximum, because u_t is 0 on a coordinate whose gradients have all been 0.

References:
    D. P. Kingma and J. Ba. Adam: A Method for Stochastic Optimization. ICLR 2015,
    arXiv:1412.6980, section 7.1 (Algorithm 2).
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
)


class AdamaxState(NamedTuple):
    """AdaMax's state for one parameter tensor; field names follow the paper.

    Attributes:
        step: t, the number of updates taken so far (0-dim tensor; torch state key ``step``).
        m: first-moment estimate m_t, same shape as the parameter (torch key ``exp_avg``).
        u: exponentially weighted infinity norm u_t (torch key ``exp_inf``).
    """

    step: Tensor
    m: Tensor
    u: Tensor


def adamax_init(theta: Tensor, *, step_dtype: torch.dtype | None = None) -> AdamaxState:
    """Return AdaMax's initial state for ``theta``: t = 0, m_0 = 0, u_0 = 0.

    Args:
        theta: the parameter tensor (any shape).
        step_dtype: dtype of the step counter (default: torch.optim's, float32 or float64).

    >>> state = adamax_init(torch.zeros(2))
    >>> state.step.item(), state.u.tolist()
    (0.0, [0.0, 0.0])
    """
    zeros = torch.zeros_like(theta, memory_format=torch.preserve_format)
    return AdamaxState(
        step=torch.zeros((), dtype=step_dtype or default_step_dtype()),
        m=zeros,
        u=zeros.clone(),
    )


def adamax_update(
    theta: Tensor,
    grad: Tensor,
    state: AdamaxState,
    *,
    lr: Scalar = 2e-3,
    beta1: float = 0.9,
    beta2: float = 0.999,
    eps: float = 1e-8,
    weight_decay: float = 0.0,
    maximize: bool = False,
) -> tuple[Tensor, AdamaxState]:
    """One AdaMax step: return ``(theta_t, state_t)``.

    Args:
        theta: parameters theta_{t-1}, any shape.
        grad: the gradient g_t, same shape as ``theta``. Never modified.
        state: the state after t - 1 steps (see :func:`adamax_init`).
        lr: step size alpha (float, 0-dim tensor, or a tensor broadcastable to ``theta``).
        beta1: decay rate of the first moment, in [0, 1).
        beta2: decay rate of the infinity norm, in [0, 1).
        eps: added to |g_t| inside the maximum (torch's convention; the paper has none).
        weight_decay: L2 penalty lambda: g_t <- g_t + lambda theta_{t-1} (as torch.optim.Adamax).
        maximize: ascend instead of descend (use -g_t).

    Returns:
        The new parameters and the new state. No input tensor is modified.

    Note:
        |theta_t - theta_{t-1}| <= alpha / (1 - beta1^t) * |m_t| / u_t <= alpha (roughly): the
        step is bounded by the learning rate, as the paper's section 7.1 remarks.

    >>> theta, g = torch.tensor([1.0, 1.0]), torch.tensor([0.5, -4.0])
    >>> new_theta, state = adamax_update(theta, g, adamax_init(theta), lr=0.1)
    >>> [round(x, 6) for x in new_theta.tolist()]  # the first step is alpha sign(g) (eps aside)
    [0.9, 1.1]
    """
    t = next_step(state.step)
    lr = as_scalar(lr)
    # torch.optim's maximize: descend on -f, i.e. use -g_t
    g = -grad if maximize else grad
    if weight_decay != 0:
        # g_t <- g_t + lambda theta_{t-1}
        g = add_scaled(g, theta, weight_decay)

    # m_t = beta1 m_{t-1} + (1 - beta1) g_t         (lerp: m_{t-1} + (1 - beta1)(g_t - m_{t-1}))
    m = torch.lerp(state.m, g, 1 - beta1)
    # u_t = max(beta2 u_{t-1}, |g_t| + eps)
    u = torch.maximum(beta2 * state.u, g.abs() + eps)

    # alpha / (1 - beta1^t): only m is bias-corrected (u is a maximum, not an average)
    step_size = lr / bias_correction(beta1, t)
    # theta_t = theta_{t-1} - step_size m_t / u_t
    theta = theta - step_size * m / u
    return theta, AdamaxState(step=t, m=m, u=u)
