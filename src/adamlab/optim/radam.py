"""``RAdam``: torch.optim-compatible class over :func:`adamlab.functional.radam_update`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from torch import Tensor

from adamlab.functional.radam import RAdamState, radam_init, radam_update
from adamlab.optim import validation
from adamlab.optim.base import FunctionalOptimizer


class RAdam(FunctionalOptimizer):
    """RAdam (Liu et al., 2020), a drop-in for ``torch.optim.RAdam``.

    Same arguments, defaults and state keys as torch 2.13's RAdam for ``lr, betas, eps,
    weight_decay, decoupled_weight_decay, maximize``. The math is in
    :func:`adamlab.functional.radam_update`.

    Args:
        params: parameters or param groups to optimise.
        lr: step size alpha (float or 1-element tensor), >= 0.
        betas: (beta1, beta2), each in [0, 1).
        eps: added to sqrt(v) in the adaptive learning rate, >= 0.
        weight_decay: lambda >= 0; an L2 term added to the gradient, or decoupled (as AdamW)
            with ``decoupled_weight_decay=True``.
        decoupled_weight_decay: decay the parameters directly instead of via the gradient.
        maximize: maximise the objective instead.

    State per parameter: ``step`` (t), ``exp_avg`` (m), ``exp_avg_sq`` (v).

    >>> import torch
    >>> w = torch.nn.Parameter(torch.tensor([1.0]))
    >>> opt = RAdam([w], lr=0.1)
    >>> w.grad = torch.tensor([0.5])
    >>> opt.step()
    >>> round(w.item(), 6)  # the first steps are momentum steps: 1 - 0.1 * 0.5
    0.95
    """

    init_rule = staticmethod(radam_init)
    update_rule = staticmethod(radam_update)
    state_type = RAdamState
    state_keys = {"step": "step", "m": "exp_avg", "v": "exp_avg_sq"}

    def __init__(
        self,
        params: Iterable[Any],
        lr: float | Tensor = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
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

    @classmethod
    def validate(cls, hyperparameters: Mapping[str, Any]) -> None:
        validation.check_lr(hyperparameters["lr"])
        validation.check_betas(hyperparameters["betas"])
        validation.check_eps(hyperparameters["eps"])
        validation.check_non_negative(hyperparameters["weight_decay"], "weight_decay")
