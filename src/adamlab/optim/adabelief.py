"""``AdaBelief``: torch.optim-compatible class over :func:`adamlab.functional.adabelief_update`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from torch import Tensor

from adamlab.functional.adabelief import AdaBeliefState, adabelief_init, adabelief_update
from adamlab.optim import validation
from adamlab.optim.base import FunctionalOptimizer


class AdaBelief(FunctionalOptimizer):
    """AdaBelief (Zhuang et al., 2020): Adam normalised by the belief s_t in the gradient.

    torch has no AdaBelief; the arguments follow torch's Adam. Defaults lr 1e-3,
    betas (0.9, 0.999) as Adam and the paper; eps 1e-16 as the authors' implementation,
    because eps enters s_t inside the square root (sqrt(1e-16) = 1e-8, Adam's eps). The
    paper's Algorithm 2 without the authors' optional rectification; see
    :func:`adamlab.functional.adabelief_update`.

    Args:
        params: parameters or param groups to optimise.
        lr: step size alpha (float or 1-element tensor), >= 0.
        betas: (beta1, beta2), each in [0, 1).
        eps: added to s_t each step and to sqrt(s_hat), >= 0.
        weight_decay: lambda >= 0; an L2 term added to the gradient, or decoupled (as AdamW)
            with ``decoupled_weight_decay=True``.
        decoupled_weight_decay: decay the parameters directly instead of via the gradient.
        maximize: maximise the objective instead.

    State per parameter: ``step`` (t), ``exp_avg`` (m), ``exp_avg_var`` (s).

    >>> import torch
    >>> w = torch.nn.Parameter(torch.tensor([1.0], dtype=torch.float64))
    >>> opt = AdaBelief([w], lr=0.09)
    >>> w.grad = torch.tensor([2.0], dtype=torch.float64)
    >>> opt.step()
    >>> round(w.item(), 9)  # the first step is alpha / beta1
    0.9
    """

    init_rule = staticmethod(adabelief_init)
    update_rule = staticmethod(adabelief_update)
    state_type = AdaBeliefState
    state_keys = {"step": "step", "m": "exp_avg", "s": "exp_avg_var"}

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

    @classmethod
    def validate(cls, hyperparameters: Mapping[str, Any]) -> None:
        validation.check_lr(hyperparameters["lr"])
        validation.check_betas(hyperparameters["betas"])
        validation.check_eps(hyperparameters["eps"])
        validation.check_non_negative(hyperparameters["weight_decay"], "weight_decay")
