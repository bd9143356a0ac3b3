"""Tests for adamlab.functions: every function against its ground truth.

The oracles: the reference table (/work/shared/reference/test-functions.md) for formulas, domains,
minima and categories; autograd for the analytic gradients; central finite differences for
autograd; and hand-computed values for the seed project's three formula bugs.
"""

from __future__ import annotations

import dataclasses
import doctest
import math
import pickle

import matplotlib.mathtext
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import Tensor

from adamlab import functions
from adamlab.functions import (
    FUNCTIONS,
    SUITES,
    TestFunction,
    base,
    classic2d,
    get,
    nd,
    registry,
    resolve_suite_or_names,
)

F64 = torch.float64
ND_DIMS = (2, 3, 5, 10)

#: Every (name, dim) pair under test: the N-D functions in several dimensions.
CASES = [
    (name, dim)
    for name, factory in FUNCTIONS.items()
    for dim in (ND_DIMS if factory.n_dimensional else (2,))
]
CASE_IDS = [f"{name}-{dim}d" for name, dim in CASES]

#: Registry names, exactly as the project specifies them.
EXPECTED_NAMES = {
    "rosenbrock",
    "bukin_n6",
    "bohachevsky1",
    "bohachevsky2",
    "bohachevsky3",
    "booth",
    "three_hump_camel",
    "six_hump_camel",
    "easom",
    "beale",
    "himmelblau",
    "rastrigin",
    "ackley",
    "styblinski_tang",
    "goldstein_price",
    "levy_n13",
    "matyas",
    "mccormick",
}

#: SFU categories, from the reference.
EXPECTED_CATEGORY = {
    "ackley": "many local minima",
    "bukin_n6": "many local minima",
    "levy_n13": "many local minima",
    "rastrigin": "many local minima",
    "bohachevsky1": "bowl-shaped",
    "bohachevsky2": "bowl-shaped",
    "bohachevsky3": "bowl-shaped",
    "booth": "plate-shaped",
    "matyas": "plate-shaped",
    "mccormick": "plate-shaped",
    "three_hump_camel": "valley-shaped",
    "six_hump_camel": "valley-shaped",
    "rosenbrock": "valley-shaped",
    "easom": "steep ridges/drops",
    "beale": "other",
    "goldstein_price": "other",
    "styblinski_tang": "other",
    "himmelblau": "other",
}

#: Standard domains from the reference: (x1 range, x2 range) (N-D: every coordinate alike).
EXPECTED_DOMAIN = {
    "rosenbrock": ((-5, 10), (-5, 10)),
    "bukin_n6": ((-15, -5), (-3, 3)),
    "bohachevsky1": ((-100, 100), (-100, 100)),
    "bohachevsky2": ((-100, 100), (-100, 100)),
    "bohachevsky3": ((-100, 100), (-100, 100)),
    "booth": ((-10, 10), (-10, 10)),
    "three_hump_camel": ((-5, 5), (-5, 5)),
    "six_hump_camel": ((-3, 3), (-2, 2)),
    "easom": ((-100, 100), (-100, 100)),
    "beale": ((-4.5, 4.5), (-4.5, 4.5)),
    "himmelblau": ((-5, 5), (-5, 5)),
    "rastrigin": ((-5.12, 5.12), (-5.12, 5.12)),
    "ackley": ((-32.768, 32.768), (-32.768, 32.768)),
    "styblinski_tang": ((-5, 5), (-5, 5)),
    "goldstein_price": ((-2, 2), (-2, 2)),
    "levy_n13": ((-10, 10), (-10, 10)),
    "matyas": ((-10, 10), (-10, 10)),
    "mccormick": ((-1.5, 4), (-3, 4)),
}


def _reference_f_star(name: str, dim: int) -> float:
    """f* as printed in the reference table."""
    special = {
        "six_hump_camel": -1.0316284534898774,
        "easom": -1.0,
        "styblinski_tang": -39.166165703771415 * dim,
        "goldstein_price": 3.0,
        "mccormick": -math.sqrt(3) / 2 - math.pi / 3,
    }
    return special.get(name, 0.0)


