"""AdaGrad (Duchi, Hazan & Singer, 2011), diagonal version, as in torch.optim.Adagrad.

Every coordinate's step is divided by the root of the sum of all its squared gradients::

    t     <- t + 1
    alpha_t <- alpha / (1 + (t - 1) eta)          (eta: lr_decay; 0 by default)
    s_t   <- s_{t-1} + g_t^2                      (s_0: initial_accumulator_value)
    theta_t <- theta_{t-1} - alpha_t g_t / (sqrt(s_t) + eps)

References:
    J. Duchi, E. Hazan and Y. Singer. Adaptive Subgradient Methods for Online Learning and
    Stochastic Optimization. JMLR 12, 2011.
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
    step_value,
)


class AdagradState(NamedTuple):
    """AdaGrad's state for one parameter tensor.

    Attributes:
        step: t, updates taken so far (0-dim tensor; torch key ``step``).
        s: the sum of squared gradients s_t (torch key ``sum``).
    """

    step: Tensor
    s: Tensor


def adagrad_init(
    theta: Tensor, *, initial_accumulator_value: float = 0.0, step_dtype: torch.dtype | None = None
) -> AdagradState:
    """Return AdaGrad's initial state: t = 0 and s_0 = ``initial_accumulator_value`` everywhere.

    >>> adagrad_init(torch.zeros(2), initial_accumulator_value=0.5).s.tolist()
    [0.5, 0.5]
    """
    return AdagradState(
        step=torch.zeros((), dtype=step_dtype or default_step_dtype()),
        s=torch.full_like(theta, initial_accumulator_value, memory_format=torch.preserve_format),
    )


def adagrad_update(
    theta: Tensor,
    grad: Tensor,
    state: AdagradState,
    *,
    lr: Scalar = 1e-2,
    lr_decay: float = 0.0,
    weight_decay: float = 0.0,
    eps: float = 1e-10,
    maximize: bool = False,
) -> tuple[Tensor, AdagradState]:
    """One AdaGrad step: return ``(theta_t, state_t)``.

    Args:
        theta: parameters theta_{t-1}, any shape.
        grad: the gradient g_t, same shape. Never modified.
        state: see :func:`adagrad_init`.
        lr: alpha (float, 0-dim tensor, or broadcastable tensor such as ``[B, 1]``).
        lr_decay: eta, the step size's 1/t-style decay (torch's convention).
        weight_decay: L2 penalty lambda: g_t <- g_t + lambda theta_{t-1}.
        eps: added to sqrt(s_t) (outside the root, as torch; the paper has no eps).
        maximize: ascend instead of descend.

    >>> theta0 = torch.tensor([1.0])
    >>> theta, _ = adagrad_update(theta0, torch.tensor([3.0]), adagrad_init(theta0), lr=0.1)
    >>> round(theta.item(), 6)  # the first step has size alpha: g / sqrt(g^2)
    0.9
    """
    t = next_step(state.step)
    lr = as_scalar(lr)
    # torch.optim's maximize: descend on -f, i.e. use -g_t
    g = -grad if maximize else grad
    if weight_decay != 0:
        # g_t <- g_t + lambda theta_{t-1}
        g = add_scaled(g, theta, weight_decay)

    # alpha_t = alpha / (1 + (t - 1) eta)
    alpha_t = lr / (1 + (step_value(t) - 1) * lr_decay)
    # s_t = s_{t-1} + g_t^2
    s = torch.addcmul(state.s, g, g)
    # theta_t = theta_{t-1} - alpha_t g_t / (sqrt(s_t) + eps)
    theta = theta - alpha_t * g / (s.sqrt() + eps)
    return theta, AdagradState(step=t, s=s)
