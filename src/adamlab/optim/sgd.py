"""``SGD``: torch.optim-compatible class over :func:`adamlab.functional.sgd_update`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from torch import Tensor

from adamlab.functional.sgd import SGDState, sgd_init, sgd_update
from adamlab.optim import validation
from adamlab.optim.base import FunctionalOptimizer


class SGD(FunctionalOptimizer):
    """Gradient descent with optional momentum / Nesterov, a drop-in for ``torch.optim.SGD``.

    Args:
        params: parameters or param groups to optimise.
        lr: learning rate, >= 0.
        momentum: heavy-ball momentum mu >= 0 (0: plain gradient descent).
        dampening: tau >= 0, scales the gradient's share of the momentum buffer.
        weight_decay: L2 penalty lambda >= 0 added to the gradient.
        nesterov: Nesterov momentum (needs momentum > 0 and dampening = 0).
        maximize: maximise the objective instead.

    State per parameter: ``momentum_buffer`` (b), only when momentum > 0.

    >>> import torch
    >>> w = torch.nn.Parameter(torch.tensor([1.0]))
    >>> opt = SGD([w], lr=0.1)
    >>> w.grad = torch.tensor([2.0])
    >>> opt.step()
    >>> round(w.item(), 6)
    0.8
    """

    init_rule = staticmethod(sgd_init)
    update_rule = staticmethod(sgd_update)
    state_type = SGDState
    state_keys = {"b": "momentum_buffer"}

    def __init__(
        self,
        params: Iterable[Any],
        lr: float | Tensor = 1e-3,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "dampening": dampening,
            "weight_decay": weight_decay,
            "nesterov": nesterov,
            "maximize": maximize,
        }
        super().__init__(params, defaults)

    @classmethod
    def validate(cls, hyperparameters: Mapping[str, Any]) -> None:
        validation.check_lr(hyperparameters["lr"])
        validation.check_non_negative(hyperparameters["momentum"], "momentum")
        validation.check_non_negative(hyperparameters["dampening"], "dampening")
        validation.check_non_negative(hyperparameters["weight_decay"], "weight_decay")
        validation.check_nesterov(
            bool(hyperparameters["nesterov"]),
            hyperparameters["momentum"],
            hyperparameters["dampening"],
        )