def _random_points(f: TestFunction, n: int, seed: int, *, box: str = "domain") -> torch.Tensor:
    """n seeded uniform points (float64) in the domain or the plot box of f."""
    generator = torch.Generator().manual_seed(seed)
    if box == "domain":
        low, high = f.domain
    else:
        assert f.plot_box is not None
        low = torch.tensor([lo for lo, _ in f.plot_box], dtype=F64)
        high = torch.tensor([hi for _, hi in f.plot_box], dtype=F64)
    return low + (high - low) * torch.rand(n, f.dim, generator=generator, dtype=F64)


def _away_from_kinks(f: TestFunction, x: torch.Tensor, margin: float = 1e-3) -> torch.Tensor:
    """Mask (n,) of points not within ``margin`` of where f is not differentiable."""
    if f.name == "bukin_n6":
        u = x[:, 1] - 0.01 * x[:, 0] ** 2
        return (u.abs() > margin) & ((x[:, 0] + 10).abs() > margin)
    if f.name == "ackley":
        return torch.linalg.vector_norm(x, dim=-1) > margin
    return torch.ones(x.shape[0], dtype=torch.bool)


@pytest.fixture(params=CASES, ids=CASE_IDS)
def case(request: pytest.FixtureRequest) -> TestFunction:
    name, dim = request.param
    return get(name, dim)


# -- ground truth ---------------------------------------------------------------------------


def test_value_at_every_global_minimizer_is_f_star(case: TestFunction) -> None:
    values = case(case.minimizers)
    assert values.shape == (case.minimizers.shape[0],)
    torch.testing.assert_close(values, torch.full_like(values, case.f_star), rtol=0.0, atol=1e-12)


def test_f_star_matches_reference_table(case: TestFunction) -> None:
    assert case.f_star == pytest.approx(_reference_f_star(case.name, case.dim), rel=0, abs=1e-12)


def test_local_minima_values_and_stationarity(case: TestFunction) -> None:
    for point, value in case.local_minima:
        x = torch.tensor(point, dtype=F64)
        assert case(x).item() == pytest.approx(value, rel=0, abs=1e-10), point
        assert case.grad(x).abs().max().item() <= 1e-6, point
        assert value > case.f_star


@pytest.mark.parametrize(
    ("name", "dim", "point", "value"),
    [
        # values printed in the reference (fewer digits than stored: compare to that precision)
        ("rosenbrock", 4, (-0.775659, 0.613093, 0.382063, 0.145972), 3.70142861),
        ("three_hump_camel", 2, (1.74755234583029, -0.87377617291514), 0.29863844223686),
        ("three_hump_camel", 2, (-1.74755234583029, 0.87377617291514), 0.29863844223686),
        ("six_hump_camel", 2, (-1.70360671496998, 0.79608356867263), -0.21546382438372),
        ("six_hump_camel", 2, (1.70360671496998, -0.79608356867263), -0.21546382438372),
        ("six_hump_camel", 2, (1.60710475292020, 0.56865145488413), 2.10425031031126),
        ("six_hump_camel", 2, (-1.60710475292020, -0.56865145488413), 2.10425031031126),
        ("easom", 2, (1.30499545044, 1.30499545044), -8.11022389157e-5),
        ("himmelblau", 2, (-0.27084459066735, -0.92303855647998), 181.61652152258),
        ("rosenbrock", 2, (-1.2, 1.0), 24.2),
    ],
)
def test_reference_points(name: str, dim: int, point: tuple[float, ...], value: float) -> None:
    f = get(name, dim)
    assert f(torch.tensor(point, dtype=F64)).item() == pytest.approx(value, rel=1e-8, abs=1e-10)


