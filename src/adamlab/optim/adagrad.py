"""``Adagrad``: torch.optim-compatible class over :func:`adamlab.functional.adagrad_update`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from torch import Tensor

from adamlab.functional.adagrad import AdagradState, adagrad_init, adagrad_update
from adamlab.optim import validation
from adamlab.optim.base import FunctionalOptimizer


class Adagrad(FunctionalOptimizer):
    """AdaGrad (Duchi et al., 2011), a drop-in for ``torch.optim.Adagrad``.

    Args:
        params: parameters or param groups to optimise.
        lr: learning rate alpha, >= 0.
        lr_decay: eta >= 0; the step size is alpha / (1 + (t - 1) eta).
        weight_decay: L2 penalty lambda >= 0 added to the gradient.
        initial_accumulator_value: s_0 >= 0, the starting sum of squared gradients.
        eps: added to sqrt(s_t), >= 0.
        maximize: maximise the objective instead.

    State per parameter: ``step`` (t) and ``sum`` (s). As in torch, the state is created
    when the optimizer is constructed, so its state dict is complete before the first step.
    """

    init_rule = staticmethod(adagrad_init)
    update_rule = staticmethod(adagrad_update)
    state_type = AdagradState
    state_keys = {"step": "step", "s": "sum"}

    def __init__(
        self,
        params: Iterable[Any],
        lr: float | Tensor = 1e-2,
        lr_decay: float = 0.0,
        weight_decay: float = 0.0,
        initial_accumulator_value: float = 0.0,
        eps: float = 1e-10,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = {
            "lr": lr,
            "lr_decay": lr_decay,
            "weight_decay": weight_decay,
            "initial_accumulator_value": initial_accumulator_value,
            "eps": eps,
            "maximize": maximize,
        }
        super().__init__(params, defaults)
        # torch.optim.Adagrad creates its state eagerly and its step() expects it; doing the
        # same keeps state dicts interchangeable in both directions from step 0.
        for group in self.param_groups:
            for param in group["params"]:
                self._write_state(param, adagrad_init(param.detach(), **self.init_options(group)))

    @classmethod
    def validate(cls, hyperparameters: Mapping[str, Any]) -> None:
        validation.check_lr(hyperparameters["lr"])
        validation.check_non_negative(hyperparameters["lr_decay"], "lr_decay")
        validation.check_non_negative(hyperparameters["weight_decay"], "weight_decay")
        validation.check_non_negative(
            hyperparameters["initial_accumulator_value"], "initial_accumulator_value"
        )
        validation.check_eps(hyperparameters["eps"])

    @classmethod
    def init_options(cls, group: Mapping[str, Any]) -> dict[str, Any]:
        return {"initial_accumulator_value": group["initial_accumulator_value"]}
