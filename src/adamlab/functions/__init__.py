"""Test functions for optimizers, batched over ``(..., d)``, each carrying its ground truth.

>>> import torch
>>> from adamlab import functions
>>> f = functions.get("booth")
>>> f(torch.tensor([1.0, 3.0])).item(), f.f_star, f.category
(0.0, 0.0, 'plate-shaped')
>>> functions.SUITES["seed"]
('rosenbrock', 'bukin_n6', 'bohachevsky1', 'booth', 'three_hump_camel', 'easom')

See :class:`TestFunction` for the gradient API (``grad``, ``value_and_grad``) and the ground
truth it carries, and :mod:`adamlab.functions.registry` for the names.
"""

from adamlab.functions.base import CATEGORIES, Box, LocalMinimum, TestFunction
from adamlab.functions.registry import (
    FUNCTIONS,
    SUITES,
    FunctionFactory,
    get,
    resolve_suite_or_names,
)

__all__ = [
    "CATEGORIES",
    "FUNCTIONS",
    "SUITES",
    "Box",
    "FunctionFactory",
    "LocalMinimum",
    "TestFunction",
    "get",
    "resolve_suite_or_names",
]