def test_reference_local_minima_are_stored(case: TestFunction) -> None:
    """The stored local minima include those the reference lists (to its printed digits)."""
    listed = {
        ("three_hump_camel", 2): 2,
        ("six_hump_camel", 2): 4,
        ("easom", 2): 1,
        ("rosenbrock", 4): 1,
    }
    assert len(case.local_minima) >= listed.get((case.name, case.dim), 0)
    if (case.name, case.dim) == ("rosenbrock", 4):
        ((point, value),) = case.local_minima
        assert point == pytest.approx((-0.775659, 0.613093, 0.382063, 0.145972), abs=1e-6)
        assert value == pytest.approx(3.70142861, abs=1e-8)


def test_gradient_vanishes_at_smooth_minimizers(case: TestFunction) -> None:
    if not case.is_smooth:
        pytest.skip(f"{case.name} is not differentiable at its minimum")
    x = case.minimizers
    assert case.grad(x).abs().max().item() <= 1e-6
    assert case.autograd_grad(x).abs().max().item() <= 1e-6


def test_minimizers_shape_and_inside_domain_and_plot_box(case: TestFunction) -> None:
    k, d = case.minimizers.shape
    assert d == case.dim and k >= 1
    assert case.minimizers.dtype == F64
    assert case.in_domain(case.minimizers).all()
    assert case.plot_box is not None and len(case.plot_box) == case.dim
    for j, (lo, hi) in enumerate(case.plot_box):
        assert lo < hi
        assert ((case.minimizers[:, j] >= lo) & (case.minimizers[:, j] <= hi)).all()
    for point, _ in case.local_minima:
        assert case.in_domain(torch.tensor(point, dtype=F64))


def test_domain_matches_reference(case: TestFunction) -> None:
    low, high = case.domain
    assert low.shape == high.shape == (case.dim,)
    assert low.dtype == high.dtype == F64
    (a, b), (c, d) = EXPECTED_DOMAIN[case.name]
    expected_low = [a, c] + [a] * (case.dim - 2)
    expected_high = [b, d] + [b] * (case.dim - 2)
    assert low.tolist() == expected_low
    assert high.tolist() == expected_high


def test_no_sample_beats_f_star(case: TestFunction) -> None:
    """f* is a global minimum: no point of the domain or plot box does better."""
    x = torch.cat([_random_points(case, 4000, 1), _random_points(case, 4000, 2, box="plot")])
    assert case(x).min().item() >= case.f_star - 1e-12


@settings(max_examples=60, deadline=None, database=None)
@given(
    name=st.sampled_from(sorted(FUNCTIONS)),
    u=st.lists(st.floats(0.0, 1.0), min_size=2, max_size=2),
)
def test_property_f_is_at_least_f_star_and_gradient_finite(name: str, u: list[float]) -> None:
    f = get(name)
    low, high = f.domain
    x = low + (high - low) * torch.tensor(u, dtype=F64)
    value, grad = f.value_and_grad(x)
    assert value.item() >= f.f_star - 1e-12
    assert torch.isfinite(grad).all()


def test_categories_match_reference() -> None:
    for name in FUNCTIONS:
        assert get(name).category == EXPECTED_CATEGORY[name], name
    assert set(EXPECTED_CATEGORY.values()) == set(functions.CATEGORIES)


def test_metadata_is_filled_in(case: TestFunction) -> None:
    assert case.display_name and case.formula_text and case.reference
    assert case.formula_latex.startswith("$") and case.formula_latex.endswith("$")
    assert case.nondifferentiable is None or case.name in ("bukin_n6", "ackley")


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_formula_latex_is_valid_mathtext(name: str) -> None:
    parser = matplotlib.mathtext.MathTextParser("path")
    for line in get(name, 3 if FUNCTIONS[name].n_dimensional else None).formula_latex.split("\n"):
        parser.parse(line)  # raises ValueError on invalid mathtext


def test_testfunction_is_not_collected_by_pytest() -> None:
    assert TestFunction.__test__ is False


