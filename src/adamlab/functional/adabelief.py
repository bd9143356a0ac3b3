"""AdaBelief (Zhuang et al., 2020): Adam whose denominator is the "belief" in the gradient.

Where Adam divides by a running mean of g_t^2, AdaBelief divides by a running mean of
(g_t - m_t)^2, the squared deviation of the gradient from its own prediction m_t: a gradient
that agrees with the trend earns a large step, a surprising one a small step. Algorithm 2 of
the paper, with its bias correction::

    t     <- t + 1
    m_t   <- beta1 m_{t-1} + (1 - beta1) g_t
    s_t   <- beta2 s_{t-1} + (1 - beta2) (g_t - m_t)^2 + eps
    m_hat <- m_t / (1 - beta1^t)
    s_hat <- s_t / (1 - beta2^t)
    theta_t <- theta_{t-1} - alpha m_hat / (sqrt(s_hat) + eps)

eps appears twice, as in the paper and the authors' implementation: inside s_t (where it
accumulates, so s_t >= eps (1 - beta2^t) / (1 - beta2)) and again outside the root.

Note:
    Because eps sits inside the root, AdaBelief's eps plays the role of eps^2 in Adam: the
    authors' implementation (adabelief-pytorch >= 0.1) defaults to eps = 1e-16, whose square
    root 1e-8 is Adam's default; adamlab uses the same default. The authors' package also
    defaults to ``rectify=True`` (a RAdam-style warm-up) and decoupled weight decay; this
    module implements the paper's Algorithm 2 without rectification, and takes weight decay
    as torch's Adam does (L2 unless ``decoupled_weight_decay``).

References:
    J. Zhuang, T. Tang, Y. Ding, S. Tatikonda, N. Dvornek, X. Papademetris and J. Duncan.
    AdaBelief Optimizer: Adapting Stepsizes by the Belief in Observed Gradients.
    NeurIPS 2020, arXiv:2010.07468.
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


class AdaBeliefState(NamedTuple):
    """AdaBelief's state for one parameter tensor.

    Attributes:
        step: t (0-dim tensor; state key ``step``).
        m: first-moment estimate m_t, the prediction of g (state key ``exp_avg``).
        s: running mean s_t of (g_t - m_t)^2, including the accumulated eps
            (state key ``exp_avg_var``, the name the authors' implementation uses).
    """

    step: Tensor
    m: Tensor
    s: Tensor


def adabelief_init(theta: Tensor, *, step_dtype: torch.dtype | None = None) -> AdaBeliefState:
    """Return AdaBelief's initial state: t = 0, m_0 = 0, s_0 = 0.

    >>> adabelief_init(torch.zeros(2)).s.tolist()
    [0.0, 0.0]
    """
    zeros = torch.zeros_like(theta, memory_format=torch.preserve_format)
    return AdaBeliefState(
        step=torch.zeros((), dtype=step_dtype or default_step_dtype()),
        m=zeros,
        s=zeros.clone(),
    )


def adabelief_update(
    theta: Tensor,
    grad: Tensor,
    state: AdaBeliefState,
    *,
    lr: Scalar = 1e-3,
    beta1: float = 0.9,
    beta2: float = 0.999,
    eps: float = 1e-16,
    weight_decay: float = 0.0,
    decoupled_weight_decay: bool = False,
    maximize: bool = False,
) -> tuple[Tensor, AdaBeliefState]:
    """One AdaBelief step: return ``(theta_t, state_t)``.

    Args:
        theta: parameters theta_{t-1}, any shape.
        grad: the gradient g_t, same shape as ``theta``. Never modified.
        state: the state after t - 1 steps (see :func:`adabelief_init`).
        lr: step size alpha (float, 0-dim tensor, or a tensor broadcastable to ``theta``).
        beta1, beta2: decay rates of m_t and s_t, in [0, 1).
        eps: added to s_t at every step (inside the root) and to sqrt(s_hat) (outside).
        weight_decay: lambda; an L2 term added to g_t, or with ``decoupled_weight_decay`` a
            shrink theta <- theta (1 - alpha lambda) before the step (as AdamW).
        decoupled_weight_decay: see ``weight_decay``.
        maximize: ascend instead of descend (use -g_t).

    Returns:
        The new parameters and the new state. No input tensor is modified.

    Note:
        Under a constant gradient the belief s_t decays to its eps floor and the step grows
        to alpha |g| / (sqrt(eps / (1 - beta2)) + eps), far larger than Adam's alpha: large
        steps where the gradient is large but predictable is the method's design.

    >>> theta, g = torch.tensor([1.0, 2.0], dtype=torch.float64)
    >>> new_theta, _ = adabelief_update(theta, g, adabelief_init(theta), lr=0.09)
    >>> round(new_theta.item(), 9)  # first step: alpha g / (beta1 |g|) = alpha / beta1 = 0.1
    0.9
    """
    t = next_step(state.step)
    lr = as_scalar(lr)
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
    # g_t - m_t: the surprise, how far the gradient is from its prediction
    surprise = g - m
    # s_t = beta2 s_{t-1} + (1 - beta2)(g_t - m_t)^2 + eps
    s = torch.addcmul(beta2 * state.s, surprise, surprise, value=1 - beta2) + eps

    # As in Adam, the corrections stay scalars:
    #   theta_t = theta_{t-1} - (alpha / (1 - beta1^t)) m_t / (sqrt(s_t) / sqrt(1 - beta2^t) + eps)
    step_size = lr / bias_correction(beta1, t)
    # sqrt(s_hat) + eps
    denom = s.sqrt() / bias_correction(beta2, t) ** 0.5 + eps
    # theta_t = theta_{t-1} - step_size m_t / denom
    theta = theta - step_size * m / denom
    return theta, AdaBeliefState(step=t, m=m, s=s)
