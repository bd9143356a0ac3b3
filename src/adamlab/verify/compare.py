"""Any optimizer against any reference, step for step, on the oracle's problems.

:func:`compare` is :func:`~adamlab.verify.oracle.run_oracle` for classes outside the
registry: a researcher's own ``torch.optim.Optimizer`` against ``torch.optim.Adam`` (or any
other class), from bit-identical copies of each problem's parameters, with the same deviation
measure, tolerances and early stop. ``adamlab verify --optimizer X --reference Y`` prints it.

A side is named as ``"package.module:Class"`` (any importable ``torch.optim.Optimizer``
subclass), as a registry name (``"adam"``, ``"amsgrad"``: adamlab's class with the entry's
fixed arguments), or given as the class itself.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor

from adamlab.optim.registry import get_optimizer
from adamlab.verify.oracle import (
    DEFAULT_STEPS,
    DTYPES,
    SINGLE_TENSOR,
    Comparison,
    OracleResult,
    clone_params,
    step_side_by_side,
)
from adamlab.verify.problems import PROBLEMS, OracleProblem

#: What a side may be given as: ``"package.module:Class"``, a registry name, or the class.
OptimizerLike = str | type[torch.optim.Optimizer]


@dataclass(frozen=True)
class Side:
    """One side of a comparison: a class and the arguments it is built with.

    Attributes:
        name: shown in tables (``"package.module:Class"`` or the registry name).
        cls: the ``torch.optim.Optimizer`` subclass.
        kwargs: constructor arguments (a registry entry's fixed ones included).
    """

    name: str
    cls: type[torch.optim.Optimizer]
    kwargs: Mapping[str, Any] = field(default_factory=dict)

    def make(self, params: list[Tensor]) -> torch.optim.Optimizer:
        """Build the optimizer over ``params``."""
        return self.cls(params, **self.kwargs)


def resolve(
    target: OptimizerLike, options: Mapping[str, Any] | None = None, *, role: str = "optimizer"
) -> Side:
    """The :class:`Side` for ``target`` with ``options``, built once to check the arguments.

    Args:
        target: ``"package.module:Class"``, a registry name, or a ``torch.optim.Optimizer``
            subclass.
        options: constructor arguments (lr, betas, ...).
        role: how error messages name this side (``"optimizer"`` or ``"reference"``).

    Raises:
        ValueError: the class cannot be imported, is not an optimizer, or rejects ``options``.

    >>> resolve("torch.optim:SGD", {"lr": 0.1}).name
    'torch.optim:SGD'
    >>> resolve("amsgrad").kwargs
    {'amsgrad': True}
    """
    from adamlab.bench.drivers import load_optimizer_class

    if options is not None and not isinstance(options, Mapping):
        raise ValueError(f"invalid {role} options: {options!r} (expected a mapping of arguments)")
    fixed: Mapping[str, Any] = {}
    if isinstance(target, type) and issubclass(target, torch.optim.Optimizer):
        name, cls = f"{target.__module__}:{target.__qualname__}", target
    elif isinstance(target, str) and ":" in target:
        name, cls = target, load_optimizer_class(target)
    elif isinstance(target, str):
        entry = get_optimizer(target)
        name, cls, fixed = entry.name, entry.cls, entry.kwargs
    else:
        raise ValueError(
            f"invalid {role}: {target!r} (expected a torch.optim.Optimizer subclass, "
            "package.module:Class or a registry name)"
        )
    side = Side(name, cls, {**fixed, **(options or {})})
    try:
        side.make([torch.zeros(1, requires_grad=True)])
    except (TypeError, ValueError) as error:
        message = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise ValueError(f"invalid arguments for {role} {name!r}: {message}") from None
    return side


def check_tolerance(tolerance: float | None) -> None:
    """Raise ValueError unless ``tolerance`` is None or a finite number > 0."""
    if tolerance is None:
        return
    if (
        isinstance(tolerance, bool)
        or not isinstance(tolerance, int | float)
        or not (math.isfinite(tolerance) and tolerance > 0)
    ):
        raise ValueError(f"invalid tolerance: {tolerance!r} (expected a finite number > 0)")


def compare_side_by_side(
    ours: Side,
    reference: Side,
    problem: OracleProblem,
    dtype: torch.dtype,
    *,
    steps: int = DEFAULT_STEPS,
    tolerance: float | None = None,
    state: bool = True,
) -> OracleResult:
    """Step ``ours`` and ``reference`` side by side on ``problem`` and compare.

    Both start from bit-identical copies of the problem's parameters; after every step the
    parameters (and, with ``state``, every per-parameter state tensor under the same key) are
    compared as in :func:`~adamlab.verify.oracle.run_oracle`.

    Args:
        ours: the side under test.
        reference: the side it should equal.
        problem: the objective.
        dtype: parameter dtype.
        steps: steps per side.
        tolerance: the largest accepted relative deviation (default: the oracle's own,
            :data:`~adamlab.verify.oracle.SINGLE_TENSOR`, for ``dtype``).
        state: also compare the optimizer state; a side with other state keys then fails
            with a layout clash. False compares the parameters only.

    Returns:
        An :class:`OracleResult` whose ``optimizer`` and ``path`` are the two sides' names.
    """
    start = problem.make_params(dtype)
    our_params, their_params = clone_params(start), clone_params(start)
    our_opt, their_opt = ours.make(our_params), reference.make(their_params)
    comparison = Comparison(names=(ours.name, reference.name), state=state)
    taken, diverged = step_side_by_side(
        our_opt, our_params, their_opt, their_params, problem, steps, comparison
    )
    return OracleResult(
        optimizer=ours.name,
        options=dict(ours.kwargs),
        dtype=dtype,
        problem=problem.name,
        path=reference.name,
        steps=taken,
        max_abs=comparison.max_abs,
        max_rel=comparison.max_rel,
        tolerance=SINGLE_TENSOR.tolerance[dtype] if tolerance is None else tolerance,
        worst=comparison.worst,
        mismatch=comparison.mismatch,
        diverged=diverged,
    )


def check_plan(steps: int, problems: Sequence[str], dtypes: Sequence[torch.dtype]) -> None:
    """Raise ValueError for a bad step count, an unknown problem or an unchecked dtype."""
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"invalid steps: {steps!r} (expected an integer >= 1)")
    if not problems:
        raise ValueError(
            f"invalid problems: {problems!r} (expected one or more of {list(PROBLEMS)})"
        )
    for name in problems:
        if name not in PROBLEMS:
            raise ValueError(f"unknown problem {name!r} (known: {', '.join(PROBLEMS)})")
    if not dtypes:
        raise ValueError(f"invalid dtypes: {dtypes!r} (expected one or more of {list(DTYPES)})")
    for dtype in dtypes:
        if dtype not in DTYPES.values():
            raise ValueError(f"invalid dtype: {dtype} (expected one of {', '.join(DTYPES)})")


def compare(
    optimizer: OptimizerLike,
    reference: OptimizerLike,
    options: Mapping[str, Any] | None = None,
    *,
    reference_options: Mapping[str, Any] | None = None,
    problems: Sequence[str] = tuple(PROBLEMS),
    dtypes: Sequence[torch.dtype] = (torch.float64, torch.float32),
    steps: int = DEFAULT_STEPS,
    tolerance: float | None = None,
    state: bool = True,
) -> list[OracleResult]:
    """Compare ``optimizer`` with ``reference`` on every problem x dtype.

    Args:
        optimizer: the optimizer under test (a class, ``"package.module:Class"`` or a registry
            name).
        reference: what it should equal, in the same forms (e.g. ``"torch.optim:Adam"``).
        options: constructor arguments for both sides.
        reference_options: constructor arguments for the reference instead (default:
            ``options``).
        problems: names from :data:`~adamlab.verify.problems.PROBLEMS`.
        dtypes: parameter dtypes (float64 and/or float32).
        steps: steps per comparison.
        tolerance: the largest accepted relative deviation (default: the oracle's own per
            dtype: 1e-10 in float64, 1e-5 in float32).
        state: also compare state tensors under shared keys (see :func:`compare_side_by_side`).

    Returns:
        One result per dtype x problem, dtype-major (the order of
        :func:`~adamlab.verify.oracle.oracle_matrix`); ``all(r.passed for r in results)`` is
        the verdict.

    Raises:
        ValueError: a side cannot be imported or built, or a bad argument.

    >>> results = compare("adam", "torch.optim:Adam", {"lr": 1e-2}, steps=20)
    >>> [(r.problem, str(r.dtype), r.passed) for r in results]  # doctest: +NORMALIZE_WHITESPACE
    [('mlp', 'torch.float64', True), ('rosenbrock', 'torch.float64', True),
     ('mlp', 'torch.float32', True), ('rosenbrock', 'torch.float32', True)]
    """
    check_plan(steps, problems, dtypes)
    check_tolerance(tolerance)
    ours = resolve(optimizer, options)
    theirs = resolve(
        reference, options if reference_options is None else reference_options, role="reference"
    )
    return [
        compare_side_by_side(
            ours, theirs, PROBLEMS[name], dtype, steps=steps, tolerance=tolerance, state=state
        )
        for dtype in dtypes
        for name in problems
    ]
