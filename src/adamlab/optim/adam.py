"""``Adam`` and ``AdamW``: torch.optim-compatible classes over ``functional.adam_update``."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from torch import Tensor

from adamlab.functional.adam import AdamState, adam_init, adam_update
from adamlab.optim import validation
from adamlab.optim.base import FunctionalOptimizer


class Adam(FunctionalOptimizer):
    """Adam (Kingma & Ba, 2015), a drop-in for ``torch.optim.Adam``.

    Same arguments, defaults and state keys as torch 2.13's Adam for ``lr, betas, eps,
    weight_decay, amsgrad, maximize, decoupled_weight_decay``. The math is in
    :func:`adamlab.functional.adam_update`.

    Args:
        params: parameters or param groups to optimise.
        lr: step size alpha (float or 1-element tensor), >= 0.
        betas: (beta1, beta2), each in [0, 1).
        eps: added to sqrt(v_hat), >= 0.
        weight_decay: lambda >= 0; an L2 term added to the gradient, or decoupled (AdamW)
            with ``decoupled_weight_decay=True``.
        amsgrad: use AMSGrad's running maximum of v (torch's form, bias-corrected).
        maximize: maximise the objective instead.
        decoupled_weight_decay: decay the parameters directly (AdamW) instead of via the
            gradient.
        fused: True for the fast path: the same rule compiled with ``torch.compile`` over the
            whole param group and applied in place (one pass over memory, as torch's fused
            kernel; the first step compiles, a few seconds). False or None (the default): the
            readable per-parameter loop. See :mod:`adamlab.optim.fused`.

    State per parameter: ``step`` (t), ``exp_avg`` (m), ``exp_avg_sq`` (v), and
    ``max_exp_avg_sq`` (AMSGrad's max of v).

    >>> import torch
    >>> w = torch.nn.Parameter(torch.tensor([1.0, -2.0]))
    >>> opt = Adam([w], lr=0.1)
    >>> w.grad = torch.tensor([0.5, -3.0])
    >>> opt.step()
    >>> [round(x, 6) for x in w.tolist()]  # each coordinate moves by alpha on the first step
    [0.9, -1.9]
    """

    init_rule = staticmethod(adam_init)
    update_rule = staticmethod(adam_update)
    state_type = AdamState
    state_keys = {"step": "step", "m": "exp_avg", "v": "exp_avg_sq", "v_max": "max_exp_avg_sq"}

    def __init__(
        self,
        params: Iterable[Any],
        lr: float | Tensor = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
        decoupled_weight_decay: bool = False,
        fused: bool | None = None,
    ) -> None:
        defaults = {
            "lr": lr,
            "betas": betas,
            "eps": eps,
            "weight_decay": weight_decay,
            "amsgrad": amsgrad,
            "maximize": maximize,
            "decoupled_weight_decay": decoupled_weight_decay,
            "fused": fused,
        }
        super().__init__(params, defaults)

    @classmethod
    def validate(cls, hyperparameters: Mapping[str, Any]) -> None:
        validation.check_lr(hyperparameters["lr"])
        validation.check_betas(hyperparameters["betas"])
        validation.check_eps(hyperparameters["eps"])
        validation.check_non_negative(hyperparameters["weight_decay"], "weight_decay")

    @classmethod
    def init_options(cls, group: Mapping[str, Any]) -> dict[str, Any]:
        return {"amsgrad": bool(group["amsgrad"])}


class AdamW(Adam):
    """AdamW (Loshchilov & Hutter, 2019): Adam with decoupled weight decay, default 1e-2.

    A drop-in for ``torch.optim.AdamW``: theta is first shrunk by (1 - lr * weight_decay),
    then takes the Adam step; see :func:`adamlab.functional.adam_update`.
    """

    def __init__(
        self,
        params: Iterable[Any],
        lr: float | Tensor = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
        fused: bool | None = None,
    ) -> None:
        super().__init__(
            params,
            lr=lr,
            betas=betas,
            eps=eps,
            weight_decay=weight_decay,
            amsgrad=amsgrad,
            maximize=maximize,
            decoupled_weight_decay=True,
            fused=fused,
        )

    @classmethod
    def rule_hyperparameters(cls, group: Mapping[str, Any]) -> dict[str, Any]:
        # AdamW is always decoupled, even when a state dict from torch.optim.AdamW
        # (whose groups carry no such key) is loaded
        return {**super().rule_hyperparameters(group), "decoupled_weight_decay": True}
