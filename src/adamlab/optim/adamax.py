"""``Adamax``: torch.optim-compatible class over :func:`adamlab.functional.adamax_update`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from torch import Tensor

from adamlab.functional.adamax import AdamaxState, adamax_init, adamax_update
from adamlab.optim import validation
from adamlab.optim.base import FunctionalOptimizer


class Adamax(FunctionalOptimizer):
    """AdaMax (Kingma & Ba, 2015, section 7.1), a drop-in for ``torch.optim.Adamax``.

    Same arguments, defaults and state keys as torch 2.13's Adamax for ``lr, betas, eps,
    weight_decay, maximize``. The math is in :func:`adamlab.functional.adamax_update`.

    Args:
        params: parameters or param groups to optimise.
        lr: step size alpha (float or 1-element tensor), >= 0. Default 2e-3, the paper's.
        betas: (beta1, beta2), each in [0, 1).
        eps: added to |g| inside the infinity-norm maximum, >= 0.
        weight_decay: L2 penalty lambda >= 0 added to the gradient.
        maximize: maximise the objective instead.

    State per parameter: ``step`` (t), ``exp_avg`` (m), ``exp_inf`` (u).

    >>> import torch
    >>> w = torch.nn.Parameter(torch.tensor([1.0, -2.0]))
    >>> opt = Adamax([w], lr=0.1)
    >>> w.grad = torch.tensor([0.5, -3.0])
    >>> opt.step()
    >>> [round(x, 6) for x in w.tolist()]
    [0.9, -1.9]
    """

    init_rule = staticmethod(adamax_init)
    update_rule = staticmethod(adamax_update)
    state_type = AdamaxState
    state_keys = {"step": "step", "m": "exp_avg", "u": "exp_inf"}

    def __init__(
        self,
        params: Iterable[Any],
        lr: float | Tensor = 2e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = {
            "lr": lr,
            "betas": betas,
            "eps": eps,
            "weight_decay": weight_decay,
            "maximize": maximize,
        }
        super().__init__(params, defaults)

    @classmethod
    def validate(cls, hyperparameters: Mapping[str, Any]) -> None:
        validation.check_lr(hyperparameters["lr"])
        validation.check_betas(hyperparameters["betas"])
        validation.check_eps(hyperparameters["eps"])
        validation.check_non_negative(hyperparameters["weight_decay"], "weight_decay")
