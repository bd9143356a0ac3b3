"""Adam (Kingma & Ba, 2015), with AMSGrad, L2 and decoupled (AdamW) weight decay.

The update rule as a pure function: it reads tensors and returns new ones, and never
modifies its inputs. ``adamlab.optim.Adam`` / ``AdamW`` call it for each parameter; the
benchmark engine calls it on a ``[B, d]`` batch of starts with a ``[B, 1]`` learning rate.

Algorithm 1 of the paper, all operations element-wise::

    t     <- t + 1
    g_t   <- grad f(theta_{t-1})
    m_t   <- beta1 m_{t-1} + (1 - beta1) g_t
    v_t   <- beta2 v_{t-1} + (1 - beta2) g_t^2
    m_hat <- m_t / (1 - beta1^t)
    v_hat <- v_t / (1 - beta2^t)
    theta_t <- theta_{t-1} - alpha m_hat / (sqrt(v_hat) + eps)

References:
    D. P. Kingma and J. Ba. Adam: A Method for Stochastic Optimization. ICLR 2015, arXiv:1412.6980.
    S. J. Reddi, S. Kale and S. Kumar. On the Convergence of Adam and Beyond. ICLR 2018 (AMSGrad).
    I. Loshchilov and F. Hutter. Decoupled Weight Decay Regularization. ICLR 2019 (AdamW).
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor

from adamlab.functional import _scalars
from adamlab.functional._scalars import (
    Scalar,
    add_scaled,
    as_scalar,
    default_step_dtype,
    next_step,
)


class AdamState(NamedTuple):
    """Adam's state for one parameter tensor; field names follow the paper.

    Attributes:
        step: t, the number of updates taken so far (0-dim tensor; torch state key ``step``).
        m: first-moment estimate m_t, same shape as the parameter (torch key ``exp_avg``).
        v: second raw-moment estimate v_t (torch key ``exp_avg_sq``).
        v_max: AMSGrad's running maximum of v_t, or None without AMSGrad
            (torch key ``max_exp_avg_sq``).
    """

    step: Tensor
    m: Tensor
    v: Tensor
    v_max: Tensor | None = None


def adam_init(
    theta: Tensor, *, amsgrad: bool = False, step_dtype: torch.dtype | None = None
) -> AdamState:
    """Return Adam's initial state for parameter ``theta``: t = 0, m_0 = 0, v_0 = 0.

    Args:
        theta: the parameter tensor (any shape).
        amsgrad: also keep AMSGrad's running maximum of v (initialised to 0).
        step_dtype: dtype of the step counter; torch.optim uses float32 (float64 when the
            default dtype is float64), which is the default here too.

    >>> state = adam_init(torch.zeros(3))
    >>> state.step.item(), state.m.tolist(), state.v_max is None
    (0.0, [0.0, 0.0, 0.0], True)
    """
    zeros = torch.zeros_like(theta, memory_format=torch.preserve_format)
    return AdamState(
        step=torch.zeros((), dtype=step_dtype or default_step_dtype()),
        m=zeros,
        v=zeros.clone(),
        v_max=zeros.clone() if amsgrad else None,
    )


def adam_update(
    theta: Tensor,
    grad: Tensor,
    state: AdamState,
    *,
    lr: Scalar = 1e-3,
    beta1: float = 0.9,
    beta2: float = 0.999,
    eps: float = 1e-8,
    weight_decay: float = 0.0,
    decoupled_weight_decay: bool = False,
    amsgrad: bool = False,
    maximize: bool = False,
    bias_correction: bool = True,
) -> tuple[Tensor, AdamState]:
    """One Adam step: return ``(theta_t, state_t)`` from ``theta_{t-1}``, ``g_t`` and the state.

    Args:
        theta: parameters theta_{t-1}, any shape.
        grad: the gradient g_t, same shape as ``theta``. Never modified.
        state: the state after t - 1 steps (see :func:`adam_init`).
        lr: step size alpha: a float, a 0-dim tensor, or a tensor broadcastable to ``theta``
            (e.g. ``[B, 1]`` for one learning rate per row of a ``[B, d]`` batch).
        beta1, beta2: exponential decay rates of the moment estimates, in [0, 1).
        eps: added to sqrt(v_hat) for numerical stability (outside the root, as in
            Algorithm 1 and torch; TensorFlow adds eps_hat = eps sqrt(1 - beta2^t) instead).
        weight_decay: lambda. With ``decoupled_weight_decay=False`` it is an L2 penalty added
            to the gradient (g_t + lambda theta), as torch's Adam; with True the parameters
            shrink by (1 - alpha lambda) before the Adam step, as AdamW (Loshchilov & Hutter,
            who write the decay unscaled by alpha; torch and adamlab multiply it by alpha).
        decoupled_weight_decay: see ``weight_decay``.
        amsgrad: normalise by the running maximum of v_t (Reddi et al. 2018). As in torch, the
            maximum is taken over the *uncorrected* v_t and then bias-corrected; the paper has
            no bias correction at all.
        maximize: ascend instead of descend (use -g_t).
        bias_correction: divide by (1 - beta1^t) and (1 - beta2^t) as Algorithm 1 does (the
            default, and torch's only behaviour). False drops both factors,
            theta_t = theta_{t-1} - alpha m_t / (sqrt(v_t) + eps): the uncorrected Adam of the
            paper's section 6.4 experiment, not a recommended setting.

    Returns:
        The new parameters and the new state. No input tensor is modified.

    >>> theta, g = torch.tensor([1.0]), torch.tensor([0.5])
    >>> new_theta, state = adam_update(theta, g, adam_init(theta), lr=0.1)
    >>> round(new_theta.item(), 6)  # the first Adam step has size alpha, whatever |g| is
    0.9
    """
    t = next_step(state.step)
    lr = as_scalar(lr)
    # torch.optim's maximize: descend on -f, i.e. use -g_t
    g = -grad if maximize else grad

    if weight_decay != 0:
        if decoupled_weight_decay:
            # theta_{t-1} <- theta_{t-1} (1 - alpha lambda)      (AdamW, decoupled decay)
            theta = theta * (1 - lr * weight_decay)
        else:
            # g_t <- g_t + lambda theta_{t-1}                    (L2 penalty lambda/2 |theta|^2)
            g = add_scaled(g, theta, weight_decay)

    # m_t = beta1 m_{t-1} + (1 - beta1) g_t         (lerp: m_{t-1} + (1 - beta1)(g_t - m_{t-1}))
    m = torch.lerp(state.m, g, 1 - beta1)
    # v_t = beta2 v_{t-1} + (1 - beta2) g_t^2
    v = torch.addcmul(beta2 * state.v, g, g, value=1 - beta2)

    # AMSGrad: v_max_t = max(v_max_{t-1}, v_t), used in place of v_t below
    v_max = torch.maximum(state.v_max, v) if amsgrad and state.v_max is not None else None
    v_used = v_max if v_max is not None else v

    # The last three lines of Algorithm 1 with the corrections kept as scalars, which saves two
    # passes over the tensors (m_hat and v_hat are never stored):
    #   m_hat = m_t / (1 - beta1^t),  v_hat = v_t / (1 - beta2^t)
    #   theta_t = theta_{t-1} - alpha m_hat / (sqrt(v_hat) + eps)
    #           = theta_{t-1} - (alpha / (1 - beta1^t)) m_t / (sqrt(v_t) / sqrt(1 - beta2^t) + eps)
    # This is Algorithm 1 exactly (eps stays outside the corrected root), not the paper's
    # "efficient" eps_hat variant, and it is torch.optim's order of operations.
    if bias_correction:
        # scalars per tensor, not per element (see _scalars.once)
        bias_correction1 = _scalars.bias_correction(beta1, t)
        step_size: Scalar
        if isinstance(lr, Tensor) and lr.dim() > 0:
            # one lr per batch row: only the correction is a scalar
            step_size = lr / _scalars.once(bias_correction1)
        else:
            step_size = _scalars.once(lr / bias_correction1)
        bias_correction2_sqrt = _scalars.once(_scalars.bias_correction(beta2, t) ** 0.5)
        # sqrt(v_hat) + eps
        denom = v_used.sqrt() / bias_correction2_sqrt + eps
    else:
        # without the corrections (paper, section 6.4): m_hat = m_t, v_hat = v_t, so the first
        # steps are too large by (1 - beta1^t) / sqrt(1 - beta2^t) when beta2 is near 1
        step_size = lr
        # sqrt(v_t) + eps
        denom = v_used.sqrt() + eps
    # theta_t = theta_{t-1} - step_size m_t / denom
    theta = theta - step_size * m / denom

    return theta, AdamState(step=t, m=m, v=v, v_max=v_max)