def test_ground_truth_validation_rejects_bad_shapes() -> None:
    f = get("booth")
    with pytest.raises(ValueError, match="minimizers must have shape"):
        dataclasses.replace(f, minimizers=torch.zeros(1, 3, dtype=F64))
    with pytest.raises(ValueError, match="unknown category"):
        dataclasses.replace(f, category="spiky")
    with pytest.raises(ValueError, match=r"expected a tensor of shape \(\.\.\., 2\)"):
        f(torch.zeros(3))


# -- gradients ------------------------------------------------------------------------------


def test_autograd_matches_central_finite_differences(case: TestFunction) -> None:
    x = torch.cat([_random_points(case, 12, 10), _random_points(case, 12, 11, box="plot")])
    x = x[_away_from_kinks(case, x)]
    grad = case.autograd_grad(x)
    h = 1e-6
    for j in range(case.dim):
        step = torch.zeros(case.dim, dtype=F64)
        step[j] = h
        fd = (case(x + step) - case(x - step)) / (2 * h)
        # truncation O(h^2 f''') plus rounding O(eps |f| / h)
        tolerance = 1e-5 * (1 + grad[:, j].abs()) + 1e-9 * case(x).abs()
        assert ((fd - grad[:, j]).abs() <= tolerance).all(), (j, fd, grad[:, j])


def test_analytic_gradient_matches_autograd(case: TestFunction) -> None:
    assert case.has_analytic_grad
    x = torch.cat([_random_points(case, 50, 20), _random_points(case, 50, 21, box="plot")])
    analytic, auto = case.grad(x), case.autograd_grad(x)
    # relative to each point's gradient scale: components can cancel to ~0
    scale = 1 + auto.abs().amax(dim=-1, keepdim=True)
    assert ((analytic - auto).abs() <= 1e-10 * scale + 1e-10 * auto.abs()).all()


def test_value_and_grad_agrees_with_call_and_grad(case: TestFunction) -> None:
    x = _random_points(case, 8, 30, box="plot")
    value, grad = case.value_and_grad(x)
    torch.testing.assert_close(value, case(x), rtol=0, atol=0)
    torch.testing.assert_close(grad, case.grad(x), rtol=0, atol=0)


def test_autograd_fallback_when_no_analytic_gradient(case: TestFunction) -> None:
    g = dataclasses.replace(case, grad_fn=None)
    assert not g.has_analytic_grad
    x = _random_points(case, 6, 40, box="plot").reshape(2, 3, case.dim)
    with torch.no_grad():  # the engine calls grad inside no_grad; autograd must still work
        value, grad = g.value_and_grad(x)
        plain = g.grad(x)
    assert value.shape == (2, 3) and grad.shape == (2, 3, case.dim)
    torch.testing.assert_close(plain, grad, rtol=0, atol=0)
    scale = 1 + grad.abs().amax(dim=-1, keepdim=True)
    assert ((grad - case.grad(x)).abs() <= 1e-10 * scale).all()
    assert not x.requires_grad


def test_bukin_subgradient_convention_sign_zero_is_zero() -> None:
    f = get("bukin_n6")
    # at the minimum both kinks meet: sign(0) = 0 everywhere
    x_star = torch.tensor([-10.0, 1.0], dtype=F64)
    assert f.grad(x_star).tolist() == [0.0, 0.0]
    assert f.autograd_grad(x_star).tolist() == [0.0, 0.0]
    # on the parabola x2 = 0.01 x1^2 only the |x1 + 10| term is left: d/dx1 = 0.01 sign(x1 + 10)
    on_ridge = torch.tensor([[-12.0, 1.44], [-5.0, 0.25]], dtype=F64)
    expected = torch.tensor([[-0.01, 0.0], [0.01, 0.0]], dtype=F64)
    torch.testing.assert_close(f.grad(on_ridge), expected, rtol=0, atol=1e-15)
    torch.testing.assert_close(f.autograd_grad(on_ridge), expected, rtol=0, atol=1e-15)


def test_ackley_gradient_at_origin_is_zero_not_nan() -> None:
    for dim in ND_DIMS:
        f = get("ackley", dim)
        zero = torch.zeros(dim, dtype=F64)
        assert f.grad(zero).tolist() == [0.0] * dim
        assert f.autograd_grad(zero).tolist() == [0.0] * dim


