"""Hyperparameter validation: one table of bad inputs, each a ValueError that says what to fix.

Every message must name the argument, echo the value and state the valid range; the table
lists the substrings that show it. Rows about an argument every optimizer of that kind has
(lr, betas, eps, weight_decay) run for every registered class whose constructor takes it, so
optimizers added to the registry are held to the same rules.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
import torch

from adamlab.optim import OPTIMIZERS, SGD, Adagrad, Adam, FunctionalOptimizer, RMSprop

NAN, INF = float("nan"), float("inf")


@dataclass(frozen=True)
class BadInput:
    """One invalid hyperparameter set and what its error message must contain."""

    argument: str  # the constructor argument the row is about
    kwargs: dict[str, Any]
    expected: tuple[str, ...]  # substrings of the message (case-insensitive)


def _range(name: str) -> str:
    return f"0 <= {name} < 1"


#: Rows for any optimizer that takes ``argument``.
COMMON = (
    BadInput("lr", {"lr": -1e-3}, ("lr", "-0.001", ">= 0")),
    BadInput("lr", {"lr": NAN}, ("lr", "nan", ">= 0")),
    BadInput("lr", {"lr": INF}, ("lr", "inf", "finite")),
    BadInput("lr", {"lr": -INF}, ("lr", "-inf", "finite")),
    BadInput("lr", {"lr": torch.tensor(-1.0)}, ("lr", "-1.0", ">= 0")),
    BadInput("betas", {"betas": (1.0, 0.999)}, ("betas[0]", "1.0", _range("beta"))),
    BadInput("betas", {"betas": (0.9, 1.0)}, ("betas[1]", "1.0", _range("beta"))),
    BadInput("betas", {"betas": (-0.1, 0.999)}, ("betas[0]", "-0.1", _range("beta"))),
    BadInput("betas", {"betas": (0.9, -0.5)}, ("betas[1]", "-0.5", _range("beta"))),
    BadInput("betas", {"betas": (1.5, 0.999)}, ("betas[0]", "1.5", _range("beta"))),
    BadInput("betas", {"betas": (NAN, 0.999)}, ("betas[0]", "nan", _range("beta"))),
    BadInput("betas", {"betas": (0.9, NAN)}, ("betas[1]", "nan", _range("beta"))),
    BadInput("eps", {"eps": -1e-8}, ("eps", "-1e-08", ">= 0")),
    BadInput("eps", {"eps": NAN}, ("eps", "nan", ">= 0")),
    BadInput("eps", {"eps": INF}, ("eps", "inf", "finite")),
    BadInput("weight_decay", {"weight_decay": -0.1}, ("weight_decay", "-0.1", ">= 0")),
    BadInput("weight_decay", {"weight_decay": NAN}, ("weight_decay", "nan", ">= 0")),
)

#: Rows for the argument sets of particular optimizers.
SPECIFIC: tuple[tuple[type[FunctionalOptimizer], BadInput], ...] = (
    (SGD, BadInput("momentum", {"momentum": -0.9}, ("momentum", "-0.9", ">= 0"))),
    (SGD, BadInput("momentum", {"momentum": NAN}, ("momentum", "nan", ">= 0"))),
    (SGD, BadInput("dampening", {"dampening": -0.1}, ("dampening", "-0.1", ">= 0"))),
    (SGD, BadInput("dampening", {"dampening": NAN}, ("dampening", "nan", ">= 0"))),
    (
        SGD,
        BadInput(
            "nesterov",
            {"nesterov": True},
            ("nesterov", "momentum=0.0", "momentum > 0 and dampening = 0"),
        ),
    ),
    (
        SGD,
        BadInput(
            "nesterov",
            {"nesterov": True, "momentum": 0.9, "dampening": 0.1},
            ("nesterov", "dampening=0.1", "momentum > 0 and dampening = 0"),
        ),
    ),
    (RMSprop, BadInput("momentum", {"momentum": -0.5}, ("momentum", "-0.5", ">= 0"))),
    (RMSprop, BadInput("alpha", {"alpha": 1.0}, ("alpha", "1.0", _range("alpha")))),
    (RMSprop, BadInput("alpha", {"alpha": -0.01}, ("alpha", "-0.01", _range("alpha")))),
    (RMSprop, BadInput("alpha", {"alpha": NAN}, ("alpha", "nan", _range("alpha")))),
    (Adagrad, BadInput("lr_decay", {"lr_decay": -1e-3}, ("lr_decay", "-0.001", ">= 0"))),
    (Adagrad, BadInput("lr_decay", {"lr_decay": NAN}, ("lr_decay", "nan", ">= 0"))),
    (
        Adagrad,
        BadInput(
            "initial_accumulator_value",
            {"initial_accumulator_value": -0.1},
            ("initial_accumulator_value", "-0.1", ">= 0"),
        ),
    ),
)


def _takes(cls: Callable[..., Any], argument: str) -> bool:
    return argument in inspect.signature(cls).parameters


def _classes() -> list[type[FunctionalOptimizer]]:
    """Every registered class once (``adam`` and ``amsgrad`` share one)."""
    return list(dict.fromkeys(entry.cls for entry in OPTIMIZERS.values()))


CASES = [
    pytest.param(cls, row, id=f"{cls.__name__}-{row.argument}-{row.kwargs[row.argument]!r}")
    for row in COMMON
    for cls in _classes()
    if _takes(cls, row.argument)
] + [
    pytest.param(cls, row, id=f"{cls.__name__}-{row.argument}-{row.kwargs}")
    for cls, row in SPECIFIC
]


def _param() -> torch.Tensor:
    return torch.zeros(3, requires_grad=True)


def _assert_message(error: pytest.ExceptionInfo[ValueError], expected: tuple[str, ...]) -> None:
    message = str(error.value).lower()
    for part in expected:
        assert part.lower() in message, f"{part!r} not in {str(error.value)!r}"


@pytest.mark.parametrize(("cls", "row"), CASES)
def test_constructor_rejects(cls: Callable[..., FunctionalOptimizer], row: BadInput) -> None:
    with pytest.raises(ValueError) as error:
        cls([_param()], **row.kwargs)
    _assert_message(error, row.expected)


@pytest.mark.parametrize(("cls", "row"), CASES)
def test_param_group_rejects(cls: Callable[..., FunctionalOptimizer], row: BadInput) -> None:
    """The same value given inside a param group dict, at construction and when added later."""
    with pytest.raises(ValueError) as error:
        cls([{"params": [_param()], **row.kwargs}])
    _assert_message(error, row.expected)

    optimizer = cls([_param()])
    with pytest.raises(ValueError) as error:
        optimizer.add_param_group({"params": [_param()], **row.kwargs})
    _assert_message(error, row.expected)
    assert len(optimizer.param_groups) == 1  # the bad group was not added


@pytest.mark.parametrize("cls", _classes(), ids=lambda cls: cls.__name__)
def test_duplicate_parameter_in_one_group(cls: Callable[..., FunctionalOptimizer]) -> None:
    p = _param()
    with pytest.raises(ValueError) as error:
        cls([p, _param(), p])
    _assert_message(error, ("params", "index 2", "more than once", "once"))


@pytest.mark.parametrize("cls", _classes(), ids=lambda cls: cls.__name__)
def test_duplicate_parameter_across_groups(cls: Callable[..., FunctionalOptimizer]) -> None:
    p = _param()
    with pytest.raises(ValueError) as error:
        cls([{"params": [p]}, {"params": [_param(), p]}])
    _assert_message(error, ("params", "index 2", "more than once", "across all parameter groups"))

    optimizer = cls([p])
    with pytest.raises(ValueError, match="more than once"):
        optimizer.add_param_group({"params": [p]})


@pytest.mark.parametrize("cls", [Adam, SGD, Adagrad, RMSprop], ids=lambda cls: cls.__name__)
def test_valid_edges_accepted(cls: Callable[..., FunctionalOptimizer]) -> None:
    """The closed ends of each range are valid: lr = 0, beta = 0, eps = 0, decay = 0."""
    edges: dict[str, Any] = {"lr": 0.0, "weight_decay": 0.0}
    for argument, value in (("betas", (0.0, 0.0)), ("eps", 0.0), ("alpha", 0.0)):
        if _takes(cls, argument):
            edges[argument] = value
    cls([_param()], **edges)
