"""The papers' equations as ``torch.optim.Optimizer`` classes: the oracle where torch has no twin.

torch.optim has no AdaBelief, Lion or Adam-atan2, so ``adamlab verify`` checks adamlab's
classes for these three against the algorithm boxes of their papers, written out here a second
time: one equation per line, with the paper's symbols, on plain tensors. Nothing here imports
or calls :mod:`adamlab.functional`; the arithmetic is deliberately the naive transcription
(``beta1 * m + (1 - beta1) * g`` where adamlab writes ``torch.lerp``, ``theta - alpha lambda
theta`` where adamlab writes ``theta (1 - alpha lambda)``), so agreement is within rounding,
not bit for bit (see :data:`adamlab.verify.oracle.PAPER` for the measured deviation and the
tolerance).

Each class takes the constructor arguments of its adamlab twin, with the same defaults, and
keeps its state under the same torch-style keys (``step`` as a 0-dim float tensor, as
torch.optim stores it), so the oracle compares parameters and state alike. Where adamlab
follows a convention the algorithm box does not state (weight decay, ``maximize``, where eps
sits), the class follows adamlab's documented convention and its docstring says so.

They are written for the oracle: no validation beyond what the update needs, one parameter at
a time, floats or 0-dim tensors as learning rates.

>>> import torch
>>> w = torch.nn.Parameter(torch.tensor([1.0, -2.0]))
>>> opt = PaperLion([w], lr=0.25)
>>> w.grad = torch.tensor([1e-6, -30.0])
>>> opt.step()
>>> w.tolist()
[0.75, -1.75]
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import torch
from torch import Tensor

__all__ = ["PaperAdaBelief", "PaperAdamAtan2", "PaperLion"]


def _new_step() -> Tensor:
    """t = 0 as a 0-dim tensor, in torch.optim's dtype for ``step`` (float64 only when that is
    the default dtype, float32 otherwise)."""
    dtype = torch.float64 if torch.get_default_dtype() == torch.float64 else torch.float32
    return torch.tensor(0.0, dtype=dtype)


class _PaperOptimizer(torch.optim.Optimizer):
    """Shared bookkeeping: the closure, and one call of :meth:`_update` per parameter."""

    @torch.no_grad()
    def step(self, closure: Callable[[], float] | None = None) -> float | None:  # type: ignore[override]
        """Take one step for every parameter that has a gradient."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                theta = self._update(p.detach(), p.grad, self.state[p], group)
                p.copy_(theta)
        return loss

    def _update(
        self, theta: Tensor, g: Tensor, state: dict[str, Any], group: dict[str, Any]
    ) -> Tensor:
        """Return theta_t from theta_{t-1} and g_t; update ``state`` in place (its entries are
        replaced, never modified)."""
        raise NotImplementedError


