"""Tests for adamlab.bench.metrics: hand-computed cases for every metric, plus properties.

Each hand case writes its expected numbers out, worked by hand in a comment; where a closed
formula is involved, the test recomputes it independently (a different derivation of the same
quantity) rather than calling the code under test twice.
"""

from __future__ import annotations

import doctest
import math

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from adamlab.bench import metrics
from adamlab.bench.metrics import (
    NEVER_HIT,
    aggregate_runtime_ecdf,
    average_runtime,
    average_runtime_per_target,
    first_hit_steps,
    hit_mask,
    median_and_iqr,
    median_confidence_interval,
    performance_profile,
    performance_profile_area,
    performance_ratios,
    runtime_ecdf,
    success_rate,
    wilson_interval,
)

Z95 = 1.959963984540054  # Phi^{-1}(0.975), from tables
INF = math.inf
NAN = math.nan


def test_docstring_examples_run() -> None:
    # pytest's testpaths only cover tests/, so the module's doctests are run from here too
    result = doctest.testmod(metrics, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0
    assert result.failed == 0


# --------------------------------------------------------------------------------------------
# hit steps
# --------------------------------------------------------------------------------------------


def test_hit_mask_accepts_every_never_hit_mark() -> None:
    assert NEVER_HIT == -1
    assert hit_mask([1, 7, -1, NAN, INF, 2.0]).tolist() == [True, True, False, False, False, True]
    assert hit_mask(np.array([[3, -1]], dtype=np.int64)).tolist() == [[True, False]]


@pytest.mark.parametrize("bad", [0, -2, -INF, 0.5])
def test_hit_mask_rejects_values_that_are_neither_step_nor_sentinel(bad: float) -> None:
    with pytest.raises(ValueError, match="Invalid hit step"):
        hit_mask([3, bad])


def test_first_hit_steps_by_hand() -> None:
    # two runs (columns), rows are steps 1..5; targets 1e-1 and 1e-2
    # run 0 gaps: 1, 0.5, 0.08, 0.2, 0.009 -> <= 0.1 first at step 3, <= 0.01 at step 5
    # run 1 gaps: 0.1, NaN, NaN, NaN, NaN   -> <= 0.1 at step 1 (equality counts), never 0.01
    curve = np.array(
        [[1.0, 0.1], [0.5, NAN], [0.08, NAN], [0.2, NAN], [0.009, NAN]], dtype=np.float64
    )
    got = first_hit_steps(curve, [1e-1, 1e-2])
    assert got.dtype == np.int64
    assert got.tolist() == [[3, 5], [1, NEVER_HIT]]


def test_first_hit_steps_shapes() -> None:
    # one run, 1-D curve -> [targets]
    assert first_hit_steps([3.0, 2.0, 1.0], [2.5, 0.5]).tolist() == [2, NEVER_HIT]
    # zero steps -> nothing hit
    assert first_hit_steps(np.empty((0, 2)), [1.0]).tolist() == [[NEVER_HIT], [NEVER_HIT]]
    # [steps, starts, lrs] -> [starts, lrs, targets]
    assert first_hit_steps(np.ones((4, 3, 2)), [1.0, 0.5]).shape == (3, 2, 2)
    with pytest.raises(ValueError):
        first_hit_steps(np.ones(3), [[1.0]])
    with pytest.raises(ValueError):
        first_hit_steps(np.ones(3), [NAN])


@settings(deadline=None)
@given(
    curve=hnp.arrays(
        np.float64,
        hnp.array_shapes(min_dims=2, max_dims=2, max_side=12),
        elements=st.one_of(st.floats(0.0, 10.0), st.just(NAN)),
    ),
    targets=st.lists(st.floats(0.0, 10.0), min_size=1, max_size=4),
)
def test_first_hit_steps_matches_a_plain_loop(curve: np.ndarray, targets: list[float]) -> None:
    got = first_hit_steps(curve, targets)
    steps, runs = curve.shape
    for r in range(runs):
        for j, target in enumerate(targets):
            expected = NEVER_HIT
            best = INF
            for i in range(steps):
                if not math.isnan(curve[i, r]):
                    best = min(best, curve[i, r])
                if best <= target:
                    expected = i + 1
                    break
            assert got[r, j] == expected


# --------------------------------------------------------------------------------------------
# Wilson intervals and success rates
# --------------------------------------------------------------------------------------------


def wilson_by_quadratic(k: int, n: int, z: float) -> tuple[float, float]:
    """Wilson bounds as the roots q of (p - q)^2 = z^2 q (1 - q) / n, by the quadratic formula.

    Expanding: (1 + z^2/n) q^2 - (2 p + z^2/n) q + p^2 = 0.
    """
    p = k / n
    a = 1 + z * z / n
    b = -(2 * p + z * z / n)
    c = p * p
    disc = math.sqrt(b * b - 4 * a * c)
    return (-b - disc) / (2 * a), (-b + disc) / (2 * a)


@pytest.mark.parametrize(
    ("k", "n", "expected"),
    [
        # 0/10: low = 0; high = (z^2/n) / (1 + z^2/n) = 0.384146 / 1.384146 = 0.277533
        (0, 10, (0.0, 0.2775328)),
        # 10/10: mirror image of 0/10
        (10, 10, (0.7224672, 1.0)),
        # 5/10: centre 0.5; half = z/(1 + z^2/n) sqrt(0.025 + z^2/400) = 1.416 * 0.18602 = 0.26341
        (5, 10, (0.2365931, 0.7634069)),
        # 3/20: p = 0.15, roots of 1.192073 q^2 - 0.492073 q + 0.0225 = 0:
        # disc = 0.242136 - 0.107287 = 0.134849, q = (0.492073 -/+ 0.367218) / 2.384146
        (3, 20, (0.0523687, 0.3604189)),
    ],
)
def test_wilson_interval_by_hand(k: int, n: int, expected: tuple[float, float]) -> None:
    low, high = wilson_interval(k, n)
    assert (float(low), float(high)) == pytest.approx(expected, abs=1e-7)
    assert (float(low), float(high)) == pytest.approx(wilson_by_quadratic(k, n, Z95), abs=1e-12)


def test_wilson_interval_is_exact_at_the_edges_and_vectorised() -> None:
    low, high = wilson_interval(np.array([[0], [7]]), np.array([7, 7, 7]))
    assert low.shape == high.shape == (2, 3)
    assert np.all(low[0] == 0.0)
    assert np.all(high[1] == 1.0)
    # trials = 0: no information, the whole range
    low0, high0 = wilson_interval([0, 0], [0, 0])
    assert low0.tolist() == [0.0, 0.0]
    assert high0.tolist() == [1.0, 1.0]


def test_wilson_interval_widens_with_confidence() -> None:
    low95, high95 = wilson_interval(4, 10, 0.95)
    low99, high99 = wilson_interval(4, 10, 0.99)
    assert low99 < low95 < 0.4 < high95 < high99
    z99 = 2.5758293035489004  # Phi^{-1}(0.995)
    assert (float(low99), float(high99)) == pytest.approx(wilson_by_quadratic(4, 10, z99))


@pytest.mark.parametrize(
    ("k", "n", "confidence"),
    [(-1, 5, 0.95), (6, 5, 0.95), (1.5, 5, 0.95), (1, NAN, 0.95), (1, 5, 1.0), (1, 5, NAN)],
)
def test_wilson_interval_rejects_bad_input(k: float, n: float, confidence: float) -> None:
    with pytest.raises(ValueError):
        wilson_interval(k, n, confidence)


@given(data=st.data(), n=st.integers(1, 10_000), confidence=st.floats(0.5, 0.999))
def test_wilson_interval_properties(data: st.DataObject, n: int, confidence: float) -> None:
    k = data.draw(st.integers(0, n))
    low, high = wilson_interval(k, n, confidence)
    assert 0.0 <= low <= k / n <= high <= 1.0
    assert low < high


def test_success_rate_by_hand() -> None:
    # 3 of 4: rate 0.75; bounds = roots of (1 + z^2/4) q^2 - (1.5 + z^2/4) q + 0.5625 = 0
    rate, low, high = success_rate(np.array([True, False, True, True]))
    assert rate == 0.75
    assert (low, high) == pytest.approx(wilson_by_quadratic(3, 4, Z95), abs=1e-12)
    assert (low, high) == pytest.approx((0.3006418, 0.9544127), abs=1e-7)
    # every entry of a 2-D mask is one trial: 2 of 6
    rate2, _, _ = success_rate(np.array([[True, False, False], [False, True, False]]))
    assert rate2 == pytest.approx(1 / 3)


def test_success_rate_with_no_runs_and_bad_dtype() -> None:
    rate, low, high = success_rate(np.array([], dtype=bool))
    assert math.isnan(rate)
    assert (low, high) == (0.0, 1.0)
    with pytest.raises(ValueError, match="boolean"):
        success_rate(np.array([3, -1, 5]))


# --------------------------------------------------------------------------------------------
# average runtime
# --------------------------------------------------------------------------------------------


def test_average_runtime_toy_three_runs() -> None:
    # run A hits at 10 (ran 50), run B never hits (ran 100), run C hits at 30 (ran 40)
    # aRT = (10 + 100 + 30) / 2 successes = 70
    assert average_runtime([10, NEVER_HIT, 30], [50, 100, 40]) == 70.0
    # NaN as the never-hit mark gives the same answer
    assert average_runtime([10.0, NAN, 30.0], [50, 100, 40]) == 70.0
    # all succeed: aRT is the mean hit step (4 + 6) / 2 = 5
    assert average_runtime([4, 6], [10, 10]) == 5.0
    # none succeed: inf, with no warning raised
    assert average_runtime([-1, -1, -1], [100, 20, 100]) == INF


def test_average_runtime_per_target_by_hand() -> None:
    hit_steps = np.array(
        [
            [10, 40, -1],  # ran 50
            [-1, -1, -1],  # ran 100 (budget exhausted)
            [30, -1, -1],  # ran 40 (diverged early)
        ]
    )
    steps_run = np.array([50, 100, 40])
    # target 0: (10 + 100 + 30) / 2 = 70
    # target 1: (40 + 100 + 40) / 1 = 180
    # target 2: no success -> inf
    got = average_runtime_per_target(hit_steps, steps_run)
    assert got.tolist() == [70.0, 180.0, INF]
    for j in range(3):
        assert average_runtime(hit_steps[:, j], steps_run) == got[j]


@pytest.mark.parametrize(
    ("hit_steps", "steps_run"),
    [
        ([[60]], [50]),  # hit after the run ended: inconsistent records
        ([[5]], [-1]),
        ([[5]], [INF]),
        ([[5], [6]], [10]),  # shape mismatch
        ([5, 6], [10, 10]),  # not [runs, targets]
        (np.empty((0, 3)), np.empty(0)),  # no runs
    ],
)
def test_average_runtime_per_target_rejects_bad_records(
    hit_steps: list[list[float]], steps_run: list[float]
) -> None:
    with pytest.raises(ValueError):
        average_runtime_per_target(hit_steps, steps_run)


# --------------------------------------------------------------------------------------------
# runtime ECDFs
# --------------------------------------------------------------------------------------------


def test_runtime_ecdf_step_values() -> None:
    # 3 runs x 2 targets = 6 pairs; solved at steps 3, 5, 8, 20; two pairs never solved
    hit_steps = np.array([[5, 20], [-1, 8], [3, -1]])
    budgets = np.array([0, 2, 3, 4, 5, 8, 19, 20, 1000, INF])
    # counts of hit step <= B:  0  0  1  1  2  3   3   4    4    4   (right-continuous at 3, 5...)
    expected = np.array([0, 0, 1, 1, 2, 3, 3, 4, 4, 4]) / 6
    np.testing.assert_allclose(runtime_ecdf(hit_steps, budgets), expected, rtol=0, atol=1e-15)


def test_runtime_ecdf_keeps_the_budget_shape_and_validates() -> None:
    assert runtime_ecdf([[1, 2]], np.ones((2, 3))).shape == (2, 3)
    with pytest.raises(ValueError):
        runtime_ecdf(np.empty((0, 2)), [1])
    with pytest.raises(ValueError):
        runtime_ecdf([[1]], [NAN])


def test_aggregate_runtime_ecdf_weights_each_function_equally() -> None:
    f1 = np.array([[2], [4]])  # 2 pairs: ecdf 0.5 at B=2, 1.0 at B=4
    f2 = np.array([[3], [-1], [-1], [-1]])  # 4 pairs: ecdf 0.25 from B=3
    budgets = [1, 2, 3, 4]
    # equal weight: (0 + 0)/2, (0.5 + 0)/2, (0.5 + 0.25)/2, (1 + 0.25)/2
    expected = [0.0, 0.25, 0.375, 0.625]
    assert aggregate_runtime_ecdf([f1, f2], budgets).tolist() == expected
    assert aggregate_runtime_ecdf({"sphere": f1, "rosenbrock": f2}, budgets).tolist() == expected
    # concatenating the 6 pairs would give 1/6, 2/6, 3/6 from B = 2, 3, 4 instead
    pooled = runtime_ecdf(np.concatenate([f1, f2]), budgets)
    assert pooled.tolist() != expected


def test_aggregate_runtime_ecdf_equals_pooling_for_equal_sizes() -> None:
    rng = np.random.default_rng(0)
    functions = [
        np.where(rng.random((5, 3)) < 0.7, rng.integers(1, 100, (5, 3)), -1) for _ in range(4)
    ]
    budgets = np.arange(0, 101)
    np.testing.assert_allclose(
        aggregate_runtime_ecdf(functions, budgets),
        runtime_ecdf(np.concatenate(functions), budgets),
        atol=1e-15,
    )


def test_aggregate_runtime_ecdf_refuses_mixed_dimensions() -> None:
    f = np.array([[1]])
    assert aggregate_runtime_ecdf([f, f], [1], dims=[2, 2]).tolist() == [1.0]
    with pytest.raises(ValueError, match="different dimensions"):
        aggregate_runtime_ecdf([f, f], [1], dims=[2, 10])
    with pytest.raises(ValueError):
        aggregate_runtime_ecdf([f, f], [1], dims=[2])
    with pytest.raises(ValueError):
        aggregate_runtime_ecdf([], [1])


# --------------------------------------------------------------------------------------------
# performance profiles
# --------------------------------------------------------------------------------------------

# 2 solvers x 3 problems; solver A fails problem 2
COSTS = np.array([[10.0, 20.0, INF], [20.0, 10.0, 40.0]])


def test_performance_profile_two_solvers_three_problems() -> None:
    # best per problem: 10, 10, 40 -> ratios A = [1, 2, inf], B = [2, 1, 1]
    np.testing.assert_array_equal(performance_ratios(COSTS), [[1, 2, INF], [2, 1, 1]])
    taus = [0.5, 1.0, 1.5, 2.0, 4.0, 1e9]
    # A: r <= tau counts 0, 1, 1, 2, 2, 2 (the failure never counts)
    # B: r <= tau counts 0, 2, 2, 3, 3, 3
    expected = np.array([[0, 1, 1, 2, 2, 2], [0, 2, 2, 3, 3, 3]]) / 3
    np.testing.assert_allclose(performance_profile(COSTS, taus), expected, atol=1e-15)


def test_performance_profile_problem_failed_by_everyone_counts_against_all() -> None:
    # add problem 3, failed by both (one inf, one NaN): ratios inf for both
    costs = np.column_stack([COSTS, [INF, NAN]])
    np.testing.assert_array_equal(performance_ratios(costs)[:, 3], [INF, INF])
    # rho at large tau: A solved 2 of 4, B 3 of 4
    np.testing.assert_allclose(performance_profile(costs, [1e9]), [[0.5], [0.75]])


def test_performance_profile_ties_share_the_best() -> None:
    rho = performance_profile([[5.0, 1.0], [5.0, 2.0]], [1.0])
    # problem 0 is a tie: both have r = 1 there
    np.testing.assert_allclose(rho, [[1.0], [0.5]])


@pytest.mark.parametrize(
    "costs", [[[0.0, 1.0], [1.0, 1.0]], [[-1.0, 1.0]], [1.0, 2.0], np.empty((2, 0))]
)
def test_performance_ratios_reject_bad_tables(costs: npt.ArrayLike) -> None:
    with pytest.raises(ValueError):
        performance_ratios(costs)


def test_performance_profile_area_exact_toy() -> None:
    # integral over [1, 4] of [r <= tau] is 4 - r when r <= 4, else 0
    # A: ratios [1, 2, inf] -> (3 + 2 + 0) / 3 problems / 3 width = 5/9
    # B: ratios [2, 1, 1]   -> (2 + 3 + 3) / 9 = 8/9
    np.testing.assert_allclose(performance_profile_area(COSTS), [5 / 9, 8 / 9], rtol=1e-15)
    # tau_max = 2: A -> (1 + 0 + 0) / 3 / 1 = 1/3; B -> (0 + 1 + 1) / 3 = 2/3
    np.testing.assert_allclose(performance_profile_area(COSTS, 2.0), [1 / 3, 2 / 3], rtol=1e-15)
    # a ratio of 3.5 within tau_max = 4 adds 0.5 of width 3
    np.testing.assert_allclose(performance_profile_area([[1.0], [3.5]]), [1.0, 0.5 / 3])
    # a solver best everywhere scores exactly 1, whatever rounding tau_max - 1 has
    assert performance_profile_area(np.ones((1, 5)), 1.9).tolist() == [1.0]


@pytest.mark.parametrize("tau_max", [1.0, 0.5, INF, NAN])
def test_performance_profile_area_rejects_bad_tau_max(tau_max: float) -> None:
    with pytest.raises(ValueError):
        performance_profile_area(COSTS, tau_max)


cost_tables = hnp.arrays(
    np.float64,
    st.tuples(st.integers(1, 5), st.integers(1, 8)),
    elements=st.one_of(st.floats(1e-3, 1e6), st.just(INF)),
)


@settings(deadline=None)
@given(costs=cost_tables, taus=st.lists(st.floats(0.0, 100.0), min_size=1, max_size=10))
def test_performance_profile_properties(costs: np.ndarray, taus: list[float]) -> None:
    taus_sorted = np.sort(np.array(taus))
    rho = performance_profile(costs, taus_sorted)
    assert rho.shape == (costs.shape[0], len(taus))
    assert np.all((rho >= 0) & (rho <= 1))
    assert np.all(np.diff(rho, axis=1) >= 0)  # non-decreasing in tau
    # at tau = 1 the solvers attaining each solvable problem's minimum are credited with it
    rho_1 = performance_profile(costs, [1.0])[:, 0]
    best = costs.min(axis=0)
    is_best = (costs == best) & np.isfinite(best)
    np.testing.assert_allclose(rho_1, is_best.mean(axis=1), atol=1e-15)


@settings(deadline=None)
@given(costs=cost_tables)
def test_best_solver_everywhere_has_rho_one_and_full_area(costs: np.ndarray) -> None:
    # prepend a solver that matches the best finite cost on every problem
    column_best = costs.min(axis=0)  # inf where every solver failed; the new one solves it
    best_row = np.where(np.isfinite(column_best), column_best, 1.0)
    table = np.vstack([best_row, costs])
    assert performance_profile(table, [1.0])[0, 0] == 1.0
    assert performance_profile_area(table)[0] == 1.0


def step_integral(costs: np.ndarray, tau_max: float) -> np.ndarray:
    """Integral of rho over [1, tau_max], from the profile read at its breakpoints.

    rho is a right-continuous step function that only jumps at the ratios, so on each piece
    [t_i, t_{i+1}) between consecutive breakpoints it equals rho(t_i).
    """
    ratios = performance_ratios(costs)
    inside = ratios[(ratios > 1) & (ratios < tau_max)]
    points = np.unique(np.concatenate([[1.0, tau_max], inside]))
    rho = performance_profile(costs, points[:-1])
    return (rho * np.diff(points)).sum(axis=1) / (tau_max - 1)


@settings(deadline=None)
@given(costs=cost_tables, tau_max=st.floats(1.01, 50.0))
def test_area_score_equals_the_integral_of_the_step_function(
    costs: np.ndarray, tau_max: float
) -> None:
    area = performance_profile_area(costs, tau_max)
    assert np.all((area >= 0) & (area <= 1))
    np.testing.assert_allclose(area, step_integral(costs, tau_max), rtol=1e-12, atol=1e-12)


# --------------------------------------------------------------------------------------------
# medians and quartiles
# --------------------------------------------------------------------------------------------


def test_median_and_iqr_by_hand_with_failures() -> None:
    # sorted 1, 2, 3, inf; positions q (n - 1): 0.75, 1.5, 2.25
    # q1 = 1 + 0.75 (2 - 1) = 1.75; median = 2.5; q3 = 3 + 0.25 (inf - 3) = inf
    result = median_and_iqr([3.0, 1.0, INF, 2.0])
    assert (float(result.median), float(result.q1), float(result.q3)) == (2.5, 1.75, INF)
    # more than half failed: the median is inf, and inf-to-inf interpolation stays inf
    result = median_and_iqr([1.0, INF, INF, INF, INF])
    assert (float(result.median), float(result.q1), float(result.q3)) == (INF, INF, INF)


def test_median_and_iqr_drops_nan_and_works_along_an_axis() -> None:
    values = np.array([[1.0, NAN, 3.0], [NAN, NAN, NAN], [4.0, 8.0, 6.0]])
    result = median_and_iqr(values, axis=1)
    # row 0: {1, 3} -> median 2, q1 1.5, q3 2.5; row 1: nothing -> NaN; row 2: {4, 6, 8}
    np.testing.assert_array_equal(result.median, [2.0, NAN, 6.0])
    np.testing.assert_array_equal(result.q1, [1.5, NAN, 5.0])
    np.testing.assert_array_equal(result.q3, [2.5, NAN, 7.0])
    assert median_and_iqr(values, axis=0).median.shape == (3,)
    empty = median_and_iqr(np.empty((2, 0)), axis=1)
    assert np.isnan(empty.median).all()


@given(
    values=hnp.arrays(
        np.float64,
        hnp.array_shapes(min_dims=1, max_dims=2, min_side=1, max_side=9),
        elements=st.floats(-1e6, 1e6),
    ),
    axis=st.sampled_from([None, 0, -1]),
)
def test_median_and_iqr_matches_numpy_on_finite_data(values: np.ndarray, axis: int | None) -> None:
    result = median_and_iqr(values, axis=axis)
    expected = np.percentile(values, [50, 25, 75], axis=axis)
    for got, want in zip(result, expected, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-9)


def test_median_confidence_interval_by_hand() -> None:
    # n = 10, P(B <= 1) = (1 + 10) / 1024 -> [x_(2), x_(9)] has coverage 1 - 22/1024 = 0.9785;
    # j = 3 would need P(B <= 2) = 56/1024, coverage 0.89 < 0.95
    assert median_confidence_interval([10, 9, 8, 7, 6, 5, 4, 3, 2, 1]) == (2.0, 9.0)
    # n = 6: [x_(1), x_(6)] covers 1 - 2/64 = 0.969; failures (inf) are order statistics
    assert median_confidence_interval([1, 2, 3, 4, INF, INF, NAN]) == (1.0, INF)
    # n = 5: even [min, max] covers only 1 - 2/32 = 0.9375 < 0.95
    assert median_confidence_interval([1, 2, 3, 4, 5]) == (-INF, INF)
    assert median_confidence_interval([1, 2, 3, 4, 5], confidence=0.9) == (1.0, 5.0)
    low, high = median_confidence_interval([NAN])
    assert math.isnan(low) and math.isnan(high)


def test_median_confidence_interval_covers_the_true_median() -> None:
    # exponential(1) has median ln 2; the guaranteed coverage for n = 25 at 95% is 0.957
    rng = np.random.default_rng(1)
    trials = 2000
    covered = 0
    for _ in range(trials):
        low, high = median_confidence_interval(rng.exponential(size=25))
        covered += low <= math.log(2) <= high
    # binomial standard error at p = 0.957 is 0.0045; allow three of them
    assert covered / trials >= 0.957 - 3 * 0.0045
