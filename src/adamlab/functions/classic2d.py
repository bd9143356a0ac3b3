"""The two-dimensional test functions, each with an analytic gradient.

Every public builder here returns a :class:`~adamlab.functions.base.TestFunction`. Definitions
follow the Virtual Library of Simulation Experiments (Surjanovic & Bingham, SFU), cross-checked
against SciPy's global-optimization benchmarks. Global and local minima were recomputed with
Newton's method at 40-digit precision (Hessian checked positive definite) and are stored to
float64 precision.

Each formula is written once, as a coordinate core: the value ``_foo(x1, x2) -> f`` and the
gradient ``_foo_grad(x1, x2) -> (df/dx1, df/dx2)``, where ``x1`` and ``x2`` are tensors of the
same shape ``(...)``. :func:`_planar` derives the three callables of a
:class:`~adamlab.functions.base.TestFunction` from the two cores: ``value_fn`` and ``grad_fn``
on points ``x`` of shape ``(..., 2)`` (``x1 = x[..., 0]``, ``x2 = x[..., 1]``; the gradient is
stacked to ``(..., 2)``) and ``columns_fn`` on the two coordinates given separately.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from typing import TypedDict

import torch
from torch import Tensor

from adamlab.functions.base import TestFunction, sfu_reference

PI = math.pi


def _split(x: Tensor) -> tuple[Tensor, Tensor]:
    return x[..., 0], x[..., 1]


def _stack(g1: Tensor, g2: Tensor) -> Tensor:
    """The gradient ``(..., 2)`` from its two components, stored coordinate-major.

    Stacking along a new first dimension writes each component as one contiguous block; the
    ``(..., 2)`` result is a view of it. The benchmark engine keeps its batches in this layout
    (rows innermost), so the compiled step reads the gradient without transposing it.
    """
    return torch.stack((g1, g2), dim=0).movedim(0, -1)


#: A value core ``(x1, x2) -> f`` and a gradient core ``(x1, x2) -> (df/dx1, df/dx2)``.
_ValueCore = Callable[[Tensor, Tensor], Tensor]
_GradCore = Callable[[Tensor, Tensor], tuple[Tensor, Tensor]]


def _on_points(value: _ValueCore, x: Tensor) -> Tensor:
    """f at points ``x`` of shape ``(..., 2)``: the value core on the two coordinates."""
    return value(*_split(x))


def _grad_on_points(grad: _GradCore, x: Tensor) -> Tensor:
    """The gradient ``(..., 2)`` at points ``x`` of shape ``(..., 2)`` from the gradient core."""
    return _stack(*grad(*_split(x)))


def _on_columns(
    value: _ValueCore, grad: _GradCore, columns: Sequence[Tensor]
) -> tuple[Tensor, list[Tensor]]:
    """``(f, [df/dx1, df/dx2])`` for the coordinates given as two tensors ``(x1, x2)``."""
    x1, x2 = columns
    return value(x1, x2), list(grad(x1, x2))


class _PlanarFns(TypedDict):
    value_fn: Callable[[Tensor], Tensor]
    grad_fn: Callable[[Tensor], Tensor]
    columns_fn: Callable[[Sequence[Tensor]], tuple[Tensor, list[Tensor]]]


def _planar(value: _ValueCore, grad: _GradCore) -> _PlanarFns:
    """``value_fn``, ``grad_fn`` and ``columns_fn`` of a 2-D function from its two cores.

    Partials of module-level functions (no lambdas), so the functions still pickle.
    """
    return _PlanarFns(
        value_fn=functools.partial(_on_points, value),
        grad_fn=functools.partial(_grad_on_points, grad),
        columns_fn=functools.partial(_on_columns, value, grad),
    )


def _box(x1: tuple[float, float], x2: tuple[float, float]) -> tuple[Tensor, Tensor]:
    """Domain ``x1 in [a, b], x2 in [c, d]`` as a (low, high) pair of float64 tensors."""
    low = torch.tensor([x1[0], x2[0]], dtype=torch.float64)
    high = torch.tensor([x1[1], x2[1]], dtype=torch.float64)
    return low, high


def _abs_sqrt(u: Tensor) -> Tensor:
    """sqrt(|u|) whose autograd gradient is 0 (not NaN) at u = 0.

    The plain ``sqrt(abs(u))`` has derivative ``inf * sign(0) = inf * 0 = NaN`` at 0. Taking the
    root of a stand-in value where ``u == 0`` keeps the backward pass finite ("double where"),
    so autograd agrees with the analytic subgradient convention sign(0) = 0.
    """
    a = u.abs()
    positive = a > 0
    safe = torch.where(positive, a, torch.ones_like(a))
    return torch.where(positive, safe.sqrt(), torch.zeros_like(a))


# -- Bukin N.6 ------------------------------------------------------------------------------


def _bukin_n6(x1: Tensor, x2: Tensor) -> Tensor:
    # f = 100 sqrt(|x2 - 0.01 x1^2|) + 0.01 |x1 + 10|
    return 100.0 * _abs_sqrt(x2 - 0.01 * x1**2) + 0.01 * (x1 + 10.0).abs()


def _bukin_n6_grad(x1: Tensor, x2: Tensor) -> tuple[Tensor, Tensor]:
    u = x2 - 0.01 * x1**2
    root = _abs_sqrt(u)
    # df/du = 50 sign(u) / sqrt(|u|), read as 0 on u = 0 (sign(0) = 0)
    safe_root = torch.where(root > 0, root, torch.ones_like(root))
    df_du = 50.0 * torch.sign(u) / safe_root
    # du/dx1 = -0.02 x1, du/dx2 = 1
    g1 = df_du * (-0.02 * x1) + 0.01 * torch.sign(x1 + 10.0)
    return g1, df_du


def bukin_n6() -> TestFunction:
    """Bukin function N.6: a narrow curved ridge of local minima, non-differentiable.

    f(x) = 100 sqrt(|x2 - 0.01 x1^2|) + 0.01 |x1 + 10|

    Domain: x1 in [-15, -5], x2 in [-3, 3]. Global minimum f(-10, 1) = 0.

    Not differentiable on the parabola x2 = 0.01 x1^2 (the gradient grows like 50 / sqrt(|u|)
    near it) nor on the line x1 = -10; the minimum lies on both. Every point of the parabola is
    a local minimum in x2, and along it f = 0.01 |x1 + 10| only slowly leads to (-10, 1).
    Gradient convention: sign(0) = 0, so the (sub)gradient at the minimum is (0, 0).

    Reference:
        SFU: bukin6.
    """
    return TestFunction(
        name="bukin_n6",
        display_name="Bukin N.6",
        formula_latex=r"$f(x) = 100\sqrt{|x_2 - 0.01x_1^2|} + 0.01|x_1 + 10|$",
        formula_text="100 sqrt(|x2 - 0.01 x1^2|) + 0.01 |x1 + 10|",
        dim=2,
        domain=_box((-15.0, -5.0), (-3.0, 3.0)),
        minimizers=torch.tensor([[-10.0, 1.0]], dtype=torch.float64),
        f_star=0.0,
        category="many local minima",
        reference=sfu_reference("bukin6"),
        **_planar(_bukin_n6, _bukin_n6_grad),
        nondifferentiable="on the parabola x2 = 0.01 x1^2 and the line x1 = -10 "
        "(gradient convention sign(0) = 0)",
        notes="A ridge of local minima along x2 = 0.01 x1^2.",
    )


# -- Bohachevsky 1, 2, 3 --------------------------------------------------------------------

_BOHACHEVSKY_REF = (
    "I. O. Bohachevsky, M. E. Johnson and M. L. Stein, Generalized simulated annealing for "
    "function optimization, Technometrics 28(3):209-217, 1986"
)


def _bohachevsky1(x1: Tensor, x2: Tensor) -> Tensor:
    # f = x1^2 + 2 x2^2 - 0.3 cos(3 pi x1) - 0.4 cos(4 pi x2) + 0.7
    return x1**2 + 2.0 * x2**2 - 0.3 * torch.cos(3 * PI * x1) - 0.4 * torch.cos(4 * PI * x2) + 0.7


def _bohachevsky1_grad(x1: Tensor, x2: Tensor) -> tuple[Tensor, Tensor]:
    g1 = 2.0 * x1 + 0.9 * PI * torch.sin(3 * PI * x1)
    g2 = 4.0 * x2 + 1.6 * PI * torch.sin(4 * PI * x2)
    return g1, g2


def _bohachevsky2(x1: Tensor, x2: Tensor) -> Tensor:
    # f = x1^2 + 2 x2^2 - 0.3 cos(3 pi x1) cos(4 pi x2) + 0.3
    return x1**2 + 2.0 * x2**2 - 0.3 * torch.cos(3 * PI * x1) * torch.cos(4 * PI * x2) + 0.3


def _bohachevsky2_grad(x1: Tensor, x2: Tensor) -> tuple[Tensor, Tensor]:
    c1, s1 = torch.cos(3 * PI * x1), torch.sin(3 * PI * x1)
    c2, s2 = torch.cos(4 * PI * x2), torch.sin(4 * PI * x2)
    g1 = 2.0 * x1 + 0.9 * PI * s1 * c2
    g2 = 4.0 * x2 + 1.2 * PI * c1 * s2
    return g1, g2


def _bohachevsky3(x1: Tensor, x2: Tensor) -> Tensor:
    # f = x1^2 + 2 x2^2 - 0.3 cos(3 pi x1 + 4 pi x2) + 0.3
    return x1**2 + 2.0 * x2**2 - 0.3 * torch.cos(3 * PI * x1 + 4 * PI * x2) + 0.3


def _bohachevsky3_grad(x1: Tensor, x2: Tensor) -> tuple[Tensor, Tensor]:
    s = torch.sin(3 * PI * x1 + 4 * PI * x2)
    return 2.0 * x1 + 0.9 * PI * s, 4.0 * x2 + 1.2 * PI * s


def bohachevsky1() -> TestFunction:
    """Bohachevsky function 1: a bowl with small cosine ripples.

    f(x) = x1^2 + 2 x2^2 - 0.3 cos(3 pi x1) - 0.4 cos(4 pi x2) + 0.7

    Domain: [-100, 100]^2. Global minimum f(0, 0) = 0.

    The seed project wrote cos(4 pi x1) in the last cosine; the formula has cos(4 pi x2).

    Reference:
        Bohachevsky, Johnson and Stein (1986). SFU: boha.
    """
    return TestFunction(
        name="bohachevsky1",
        display_name="Bohachevsky 1",
        formula_latex=(r"$f(x) = x_1^2 + 2x_2^2 - 0.3\cos(3\pi x_1) - 0.4\cos(4\pi x_2) + 0.7$"),
        formula_text="x1^2 + 2 x2^2 - 0.3 cos(3 pi x1) - 0.4 cos(4 pi x2) + 0.7",
        dim=2,
        domain=_box((-100.0, 100.0), (-100.0, 100.0)),
        minimizers=torch.zeros(1, 2, dtype=torch.float64),
        f_star=0.0,
        category="bowl-shaped",
        reference=f"{_BOHACHEVSKY_REF}; {sfu_reference('boha')}",
        **_planar(_bohachevsky1, _bohachevsky1_grad),
        plot_box=((-2.0, 2.0), (-2.0, 2.0)),
    )


def bohachevsky2() -> TestFunction:
    """Bohachevsky function 2: a bowl with multiplicative cosine ripples.

    f(x) = x1^2 + 2 x2^2 - 0.3 cos(3 pi x1) cos(4 pi x2) + 0.3

    Domain: [-100, 100]^2. Global minimum f(0, 0) = 0.

    Reference:
        Bohachevsky, Johnson and Stein (1986). SFU: boha.
    """
    return TestFunction(
        name="bohachevsky2",
        display_name="Bohachevsky 2",
        formula_latex=r"$f(x) = x_1^2 + 2x_2^2 - 0.3\cos(3\pi x_1)\cos(4\pi x_2) + 0.3$",
        formula_text="x1^2 + 2 x2^2 - 0.3 cos(3 pi x1) cos(4 pi x2) + 0.3",
        dim=2,
        domain=_box((-100.0, 100.0), (-100.0, 100.0)),
        minimizers=torch.zeros(1, 2, dtype=torch.float64),
        f_star=0.0,
        category="bowl-shaped",
        reference=f"{_BOHACHEVSKY_REF}; {sfu_reference('boha')}",
        **_planar(_bohachevsky2, _bohachevsky2_grad),
        plot_box=((-2.0, 2.0), (-2.0, 2.0)),
    )


def bohachevsky3() -> TestFunction:
    """Bohachevsky function 3: a bowl with diagonal cosine ripples.

    f(x) = x1^2 + 2 x2^2 - 0.3 cos(3 pi x1 + 4 pi x2) + 0.3

    Domain: [-100, 100]^2. Global minimum f(0, 0) = 0.

    Reference:
        Bohachevsky, Johnson and Stein (1986). SFU: boha.
    """
    return TestFunction(
        name="bohachevsky3",
        display_name="Bohachevsky 3",
        formula_latex=r"$f(x) = x_1^2 + 2x_2^2 - 0.3\cos(3\pi x_1 + 4\pi x_2) + 0.3$",
        formula_text="x1^2 + 2 x2^2 - 0.3 cos(3 pi x1 + 4 pi x2) + 0.3",
        dim=2,
        domain=_box((-100.0, 100.0), (-100.0, 100.0)),
        minimizers=torch.zeros(1, 2, dtype=torch.float64),
        f_star=0.0,
        category="bowl-shaped",
        reference=f"{_BOHACHEVSKY_REF}; {sfu_reference('boha')}",
        **_planar(_bohachevsky3, _bohachevsky3_grad),
        plot_box=((-2.0, 2.0), (-2.0, 2.0)),
    )


# -- Booth ----------------------------------------------------------------------------------


def _booth(x1: Tensor, x2: Tensor) -> Tensor:
    # f = (x1 + 2 x2 - 7)^2 + (2 x1 + x2 - 5)^2
    return (x1 + 2.0 * x2 - 7.0) ** 2 + (2.0 * x1 + x2 - 5.0) ** 2


def _booth_grad(x1: Tensor, x2: Tensor) -> tuple[Tensor, Tensor]:
    a = x1 + 2.0 * x2 - 7.0
    b = 2.0 * x1 + x2 - 5.0
    return 2.0 * a + 4.0 * b, 4.0 * a + 2.0 * b


def booth() -> TestFunction:
    """Booth function: a convex quadratic (plate-shaped).

    f(x) = (x1 + 2 x2 - 7)^2 + (2 x1 + x2 - 5)^2

    Domain: [-10, 10]^2. Global minimum f(1, 3) = 0. Hessian [[10, 8], [8, 10]]
    (eigenvalues 2 and 18).

    The seed project wrote (2 x1 - 5)^2 for the second square, dropping x2.

    Reference:
        SFU: booth.

    >>> f = booth()
    >>> f(torch.tensor([[1.0, 3.0], [0.0, 0.0]])).tolist()
    [0.0, 74.0]
    """
    return TestFunction(
        name="booth",
        display_name="Booth",
        formula_latex=r"$f(x) = (x_1 + 2x_2 - 7)^2 + (2x_1 + x_2 - 5)^2$",
        formula_text="(x1 + 2 x2 - 7)^2 + (2 x1 + x2 - 5)^2",
        dim=2,
        domain=_box((-10.0, 10.0), (-10.0, 10.0)),
        minimizers=torch.tensor([[1.0, 3.0]], dtype=torch.float64),
        f_star=0.0,
        category="plate-shaped",
        reference=sfu_reference("booth"),
        **_planar(_booth, _booth_grad),
    )


# -- Camels ---------------------------------------------------------------------------------


def _three_hump_camel(x1: Tensor, x2: Tensor) -> Tensor:
    # f = 2 x1^2 - 1.05 x1^4 + x1^6 / 6 + x1 x2 + x2^2
    return 2.0 * x1**2 - 1.05 * x1**4 + x1**6 / 6.0 + x1 * x2 + x2**2


def _three_hump_camel_grad(x1: Tensor, x2: Tensor) -> tuple[Tensor, Tensor]:
    g1 = 4.0 * x1 - 4.2 * x1**3 + x1**5 + x2
    g2 = x1 + 2.0 * x2
    return g1, g2


_THREE_HUMP_LOCAL = (1.7475523458302889, -0.87377617291514445)
_THREE_HUMP_LOCAL_F = 0.29863844223685982


def three_hump_camel() -> TestFunction:
    """Three-hump camel function: one global and two local minima in a curved valley.

    f(x) = 2 x1^2 - 1.05 x1^4 + x1^6 / 6 + x1 x2 + x2^2

    Domain: [-5, 5]^2. Global minimum f(0, 0) = 0. Local minima at
    +-(1.74755234583029, -0.87377617291514) with f = 0.29863844223686.

    This is the camel of the seed project's diagram (its code computed the six-hump camel).

    Reference:
        SFU: camel3.
    """
    a, b = _THREE_HUMP_LOCAL
    return TestFunction(
        name="three_hump_camel",
        display_name="Three-hump camel",
        formula_latex=r"$f(x) = 2x_1^2 - 1.05x_1^4 + x_1^6/6 + x_1x_2 + x_2^2$",
        formula_text="2 x1^2 - 1.05 x1^4 + x1^6 / 6 + x1 x2 + x2^2",
        dim=2,
        domain=_box((-5.0, 5.0), (-5.0, 5.0)),
        minimizers=torch.zeros(1, 2, dtype=torch.float64),
        f_star=0.0,
        category="valley-shaped",
        reference=sfu_reference("camel3"),
        **_planar(_three_hump_camel, _three_hump_camel_grad),
        local_minima=(((a, b), _THREE_HUMP_LOCAL_F), ((-a, -b), _THREE_HUMP_LOCAL_F)),
        plot_box=((-2.5, 2.5), (-2.5, 2.5)),
    )


def _six_hump_camel(x1: Tensor, x2: Tensor) -> Tensor:
    # f = (4 - 2.1 x1^2 + x1^4 / 3) x1^2 + x1 x2 + (-4 + 4 x2^2) x2^2
    return (4.0 - 2.1 * x1**2 + x1**4 / 3.0) * x1**2 + x1 * x2 + (-4.0 + 4.0 * x2**2) * x2**2


def _six_hump_camel_grad(x1: Tensor, x2: Tensor) -> tuple[Tensor, Tensor]:
    g1 = 8.0 * x1 - 8.4 * x1**3 + 2.0 * x1**5 + x2
    g2 = x1 - 8.0 * x2 + 16.0 * x2**3
    return g1, g2


_SIX_HUMP_MIN = (0.089842013100318062, -0.71265640302073963)
_SIX_HUMP_F_STAR = -1.0316284534898774
_SIX_HUMP_LOCAL_A = ((-1.7036067149699808, 0.79608356867262512), -0.21546382438371764)
_SIX_HUMP_LOCAL_B = ((1.6071047529201972, 0.56865145488413137), 2.1042503103112583)


def six_hump_camel() -> TestFunction:
    """Six-hump camel function: two global minima among six local ones.

    f(x) = (4 - 2.1 x1^2 + x1^4 / 3) x1^2 + x1 x2 + (-4 + 4 x2^2) x2^2

    Domain: x1 in [-3, 3], x2 in [-2, 2]. Two global minima
    +-(0.0898420131003181, -0.7126564030207396) with f* = -1.0316284534898774. Four more
    local minima: +-(-1.70360671496998, 0.79608356867263), f = -0.21546382438372, and
    +-(1.60710475292020, 0.56865145488413), f = 2.10425031031126.

    Reference:
        L. C. W. Dixon and G. P. Szego, The global optimization problem: an introduction,
        in Towards Global Optimisation 2, North-Holland, 1978. SFU: camel6.
    """
    a, b = _SIX_HUMP_MIN
    local: list[tuple[tuple[float, ...], float]] = []
    for (p, q), value in (_SIX_HUMP_LOCAL_A, _SIX_HUMP_LOCAL_B):
        local += [((p, q), value), ((-p, -q), value)]
    return TestFunction(
        name="six_hump_camel",
        display_name="Six-hump camel",
        formula_latex=r"$f(x) = (4 - 2.1x_1^2 + x_1^4/3)x_1^2 + x_1x_2 + (4x_2^2 - 4)x_2^2$",
        formula_text="(4 - 2.1 x1^2 + x1^4 / 3) x1^2 + x1 x2 + (-4 + 4 x2^2) x2^2",
        dim=2,
        domain=_box((-3.0, 3.0), (-2.0, 2.0)),
        minimizers=torch.tensor([[a, b], [-a, -b]], dtype=torch.float64),
        f_star=_SIX_HUMP_F_STAR,
        category="valley-shaped",
        reference=f"Dixon and Szego (1978); {sfu_reference('camel6')}",
        **_planar(_six_hump_camel, _six_hump_camel_grad),
        local_minima=tuple(local),
        plot_box=((-2.0, 2.0), (-1.2, 1.2)),
    )


# -- Easom ----------------------------------------------------------------------------------


def _easom(x1: Tensor, x2: Tensor) -> Tensor:
    # f = -cos(x1) cos(x2) exp(-(x1 - pi)^2 - (x2 - pi)^2)
    envelope = torch.exp(-((x1 - PI) ** 2) - (x2 - PI) ** 2)
    return -torch.cos(x1) * torch.cos(x2) * envelope


def _easom_grad(x1: Tensor, x2: Tensor) -> tuple[Tensor, Tensor]:
    c1, s1 = torch.cos(x1), torch.sin(x1)
    c2, s2 = torch.cos(x2), torch.sin(x2)
    envelope = torch.exp(-((x1 - PI) ** 2) - (x2 - PI) ** 2)
    # df/dx1 = cos(x2) E [sin(x1) + 2 (x1 - pi) cos(x1)], and symmetrically for x2
    g1 = c2 * envelope * (s1 + 2.0 * (x1 - PI) * c1)
    g2 = c1 * envelope * (s2 + 2.0 * (x2 - PI) * c2)
    return g1, g2


_EASOM_LOCAL = 1.3049954504376675
_EASOM_LOCAL_F = -8.1102238915700659e-5


def easom() -> TestFunction:
    """Easom function: a single narrow well in a plateau.

    f(x) = -cos(x1) cos(x2) exp(-(x1 - pi)^2 - (x2 - pi)^2)

    Domain: [-100, 100]^2. Global minimum f(pi, pi) = -1. A local minimum at
    (1.30499545044, 1.30499545044), f = -8.11022389157e-5, between [-1, 1]^2 and (pi, pi).

    In float64 the exponential underflows to exactly 0 on about 94% of the domain, so the
    gradient is exactly zero there; from the seed's start box [-1, 1]^2 it is 1e-15 .. 1e-4.

    Reference:
        E. E. Easom, A survey of global optimization techniques, M. Eng. thesis, University
        of Louisville, 1990. SFU: easom.
    """
    return TestFunction(
        name="easom",
        display_name="Easom",
        formula_latex=(r"$f(x) = -\cos(x_1)\cos(x_2)\,\exp(-(x_1 - \pi)^2 - (x_2 - \pi)^2)$"),
        formula_text="-cos(x1) cos(x2) exp(-(x1 - pi)^2 - (x2 - pi)^2)",
        dim=2,
        domain=_box((-100.0, 100.0), (-100.0, 100.0)),
        minimizers=torch.tensor([[PI, PI]], dtype=torch.float64),
        f_star=-1.0,
        category="steep ridges/drops",
        reference=f"Easom (1990); {sfu_reference('easom')}",
        **_planar(_easom, _easom_grad),
        local_minima=(((_EASOM_LOCAL, _EASOM_LOCAL), _EASOM_LOCAL_F),),
        plot_box=((PI - 3.5, PI + 3.5), (PI - 3.5, PI + 3.5)),
        notes="Flat (gradient exactly 0 in float64) on ~94% of the domain.",
    )


# -- Beale ----------------------------------------------------------------------------------


def _beale(x1: Tensor, x2: Tensor) -> Tensor:
    # f = (1.5 - x1 + x1 x2)^2 + (2.25 - x1 + x1 x2^2)^2 + (2.625 - x1 + x1 x2^3)^2
    t1 = 1.5 - x1 + x1 * x2
    t2 = 2.25 - x1 + x1 * x2**2
    t3 = 2.625 - x1 + x1 * x2**3
    return t1**2 + t2**2 + t3**2


def _beale_grad(x1: Tensor, x2: Tensor) -> tuple[Tensor, Tensor]:
    t1 = 1.5 - x1 + x1 * x2
    t2 = 2.25 - x1 + x1 * x2**2
    t3 = 2.625 - x1 + x1 * x2**3
    g1 = 2.0 * (t1 * (x2 - 1.0) + t2 * (x2**2 - 1.0) + t3 * (x2**3 - 1.0))
    g2 = 2.0 * x1 * (t1 + 2.0 * t2 * x2 + 3.0 * t3 * x2**2)
    return g1, g2


def beale() -> TestFunction:
    """Beale function: a flat valley with sharp peaks at the corners.

    f(x) = (1.5 - x1 + x1 x2)^2 + (2.25 - x1 + x1 x2^2)^2 + (2.625 - x1 + x1 x2^3)^2

    Domain: [-4.5, 4.5]^2. Global minimum f(3, 0.5) = 0.

    Reference:
        E. M. L. Beale, On an iterative method for finding a local minimum of a function of
        more than one variable, Technical Report 25, Statistical Techniques Research Group,
        Princeton University, 1958. SFU: beale.
    """
    return TestFunction(
        name="beale",
        display_name="Beale",
        formula_latex=(
            r"$f(x) = (1.5 - x_1 + x_1x_2)^2 + (2.25 - x_1 + x_1x_2^2)^2"
            r" + (2.625 - x_1 + x_1x_2^3)^2$"
        ),
        formula_text="(1.5 - x1 + x1 x2)^2 + (2.25 - x1 + x1 x2^2)^2 + (2.625 - x1 + x1 x2^3)^2",
        dim=2,
        domain=_box((-4.5, 4.5), (-4.5, 4.5)),
        minimizers=torch.tensor([[3.0, 0.5]], dtype=torch.float64),
        f_star=0.0,
        category="other",
        reference=f"Beale (1958); {sfu_reference('beale')}",
        **_planar(_beale, _beale_grad),
    )


# -- Himmelblau -----------------------------------------------------------------------------


def _himmelblau(x1: Tensor, x2: Tensor) -> Tensor:
    # f = (x1^2 + x2 - 11)^2 + (x1 + x2^2 - 7)^2
    return (x1**2 + x2 - 11.0) ** 2 + (x1 + x2**2 - 7.0) ** 2


def _himmelblau_grad(x1: Tensor, x2: Tensor) -> tuple[Tensor, Tensor]:
    a = x1**2 + x2 - 11.0
    b = x1 + x2**2 - 7.0
    return 4.0 * x1 * a + 2.0 * b, 2.0 * a + 4.0 * x2 * b


_HIMMELBLAU_MINIMIZERS = (
    (3.0, 2.0),
    (-2.8051180869527449, 3.131312518250573),
    (-3.7793102533777469, -3.2831859912861694),
    (3.5844283403304917, -1.8481265269644036),
)


def himmelblau() -> TestFunction:
    """Himmelblau function: four global minima, all with f = 0.

    f(x) = (x1^2 + x2 - 11)^2 + (x1 + x2^2 - 7)^2

    Domain: [-5, 5]^2. Global minima (all f = 0): (3, 2), (-2.8051180869527, 3.1313125182506),
    (-3.7793102533777, -3.2831859912862), (3.5844283403305, -1.8481265269644). A local maximum
    at (-0.27084459066735, -0.92303855647998), f = 181.61652152258.

    Reference:
        D. M. Himmelblau, Applied Nonlinear Programming, McGraw-Hill, 1972.
    """
    return TestFunction(
        name="himmelblau",
        display_name="Himmelblau",
        formula_latex=r"$f(x) = (x_1^2 + x_2 - 11)^2 + (x_1 + x_2^2 - 7)^2$",
        formula_text="(x1^2 + x2 - 11)^2 + (x1 + x2^2 - 7)^2",
        dim=2,
        domain=_box((-5.0, 5.0), (-5.0, 5.0)),
        minimizers=torch.tensor(_HIMMELBLAU_MINIMIZERS, dtype=torch.float64),
        f_star=0.0,
        category="other",
        reference="Himmelblau (1972)",
        **_planar(_himmelblau, _himmelblau_grad),
        notes="Local maximum at (-0.27084459066735, -0.92303855647998), f = 181.61652152258.",
    )


# -- Goldstein-Price ------------------------------------------------------------------------


def _goldstein_price_factors(x1: Tensor, x2: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """p, q, r, s of f = (1 + p^2 q)(30 + r^2 s)."""
    # p = x1 + x2 + 1,  q = 19 - 14 x1 + 3 x1^2 - 14 x2 + 6 x1 x2 + 3 x2^2
    p = x1 + x2 + 1.0
    q = 19.0 - 14.0 * x1 + 3.0 * x1**2 - 14.0 * x2 + 6.0 * x1 * x2 + 3.0 * x2**2
    # r = 2 x1 - 3 x2,  s = 18 - 32 x1 + 12 x1^2 + 48 x2 - 36 x1 x2 + 27 x2^2
    r = 2.0 * x1 - 3.0 * x2
    s = 18.0 - 32.0 * x1 + 12.0 * x1**2 + 48.0 * x2 - 36.0 * x1 * x2 + 27.0 * x2**2
    return p, q, r, s


def _goldstein_price(x1: Tensor, x2: Tensor) -> Tensor:
    p, q, r, s = _goldstein_price_factors(x1, x2)
    # f = A B with A = 1 + p^2 q and B = 30 + r^2 s
    return (1.0 + p**2 * q) * (30.0 + r**2 * s)


def _goldstein_price_grad(x1: Tensor, x2: Tensor) -> tuple[Tensor, Tensor]:
    p, q, r, s = _goldstein_price_factors(x1, x2)
    A = 1.0 + p**2 * q
    B = 30.0 + r**2 * s
    # dp/dx1 = dp/dx2 = 1 and dq/dx1 = dq/dx2 = -14 + 6 x1 + 6 x2, so dA/dx1 = dA/dx2
    dA = 2.0 * p * q + p**2 * (-14.0 + 6.0 * x1 + 6.0 * x2)
    # dr/dx1 = 2, dr/dx2 = -3; ds/dx1 = -32 + 24 x1 - 36 x2, ds/dx2 = 48 - 36 x1 + 54 x2
    dB1 = 4.0 * r * s + r**2 * (-32.0 + 24.0 * x1 - 36.0 * x2)
    dB2 = -6.0 * r * s + r**2 * (48.0 - 36.0 * x1 + 54.0 * x2)
    # product rule: d(A B) = dA B + A dB
    return dA * B + A * dB1, dA * B + A * dB2


def goldstein_price() -> TestFunction:
    """Goldstein-Price function: values spanning five decades, several local minima.

    f(x) = [1 + (x1 + x2 + 1)^2 (19 - 14 x1 + 3 x1^2 - 14 x2 + 6 x1 x2 + 3 x2^2)]
         * [30 + (2 x1 - 3 x2)^2 (18 - 32 x1 + 12 x1^2 + 48 x2 - 36 x1 x2 + 27 x2^2)]

    Domain: [-2, 2]^2. Global minimum f(0, -1) = 3. Local minima (recomputed here with
    Newton's method): f(-0.6, -0.4) = 30, f(1.8, 0.2) = 84, f(1.2, 0.8) = 840.

    Reference:
        A. A. Goldstein and J. F. Price, On descent from local minima, Mathematics of
        Computation 25(115):569-574, 1971. SFU: goldpr.
    """
    return TestFunction(
        name="goldstein_price",
        display_name="Goldstein-Price",
        formula_latex=(
            r"$f(x) = [1 + (x_1 + x_2 + 1)^2(19 - 14x_1 + 3x_1^2 - 14x_2 + 6x_1x_2 + 3x_2^2)]$"
            "\n"
            r"$\times\ [30 + (2x_1 - 3x_2)^2(18 - 32x_1 + 12x_1^2 + 48x_2 - 36x_1x_2 + 27x_2^2)]$"
        ),
        formula_text=(
            "[1 + (x1 + x2 + 1)^2 (19 - 14 x1 + 3 x1^2 - 14 x2 + 6 x1 x2 + 3 x2^2)]"
            " * [30 + (2 x1 - 3 x2)^2 (18 - 32 x1 + 12 x1^2 + 48 x2 - 36 x1 x2 + 27 x2^2)]"
        ),
        dim=2,
        domain=_box((-2.0, 2.0), (-2.0, 2.0)),
        minimizers=torch.tensor([[0.0, -1.0]], dtype=torch.float64),
        f_star=3.0,
        category="other",
        reference=f"Goldstein and Price (1971); {sfu_reference('goldpr')}",
        **_planar(_goldstein_price, _goldstein_price_grad),
        local_minima=(((-0.6, -0.4), 30.0), ((1.8, 0.2), 84.0), ((1.2, 0.8), 840.0)),
    )


# -- Levy N.13 ------------------------------------------------------------------------------


def _levy_n13(x1: Tensor, x2: Tensor) -> Tensor:
    # f = sin^2(3 pi x1) + (x1 - 1)^2 [1 + sin^2(3 pi x2)] + (x2 - 1)^2 [1 + sin^2(2 pi x2)]
    return (
        torch.sin(3 * PI * x1) ** 2
        + (x1 - 1.0) ** 2 * (1.0 + torch.sin(3 * PI * x2) ** 2)
        + (x2 - 1.0) ** 2 * (1.0 + torch.sin(2 * PI * x2) ** 2)
    )


def _levy_n13_grad(x1: Tensor, x2: Tensor) -> tuple[Tensor, Tensor]:
    # d/dx sin^2(k x) = k sin(2 k x)
    g1 = 3 * PI * torch.sin(6 * PI * x1) + 2.0 * (x1 - 1.0) * (1.0 + torch.sin(3 * PI * x2) ** 2)
    g2 = (
        (x1 - 1.0) ** 2 * 3 * PI * torch.sin(6 * PI * x2)
        + 2.0 * (x2 - 1.0) * (1.0 + torch.sin(2 * PI * x2) ** 2)
        + (x2 - 1.0) ** 2 * 2 * PI * torch.sin(4 * PI * x2)
    )
    return g1, g2


def levy_n13() -> TestFunction:
    """Levy function N.13: a multimodal landscape with a parabolic trend.

    f(x) = sin^2(3 pi x1) + (x1 - 1)^2 [1 + sin^2(3 pi x2)] + (x2 - 1)^2 [1 + sin^2(2 pi x2)]

    Domain: [-10, 10]^2. Global minimum f(1, 1) = 0.

    Reference:
        SFU: levy13.
    """
    return TestFunction(
        name="levy_n13",
        display_name="Levy N.13",
        formula_latex=(
            r"$f(x) = \sin^2(3\pi x_1) + (x_1 - 1)^2[1 + \sin^2(3\pi x_2)]"
            r" + (x_2 - 1)^2[1 + \sin^2(2\pi x_2)]$"
        ),
        formula_text=(
            "sin^2(3 pi x1) + (x1 - 1)^2 [1 + sin^2(3 pi x2)] + (x2 - 1)^2 [1 + sin^2(2 pi x2)]"
        ),
        dim=2,
        domain=_box((-10.0, 10.0), (-10.0, 10.0)),
        minimizers=torch.tensor([[1.0, 1.0]], dtype=torch.float64),
        f_star=0.0,
        category="many local minima",
        reference=sfu_reference("levy13"),
        **_planar(_levy_n13, _levy_n13_grad),
        plot_box=((-1.0, 3.0), (-1.0, 3.0)),
        # on a linear scale the ripples around (1, 1) drown in one dark basin
        plot_log=True,
    )


# -- Matyas ---------------------------------------------------------------------------------


def _matyas(x1: Tensor, x2: Tensor) -> Tensor:
    # f = 0.26 (x1^2 + x2^2) - 0.48 x1 x2
    return 0.26 * (x1**2 + x2**2) - 0.48 * x1 * x2


def _matyas_grad(x1: Tensor, x2: Tensor) -> tuple[Tensor, Tensor]:
    return 0.52 * x1 - 0.48 * x2, 0.52 * x2 - 0.48 * x1


def matyas() -> TestFunction:
    """Matyas function: an ill-conditioned convex quadratic (plate-shaped).

    f(x) = 0.26 (x1^2 + x2^2) - 0.48 x1 x2

    Domain: [-10, 10]^2. Global minimum f(0, 0) = 0. Hessian eigenvalues 0.04 and 1.0.

    Reference:
        SFU: matya.
    """
    return TestFunction(
        name="matyas",
        display_name="Matyas",
        formula_latex=r"$f(x) = 0.26(x_1^2 + x_2^2) - 0.48x_1x_2$",
        formula_text="0.26 (x1^2 + x2^2) - 0.48 x1 x2",
        dim=2,
        domain=_box((-10.0, 10.0), (-10.0, 10.0)),
        minimizers=torch.zeros(1, 2, dtype=torch.float64),
        f_star=0.0,
        category="plate-shaped",
        reference=sfu_reference("matya"),
        **_planar(_matyas, _matyas_grad),
    )


# -- McCormick ------------------------------------------------------------------------------


def _mccormick(x1: Tensor, x2: Tensor) -> Tensor:
    # f = sin(x1 + x2) + (x1 - x2)^2 - 1.5 x1 + 2.5 x2 + 1
    return torch.sin(x1 + x2) + (x1 - x2) ** 2 - 1.5 * x1 + 2.5 * x2 + 1.0


def _mccormick_grad(x1: Tensor, x2: Tensor) -> tuple[Tensor, Tensor]:
    c = torch.cos(x1 + x2)
    return c + 2.0 * (x1 - x2) - 1.5, c - 2.0 * (x1 - x2) + 2.5


def mccormick() -> TestFunction:
    """McCormick function: a tilted plate with a sine wave; closed-form minimum.

    f(x) = sin(x1 + x2) + (x1 - x2)^2 - 1.5 x1 + 2.5 x2 + 1

    Domain: x1 in [-1.5, 4], x2 in [-3, 4]. Global minimum at
    (1/2 - pi/3, -1/2 - pi/3) with f* = -sqrt(3)/2 - pi/3 = -1.91322295498104: there
    x1 + x2 = -2 pi/3 and x1 - x2 = 1, so both partial derivatives vanish. The same holds at
    x1 + x2 = 4 pi/3, x1 - x2 = 1: a local minimum (1/2 + 2 pi/3, -1/2 + 2 pi/3) with
    f = 2 pi/3 - sqrt(3)/2 = 1.22836969860876 (derived here; Hessian positive definite).

    Reference:
        SFU: mccorm.
    """
    return TestFunction(
        name="mccormick",
        display_name="McCormick",
        formula_latex=r"$f(x) = \sin(x_1 + x_2) + (x_1 - x_2)^2 - 1.5x_1 + 2.5x_2 + 1$",
        formula_text="sin(x1 + x2) + (x1 - x2)^2 - 1.5 x1 + 2.5 x2 + 1",
        dim=2,
        domain=_box((-1.5, 4.0), (-3.0, 4.0)),
        minimizers=torch.tensor([[0.5 - PI / 3, -0.5 - PI / 3]], dtype=torch.float64),
        f_star=-math.sqrt(3.0) / 2.0 - PI / 3.0,
        category="plate-shaped",
        reference=sfu_reference("mccorm"),
        **_planar(_mccormick, _mccormick_grad),
        local_minima=(((0.5 + 2 * PI / 3, -0.5 + 2 * PI / 3), 2 * PI / 3 - math.sqrt(3.0) / 2.0),),
    )
