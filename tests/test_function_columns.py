"""Tests for the coordinate form of the test functions: ``value_and_grad_columns``.

The oracle is :meth:`TestFunction.value_and_grad` on the stacked points. The 2-D functions
derive both from the same coordinate cores, so they must agree bit for bit; so must Rosenbrock
in 2-D (a single term). Rosenbrock in more dimensions sums its terms in another order, and the
functions without a coordinate form go through the base class's stacking fallback: those agree
to rounding.
"""

from __future__ import annotations

import pickle

import pytest
import torch
from torch import Tensor

from adamlab.functions import FUNCTIONS, TestFunction, get

F64 = torch.float64
ND_DIMS = (2, 3, 5, 10)

#: Every (name, dim) pair under test: the N-D functions in several dimensions.
CASES = [
    (name, dim)
    for name, factory in FUNCTIONS.items()
    for dim in (ND_DIMS if factory.n_dimensional else (2,))
]
CASE_IDS = [f"{name}-{dim}d" for name, dim in CASES]

#: Registry names of the functions defined in 2-D only (those of classic2d).
PLANAR = [name for name, factory in FUNCTIONS.items() if not factory.n_dimensional]

BATCH_SHAPES = [(50,), (4, 5)]


def _exact(f: TestFunction) -> bool:
    """Whether the coordinate form must reproduce ``value_and_grad`` bit for bit."""
    return not FUNCTIONS[f.name].n_dimensional or (f.name == "rosenbrock" and f.dim == 2)


def _random_points(f: TestFunction, shape: tuple[int, ...], seed: int) -> Tensor:
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


@pytest.fixture(params=CASES, ids=CASE_IDS)
def case(request: pytest.FixtureRequest) -> TestFunction:
    name, dim = request.param
    return get(name, dim)


@pytest.mark.parametrize("shape", BATCH_SHAPES, ids=lambda s: "x".join(map(str, s)))
def test_columns_match_value_and_grad_at_random_points(
    case: TestFunction, shape: tuple[int, ...]
) -> None:
    _assert_columns_match(case, _random_points(case, shape, seed=len(shape)))


def test_columns_match_value_and_grad_at_global_minimizers(case: TestFunction) -> None:
    # includes the non-differentiable minima of Bukin N.6 and Ackley (subgradient conventions)
    _assert_columns_match(case, case.minimizers)


def test_columns_accept_separately_allocated_tensors(case: TestFunction) -> None:
    # columns as the engine keeps them: one contiguous tensor per coordinate
    x = _random_points(case, (50,), seed=7)
    columns = [c.contiguous() for c in x.unbind(-1)]
    value, grad = case.value_and_grad(x)
    col_value, col_grad = case.value_and_grad_columns(columns)
    scale = max(1.0, value.abs().max().item())
    torch.testing.assert_close(col_value, value, rtol=1e-12, atol=1e-12 * scale)
    scale = max(1.0, grad.abs().max().item())
    torch.testing.assert_close(torch.stack(col_grad, -1), grad, rtol=1e-12, atol=1e-12 * scale)


def test_columns_keep_float32(case: TestFunction) -> None:
    x = _random_points(case, (20,), seed=3).to(torch.float32)
    col_value, col_grad = case.value_and_grad_columns(list(x.unbind(-1)))
    assert col_value.dtype == torch.float32
    assert all(g.dtype == torch.float32 for g in col_grad)


def test_wrong_number_of_columns_raises(case: TestFunction) -> None:
    columns = list(_random_points(case, (5,), seed=0).unbind(-1))
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
    x = _random_points(f, (50,), seed=11)
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
    x = _random_points(case, (10,), seed=5)
    value, grad = case.value_and_grad_columns(list(x.unbind(-1)))
    clone_value, clone_grad = clone.value_and_grad_columns(list(x.unbind(-1)))
    assert torch.equal(clone_value, value)
    assert torch.equal(torch.stack(clone_grad, -1), torch.stack(grad, -1))
    assert torch.equal(clone(x), case(x))
    assert torch.equal(clone.grad(x), case.grad(x))
