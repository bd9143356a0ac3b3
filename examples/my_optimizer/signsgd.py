"""Sign-SGD with momentum ("Signum"): a plain ``torch.optim.Optimizer`` to benchmark with adamlab.

With ``examples/`` on ``PYTHONPATH`` the class is ``my_optimizer.signsgd:SignSGD``::

    PYTHONPATH=examples adamlab run --optimizer my_optimizer.signsgd:SignSGD \\
        --optimizer-args '{"lr": 0.01, "momentum": 0.9}' --steps 2000 --starts 20 --out /tmp/sign
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

import torch


class SignSGD(torch.optim.Optimizer):
    """Step every coordinate by exactly ``lr`` against the sign of its momentum.

    m_t = momentum * m_{t-1} + (1 - momentum) * g_t      (m_0 = 0)
    theta_t = theta_{t-1} - lr * sign(m_t)

    ``momentum=0`` is plain sign-SGD. The state key is ``momentum_buffer`` (torch's SGD name).

    Args:
        params: parameters or parameter groups.
        lr: step length per coordinate, >= 0.
        momentum: decay of the gradient average, 0 <= momentum < 1.

    References:
        Bernstein et al., "signSGD: Compressed Optimisation for Non-Convex Problems", ICML 2018.
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-3, momentum: float = 0.9) -> None:
        if not (math.isfinite(lr) and lr >= 0.0):
            raise ValueError(f"Invalid learning rate: {lr} (expected a finite lr >= 0)")
        if not 0.0 <= momentum < 1.0:
            raise ValueError(f"Invalid momentum value: {momentum} (expected 0 <= momentum < 1)")
        super().__init__(params, {"lr": lr, "momentum": momentum})

    @torch.no_grad()
    def step(self, closure: Callable[[], float] | None = None) -> float | None:
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if not state:
                    state["momentum_buffer"] = torch.zeros_like(p)
                m = state["momentum_buffer"]
                # m_t = momentum * m_{t-1} + (1 - momentum) * g_t
                m.mul_(group["momentum"]).add_(p.grad, alpha=1 - group["momentum"])
                # theta_t = theta_{t-1} - lr * sign(m_t)
                p.add_(torch.sign(m), alpha=-group["lr"])
        return loss
