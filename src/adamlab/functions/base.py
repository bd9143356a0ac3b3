"""The :class:`TestFunction` record: a batched objective plus its own ground truth.

A test function is data: a value function written with torch ops only, an optional analytic
gradient, and everything known about it (domain, every global minimizer, f*, known local minima,
the SFU category, where it is not differentiable, a plot box, a reference). The benchmark engine
calls :meth:`TestFunction.value_and_grad` on a ``[B, d]`` batch of points; the tests check the
ground truth against the formula.

Conventions shared by every function in :mod:`adamlab.functions`:

* ``f(x)`` takes ``x`` of shape ``(..., d)`` and returns shape ``(...)`` in ``x``'s dtype.
* Value and gradient use torch ops only (no ``.item()``, no numpy, no Python branching on tensor
  values), so they work batched, on any device and under ``torch.compile``.
* Where a function is not differentiable, the analytic gradient returns a subgradient chosen with
  ``sign(0) = 0`` and ``1 / sqrt(0)`` read as 0 on the zero set, and the value function is
  written so that autograd returns the same numbers (see each function's ``nondifferentiable``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import ClassVar

import torch
from torch import Tensor

#: SFU's grouping of the test functions (Surjanovic & Bingham), used for grouped statistics.
CATEGORIES: tuple[str, ...] = (
    "many local minima",
    "bowl-shaped",
    "plate-shaped",
    "valley-shaped",
    "steep ridges/drops",
    "other",
)

_SFU = (
    "S. Surjanovic and D. Bingham, Virtual Library of Simulation Experiments, "
    "Simon Fraser University"
)


def sfu_reference(page: str) -> str:
    """The SFU library citation for one of its pages, e.g. ``sfu_reference("rosen")``."""
    return f"{_SFU}, https://www.sfu.ca/~ssurjano/{page}.html"


#: A known local minimum: (the point, the function value there).
LocalMinimum = tuple[tuple[float, ...], float]

#: (low, high) per coordinate.
Box = tuple[tuple[float, float], ...]


@dataclass(frozen=True, eq=False)
class TestFunction:
    """A batched test function for optimizers, carrying its own ground truth.

    Attributes:
        name: registry name, e.g. ``"bukin_n6"``.
        display_name: human name, e.g. ``"Bukin N.6"``.
        formula_latex: the formula as matplotlib mathtext (``$...$``; a long formula may be
            split over lines, each its own ``$...$`` block).
        formula_text: the formula in plain text.
        dim: the number of variables d.
        domain: ``(low, high)``, float64 tensors of shape ``(d,)``: the standard search box.
        minimizers: float64 tensor ``(k, d)`` holding ALL global minimizers.
        f_star: the global minimum value f*.
        category: SFU grouping, one of :data:`CATEGORIES`.
        reference: citation(s) for the definition.
        value_fn: ``(..., d) -> (...)``, torch ops only.
        grad_fn: analytic gradient ``(..., d) -> (..., d)``, or None to use autograd.
        columns_fn: value and analytic gradient on the coordinates given one tensor each,
            ``(x_1, ..., x_d) -> (f, [df/dx_1, ..., df/dx_d])`` (see
            :meth:`value_and_grad_columns`), or None.
        local_minima: known non-global local minima as ``(point, value)`` pairs.
        nondifferentiable: where the function is not differentiable, or None if it is smooth.
        plot_box: ``(low, high)`` per coordinate for plots; defaults to the domain.
        plot_log: plot ``f - f*`` on a log colour scale (True), ``f`` on a linear one (False),
            or let the plot decide from the values (None).
        notes: anything else worth knowing (local maxima, flat regions, ...).
    """

    # pytest must not collect this class although its name starts with "Test".
    __test__: ClassVar[bool] = False

    name: str
    display_name: str
    formula_latex: str
    formula_text: str
    dim: int
    domain: tuple[Tensor, Tensor]
    minimizers: Tensor
    f_star: float
    category: str
    reference: str
    value_fn: Callable[[Tensor], Tensor] = field(repr=False)
    grad_fn: Callable[[Tensor], Tensor] | None = field(default=None, repr=False)
    columns_fn: Callable[[Sequence[Tensor]], tuple[Tensor, list[Tensor]]] | None = field(
        default=None, repr=False
    )
    local_minima: tuple[LocalMinimum, ...] = ()
    nondifferentiable: str | None = None
    plot_box: Box | None = None
    plot_log: bool | None = None
    notes: str = ""

    def __post_init__(self) -> None:
        # Normalise the ground truth to float64 tensors and check that the shapes agree, so a
        # typo in a registry entry fails at import time, not in the middle of a benchmark.
        low, high = (torch.as_tensor(b, dtype=torch.float64) for b in self.domain)
        minimizers = torch.as_tensor(self.minimizers, dtype=torch.float64)
        if minimizers.ndim == 1:
            minimizers = minimizers.unsqueeze(0)
        d = self.dim
        if low.shape != (d,) or high.shape != (d,):
            raise ValueError(f"{self.name}: domain bounds must have shape ({d},)")
        if minimizers.ndim != 2 or minimizers.shape[1] != d or minimizers.shape[0] < 1:
            raise ValueError(f"{self.name}: minimizers must have shape (k, {d}) with k >= 1")
        if self.category not in CATEGORIES:
            raise ValueError(f"{self.name}: unknown category {self.category!r}")
        for point, _ in self.local_minima:
            if len(point) != d:
                raise ValueError(f"{self.name}: local minimum {point} is not {d}-dimensional")
        box = self.plot_box
        if box is None:
            box = tuple((float(lo), float(hi)) for lo, hi in zip(low, high, strict=True))
        elif len(box) != d:
            raise ValueError(f"{self.name}: plot_box needs one (low, high) pair per coordinate")
        object.__setattr__(self, "domain", (low, high))
        object.__setattr__(self, "minimizers", minimizers)
        object.__setattr__(self, "f_star", float(self.f_star))
        object.__setattr__(self, "plot_box", tuple((float(a), float(b)) for a, b in box))

    # -- evaluation -------------------------------------------------------------------------

    def _check(self, x: Tensor) -> None:
        if x.ndim == 0 or x.shape[-1] != self.dim:
            raise ValueError(
                f"{self.name}: expected a tensor of shape (..., {self.dim}), got {tuple(x.shape)}"
            )

    def __call__(self, x: Tensor) -> Tensor:
        """Return f(x): shape ``(...)`` for ``x`` of shape ``(..., d)``, in ``x``'s dtype."""
        self._check(x)
        return self.value_fn(x)

    @property
    def has_analytic_grad(self) -> bool:
        """True when :meth:`grad` uses a hand-written gradient rather than autograd."""
        return self.grad_fn is not None

    def autograd_grad(self, x: Tensor) -> Tensor:
        """The gradient of f at ``x`` computed by autograd, shape ``(..., d)``.

        Rows of a batch do not interact, so the gradient of ``f(x).sum()`` is the per-point
        gradient. ``torch.func.grad`` works on a fresh copy of ``x`` and ignores an outer
        ``torch.no_grad()``, so this is safe to call from an optimizer's step.
        """
        self._check(x)
        grad: Tensor = torch.func.grad(lambda y: self.value_fn(y).sum())(x.detach())
        return grad

    def grad(self, x: Tensor) -> Tensor:
        """The gradient of f at ``x``, shape ``(..., d)``: analytic if available, else autograd."""
        self._check(x)
        if self.grad_fn is not None:
            return self.grad_fn(x)
        return self.autograd_grad(x)

    def value_and_grad(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """Return ``(f(x), grad f(x))`` with shapes ``(...)`` and ``(..., d)``."""
        self._check(x)
        if self.grad_fn is not None:
            return self.value_fn(x), self.grad_fn(x)

        def summed(y: Tensor) -> tuple[Tensor, Tensor]:
            value = self.value_fn(y)
            # differentiate the sum; hand the per-point values back as auxiliary output
            return value.sum(), value

        grad, (_, value) = torch.func.grad_and_value(summed, has_aux=True)(x.detach())
        return value, grad

    def value_and_grad_columns(self, columns: Sequence[Tensor]) -> tuple[Tensor, list[Tensor]]:
        """``(f(x), [df/dx_1, ..., df/dx_d])`` for x given as d tensors, one per coordinate.

        The same numbers as :meth:`value_and_grad`, for code that steps each coordinate of a
        batch as its own ``[B]`` tensor: then every operation of a compiled step runs over the
        same B rows and the compiler can fuse several steps into one loop, which a ``(B, d)``
        tensor (loops over (B, d) beside loops over B) prevents (the benchmark engine does
        this, ``adamlab.bench.engine._Layout``). Functions with a coordinate form
        (``columns_fn``) compute on the columns directly; the others stack them and split the
        gradient.
        """
        if len(columns) != self.dim:
            raise ValueError(f"{self.name}: expected {self.dim} coordinates, got {len(columns)}")
        if self.columns_fn is not None:
            return self.columns_fn(columns)
        value, grad = self.value_and_grad(torch.stack(tuple(columns), dim=-1))
        return value, list(grad.unbind(-1))

    def distance_to_minimizer(self, x: Tensor) -> Tensor:
        """Euclidean distance from each point of ``x`` (..., d) to the nearest global minimizer."""
        self._check(x)
        minimizers = self.minimizers.to(dtype=x.dtype, device=x.device)
        # (..., 1, d) - (k, d) -> (..., k, d) -> norms (..., k) -> min over k
        diff = x.unsqueeze(-2) - minimizers
        return torch.linalg.vector_norm(diff, dim=-1).amin(dim=-1)

    # -- ground truth helpers -------------------------------------------------------------

    @property
    def is_smooth(self) -> bool:
        """True when f is differentiable everywhere (``nondifferentiable`` is None)."""
        return self.nondifferentiable is None

    def in_domain(self, x: Tensor) -> Tensor:
        """Boolean tensor (...): whether each point lies in the closed domain box."""
        low, high = (b.to(dtype=x.dtype, device=x.device) for b in self.domain)
        return ((x >= low) & (x <= high)).all(dim=-1)

    def sample_uniform(
        self, n: int, *, generator: torch.Generator | None = None, dtype: torch.dtype | None = None
    ) -> Tensor:
        """``n`` points drawn uniformly from the domain, shape ``(n, d)`` (float64 by default)."""
        low, high = self.domain
        u = torch.rand(n, self.dim, generator=generator, dtype=torch.float64)
        points = low + (high - low) * u
        return points.to(dtype) if dtype is not None else points