def test_easom_is_flat_far_from_its_well() -> None:
    f = get("easom")
    far = torch.tensor([[-90.0, 80.0], [50.0, -60.0]], dtype=F64)
    assert f.grad(far).abs().max().item() == 0.0
    # from the seed's start box the gradient is tiny but not zero
    g = f.grad(torch.tensor([[-1.0, -1.0], [1.0, 1.0]], dtype=F64)).abs()
    assert (g > 1e-16).all() and (g < 1e-3).all()


# -- batching and dtypes --------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("batch", [(), (4,), (3, 5)], ids=["single", "n", "n-m"])
def test_batch_shapes_and_dtypes(
    case: TestFunction, batch: tuple[int, ...], dtype: torch.dtype
) -> None:
    flat = _random_points(case, max(1, math.prod(batch)), 50, box="plot")
    x = flat.reshape(*batch, case.dim).to(dtype)
    value = case(x)
    grad = case.grad(x)
    auto = case.autograd_grad(x)
    v2, g2 = case.value_and_grad(x)
    dist = case.distance_to_minimizer(x)
    assert value.shape == v2.shape == dist.shape == batch
    assert grad.shape == auto.shape == g2.shape == x.shape
    for t in (value, grad, auto, v2, g2, dist):
        assert t.dtype == dtype
    # batched evaluation equals one point at a time
    rows = x.reshape(-1, case.dim)
    one_by_one = torch.stack([case(row) for row in rows]).reshape(batch)
    torch.testing.assert_close(value, one_by_one)


def test_float32_close_to_float64(case: TestFunction) -> None:
    x = _random_points(case, 64, 60, box="plot")
    v64 = case(x)
    v32 = case(x.float())
    torch.testing.assert_close(
        v32.double(), v64, rtol=1e-4, atol=1e-4 * (1 + v64.abs().max().item())
    )


def test_distance_to_minimizer() -> None:
    f = get("himmelblau")
    d = f.distance_to_minimizer(f.minimizers)
    assert d.tolist() == [0.0] * 4
    point = torch.tensor([3.0, 2.5], dtype=F64)
    assert f.distance_to_minimizer(point).item() == pytest.approx(0.5)  # nearest: (3, 2)
    six = get("six_hump_camel")
    # the two global minimizers are symmetric: the origin is equally far from both
    r = torch.linalg.vector_norm(six.minimizers[0]).item()
    assert six.distance_to_minimizer(torch.zeros(2, dtype=F64)).item() == pytest.approx(r)
    rosen = get("rosenbrock", 5)
    assert rosen.distance_to_minimizer(torch.zeros(5)).item() == pytest.approx(math.sqrt(5))


def test_functions_work_under_no_grad_and_keep_autograd_graph() -> None:
    f = get("rosenbrock", 3)
    x = torch.tensor([0.5, -0.3, 2.0], dtype=F64, requires_grad=True)
    f(x).backward()
    assert x.grad is not None
    torch.testing.assert_close(x.grad, f.grad(x.detach()))


@pytest.mark.slow
# inductor itself calls a deprecated torch.jit API while compiling
@pytest.mark.filterwarnings("ignore:`torch.jit.script_method` is deprecated:DeprecationWarning")
@pytest.mark.parametrize("name", ["rosenbrock", "bukin_n6", "ackley", "easom"])
def test_value_and_grad_compile(name: str) -> None:
    f = get(name, 3 if FUNCTIONS[name].n_dimensional else None)
    x = _random_points(f, 16, 70, box="plot")
    compiled = torch.compile(f.value_and_grad, fullgraph=True)
    value, grad = compiled(x)
    torch.testing.assert_close(value, f(x))
    torch.testing.assert_close(grad, f.grad(x))


# -- the seed project's formula bugs --------------------------------------------------------