class PaperAdaBelief(_PaperOptimizer):
    """AdaBelief, Zhuang et al. 2020, Algorithm 2 with its bias correction (no projection).

    Per step, element-wise::

        g_t     = grad f(theta_{t-1})
        m_t     = beta1 m_{t-1} + (1 - beta1) g_t
        s_t     = beta2 s_{t-1} + (1 - beta2) (g_t - m_t)^2 + eps
        m_hat_t = m_t / (1 - beta1^t)
        s_hat_t = s_t / (1 - beta2^t)
        theta_t = theta_{t-1} - alpha m_hat_t / (sqrt(s_hat_t) + eps)

    Conventions followed from adamlab (:class:`adamlab.optim.AdaBelief`) where the algorithm
    box is silent or differs:

    * eps enters s_t at every step (so it accumulates in the stored ``exp_avg_var``), and again
      outside the root, as in the authors' implementation; the default eps is 1e-16 (its root
      is Adam's 1e-8), as there.
    * The algorithm box has no weight decay. As torch's Adam: an L2 term
      g_t <- g_t + lambda theta_{t-1}, or with ``decoupled_weight_decay`` the AdamW shrink
      theta_{t-1} <- theta_{t-1} - alpha lambda theta_{t-1} before the step.
    * ``maximize`` descends on -f (g_t <- -g_t), as torch.optim.
    * No rectification (the authors' package optionally adds a RAdam-style warm-up).

    State per parameter: ``step`` (t), ``exp_avg`` (m_t), ``exp_avg_var`` (s_t).
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float | Tensor = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-16,
        weight_decay: float = 0.0,
        decoupled_weight_decay: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = {
            "lr": lr,
            "betas": betas,
            "eps": eps,
            "weight_decay": weight_decay,
            "decoupled_weight_decay": decoupled_weight_decay,
            "maximize": maximize,
        }
        super().__init__(params, defaults)

    def _update(
        self, theta: Tensor, g: Tensor, state: dict[str, Any], group: dict[str, Any]
    ) -> Tensor:
        alpha, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
        lam = group["weight_decay"]
        if not state:
            state["step"] = _new_step()
            state["exp_avg"] = torch.zeros_like(theta)
            state["exp_avg_var"] = torch.zeros_like(theta)
        state["step"] = state["step"] + 1
        t = float(state["step"])
        m_prev, s_prev = state["exp_avg"], state["exp_avg_var"]
        if group["maximize"]:
            g = -g
        if lam != 0 and group["decoupled_weight_decay"]:
            theta = theta - alpha * lam * theta
        elif lam != 0:
            g = g + lam * theta

        m = beta1 * m_prev + (1 - beta1) * g
        s = beta2 * s_prev + (1 - beta2) * (g - m) ** 2 + eps
        m_hat = m / (1 - beta1**t)
        s_hat = s / (1 - beta2**t)
        theta = theta - alpha * m_hat / (torch.sqrt(s_hat) + eps)

        state["exp_avg"], state["exp_avg_var"] = m, s
        return theta


class PaperLion(_PaperOptimizer):
    """Lion, Chen et al. 2023, Algorithm 2 (with decoupled weight decay).

    Per step, element-wise::

        g_t     = grad f(theta_{t-1})
        c_t     = beta1 m_{t-1} + (1 - beta1) g_t
        theta_t = theta_{t-1} - eta (sign(c_t) + lambda theta_{t-1})
        m_t     = beta2 m_{t-1} + (1 - beta2) g_t

    sign(0) = 0. Conventions followed from adamlab (:class:`adamlab.optim.Lion`): the
    learning rate eta is ``lr`` (no separate schedule multiplier), the defaults are the
    paper's (lr 1e-4, betas (0.9, 0.99), lambda 0), and ``maximize`` uses -g_t.

    State per parameter: ``step`` (t, which the update never reads) and ``exp_avg`` (m_t).
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float | Tensor = 1e-4,
        betas: tuple[float, float] = (0.9, 0.99),
        weight_decay: float = 0.0,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = {"lr": lr, "betas": betas, "weight_decay": weight_decay, "maximize": maximize}
        super().__init__(params, defaults)

    def _update(
        self, theta: Tensor, g: Tensor, state: dict[str, Any], group: dict[str, Any]
    ) -> Tensor:
        eta, (beta1, beta2), lam = group["lr"], group["betas"], group["weight_decay"]
        if not state:
            state["step"] = _new_step()
            state["exp_avg"] = torch.zeros_like(theta)
        state["step"] = state["step"] + 1
        m_prev = state["exp_avg"]
        if group["maximize"]:
            g = -g

        c = beta1 * m_prev + (1 - beta1) * g
        theta = theta - eta * (torch.sign(c) + lam * theta)
        m = beta2 * m_prev + (1 - beta2) * g

        state["exp_avg"] = m
        return theta


class PaperAdamAtan2(_PaperOptimizer):
    """Adam-atan2, Everett et al. 2024: Adam with atan2 in place of the eps-guarded division.

    Per step, element-wise::

        g_t     = grad f(theta_{t-1})
        m_t     = beta1 m_{t-1} + (1 - beta1) g_t
        v_t     = beta2 v_{t-1} + (1 - beta2) g_t^2
        m_hat_t = m_t / (1 - beta1^t)
        v_hat_t = v_t / (1 - beta2^t)
        theta_t = theta_{t-1} - alpha (a atan2(m_hat_t, b sqrt(v_hat_t)) + lambda theta_{t-1})

    Conventions followed from adamlab (:class:`adamlab.optim.AdamAtan2`): a = b = 1 by
    default (4 / pi for a matches Adam's step under a constant gradient; pass it explicitly),
    Adam's defaults for lr and betas, decoupled weight decay scaled by the learning rate (as
    torch's AdamW), and ``maximize`` uses -g_t. There is no eps.

    State per parameter: ``step`` (t), ``exp_avg`` (m_t), ``exp_avg_sq`` (v_t).
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float | Tensor = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        weight_decay: float = 0.0,
        a: float = 1.0,
        b: float = 1.0,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = {
            "lr": lr,
            "betas": betas,
            "weight_decay": weight_decay,
            "a": a,
            "b": b,
            "maximize": maximize,
        }
        super().__init__(params, defaults)

    def _update(
        self, theta: Tensor, g: Tensor, state: dict[str, Any], group: dict[str, Any]
    ) -> Tensor:
        alpha, (beta1, beta2), lam = group["lr"], group["betas"], group["weight_decay"]
        a, b = group["a"], group["b"]
        if not state:
            state["step"] = _new_step()
            state["exp_avg"] = torch.zeros_like(theta)
            state["exp_avg_sq"] = torch.zeros_like(theta)
        state["step"] = state["step"] + 1
        t = float(state["step"])
        m_prev, v_prev = state["exp_avg"], state["exp_avg_sq"]
        if group["maximize"]:
            g = -g

        m = beta1 * m_prev + (1 - beta1) * g
        v = beta2 * v_prev + (1 - beta2) * g**2
        m_hat = m / (1 - beta1**t)
        v_hat = v / (1 - beta2**t)
        theta = theta - alpha * (a * torch.atan2(m_hat, b * torch.sqrt(v_hat)) + lam * theta)

        state["exp_avg"], state["exp_avg_sq"] = m, v
        return theta
