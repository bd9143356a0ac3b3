"""The N-dimensional test functions: Rosenbrock, Rastrigin, Ackley, Styblinski-Tang.

Each builder takes ``dim`` (any d >= 2) and returns a
:class:`~adamlab.functions.base.TestFunction` with an analytic gradient. ``x`` has shape
``(..., d)`` in the value and gradient functions; sums and means run over the last axis.
Rosenbrock also has a coordinate form (``columns_fn``) taking x as d tensors, one per
coordinate; for the others ``value_and_grad_columns`` stacks the coordinates.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import torch
from torch import Tensor

from adamlab.functions.base import LocalMinimum, TestFunction, sfu_reference

PI = math.pi


def _cube(low: float, high: float, dim: int) -> tuple[Tensor, Tensor]:
    """The domain [low, high]^d as a (low, high) pair of float64 tensors."""
    return (
        torch.full((dim,), low, dtype=torch.float64),
        torch.full((dim,), high, dtype=torch.float64),
    )


def _check_dim(name: str, dim: int) -> None:
    if isinstance(dim, bool) or not isinstance(dim, int) or dim < 2:
        raise ValueError(f"{name}: invalid dim {dim!r} (expected an integer >= 2)")


# -- Rosenbrock -----------------------------------------------------------------------------


def _rosenbrock_terms(a: Tensor, b: Tensor) -> Tensor:
    """Term i of the sum for a = x_i and b = x_{i+1}: 100 (x_{i+1} - x_i^2)^2 + (x_i - 1)^2."""
    return 100.0 * (b - a**2) ** 2 + (a - 1.0) ** 2


def _rosenbrock_term_grads(a: Tensor, b: Tensor) -> tuple[Tensor, Tensor]:
    """The derivatives of term i (a = x_i, b = x_{i+1}): ``(d/dx_i, d/dx_{i+1})``.

    d/dx_i = -400 x_i (x_{i+1} - x_i^2) + 2 (x_i - 1);  d/dx_{i+1} = 200 (x_{i+1} - x_i^2).
    """
    r = b - a**2
    return -400.0 * a * r + 2.0 * (a - 1.0), 200.0 * r


def _rosenbrock(x: Tensor) -> Tensor:
    # f = sum_{i=1}^{d-1} term_i, with x_i and x_{i+1} as shape (..., d - 1) slices
    return _rosenbrock_terms(x[..., :-1], x[..., 1:]).sum(dim=-1)


def _rosenbrock_grad(x: Tensor) -> Tensor:
    # coordinates first, (d, ...): the result is built coordinate-major, one contiguous block
    # per coordinate (the layout the benchmark engine's batches use, see classic2d._stack)
    coords = x.movedim(-1, 0)
    # term i lands on coordinates i (from the left: 0 .. d-2) and i + 1 (from the right)
    from_left, from_right = _rosenbrock_term_grads(coords[:-1], coords[1:])
    # zero-padded to d coordinates (after, before): a padding compiles into the sum's loop,
    # where a concatenation with zeros would be written out first
    after, before = (0, 0) * (coords.dim() - 1) + (0, 1), (0, 0) * (coords.dim() - 1) + (1, 0)
    grad = torch.nn.functional.pad(from_left, after) + torch.nn.functional.pad(from_right, before)
    return grad.movedim(0, -1)


def _rosenbrock_columns(columns: Sequence[Tensor]) -> tuple[Tensor, list[Tensor]]:
    """Value and gradient on the coordinates given one tensor each, ``(x_1, ..., x_d)``.

    The terms of :func:`_rosenbrock` and :func:`_rosenbrock_grad`, one coordinate pair at a
    time (no stacking or reduction over a dimension); f accumulates the terms i = 1 .. d-1 in
    order, so it can differ from the vectorised sum in the last bits for d > 2.
    """
    pairs = list(itertools.pairwise(columns))
    f = _rosenbrock_terms(*pairs[0])
    for pair in pairs[1:]:
        f = f + _rosenbrock_terms(*pair)
    grads = [_rosenbrock_term_grads(*pair) for pair in pairs]
    # coordinate i collects term i's left part and term i-1's right part
    grad = (
        [grads[0][0]]
        + [grads[i][0] + grads[i - 1][1] for i in range(1, len(grads))]
        + [grads[-1][1]]
    )
    return f, grad


# The one non-global local minimum for d = 4 .. 8, found with Newton's method at 40 digits
# (Hessian positive definite). d = 2 and 3 have none; d = 4 matches the published point.
_ROSENBROCK_LOCAL: dict[int, LocalMinimum] = {
    4: (
        (-0.77565922656535262, 0.61309336548504346, 0.38206284633839315, 0.14597201855219461),
        3.7014286104300173,
    ),
    5: (
        (
            -0.96205102069475016,
            0.93573939597671001,
            0.88071360419432059,
            0.77787767585440633,
            0.60509367859265284,
        ),
        3.9308394341330281,
    ),
    6: (
        (
            -0.98657497957099373,
            0.98339822883618175,
            0.97210667005309191,
            0.94743743682643601,
            0.89865118485172963,
            0.80757395203541755,
        ),
        3.9739405009302949,
    ),
    7: (
        (
            -0.99172257256140554,
            0.99355539350337126,
            0.99217332159469212,
            0.98689876269031392,
            0.97516475660887304,
            0.95143198270499267,
            0.90522281771395347,
        ),
        3.983600536424854,
    ),
    8: (
        (
            -0.99290939020183209,
            0.99590476337889445,
            0.99684422424810315,
            0.99619948464056515,
            0.99364964756089528,
            0.98792973494161622,
            0.97624273384337829,
            0.95304987538199314,
        ),
        3.9858877695994898,
    ),
}


def rosenbrock(dim: int = 2) -> TestFunction:
    """Rosenbrock function in d dimensions: a curved, narrow, flat-bottomed valley.

    f(x) = sum_{i=1}^{d-1} [100 (x_{i+1} - x_i^2)^2 + (x_i - 1)^2]

    Domain: [-5, 10]^d. Global minimum f(1, ..., 1) = 0. For d = 4 a second local minimum at
    (-0.775659, 0.613093, 0.382063, 0.145972), f = 3.70142861; for d = 5 .. 8 one near
    (-1, 1, ..., 1) with f ~ 3.93 .. 3.99 (all stored to float64 precision). The classic start
    (-1.2, 1) has f = 24.2.

    Args:
        dim: the number of variables d >= 2.

    Reference:
        H. H. Rosenbrock, An automatic method for finding the greatest or least value of a
        function, The Computer Journal 3(3):175-184, 1960. SFU: rosen.

    >>> f = rosenbrock(3)
    >>> f(torch.tensor([1.0, 1.0, 1.0])).item(), f.grad(torch.tensor([1.0, 1.0, 1.0])).tolist()
    (0.0, [0.0, 0.0, 0.0])
    """
    _check_dim("rosenbrock", dim)
    local = (_ROSENBROCK_LOCAL[dim],) if dim in _ROSENBROCK_LOCAL else ()
    return TestFunction(
        name="rosenbrock",
        display_name="Rosenbrock",
        formula_latex=(
            r"$f(x) = \sum_{i=1}^{d-1}\,[100(x_{i+1} - x_i^2)^2 + (x_i - 1)^2]$"
            if dim > 2
            else r"$f(x) = 100(x_2 - x_1^2)^2 + (x_1 - 1)^2$"
        ),
        formula_text="sum_{i=1}^{d-1} [100 (x_{i+1} - x_i^2)^2 + (x_i - 1)^2]",
        dim=dim,
        domain=_cube(-5.0, 10.0, dim),
        minimizers=torch.ones(1, dim, dtype=torch.float64),
        f_star=0.0,
        category="valley-shaped",
        reference=(
            "H. H. Rosenbrock, An automatic method for finding the greatest or least value of a "
            f"function, The Computer Journal 3(3):175-184, 1960; {sfu_reference('rosen')}"
        ),
        value_fn=_rosenbrock,
        grad_fn=_rosenbrock_grad,
        columns_fn=_rosenbrock_columns,
        local_minima=local,
        plot_box=((-2.0, 2.0),) + ((-1.0, 3.0),) * (dim - 1),
    )


# -- Rastrigin ------------------------------------------------------------------------------


def _rastrigin(x: Tensor) -> Tensor:
    d = x.shape[-1]
    # f = 10 d + sum_i [x_i^2 - 10 cos(2 pi x_i)]
    return 10.0 * d + (x**2 - 10.0 * torch.cos(2 * PI * x)).sum(dim=-1)


def _rastrigin_grad(x: Tensor) -> Tensor:
    return 2.0 * x + 20.0 * PI * torch.sin(2 * PI * x)


def rastrigin(dim: int = 2) -> TestFunction:
    """Rastrigin function in d dimensions: a bowl covered by a regular grid of local minima.

    f(x) = 10 d + sum_i [x_i^2 - 10 cos(2 pi x_i)]

    Domain: [-5.12, 5.12]^d. Global minimum f(0, ..., 0) = 0. Local minima near every integer
    point.

    Args:
        dim: the number of variables d >= 2.

    Reference:
        L. A. Rastrigin, Systems of Extremal Control, Nauka, Moscow, 1974. SFU: rastr.
    """
    _check_dim("rastrigin", dim)
    return TestFunction(
        name="rastrigin",
        display_name="Rastrigin",
        formula_latex=r"$f(x) = 10d + \sum_{i=1}^{d}\,[x_i^2 - 10\cos(2\pi x_i)]$",
        formula_text="10 d + sum_i [x_i^2 - 10 cos(2 pi x_i)]",
        dim=dim,
        domain=_cube(-5.12, 5.12, dim),
        minimizers=torch.zeros(1, dim, dtype=torch.float64),
        f_star=0.0,
        category="many local minima",
        reference=f"Rastrigin (1974); {sfu_reference('rastr')}",
        value_fn=_rastrigin,
        grad_fn=_rastrigin_grad,
    )


# -- Ackley ---------------------------------------------------------------------------------


def _ackley_radius(x: Tensor) -> Tensor:
    """rho = sqrt(mean_i x_i^2), with autograd gradient 0 (not NaN) at the origin."""
    s = (x**2).mean(dim=-1)
    positive = s > 0
    # "double where": never take the root (or its derivative) at 0 itself
    safe = torch.where(positive, s, torch.ones_like(s))
    return torch.where(positive, safe.sqrt(), torch.zeros_like(s))


def _ackley(x: Tensor) -> Tensor:
    rho = _ackley_radius(x)
    mean_cos = torch.cos(2 * PI * x).mean(dim=-1)
    # f = -20 exp(-0.2 sqrt(sum x_i^2 / d)) - exp(sum cos(2 pi x_i) / d) + 20 + e
    return -20.0 * torch.exp(-0.2 * rho) - torch.exp(mean_cos) + 20.0 + math.e


def _ackley_grad(x: Tensor) -> Tensor:
    d = x.shape[-1]
    rho = _ackley_radius(x).unsqueeze(-1)  # (..., 1)
    safe_rho = torch.where(rho > 0, rho, torch.ones_like(rho))
    mean_cos = torch.cos(2 * PI * x).mean(dim=-1, keepdim=True)
    # d/dx_i [-20 exp(-0.2 rho)] = 4 exp(-0.2 rho) x_i / (d rho)   (0 at the origin: x_i = 0)
    radial = 4.0 * torch.exp(-0.2 * rho) * x / (d * safe_rho)
    # d/dx_i [-exp(mean cos)] = (2 pi / d) sin(2 pi x_i) exp(mean cos)
    wave = (2 * PI / d) * torch.sin(2 * PI * x) * torch.exp(mean_cos)
    return radial + wave


def ackley(dim: int = 2) -> TestFunction:
    """Ackley function in d dimensions: a nearly flat outer region and a funnel at the origin.

    f(x) = -20 exp(-0.2 sqrt(sum_i x_i^2 / d)) - exp(sum_i cos(2 pi x_i) / d) + 20 + e

    Domain: [-32.768, 32.768]^d. Global minimum f(0, ..., 0) = 0.

    Not differentiable at the minimum (a cone-like sqrt cusp): the gradient is bounded but has
    no limit there. Convention: the gradient at the origin is 0 (the symmetric subgradient),
    both analytically and through autograd.

    Args:
        dim: the number of variables d >= 2.

    Reference:
        D. H. Ackley, A Connectionist Machine for Genetic Hillclimbing, Kluwer, 1987.
        SFU: ackley.
    """
    _check_dim("ackley", dim)
    return TestFunction(
        name="ackley",
        display_name="Ackley",
        formula_latex=(
            r"$f(x) = -20\exp(-0.2\sqrt{\frac{1}{d}\sum_i x_i^2})"
            r" - \exp(\frac{1}{d}\sum_i\cos(2\pi x_i)) + 20 + e$"
        ),
        formula_text="-20 exp(-0.2 sqrt(sum_i x_i^2 / d)) - exp(sum_i cos(2 pi x_i) / d) + 20 + e",
        dim=dim,
        domain=_cube(-32.768, 32.768, dim),
        minimizers=torch.zeros(1, dim, dtype=torch.float64),
        f_star=0.0,
        category="many local minima",
        reference=f"Ackley (1987); {sfu_reference('ackley')}",
        value_fn=_ackley,
        grad_fn=_ackley_grad,
        nondifferentiable="at the global minimum x = 0 (gradient convention: 0 there)",
        plot_box=((-5.0, 5.0),) * dim,
    )


# -- Styblinski-Tang ------------------------------------------------------------------------

# Roots of the per-coordinate derivative 2 x^3 - 16 x + 2.5 (40-digit precision, rounded):
# the global one and the other local minimum, with their per-coordinate values.
_ST_X_GLOBAL = -2.9035340277711771
_ST_F_GLOBAL = -39.166165703771415
_ST_X_LOCAL = 2.7468027709908370
_ST_F_LOCAL = -25.029446655283943

#: Up to this dimension the 2^d - 1 non-global local minima are listed.
_ST_LIST_LOCAL_UP_TO = 3


def _styblinski_tang(x: Tensor) -> Tensor:
    # f = 0.5 sum_i (x_i^4 - 16 x_i^2 + 5 x_i)
    return 0.5 * (x**4 - 16.0 * x**2 + 5.0 * x).sum(dim=-1)


def _styblinski_tang_grad(x: Tensor) -> Tensor:
    return 2.0 * x**3 - 16.0 * x + 2.5


def styblinski_tang(dim: int = 2) -> TestFunction:
    """Styblinski-Tang function in d dimensions: separable, 2^d local minima.

    f(x) = 0.5 sum_i (x_i^4 - 16 x_i^2 + 5 x_i)

    Domain: [-5, 5]^d. Global minimum at x_i = -2.9035340277711771 with
    f* = -39.166165703771415 d (the often printed -39.16599 d is a rounding artefact). Every
    other corner of {-2.9035340277711771, 2.7468027709908370}^d is a local minimum (each
    coordinate at 2.7468 contributes -25.029446655283943 instead); listed for d <= 3.

    Args:
        dim: the number of variables d >= 2.

    Reference:
        M. A. Styblinski and T.-S. Tang, Experiments in nonconvex optimization: stochastic
        approximation with function smoothing and simulated annealing, Neural Networks
        3(4):467-483, 1990. SFU: stybtang.
    """
    _check_dim("styblinski_tang", dim)
    local: tuple[LocalMinimum, ...] = ()
    if dim <= _ST_LIST_LOCAL_UP_TO:
        corners = itertools.product((_ST_X_GLOBAL, _ST_X_LOCAL), repeat=dim)
        local = tuple(
            (corner, sum(_ST_F_GLOBAL if c == _ST_X_GLOBAL else _ST_F_LOCAL for c in corner))
            for corner in corners
            if any(c == _ST_X_LOCAL for c in corner)
        )
    return TestFunction(
        name="styblinski_tang",
        display_name="Styblinski-Tang",
        formula_latex=r"$f(x) = \frac{1}{2}\sum_{i=1}^{d}\,(x_i^4 - 16x_i^2 + 5x_i)$",
        formula_text="0.5 sum_i (x_i^4 - 16 x_i^2 + 5 x_i)",
        dim=dim,
        domain=_cube(-5.0, 5.0, dim),
        minimizers=torch.full((1, dim), _ST_X_GLOBAL, dtype=torch.float64),
        f_star=_ST_F_GLOBAL * dim,
        category="other",
        reference=f"Styblinski and Tang (1990); {sfu_reference('stybtang')}",
        value_fn=_styblinski_tang,
        grad_fn=_styblinski_tang_grad,
        local_minima=local,
    )