def test_seed_bug_bukin_missing_sqrt() -> None:
    """The seed computed 100 |x2 - 0.01 x1^2| + 0.01 |x1 + 10| (no square root)."""

    def seed_bukin(x1: float, x2: float) -> float:
        return 100 * abs(x2 - 0.01 * x1**2) + 0.01 * abs(x1 + 10)

    # at (-10, 1.25): x2 - 0.01 x1^2 = 0.25, sqrt = 0.5, |x1 + 10| = 0 -> f = 100 * 0.5 = 50
    ours = get("bukin_n6")(torch.tensor([-10.0, 1.25], dtype=F64)).item()
    assert ours == pytest.approx(50.0, abs=1e-12)
    assert seed_bukin(-10.0, 1.25) == pytest.approx(25.0)
    assert abs(ours - seed_bukin(-10.0, 1.25)) > 1.0


def test_seed_bug_bohachevsky_cos_of_x1() -> None:
    """The seed used cos(4 pi x1) where the formula has cos(4 pi x2)."""

    def seed_bohachevsky(x1: float, x2: float) -> float:
        return (
            x1**2
            + 2 * x2**2
            - 0.3 * math.cos(3 * math.pi * x1)
            - 0.4 * math.cos(4 * math.pi * x1)
            + 0.7
        )

    # at (0, 0.25): 0 + 2/16 - 0.3 cos(0) - 0.4 cos(pi) + 0.7 = 0.125 - 0.3 + 0.4 + 0.7 = 0.925
    ours = get("bohachevsky1")(torch.tensor([0.0, 0.25], dtype=F64)).item()
    assert ours == pytest.approx(0.925, abs=1e-12)
    # the seed's version: 0.125 - 0.3 - 0.4 cos(0) + 0.7 = 0.125
    assert seed_bohachevsky(0.0, 0.25) == pytest.approx(0.125)
    assert abs(ours - seed_bohachevsky(0.0, 0.25)) > 0.5


def test_seed_bug_booth_missing_x2() -> None:
    """The seed used (2 x1 - 5)^2 where the formula has (2 x1 + x2 - 5)^2."""

    def seed_booth(x1: float, x2: float) -> float:
        return (x1 + 2 * x2 - 7) ** 2 + (2 * x1 - 5) ** 2

    # at (1, 1): (1 + 2 - 7)^2 + (2 + 1 - 5)^2 = 16 + 4 = 20
    ours = get("booth")(torch.tensor([1.0, 1.0], dtype=F64)).item()
    assert ours == 20.0
    assert seed_booth(1.0, 1.0) == 25.0  # 16 + 9
    # and the seed's version does not vanish at the true minimizer (1, 3)
    assert get("booth")(torch.tensor([1.0, 3.0], dtype=F64)).item() == 0.0
    assert seed_booth(1.0, 3.0) == 9.0


# -- registry -------------------------------------------------------------------------------


def test_registry_names() -> None:
    assert set(FUNCTIONS) == EXPECTED_NAMES
    for name, factory in FUNCTIONS.items():
        f = factory()
        assert f.name == name and f.dim == 2
    assert {n for n, fac in FUNCTIONS.items() if fac.n_dimensional} == {
        "rosenbrock",
        "rastrigin",
        "ackley",
        "styblinski_tang",
    }


def test_suites() -> None:
    assert SUITES["seed"] == (
        "rosenbrock",
        "bukin_n6",
        "bohachevsky1",
        "booth",
        "three_hump_camel",
        "easom",
    )
    assert SUITES["all"] == tuple(FUNCTIONS)
    for suite, names in SUITES.items():
        assert names, suite
        assert set(names) <= set(FUNCTIONS), suite


def test_get_unknown_name_suggests_close_names() -> None:
    with pytest.raises(ValueError, match=r"unknown test function 'rosenbrok'.*'rosenbrock'"):
        get("rosenbrok")
    with pytest.raises(ValueError, match=r"'bohachevsky1'"):
        get("bohachevski")


