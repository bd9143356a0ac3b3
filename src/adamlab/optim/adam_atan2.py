"""``AdamAtan2``: torch.optim-compatible class over :func:`adamlab.functional.adam_atan2_update`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from torch import Tensor

from adamlab.functional.adam_atan2 import AdamAtan2State, adam_atan2_init, adam_atan2_update
from adamlab.optim import validation
from adamlab.optim.base import FunctionalOptimizer


class AdamAtan2(FunctionalOptimizer):
    """Adam-atan2 (Everett et al., 2024): theta -= lr a atan2(m_hat, b sqrt(v_hat)); no eps.

    torch has no Adam-atan2. Defaults are Adam's (lr 1e-3, betas (0.9, 0.999)), since the
    method is Adam with the division replaced, and a = b = 1; see
    :func:`adamlab.functional.adam_atan2_update` for the choice of a (4 / pi matches Adam's
    step under a constant gradient).

    Args:
        params: parameters or param groups to optimise.
        lr: step size alpha (float or 1-element tensor), >= 0.
        betas: (beta1, beta2), each in [0, 1).
        weight_decay: decoupled decay lambda >= 0: theta <- theta (1 - alpha lambda).
        a: scale of the step, >= 0 (each coordinate moves at most alpha a pi / 2).
        b: scale of sqrt(v_hat) inside atan2, >= 0 (b = 0 gives a sign step, alpha a pi / 2).
        maximize: maximise the objective instead.

    State per parameter: ``step`` (t), ``exp_avg`` (m), ``exp_avg_sq`` (v).

    >>> import torch
    >>> w = torch.nn.Parameter(torch.zeros(2, dtype=torch.float64))
    >>> opt = AdamAtan2([w], lr=0.1)
    >>> w.grad = torch.tensor([1e-30, -5.0], dtype=torch.float64)
    >>> opt.step()
    >>> [round(x, 6) for x in w.tolist()]  # -alpha pi/4 sign(g), even for a tiny gradient
    [-0.07854, 0.07854]
    """

    init_rule = staticmethod(adam_atan2_init)
    update_rule = staticmethod(adam_atan2_update)
    state_type = AdamAtan2State
    state_keys = {"step": "step", "m": "exp_avg", "v": "exp_avg_sq"}

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

    @classmethod
    def validate(cls, hyperparameters: Mapping[str, Any]) -> None:
        validation.check_lr(hyperparameters["lr"])
        validation.check_betas(hyperparameters["betas"])
        validation.check_non_negative(hyperparameters["weight_decay"], "weight_decay")
        validation.check_non_negative(hyperparameters["a"], "a")
        validation.check_non_negative(hyperparameters["b"], "b")
