"""``RMSprop``: torch.optim-compatible class over :func:`adamlab.functional.rmsprop_update`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from torch import Tensor

from adamlab.functional.rmsprop import RMSpropState, rmsprop_init, rmsprop_update
from adamlab.optim import validation
from adamlab.optim.base import FunctionalOptimizer


class RMSprop(FunctionalOptimizer):
    """RMSProp (Tieleman & Hinton, 2012), a drop-in for ``torch.optim.RMSprop``.

    Args:
        params: parameters or param groups to optimise.
        lr: learning rate, >= 0.
        alpha: smoothing constant of the running averages, in [0, 1).
        eps: added to the root mean square, >= 0.
        weight_decay: L2 penalty lambda >= 0 added to the gradient.
        momentum: momentum mu >= 0 on the normalised step.
        centered: normalise by the gradient's estimated variance.
        maximize: maximise the objective instead.

    State per parameter: ``step``, ``square_avg`` (v), ``momentum_buffer`` (b, momentum > 0)
    and ``grad_avg`` (c, centered).
    """

    init_rule = staticmethod(rmsprop_init)
    update_rule = staticmethod(rmsprop_update)
    state_type = RMSpropState
    state_keys = {"step": "step", "v": "square_avg", "b": "momentum_buffer", "c": "grad_avg"}

    def __init__(
        self,
        params: Iterable[Any],
        lr: float | Tensor = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum: float = 0.0,
        centered: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = {
            "lr": lr,
            "alpha": alpha,
            "eps": eps,
            "weight_decay": weight_decay,
            "momentum": momentum,
            "centered": centered,
            "maximize": maximize,
        }
        super().__init__(params, defaults)

    @classmethod
    def validate(cls, hyperparameters: Mapping[str, Any]) -> None:
        validation.check_lr(hyperparameters["lr"])
        validation.check_unit_interval(hyperparameters["alpha"], "alpha")
        validation.check_eps(hyperparameters["eps"])
        validation.check_non_negative(hyperparameters["weight_decay"], "weight_decay")
        validation.check_non_negative(hyperparameters["momentum"], "momentum")

    @classmethod
    def init_options(cls, group: Mapping[str, Any]) -> dict[str, Any]:
        return {"momentum": group["momentum"], "centered": bool(group["centered"])}
