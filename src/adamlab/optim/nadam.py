"""``NAdam``: torch.optim-compatible class over :func:`adamlab.functional.nadam_update`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import torch
from torch import Tensor

from adamlab.functional._scalars import default_step_dtype
from adamlab.functional.nadam import NAdamState, nadam_init, nadam_update
from adamlab.optim import validation
from adamlab.optim.base import FunctionalOptimizer


class NAdam(FunctionalOptimizer):
    """NAdam (Dozat, 2016), a drop-in for ``torch.optim.NAdam``.

    Same arguments, defaults and state keys as torch 2.13's NAdam for ``lr, betas, eps,
    weight_decay, momentum_decay, decoupled_weight_decay, maximize``. The math is in
    :func:`adamlab.functional.nadam_update`.

    Args:
        params: parameters or param groups to optimise.
        lr: step size alpha (float or 1-element tensor), >= 0.
        betas: (beta1, beta2), each in [0, 1).
        eps: added to sqrt(v_hat), >= 0.
        weight_decay: lambda >= 0; an L2 term added to the gradient, or decoupled (as AdamW)
            with ``decoupled_weight_decay=True``.
        momentum_decay: psi >= 0 in mu_t = beta1 (1 - 0.5 * 0.96^(t psi)).
        decoupled_weight_decay: decay the parameters directly instead of via the gradient.
        maximize: maximise the objective instead.

    State per parameter: ``step`` (t), ``mu_product`` (P_t), ``exp_avg`` (m),
    ``exp_avg_sq`` (v).

    >>> w = torch.nn.Parameter(torch.tensor([1.0]))
    >>> opt = NAdam([w], lr=0.1)
    >>> w.grad = torch.tensor([0.5])
    >>> opt.step()
    >>> round(w.item(), 4)  # 1 - 0.1 (1 + 0.1 mu_2 / (1 - mu_1 mu_2)), mu_t ~ 0.45
    0.8944
    """

    init_rule = staticmethod(nadam_init)
    update_rule = staticmethod(nadam_update)
    state_type = NAdamState
    state_keys = {"step": "step", "mu_product": "mu_product", "m": "exp_avg", "v": "exp_avg_sq"}

    def __init__(
        self,
        params: Iterable[Any],
        lr: float | Tensor = 2e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum_decay: float = 4e-3,
        decoupled_weight_decay: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = {
            "lr": lr,
            "betas": betas,
            "eps": eps,
            "weight_decay": weight_decay,
            "momentum_decay": momentum_decay,
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
        validation.check_non_negative(hyperparameters["momentum_decay"], "momentum_decay")

    def _read_state(self, param: Tensor, group: Mapping[str, Any]) -> Any:
        stored = self.state[param]
        product = stored.get("mu_product")
        if stored and product is not None and not isinstance(product, Tensor):
            # state dicts from older torch versions keep mu_product as a Python number
            stored["mu_product"] = torch.tensor(float(product), dtype=default_step_dtype())
        return super()._read_state(param, group)
