"""Fixtures shared by the oracle tests."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import pytest

from adamlab.optim import OPTIMIZERS, Adam, OptimizerEntry


class _PerturbedAdam(Adam):
    """Adam with lr scaled by (1 + 1e-9): a deviation the oracle must report."""

    @classmethod
    def rule_hyperparameters(cls, group: Mapping[str, Any]) -> dict[str, Any]:
        hyper = super().rule_hyperparameters(group)
        return {**hyper, "lr": hyper["lr"] * (1 + 1e-9)}


@pytest.fixture
def perturbed_adam() -> OptimizerEntry:
    """The registry's Adam entry, named ``perturbed``, with the lr off by one part in 1e9."""
    return replace(OPTIMIZERS["adam"], name="perturbed", cls=_PerturbedAdam)