def test_get_rejects_bad_dims() -> None:
    with pytest.raises(ValueError, match=r"booth.*dim 3.*None or 2"):
        get("booth", 3)
    for bad in (1, 0, -4):
        with pytest.raises(ValueError, match=rf"rastrigin: invalid dim {bad}"):
            get("rastrigin", bad)
    with pytest.raises(ValueError, match="invalid dim"):
        get("ackley", 2.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="invalid dim"):
        get("ackley", True)
    assert get("booth", 2).dim == 2
    assert get("styblinski_tang", 7).dim == 7


def test_resolve_suite_or_names() -> None:
    names = [f.name for f in resolve_suite_or_names(["booth", "seed", "ackley"])]
    assert names == [
        "booth",
        "rosenbrock",
        "bukin_n6",
        "bohachevsky1",
        "three_hump_camel",
        "easom",
        "ackley",
    ]
    fs = resolve_suite_or_names("all", dim=4)
    assert [f.name for f in fs] == list(FUNCTIONS)
    assert {f.name: f.dim for f in fs}["rosenbrock"] == 4
    assert {f.name: f.dim for f in fs}["booth"] == 2
    with pytest.raises(ValueError, match=r"booth.*dim 4"):
        resolve_suite_or_names(["booth"], dim=4)
    with pytest.raises(ValueError, match=r"unknown suite or test function 'sead'.*'seed'"):
        resolve_suite_or_names("sead")


def test_module_doctests_pass() -> None:
    """Run the doctests of the package (pytest only collects tests/ by default)."""
    for module in (functions, base, classic2d, nd, registry):
        result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
        assert result.failed == 0, module.__name__
    assert result.attempted >= 1


# -- the coordinate form: value_and_grad_columns -------------------------------------------
# The oracle is value_and_grad on the stacked points. The 2-D functions derive both from the
# same coordinate formulas, so they agree bit for bit; so does Rosenbrock in 2-D (one term).
# Rosenbrock in more dimensions sums its terms in another order, and the functions without a
# coordinate form go through the base class's stacking fallback: those agree to rounding.

#: Registry names of the functions defined in 2-D only (those of classic2d).
PLANAR = [name for name, factory in FUNCTIONS.items() if not factory.n_dimensional]

BATCH_SHAPES = [(50,), (4, 5)]


def _exact(f: TestFunction) -> bool:
    """Whether the coordinate form must reproduce ``value_and_grad`` bit for bit."""
    return not FUNCTIONS[f.name].n_dimensional or (f.name == "rosenbrock" and f.dim == 2)


def _random_batch(f: TestFunction, shape: tuple[int, ...], seed: int) -> Tensor:
    """Seeded uniform float64 points of the domain of f, shape ``(*shape, d)``."""
    generator = torch.Generator().manual_seed(seed)
    low, high = f.domain
    return low + (high - low) * torch.rand(*shape, f.dim, generator=generator, dtype=F64)


def _assert_columns_match(f: TestFunction, x: Tensor) -> None:
    """``value_and_grad_columns`` on the columns of x equals ``value_and_grad(x)``."""
    value, grad = f.value_and_grad(x)
    col_value, col_grad = f.value_and_grad_columns(list(x.unbind(-1)))
    assert isinstance(col_grad, list)
    assert len(col_grad) == f.dim
    assert col_value.shape == x.shape[:-1]
    assert col_value.dtype == x.dtype
    for component in col_grad:
        assert component.shape == x.shape[:-1]
        assert component.dtype == x.dtype
    stacked = torch.stack(col_grad, dim=-1)
    if _exact(f):
        assert torch.equal(col_value, value), f"{f.name}: values differ"
        assert torch.equal(stacked, grad), f"{f.name}: gradients differ"
    else:
        # absolute tolerance scaled by the magnitude of what is compared
        value_scale = max(1.0, value.abs().max().item())
        grad_scale = max(1.0, grad.abs().max().item())
        torch.testing.assert_close(col_value, value, rtol=1e-12, atol=1e-12 * value_scale)
        torch.testing.assert_close(stacked, grad, rtol=1e-12, atol=1e-12 * grad_scale)


