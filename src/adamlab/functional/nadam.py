"""NAdam (Dozat, 2016): Adam with Nesterov momentum, in torch.optim's form with momentum decay.

Nesterov's idea applied to Adam: the step uses the momentum of the *next* iteration,
mu_{t+1} m_t, plus the current gradient's share (1 - mu_t) g_t, each bias-corrected by the
running product of the momentum coefficients. torch (after Dozat's report) lets mu_t grow
towards beta1 with a "momentum decay" psi::

    t        <- t + 1
    mu_t     <- beta1 (1 - 0.5 * 0.96^(t psi))
    mu_{t+1} <- beta1 (1 - 0.5 * 0.96^((t + 1) psi))
    P_t      <- P_{t-1} mu_t                                  (P_0 = 1: product of mu_1..mu_t)
    m_t      <- beta1 m_{t-1} + (1 - beta1) g_t
    v_t      <- beta2 v_{t-1} + (1 - beta2) g_t^2
    v_hat    <- v_t / (1 - beta2^t)
    theta_t  <- theta_{t-1} - alpha (1 - mu_t) / (1 - P_t)            g_t / (sqrt(v_hat) + eps)
                            - alpha mu_{t+1} / (1 - P_t mu_{t+1})     m_t / (sqrt(v_hat) + eps)

Note:
    Dozat's report uses beta1 for every mu_t (psi = 0) and a slightly different bias
    correction of g_t; this module follows torch.optim.NAdam exactly, operation for operation,
    including P_t being stored and rounded in the step counter's dtype (float32 by default).

References:
    T. Dozat. Incorporating Nesterov Momentum into Adam. ICLR 2016 workshop track.
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


class NAdamState(NamedTuple):
    """NAdam's state for one parameter tensor.

    Attributes:
        step: t (0-dim tensor; torch state key ``step``).
        mu_product: P_t = mu_1 mu_2 ... mu_t, a 0-dim tensor in the step's dtype
            (torch key ``mu_product``).
        m: first-moment estimate m_t (torch key ``exp_avg``).
        v: second raw-moment estimate v_t (torch key ``exp_avg_sq``).
    """

    step: Tensor
    mu_product: Tensor
    m: Tensor
    v: Tensor


def nadam_init(theta: Tensor, *, step_dtype: torch.dtype | None = None) -> NAdamState:
    """Return NAdam's initial state: t = 0, P_0 = 1, m_0 = 0, v_0 = 0.

    Args:
        theta: the parameter tensor (any shape).
        step_dtype: dtype of ``step`` and ``mu_product`` (default: torch.optim's).

    >>> state = nadam_init(torch.zeros(2))
    >>> state.step.item(), state.mu_product.item(), state.v.tolist()
    (0.0, 1.0, [0.0, 0.0])
    """
    dtype = step_dtype or default_step_dtype()
    zeros = torch.zeros_like(theta, memory_format=torch.preserve_format)
    return NAdamState(
        step=torch.zeros((), dtype=dtype),
        mu_product=torch.ones((), dtype=dtype),
        m=zeros,
        v=zeros.clone(),
    )


def nadam_update(
    theta: Tensor,
    grad: Tensor,
    state: NAdamState,
    *,
    lr: Scalar = 2e-3,
    beta1: float = 0.9,
    beta2: float = 0.999,
    eps: float = 1e-8,
    weight_decay: float = 0.0,
    momentum_decay: float = 4e-3,
    decoupled_weight_decay: bool = False,
    maximize: bool = False,
) -> tuple[Tensor, NAdamState]:
    """One NAdam step: return ``(theta_t, state_t)``.

    Args:
        theta: parameters theta_{t-1}, any shape.
        grad: the gradient g_t, same shape as ``theta``. Never modified.
        state: the state after t - 1 steps (see :func:`nadam_init`).
        lr: step size alpha (float, 0-dim tensor, or a tensor broadcastable to ``theta``).
        beta1, beta2: decay rates of the moment estimates, in [0, 1).
        eps: added to sqrt(v_hat), outside the root (as torch).
        weight_decay: lambda; an L2 term added to g_t, or with ``decoupled_weight_decay`` a
            shrink theta <- theta (1 - alpha lambda) before the step (as AdamW; torch's
            "NAdamW").
        momentum_decay: psi >= 0; mu_t = beta1 (1 - 0.5 * 0.96^(t psi)) rises from about
            beta1 / 2 towards beta1. psi = 0 gives mu_t = beta1 / 2 throughout.
        decoupled_weight_decay: see ``weight_decay``.
        maximize: ascend instead of descend (use -g_t).

    Returns:
        The new parameters and the new state. No input tensor is modified.

    >>> theta, g = torch.tensor([1.0]), torch.tensor([0.5])
    >>> new_theta, state = nadam_update(theta, g, nadam_init(theta), lr=0.1)
    >>> round(new_theta.item(), 4), round(state.mu_product.item(), 6)  # P_1 = mu_1
    (0.8944, 0.450073)
    """
    t = next_step(state.step)
    lr = as_scalar(lr)
    step = step_value(t)
    # torch.optim's maximize: descend on -f, i.e. use -g_t
    g = -grad if maximize else grad
    # 1 - beta2^t
    bias_correction2 = bias_correction(beta2, t)

    if weight_decay != 0:
        if decoupled_weight_decay:
            # theta_{t-1} <- theta_{t-1} (1 - alpha lambda)      (decoupled decay, "NAdamW")
            theta = theta * (1 - lr * weight_decay)
        else:
            # g_t <- g_t + lambda theta_{t-1}
            g = add_scaled(g, theta, weight_decay)

    # mu_t = beta1 (1 - 0.5 * 0.96^(t psi))
    mu = beta1 * (1.0 - 0.5 * (0.96 ** (step * momentum_decay)))
    # mu_{t+1} = beta1 (1 - 0.5 * 0.96^((t + 1) psi))
    mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * momentum_decay)))
    # P_t = P_{t-1} mu_t        (kept as a tensor: torch rounds it to the step's dtype)
    mu_product = state.mu_product * mu

    # m_t = beta1 m_{t-1} + (1 - beta1) g_t         (lerp: m_{t-1} + (1 - beta1)(g_t - m_{t-1}))
    m = torch.lerp(state.m, g, 1 - beta1)
    # v_t = beta2 v_{t-1} + (1 - beta2) g_t^2
    v = torch.addcmul(beta2 * state.v, g, g, value=1 - beta2)
    # sqrt(v_hat) + eps,  v_hat = v_t / (1 - beta2^t)
    denom = (v / bias_correction2).sqrt() + eps

    # P_{t+1} = P_t mu_{t+1}, as a Python float from the rounded P_t (torch's arithmetic)
    product = step_value(mu_product)
    product_next = product * mu_next
    # theta <- theta - alpha (1 - mu_t) / (1 - P_t) g_t / denom          (the gradient's share)
    theta = theta - (lr * (1.0 - mu) / (1.0 - product)) * g / denom
    # theta_t = theta - alpha mu_{t+1} / (1 - P_{t+1}) m_t / denom       (the look-ahead momentum)
    theta = theta - (lr * mu_next / (1.0 - product_next)) * m / denom
    return theta, NAdamState(step=t, mu_product=mu_product, m=m, v=v)
