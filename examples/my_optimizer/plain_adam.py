"""Adam written plainly from the paper's Algorithm 1, to check against ``torch.optim.Adam``.

With ``examples/`` on ``PYTHONPATH``::

    PYTHONPATH=examples adamlab verify --optimizer my_optimizer.plain_adam:PlainAdam \\
        --reference torch.optim:Adam --params-only
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import torch


class PlainAdam(torch.optim.Optimizer):
    """Adam (Kingma & Ba 2015, Algorithm 1), eps outside the square root as in torch.

    m_t = beta1 * m_{t-1} + (1 - beta1) * g_t
    v_t = beta2 * v_{t-1} + (1 - beta2) * g_t^2
    theta_t = theta_{t-1} - lr * (m_t / (1 - beta1^t)) / (sqrt(v_t / (1 - beta2^t)) + eps)

    State keys ``m``, ``v`` and ``t`` (torch names them exp_avg, exp_avg_sq and step), so
    compare it with ``--params-only``.
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
    ) -> None:
        for i, beta in enumerate(betas):
            if not 0.0 <= beta < 1.0:
                raise ValueError(f"Invalid beta parameter at index {i}: {beta}")
        super().__init__(params, {"lr": lr, "betas": betas, "eps": eps})

    @torch.no_grad()
    def step(self, closure: Callable[[], float] | None = None) -> float | None:
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if not state:
                    state.update(t=0, m=torch.zeros_like(p), v=torch.zeros_like(p))
                state["t"] += 1
                t, g = state["t"], p.grad
                m = state["m"] = beta1 * state["m"] + (1 - beta1) * g
                v = state["v"] = beta2 * state["v"] + (1 - beta2) * g * g
                m_hat, v_hat = m / (1 - beta1**t), v / (1 - beta2**t)
                p.sub_(group["lr"] * m_hat / (v_hat.sqrt() + group["eps"]))
        return loss