@pytest.mark.parametrize("shape", BATCH_SHAPES, ids=lambda s: "x".join(map(str, s)))
def test_columns_match_value_and_grad_at_random_batch(
    case: TestFunction, shape: tuple[int, ...]
) -> None:
    _assert_columns_match(case, _random_batch(case, shape, seed=len(shape)))


def test_columns_match_value_and_grad_at_global_minimizers(case: TestFunction) -> None:
    # includes the non-differentiable minima of Bukin N.6 and Ackley (subgradient conventions)
    _assert_columns_match(case, case.minimizers)


def test_columns_accept_separately_allocated_tensors(case: TestFunction) -> None:
    # columns as the engine keeps them: one contiguous tensor per coordinate
    x = _random_batch(case, (50,), seed=7)
    columns = [c.contiguous() for c in x.unbind(-1)]
    value, grad = case.value_and_grad(x)
    col_value, col_grad = case.value_and_grad_columns(columns)
    scale = max(1.0, value.abs().max().item())
    torch.testing.assert_close(col_value, value, rtol=1e-12, atol=1e-12 * scale)
    scale = max(1.0, grad.abs().max().item())
    torch.testing.assert_close(torch.stack(col_grad, -1), grad, rtol=1e-12, atol=1e-12 * scale)


def test_columns_keep_float32(case: TestFunction) -> None:
    x = _random_batch(case, (20,), seed=3).to(torch.float32)
    col_value, col_grad = case.value_and_grad_columns(list(x.unbind(-1)))
    assert col_value.dtype == torch.float32
    assert all(g.dtype == torch.float32 for g in col_grad)


def test_wrong_number_of_columns_raises(case: TestFunction) -> None:
    columns = list(_random_batch(case, (5,), seed=0).unbind(-1))
    with pytest.raises(ValueError, match="coordinates"):
        case.value_and_grad_columns(columns[:-1])
    with pytest.raises(ValueError, match="coordinates"):
        case.value_and_grad_columns([*columns, columns[0]])
    with pytest.raises(ValueError, match="coordinates"):
        case.value_and_grad_columns([])


@pytest.mark.parametrize("name", PLANAR)
def test_every_2d_function_has_a_coordinate_form(name: str) -> None:
    assert get(name).columns_fn is not None


@pytest.mark.parametrize("dim", ND_DIMS)
def test_rosenbrock_has_a_coordinate_form(dim: int) -> None:
    assert get("rosenbrock", dim).columns_fn is not None


@pytest.mark.parametrize("dim", ND_DIMS)
def test_rosenbrock_columns_value_sums_terms_in_order(dim: int) -> None:
    # f accumulated term by term, i = 1 .. d-1, exactly as the coordinate form does it
    f = get("rosenbrock", dim)
    x = _random_batch(f, (50,), seed=11)
    terms = [
        100.0 * (x[:, i + 1] - x[:, i] ** 2) ** 2 + (x[:, i] - 1.0) ** 2 for i in range(dim - 1)
    ]
    expected = terms[0]
    for term in terms[1:]:
        expected = expected + term
    value, _ = f.value_and_grad_columns(list(x.unbind(-1)))
    assert torch.equal(value, expected)


def test_functions_pickle_with_their_coordinate_form(case: TestFunction) -> None:
    clone = pickle.loads(pickle.dumps(case))
    assert (clone.columns_fn is None) == (case.columns_fn is None)
    x = _random_batch(case, (10,), seed=5)
    value, grad = case.value_and_grad_columns(list(x.unbind(-1)))
    clone_value, clone_grad = clone.value_and_grad_columns(list(x.unbind(-1)))
    assert torch.equal(clone_value, value)
    assert torch.equal(torch.stack(clone_grad, -1), torch.stack(grad, -1))
    assert torch.equal(clone(x), case(x))
    assert torch.equal(clone.grad(x), case.grad(x))
