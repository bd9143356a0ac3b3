"""``Lion``: torch.optim-compatible class over :func:`adamlab.functional.lion_update`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from torch import Tensor

from adamlab.functional.lion import LionState, lion_init, lion_update
from adamlab.optim import validation
from adamlab.optim.base import FunctionalOptimizer


class Lion(FunctionalOptimizer):
    """Lion (Chen et al., 2023): theta -= lr sign(beta1 m + (1 - beta1) g), decoupled decay.

    torch has no Lion; the defaults are the paper's and the authors' code's: lr 1e-4,
    betas (0.9, 0.99), weight_decay 0. See :func:`adamlab.functional.lion_update`.

    Args:
        params: parameters or param groups to optimise.
        lr: step size alpha (float or 1-element tensor), >= 0: every coordinate moves by
            alpha per step (before weight decay).
        betas: (beta1, beta2): beta1 interpolates the step's direction, beta2 decays the
            stored momentum; each in [0, 1).
        weight_decay: decoupled decay lambda >= 0: theta <- theta (1 - alpha lambda).
        maximize: maximise the objective instead.

    State per parameter: ``step`` (t, bookkeeping only) and ``exp_avg`` (m).

    >>> import torch
    >>> w = torch.nn.Parameter(torch.tensor([1.0, -2.0]))
    >>> opt = Lion([w], lr=0.25)
    >>> w.grad = torch.tensor([1e-6, -30.0])
    >>> opt.step()
    >>> w.tolist()
    [0.75, -1.75]
    """

    init_rule = staticmethod(lion_init)
    update_rule = staticmethod(lion_update)
    state_type = LionState
    state_keys = {"step": "step", "m": "exp_avg"}

    def __init__(
        self,
        params: Iterable[Any],
        lr: float | Tensor = 1e-4,
        betas: tuple[float, float] = (0.9, 0.99),
        weight_decay: float = 0.0,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = {
            "lr": lr,
            "betas": betas,
            "weight_decay": weight_decay,
            "maximize": maximize,
        }
        super().__init__(params, defaults)

    @classmethod
    def validate(cls, hyperparameters: Mapping[str, Any]) -> None:
        validation.check_lr(hyperparameters["lr"])
        validation.check_betas(hyperparameters["betas"])
        validation.check_non_negative(hyperparameters["weight_decay"], "weight_decay")
