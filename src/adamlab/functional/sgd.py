"""Stochastic gradient descent with (heavy-ball or Nesterov) momentum, as in torch.optim.SGD.

The update, with momentum mu, dampening tau and learning rate alpha::

    b_1 <- g_1                                  (first step: the buffer starts as the gradient)
    b_t <- mu b_{t-1} + (1 - tau) g_t
    d_t <- g_t + mu b_t   if nesterov   else  b_t
    theta_t <- theta_{t-1} - alpha d_t

With mu = 0 it is plain gradient descent, theta_t = theta_{t-1} - alpha g_t.

References:
    H. Robbins and S. Monro. A Stochastic Approximation Method. 1951.
    I. Sutskever, J. Martens, G. Dahl and G. Hinton. On the importance of initialization and
    momentum in deep learning. ICML 2013 (the Nesterov form used here and by torch).
"""

from __future__ import annotations

from typing import NamedTuple

from torch import Tensor

from adamlab.functional._scalars import Scalar, add_scaled, as_scalar


class SGDState(NamedTuple):
    """SGD's state for one parameter tensor.

    Attributes:
        b: the momentum buffer b_t, or None before the first step or without momentum
            (torch state key ``momentum_buffer``).
    """

    b: Tensor | None = None


def sgd_init(theta: Tensor) -> SGDState:
    """Return SGD's initial state: no momentum buffer yet (it is created on the first step).

    >>> import torch
    >>> sgd_init(torch.zeros(2)).b is None
    True
    """
    del theta  # the buffer takes the first gradient's value, so nothing is allocated here
    return SGDState(b=None)


def sgd_update(
    theta: Tensor,
    grad: Tensor,
    state: SGDState,
    *,
    lr: Scalar = 1e-3,
    momentum: float = 0.0,
    dampening: float = 0.0,
    weight_decay: float = 0.0,
    nesterov: bool = False,
    maximize: bool = False,
) -> tuple[Tensor, SGDState]:
    """One SGD step: return ``(theta_t, state_t)``.

    Args:
        theta: parameters theta_{t-1}, any shape.
        grad: the gradient g_t, same shape. Never modified.
        state: see :func:`sgd_init`.
        lr: learning rate alpha (float, 0-dim tensor, or broadcastable tensor such as ``[B, 1]``).
        momentum: mu >= 0; 0 disables the buffer.
        dampening: tau, scales the new gradient's share of the buffer (not on the first step).
        weight_decay: L2 penalty lambda: g_t <- g_t + lambda theta_{t-1}.
        nesterov: Nesterov momentum in Sutskever et al.'s form, d_t = g_t + mu b_t.
        maximize: ascend instead of descend.

    Note:
        torch starts the buffer at b_1 = g_1 without dampening; some texts start at
        b_0 = 0, which makes the first steps smaller by (1 - tau). adamlab follows torch.

    >>> import torch
    >>> theta, _ = sgd_update(torch.tensor([1.0]), torch.tensor([2.0]), sgd_init(None), lr=0.1)
    >>> round(theta.item(), 6)
    0.8
    """
    lr = as_scalar(lr)
    # torch.optim's maximize: descend on -f, i.e. use -g_t
    g = -grad if maximize else grad
    if weight_decay != 0:
        # g_t <- g_t + lambda theta_{t-1}
        g = add_scaled(g, theta, weight_decay)

    b = state.b
    if momentum != 0:
        if b is None:
            # b_1 = g_1 (a copy: callers reuse the gradient's memory)
            b = g.clone()
        else:
            # b_t = mu b_{t-1} + (1 - tau) g_t
            b = add_scaled(momentum * b, g, 1 - dampening)
        # d_t = g_t + mu b_t (Nesterov)  or  d_t = b_t (heavy ball)
        d = add_scaled(g, b, momentum) if nesterov else b
    else:
        d = g

    # theta_t = theta_{t-1} - alpha d_t
    theta = add_scaled(theta, d, -lr)
    return theta, SGDState(b=b)
