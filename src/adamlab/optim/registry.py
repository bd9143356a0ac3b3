"""The optimizer registry: data that tests, ``adamlab verify``, the engine and reports enumerate.

Adding an optimizer = one rule in :mod:`adamlab.functional`, one class here in
:mod:`adamlab.optim`, and one :class:`OptimizerEntry` below.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import torch

from adamlab.optim.adabelief import AdaBelief
from adamlab.optim.adagrad import Adagrad
from adamlab.optim.adam import Adam, AdamW
from adamlab.optim.adam_atan2 import AdamAtan2
from adamlab.optim.adamax import Adamax
from adamlab.optim.base import FunctionalOptimizer
from adamlab.optim.lion import Lion
from adamlab.optim.nadam import NAdam
from adamlab.optim.radam import RAdam
from adamlab.optim.rmsprop import RMSprop
from adamlab.optim.sgd import SGD


@dataclass(frozen=True)
class OptimizerEntry:
    """One registered optimizer.

    Attributes:
        name: registry name used by the CLI and specs (lower case, e.g. ``"adam"``).
        cls: the adamlab class.
        torch_twin: the torch.optim class it must match step for step, or None when torch
            has no such optimizer (then it is checked against the paper's equations).
        paper_reference: for an entry without a torch twin, the ``"package.module:Class"``
            that writes out the paper's equations as a torch.optim class; ``adamlab verify``
            checks the entry against it (:data:`adamlab.verify.PAPER`). A string, imported
            when used, so that this module need not import :mod:`adamlab.verify`.
        kwargs: arguments fixed by this entry (e.g. ``amsgrad=True`` for ``"amsgrad"``).
        oracle_cases: hyperparameter sets the oracle suite and ``adamlab verify`` check,
            covering every flag on and off.
        summary: one line for listings.
    """

    name: str
    cls: type[FunctionalOptimizer]
    torch_twin: type[torch.optim.Optimizer] | None
    summary: str
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    oracle_cases: tuple[Mapping[str, Any], ...] = ({},)
    paper_reference: str | None = None

    def make(self, params: Any, **kwargs: Any) -> FunctionalOptimizer:
        """Construct the adamlab optimizer with this entry's fixed arguments plus ``kwargs``."""
        return self.cls(params, **{**self.kwargs, **kwargs})

    def make_twin(self, params: Any, **kwargs: Any) -> torch.optim.Optimizer:
        """Construct the torch.optim twin with the same arguments (single-tensor for-loop path)."""
        if self.torch_twin is None:
            raise ValueError(f"optimizer {self.name!r} has no torch.optim twin")
        extra: dict[str, Any] = {"foreach": False}
        return self.torch_twin(params, **{**self.kwargs, **kwargs, **extra})


_ENTRIES = (
    OptimizerEntry(
        name="adam",
        cls=Adam,
        torch_twin=torch.optim.Adam,
        summary="Adam (Kingma & Ba 2015), Algorithm 1",
        oracle_cases=(
            {},
            {"lr": 1e-2, "betas": (0.8, 0.99), "eps": 1e-6},
            {"amsgrad": True},
            {"weight_decay": 0.1},
            {"weight_decay": 0.1, "decoupled_weight_decay": True},
            {"maximize": True, "lr": 3e-3},
            {"amsgrad": True, "weight_decay": 0.05, "betas": (0.0, 0.9)},
        ),
    ),
    OptimizerEntry(
        name="adamw",
        cls=AdamW,
        torch_twin=torch.optim.AdamW,
        summary="AdamW (Loshchilov & Hutter 2019), decoupled weight decay",
        oracle_cases=(
            {},
            {"weight_decay": 0.1, "lr": 1e-2},
            {"amsgrad": True},
            {"maximize": True},
        ),
    ),
    OptimizerEntry(
        name="amsgrad",
        cls=Adam,
        torch_twin=torch.optim.Adam,
        summary="AMSGrad (Reddi et al. 2018): Adam with the running max of v",
        kwargs={"amsgrad": True},
        oracle_cases=({}, {"lr": 1e-2, "betas": (0.9, 0.99)}),
    ),
    OptimizerEntry(
        name="sgd",
        cls=SGD,
        torch_twin=torch.optim.SGD,
        summary="SGD, optional heavy-ball or Nesterov momentum",
        oracle_cases=(
            {},
            {"lr": 1e-2, "momentum": 0.9},
            {"lr": 1e-2, "momentum": 0.9, "dampening": 0.5},
            {"lr": 1e-2, "momentum": 0.9, "nesterov": True},
            {"lr": 1e-3, "weight_decay": 0.1},
            {"lr": 1e-3, "momentum": 0.5, "maximize": True},
        ),
    ),
    OptimizerEntry(
        name="adagrad",
        cls=Adagrad,
        torch_twin=torch.optim.Adagrad,
        summary="AdaGrad (Duchi et al. 2011)",
        oracle_cases=(
            {},
            {"lr": 0.1, "lr_decay": 1e-3},
            {"initial_accumulator_value": 0.1, "eps": 1e-8},
            {"weight_decay": 0.1},
            {"maximize": True},
        ),
    ),
    OptimizerEntry(
        name="rmsprop",
        cls=RMSprop,
        torch_twin=torch.optim.RMSprop,
        summary="RMSProp (Tieleman & Hinton 2012)",
        oracle_cases=(
            {},
            {"lr": 1e-3, "alpha": 0.9, "eps": 1e-6},
            {"lr": 1e-3, "centered": True},
            {"lr": 1e-3, "momentum": 0.9},
            {"lr": 1e-3, "momentum": 0.5, "centered": True, "weight_decay": 0.1},
            {"lr": 1e-3, "maximize": True},
        ),
    ),
    OptimizerEntry(
        name="adamax",
        cls=Adamax,
        torch_twin=torch.optim.Adamax,
        summary="AdaMax (Kingma & Ba 2015, section 7.1): Adam with an infinity norm",
        oracle_cases=(
            {},
            {"lr": 1e-2, "betas": (0.8, 0.99), "eps": 1e-6},
            {"weight_decay": 0.1},
            {"maximize": True, "lr": 3e-3},
        ),
    ),
    OptimizerEntry(
        name="nadam",
        cls=NAdam,
        torch_twin=torch.optim.NAdam,
        summary="NAdam (Dozat 2016): Adam with Nesterov momentum and momentum decay",
        oracle_cases=(
            {},
            {"lr": 1e-2, "betas": (0.8, 0.99), "eps": 1e-6},
            {"momentum_decay": 0.0},
            {"momentum_decay": 0.05},
            {"weight_decay": 0.1},
            {"weight_decay": 0.1, "decoupled_weight_decay": True},
            {"maximize": True, "lr": 3e-3},
        ),
    ),
    OptimizerEntry(
        name="radam",
        cls=RAdam,
        torch_twin=torch.optim.RAdam,
        summary="RAdam (Liu et al. 2020): Adam with variance rectification",
        oracle_cases=(
            {},
            {"lr": 1e-2, "betas": (0.8, 0.9), "eps": 1e-6},
            {"weight_decay": 0.1},
            {"weight_decay": 0.1, "decoupled_weight_decay": True},
            {"maximize": True, "lr": 3e-3},
        ),
    ),
    OptimizerEntry(
        name="adabelief",
        cls=AdaBelief,
        torch_twin=None,
        summary="AdaBelief (Zhuang et al. 2020): Adam normalised by the gradient's deviation",
        oracle_cases=(
            {},
            {"lr": 1e-2, "betas": (0.8, 0.99), "eps": 1e-12},
            {"weight_decay": 0.1},
            {"weight_decay": 0.1, "decoupled_weight_decay": True},
            {"maximize": True, "lr": 3e-3},
        ),
        paper_reference="adamlab.verify.references:PaperAdaBelief",
    ),
    OptimizerEntry(
        name="lion",
        cls=Lion,
        torch_twin=None,
        summary="Lion (Chen et al. 2023): sign of interpolated momentum, decoupled decay",
        oracle_cases=(
            {},
            {"lr": 1e-3, "betas": (0.95, 0.98)},
            {"weight_decay": 0.1, "lr": 1e-3},
            {"maximize": True},
        ),
        paper_reference="adamlab.verify.references:PaperLion",
    ),
    OptimizerEntry(
        name="adam_atan2",
        cls=AdamAtan2,
        torch_twin=None,
        summary="Adam-atan2 (Everett et al. 2024): atan2(m_hat, b sqrt(v_hat)), no eps",
        oracle_cases=(
            {},
            {"lr": 1e-2, "betas": (0.8, 0.99)},
            {"a": 4 / math.pi, "b": 2.0},
            {"weight_decay": 0.1},
            {"maximize": True, "lr": 3e-3},
        ),
        paper_reference="adamlab.verify.references:PaperAdamAtan2",
    ),
)

#: Every registered optimizer, by registry name.
OPTIMIZERS: dict[str, OptimizerEntry] = {entry.name: entry for entry in _ENTRIES}


def get_optimizer(name: str) -> OptimizerEntry:
    """Return the registry entry called ``name``; unknown names suggest the closest ones."""
    try:
        return OPTIMIZERS[name]
    except KeyError:
        close = difflib.get_close_matches(name.lower(), OPTIMIZERS, n=3, cutoff=0.5)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise ValueError(
            f"unknown optimizer {name!r}{hint} (known: {', '.join(OPTIMIZERS)})"
        ) from None
