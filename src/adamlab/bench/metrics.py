"""The statistics of the benchmark: success rates, runtimes, ECDFs and performance profiles.

Every function here is pure numpy: it reads arrays that the benchmark records hold and returns
new arrays; nothing is run, plotted or written. The metrics follow COCO/BBOB (average runtime,
runtime ECDFs), Dolan & Moré (performance profiles) and AlgoPerf (area under the profile).

Conventions shared by the whole module:

* A *run* is one start of one optimizer on one function at one learning rate. Its cost is
  counted in gradient evaluations, 1-based: step 1 is the first evaluation.
* ``hit_steps[run, target]`` is the first step at which the run's best-so-far gap
  ``f - f*`` was ``<= target``. A run that never reached the target holds the sentinel
  ``NEVER_HIT = -1``; NaN and ``+inf`` are accepted as the same "never hit" mark, so integer
  and float records both work. Any other value below 1 (0, -2, -inf) is rejected with a
  ``ValueError``, because it is a bug in the records rather than an outcome.
* ``steps_run[run]`` is the number of evaluations the run actually performed, which is smaller
  than the budget when the run stopped early (final target reached, or diverged).
* Failures are never dropped: a failed run costs its ``steps_run`` in the average runtime,
  counts as unsolved in ECDFs and success rates, and has ratio ``inf`` in performance profiles.

References:
    N. Hansen, A. Auger, D. Brockhoff, T. Tušar. Anytime Performance Assessment in Blackbox
    Optimization Benchmarking. IEEE TEVC 26(6), 2022, arXiv:2007.06802 (runtime ECDFs).
    N. Hansen, A. Auger, D. Brockhoff, D. Tušar, T. Tušar. COCO: Performance Assessment.
    arXiv:1605.03560, 2016 (average runtime, aRT).
    E. D. Dolan and J. J. Moré. Benchmarking optimization software with performance profiles.
    Mathematical Programming 91:201-213, 2002.
    G. E. Dahl et al. Benchmarking Neural Network Training Algorithms. arXiv:2306.07179, 2023
    (AlgoPerf; area under the performance profile up to tau = 4).
    E. B. Wilson. Probable inference, the law of succession, and statistical inference.
    JASA 22:209-212, 1927. L. D. Brown, T. T. Cai, A. DasGupta. Interval Estimation for a
    Binomial Proportion. Statistical Science 16(2):101-133, 2001.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from fractions import Fraction
from statistics import NormalDist
from typing import NamedTuple, TypeAlias

import numpy as np
import numpy.typing as npt

FloatArray: TypeAlias = npt.NDArray[np.float64]
BoolArray: TypeAlias = npt.NDArray[np.bool_]
IntArray: TypeAlias = npt.NDArray[np.int64]

#: The value ``first_hit_steps`` writes, and the records use, for "target never reached".
NEVER_HIT: int = -1

__all__ = [
    "NEVER_HIT",
    "MedianIQR",
    "aggregate_runtime_ecdf",
    "average_runtime",
    "average_runtime_per_target",
    "first_hit_steps",
    "hit_mask",
    "median_and_iqr",
    "median_confidence_interval",
    "performance_profile",
    "performance_profile_area",
    "performance_ratios",
    "runtime_ecdf",
    "success_rate",
    "wilson_interval",
]


# --------------------------------------------------------------------------------------------
# Hit steps: the one place that decides what "hit" and "never hit" mean
# --------------------------------------------------------------------------------------------


def _hit_steps_and_mask(hit_steps: npt.ArrayLike) -> tuple[FloatArray, BoolArray]:
    """Return ``hit_steps`` as float64 and the mask of entries that are real hits."""
    steps = np.asarray(hit_steps, dtype=np.float64)
    hit = np.isfinite(steps) & (steps >= 1)
    never = np.isnan(steps) | (steps == np.inf) | (steps == NEVER_HIT)
    bad = ~(hit | never)
    if np.any(bad):
        raise ValueError(
            "Invalid hit step: "
            f"{steps[bad].flat[0]} (expected a step >= 1, or -1 / NaN / inf for 'never hit')"
        )
    return steps, hit


def hit_mask(hit_steps: npt.ArrayLike) -> BoolArray:
    """Return True where a first-hit step records a hit, False where it means "never hit".

    A hit is a finite step >= 1; "never hit" is ``NEVER_HIT`` (-1), NaN or ``+inf``.

    Args:
        hit_steps: first-hit steps, any shape.

    Returns:
        A boolean array of the same shape.

    Raises:
        ValueError: for any other value (0, negative steps other than -1, ``-inf``).

    >>> hit_mask([3, -1, float("nan"), 1]).tolist()
    [True, False, False, True]
    """
    return _hit_steps_and_mask(hit_steps)[1]


def first_hit_steps(best_so_far_curve: npt.ArrayLike, targets: npt.ArrayLike) -> IntArray:
    """First step at which a run's best-so-far gap reached each target.

    Row ``i`` of the curve is the gap ``f - f*`` after ``i + 1`` gradient evaluations, so a
    target reached in row ``i`` is hit at step ``i + 1``. The curve is reduced to its running
    minimum first (NaN ignored, as ``np.fmin`` does), so a raw gap trace and a best-so-far
    trace give the same answer, and a run that diverges to NaN keeps the hits it made before.
    A target is reached when the best-so-far gap is ``<= target``.

    Args:
        best_so_far_curve: gaps of shape ``[steps, *runs]`` (``[steps]`` for one run).
        targets: 1-D array of gap targets.

    Returns:
        int64 array of shape ``[*runs, targets]``: the 1-based first-hit step, or ``NEVER_HIT``
        (-1) where the target was never reached within the curve.

    >>> curve = np.array([[1.0, 5.0], [0.05, 2.0], [0.2, 0.5], [1e-3, float("nan")]])
    >>> first_hit_steps(curve, [1e-1, 1e-2]).tolist()
    [[2, 4], [-1, -1]]
    """
    curve = np.asarray(best_so_far_curve, dtype=np.float64)
    if curve.ndim < 1:
        raise ValueError("best_so_far_curve must have a leading step axis (got a scalar)")
    target_values = np.asarray(targets, dtype=np.float64)
    if target_values.ndim != 1:
        raise ValueError(f"targets must be 1-D (got shape {target_values.shape})")
    if np.any(np.isnan(target_values)):
        raise ValueError("targets must not contain NaN")
    # best_t = min(gap_1, ..., gap_t), skipping NaN gaps
    best = np.fmin.accumulate(curve, axis=0)
    out = np.full((*curve.shape[1:], target_values.size), NEVER_HIT, dtype=np.int64)
    if curve.shape[0] == 0:
        return out
    for j, target in enumerate(target_values):
        reached = best <= target  # [steps, *runs]; NaN compares False
        # argmax finds the first True; +1 turns the row index into a 1-based step
        first = reached.argmax(axis=0) + 1
        out[..., j] = np.where(reached.any(axis=0), first, NEVER_HIT)
    return out


# --------------------------------------------------------------------------------------------
# Success rates with Wilson score intervals
# --------------------------------------------------------------------------------------------


def wilson_interval(
    successes: npt.ArrayLike, trials: npt.ArrayLike, confidence: float = 0.95
) -> tuple[FloatArray, FloatArray]:
    """Wilson score interval for a binomial success probability.

    Measures how uncertain a success rate k/n is. With p = k / n and z the two-sided normal
    quantile for ``confidence`` (z = 1.96 at 95 %), the interval is::

        centre = (p + z^2 / (2 n)) / (1 + z^2 / n)
        half   = z / (1 + z^2 / n) * sqrt(p (1 - p) / n + z^2 / (4 n^2))
        (low, high) = (centre - half, centre + half)

    It is the set of probabilities q that a score test would not reject,
    ``|p - q| <= z sqrt(q (1 - q) / n)``. Unlike the normal (Wald) interval it stays inside
    [0, 1] and is not empty at k = 0 or k = n: there the formula gives low = 0 (resp.
    high = 1) exactly, which is enforced against rounding. With ``trials == 0`` there is no
    information, and the interval is the whole range (0, 1).

    Args:
        successes: number of successes k (integer-valued), any shape broadcastable with trials.
        trials: number of trials n >= k (integer-valued).
        confidence: two-sided confidence level in (0, 1).

    Returns:
        ``(low, high)``: float64 arrays of the broadcast shape (0-d for scalar inputs).

    Raises:
        ValueError: for non-integer or negative counts, k > n, or a confidence outside (0, 1).

    >>> low, high = wilson_interval([0, 5, 10], 10)
    >>> print(low.round(4), high.round(4))
    [0.     0.2366 0.7225] [0.2775 0.7634 1.    ]
    """
    if not 0.0 < confidence < 1.0:  # also rejects NaN
        raise ValueError(f"Invalid confidence: {confidence} (expected 0 < confidence < 1)")
    k, n = np.broadcast_arrays(
        np.asarray(successes, dtype=np.float64), np.asarray(trials, dtype=np.float64)
    )
    if not (np.all(np.isfinite(k)) and np.all(np.isfinite(n))):
        raise ValueError("successes and trials must be finite")
    if np.any(k != np.round(k)) or np.any(n != np.round(n)):
        raise ValueError("successes and trials must be whole numbers")
    if np.any(k < 0) or np.any(k > n):
        raise ValueError("Invalid counts: expected 0 <= successes <= trials")
    z = NormalDist().inv_cdf(0.5 + confidence / 2.0)
    # trials = 0 is answered separately below; n = 1 there only keeps the arithmetic finite
    n_safe = np.where(n > 0, n, 1.0)
    p = k / n_safe
    z2_n = z * z / n_safe
    denom = 1.0 + z2_n
    centre = (p + z2_n / 2.0) / denom
    half = z / denom * np.sqrt(p * (1.0 - p) / n_safe + z2_n / (4.0 * n_safe))
    low = np.clip(centre - half, 0.0, 1.0)
    high = np.clip(centre + half, 0.0, 1.0)
    low = np.where((k == 0) | (n == 0), 0.0, low)
    high = np.where((k == n) | (n == 0), 1.0, high)
    return low, high


def success_rate(hit: npt.ArrayLike, confidence: float = 0.95) -> tuple[float, float, float]:
    """Fraction of successful runs, with its Wilson score interval.

    The rate is k / n where k is the number of True entries of ``hit`` and n its size; a run
    that failed (never hit, diverged) is a False entry and counts in n. The interval is
    ``wilson_interval(k, n, confidence)``. With no runs the rate is NaN and the interval (0, 1).

    Args:
        hit: boolean array of any shape, True for a successful run (for instance
            ``hit_mask(hit_steps[:, j])`` for target j). Every entry counts as one trial.
        confidence: two-sided confidence level in (0, 1).

    Returns:
        ``(rate, low, high)`` as Python floats.

    Raises:
        ValueError: if ``hit`` is not boolean (pass ``hit_mask(steps)``, not the steps).

    >>> rate, low, high = success_rate(np.array([True, True, False, True]))
    >>> rate, round(low, 3), round(high, 3)
    (0.75, 0.301, 0.954)
    """
    flags = np.asarray(hit)
    if flags.dtype != np.bool_:
        raise ValueError(f"hit must be a boolean array (got dtype {flags.dtype})")
    n = flags.size
    k = int(np.count_nonzero(flags))
    low, high = wilson_interval(k, n, confidence)
    rate = k / n if n > 0 else math.nan
    return rate, float(low), float(high)


# --------------------------------------------------------------------------------------------
# COCO average runtime
# --------------------------------------------------------------------------------------------


def average_runtime_per_target(hit_steps: npt.ArrayLike, steps_run: npt.ArrayLike) -> FloatArray:
    """COCO's average runtime (aRT) for each target.

    aRT estimates the expected number of evaluations to reach a target when an unsuccessful
    run is followed by a fresh independent run, until one succeeds. For each target::

        aRT = (sum over all runs of evaluations spent) / (number of successful runs)

    where a successful run spends its first-hit step (evaluations after the hit do not count)
    and a failed run spends ``steps_run``, everything it did. Failures therefore raise aRT
    through the numerator; with no success at all aRT is ``inf``. A run that stopped early
    (diverged) is charged only the evaluations it performed, as in COCO: under the restart
    reading, an early stop is a cheaper restart.

    Args:
        hit_steps: first-hit steps of shape ``[runs, targets]``; ``NEVER_HIT`` (-1), NaN or
            ``inf`` for a target that was never reached.
        steps_run: evaluations actually performed by each run, shape ``[runs]``.

    Returns:
        float64 array ``[targets]`` of aRT values, ``inf`` where no run succeeded.

    Raises:
        ValueError: on shape mismatch, no runs, negative or non-finite ``steps_run``, or a
            hit step larger than the run's ``steps_run`` (inconsistent records).

    >>> hit_steps = np.array([[10, 40], [-1, -1], [30, -1]])
    >>> average_runtime_per_target(hit_steps, [50, 100, 40]).tolist()
    [70.0, 180.0]
    """
    steps, hit = _hit_steps_and_mask(hit_steps)
    if steps.ndim != 2:
        raise ValueError(f"hit_steps must have shape [runs, targets] (got {steps.shape})")
    spent_by_run = np.asarray(steps_run, dtype=np.float64)
    if spent_by_run.shape != steps.shape[:1]:
        raise ValueError(
            f"steps_run must have shape [runs] = {steps.shape[:1]} (got {spent_by_run.shape})"
        )
    if steps.shape[0] == 0:
        raise ValueError("average runtime needs at least one run")
    if not np.all(np.isfinite(spent_by_run)) or np.any(spent_by_run < 0):
        raise ValueError("steps_run must be finite and >= 0")
    if np.any(hit & (steps > spent_by_run[:, None])):
        raise ValueError("Inconsistent records: a hit step is larger than the run's steps_run")
    # evaluations spent per (run, target): the hit step on success, everything on failure
    spent = np.where(hit, steps, spent_by_run[:, None]).sum(axis=0)
    successes = hit.sum(axis=0)
    art = np.full(steps.shape[1], np.inf)
    np.divide(spent, successes, out=art, where=successes > 0)
    return art


def average_runtime(hit_steps: npt.ArrayLike, steps_run: npt.ArrayLike) -> float:
    """COCO's average runtime (aRT) for one target.

    aRT = (evaluations summed over all runs: the hit step for a successful run, ``steps_run``
    for a failed one) / (number of successful runs); ``inf`` when no run succeeded. See
    ``average_runtime_per_target`` for the meaning and the conventions.

    Args:
        hit_steps: first-hit step of each run for this target, shape ``[runs]``;
            ``NEVER_HIT`` (-1), NaN or ``inf`` for a failed run.
        steps_run: evaluations actually performed by each run, shape ``[runs]``.

    Returns:
        The aRT in evaluations, as a Python float.

    >>> average_runtime([10, -1, 30], [50, 100, 40])  # (10 + 100 + 30) / 2
    70.0
    >>> average_runtime([-1, -1], [100, 100])
    inf
    """
    steps = np.asarray(hit_steps, dtype=np.float64)
    if steps.ndim != 1:
        raise ValueError(f"hit_steps must have shape [runs] (got {steps.shape})")
    return float(average_runtime_per_target(steps[:, None], steps_run)[0])


# --------------------------------------------------------------------------------------------
# Runtime ECDFs
# --------------------------------------------------------------------------------------------


def runtime_ecdf(hit_steps: npt.ArrayLike, budgets: npt.ArrayLike) -> FloatArray:
    """Empirical distribution of runtimes over (run, target) pairs, as in COCO.

    For each budget B, the fraction of (run, target) pairs whose first-hit step is ``<= B``::

        ecdf(B) = #{(r, t): hit_steps[r, t] <= B} / (runs * targets)

    A pair that never hit its target counts in the denominator and never in the numerator,
    so the curve ends at the overall success fraction, not at 1. It is a non-decreasing,
    right-continuous step function of B. COCO additionally simulates restarts to extend
    the curve past the largest budget run and divides budgets by dimension; neither is done
    here (every run has the same budget, and the benchmark's functions are 2-D).

    Args:
        hit_steps: first-hit steps, usually ``[runs, targets]``; every entry is one pair.
            ``NEVER_HIT`` (-1), NaN or ``inf`` for a pair that was never solved.
        budgets: budgets in evaluations at which to read the curve, any shape.

    Returns:
        float64 array of the shape of ``budgets`` with values in [0, 1].

    >>> hit_steps = np.array([[5, 20], [-1, 8], [3, -1]])  # 6 pairs, 4 solved
    >>> (runtime_ecdf(hit_steps, [1, 3, 5, 10, 100]) * 6).tolist()
    [0.0, 1.0, 2.0, 3.0, 4.0]
    """
    steps, hit = _hit_steps_and_mask(hit_steps)
    if steps.size == 0:
        raise ValueError("runtime_ecdf needs at least one (run, target) pair")
    budget_values = np.asarray(budgets, dtype=np.float64)
    if np.any(np.isnan(budget_values)):
        raise ValueError("budgets must not contain NaN")
    solved = np.sort(steps[hit])
    # side="right" counts the pairs solved exactly at the budget (hit step <= B)
    counts = np.searchsorted(solved, budget_values, side="right")
    return np.asarray(counts / steps.size, dtype=np.float64)


def aggregate_runtime_ecdf(
    hit_steps_per_function: Sequence[npt.ArrayLike] | Mapping[str, npt.ArrayLike],
    budgets: npt.ArrayLike,
    *,
    dims: Sequence[int] | None = None,
) -> FloatArray:
    """Runtime ECDF over several functions, each function weighted equally.

    The aggregate is the mean of the per-function ECDFs (``runtime_ecdf`` of each)::

        ecdf(B) = (1 / F) * sum over functions f of ecdf_f(B)

    which is COCO's rule of equal weight per problem. When every function has the same
    number of (run, target) pairs this equals the ECDF of all pairs concatenated; when the
    numbers differ, a function with more starts does not weigh more. Use it once per
    function category (pass that category's functions) and once over all functions.

    ECDFs of different dimensions are never aggregated: runtimes grow with dimension, and
    COCO keeps dimensions apart. Pass ``dims`` (one per function) to have this checked; without
    it the caller asserts that all functions share one dimension (the benchmark is 2-D).

    Args:
        hit_steps_per_function: first-hit step arrays (``[runs, targets]``) per function, as a
            sequence or a mapping name -> array (its values are used, in order).
        budgets: budgets in evaluations at which to read the curve, any shape.
        dims: optional dimension of each function, in the same order.

    Returns:
        float64 array of the shape of ``budgets`` with values in [0, 1].

    Raises:
        ValueError: with no functions, if ``dims`` has the wrong length, or if the functions
            do not all share one dimension.

    >>> f1 = np.array([[2], [4]])          # ecdf_f1: 1/2 at B = 2, 1 at B = 4
    >>> f2 = np.array([[3], [-1], [-1], [-1]])  # ecdf_f2: 1/4 from B = 3 on
    >>> aggregate_runtime_ecdf([f1, f2], [2, 3, 4], dims=[2, 2]).tolist()
    [0.25, 0.375, 0.625]
    """
    if isinstance(hit_steps_per_function, Mapping):
        arrays = list(hit_steps_per_function.values())
    else:
        arrays = list(hit_steps_per_function)
    if not arrays:
        raise ValueError("aggregate_runtime_ecdf needs at least one function")
    if dims is not None:
        if len(dims) != len(arrays):
            raise ValueError(f"dims has {len(dims)} entries for {len(arrays)} functions")
        if len(set(dims)) > 1:
            raise ValueError(
                f"Refusing to aggregate ECDFs over different dimensions {sorted(set(dims))}: "
                "aggregate each dimension separately"
            )
    curves = [runtime_ecdf(steps, budgets) for steps in arrays]
    return np.asarray(np.mean(curves, axis=0), dtype=np.float64)


# --------------------------------------------------------------------------------------------
# Dolan-Moré performance profiles and the AlgoPerf area score
# --------------------------------------------------------------------------------------------


def performance_ratios(costs: npt.ArrayLike) -> FloatArray:
    """Dolan-Moré performance ratios: each solver's cost over the best cost on that problem.

    ``r[s, p] = costs[s, p] / min over solvers s' of costs[s', p]``. A failure (cost ``inf``
    or NaN) has ``r = inf``. On a problem where every solver failed the best cost is
    ``inf`` and every solver gets ``r = inf``: the problem stays in the denominator of the
    profile and counts against all solvers alike (Dolan and Moré's convention), so the
    profiles of a table never depend on dropping its hard problems.

    Args:
        costs: ``[solvers, problems]`` positive costs (e.g. aRT, or evaluations to a target).

    Returns:
        float64 array ``[solvers, problems]`` with values in [1, inf].

    Raises:
        ValueError: if the table is not 2-D, is empty, or holds a cost <= 0 (the ratio
            would be meaningless).

    >>> performance_ratios([[10, 20, np.inf], [20, 10, 40]]).tolist()
    [[1.0, 2.0, inf], [2.0, 1.0, 1.0]]
    """
    table = np.asarray(costs, dtype=np.float64)
    if table.ndim != 2 or table.size == 0:
        raise ValueError(f"costs must be a non-empty [solvers, problems] table (got {table.shape})")
    if np.any(table[~np.isnan(table)] <= 0):
        raise ValueError("costs must be > 0 (use inf or NaN for a failure)")
    failed = ~np.isfinite(table)
    cost = np.where(failed, np.inf, table)
    best = cost.min(axis=0)  # inf on a problem that every solver failed
    ratios = np.full(cost.shape, np.inf)
    # where a solver succeeded, the best cost on that problem is finite and > 0
    np.divide(cost, best, out=ratios, where=~failed)
    return ratios


def performance_profile(costs: npt.ArrayLike, taus: npt.ArrayLike) -> FloatArray:
    """Dolan-Moré performance profile of each solver, read at the given factors tau.

    ``rho_s(tau)`` is the fraction of problems on which solver s is within a factor tau of
    the best solver::

        rho_s(tau) = #{p : r[s, p] <= tau} / (number of problems)

    with ``r`` from ``performance_ratios`` (failures have ``r = inf`` and never count as
    solved; a problem every solver failed counts against all of them). ``rho_s(1)`` is the
    fraction of problems where s was (one of) the best; ``rho_s`` at large tau is the
    fraction s solved at all. Each ``rho_s`` is a non-decreasing, right-continuous step
    function. Plot it on a log2 tau axis, as Dolan and Moré do.

    Args:
        costs: ``[solvers, problems]`` positive costs; ``inf`` or NaN for a failure.
        taus: 1-D array of factors at which to read the profile (usually >= 1).

    Returns:
        float64 array ``[solvers, taus]`` with values in [0, 1].

    >>> costs = [[10, 20, np.inf], [20, 10, 40]]
    >>> (performance_profile(costs, [1, 2, 4]) * 3).tolist()
    [[1.0, 2.0, 2.0], [2.0, 3.0, 3.0]]
    """
    ratios = performance_ratios(costs)
    tau_values = np.asarray(taus, dtype=np.float64)
    if tau_values.ndim != 1:
        raise ValueError(f"taus must be 1-D (got shape {tau_values.shape})")
    if np.any(np.isnan(tau_values)):
        raise ValueError("taus must not contain NaN")
    # [solvers, problems, 1] <= [taus] -> [solvers, problems, taus], averaged over problems
    within = ratios[:, :, None] <= tau_values[None, None, :]
    return np.asarray(within.mean(axis=1), dtype=np.float64)


def performance_profile_area(costs: npt.ArrayLike, tau_max: float = 4.0) -> FloatArray:
    """AlgoPerf's score: the normalised area under each solver's performance profile.

    The score of solver s is the mean height of its profile on a linear tau axis from 1 to
    ``tau_max``::

        score_s = 1 / (tau_max - 1) * integral from 1 to tau_max of rho_s(tau) d tau

    It is 1 for a solver that is the best on every problem and 0 for one that is never within
    ``tau_max`` of the best (or always fails). The integral is exact, not read off a grid:
    rho_s is the mean over problems of the indicator ``[r_p <= tau]``, and the indicator's
    integral over [1, tau_max] is ``tau_max - r_p`` when ``r_p <= tau_max`` and 0 otherwise
    (ratios are >= 1), so::

        score_s = mean over problems p of clip(tau_max - r[s, p], 0, tau_max - 1) / (tau_max - 1)

    Failures (``r = inf``) contribute 0, including problems every solver failed.

    Args:
        costs: ``[solvers, problems]`` positive costs; ``inf`` or NaN for a failure.
        tau_max: upper end of the tau range, > 1 (AlgoPerf uses 4).

    Returns:
        float64 array ``[solvers]`` of scores in [0, 1].

    >>> costs = [[10, 20, np.inf], [20, 10, 40]]  # ratios [1, 2, inf] and [2, 1, 1]
    >>> (performance_profile_area(costs) * 9).round(12).tolist()  # (3 + 2 + 0) / 9, (2 + 3 + 3) / 9
    [5.0, 8.0]
    """
    if not (math.isfinite(tau_max) and tau_max > 1.0):
        raise ValueError(f"Invalid tau_max: {tau_max} (expected a finite value > 1)")
    ratios = performance_ratios(costs)
    width = tau_max - 1.0
    # tau_max - inf = -inf clips to 0: a failure adds no area. Dividing each problem's share
    # before averaging keeps every term <= 1, so rounding cannot push a score above 1.
    share = np.clip(tau_max - ratios, 0.0, width) / width
    return np.asarray(share.mean(axis=1), dtype=np.float64)


# --------------------------------------------------------------------------------------------
# Medians, quartiles and a distribution-free interval for the median
# --------------------------------------------------------------------------------------------


class MedianIQR(NamedTuple):
    """Median and quartiles of a sample; the interquartile range is ``q3 - q1``.

    Attributes:
        median: the 50th percentile.
        q1: the 25th percentile (lower end of the interquartile range).
        q3: the 75th percentile (upper end of the interquartile range).
    """

    median: FloatArray
    q1: FloatArray
    q3: FloatArray


def _quantile_sorted(
    sorted_values: FloatArray, count: npt.NDArray[np.intp], q: float
) -> FloatArray:
    """Linear-interpolation quantile along the last axis of a sorted array (NaN at the end)."""
    # virtual index q (n - 1), as numpy's default "linear" method
    position = q * (count - 1).astype(np.float64)
    lower = np.floor(position)
    frac = position - lower
    lo = np.clip(lower, 0, None).astype(np.intp)
    hi = np.clip(np.ceil(position), 0, None).astype(np.intp)
    a_lo = np.take_along_axis(sorted_values, lo[..., None], axis=-1)[..., 0]
    a_hi = np.take_along_axis(sorted_values, hi[..., None], axis=-1)[..., 0]
    # inf - inf and 0 * inf are NaN; those cells are replaced by a_lo just below
    with np.errstate(invalid="ignore"):
        interpolated = a_lo + frac * (a_hi - a_lo)
    value = np.where((frac == 0) | (a_lo == a_hi), a_lo, interpolated)
    return np.asarray(np.where(count > 0, value, np.nan), dtype=np.float64)


def median_and_iqr(values: npt.ArrayLike, axis: int | None = None) -> MedianIQR:
    """Median and quartiles (25th, 75th percentiles) that treat ``inf`` as a real value.

    Meant for runtimes where a failure is recorded as ``inf`` (slower than any success): the
    quartiles are order statistics with numpy's linear interpolation, and ``inf`` takes part
    in them, so the median is ``inf`` exactly when at least half the runs failed. NaN means
    "no value" and is dropped (``np.nanpercentile``'s rule); a slice with no value left gives
    NaN. The only departure from ``np.nanpercentile`` is that interpolating between two
    equal infinities gives that infinity (numpy gives NaN), and no warning is raised.

    Args:
        values: array of values; failures as ``inf``, missing values as NaN.
        axis: axis along which to compute; None for the flattened array.

    Returns:
        ``MedianIQR(median, q1, q3)`` as float64 arrays with ``axis`` removed (0-d for
        ``axis=None``).

    >>> result = median_and_iqr([3.0, 1.0, np.inf, 2.0, np.nan])  # sorted: 1, 2, 3, inf
    >>> print(result.median, result.q1, result.q3)
    2.5 1.75 inf
    """
    data = np.asarray(values, dtype=np.float64)
    if axis is None:
        data = data.reshape(-1)
        axis = 0
    data = np.moveaxis(data, axis, -1)
    if data.shape[-1] == 0:
        empty = np.full(data.shape[:-1], np.nan)
        return MedianIQR(empty, empty.copy(), empty.copy())
    sorted_values = np.sort(data, axis=-1)  # NaN sort to the end
    count = np.sum(~np.isnan(data), axis=-1).astype(np.intp)
    return MedianIQR(
        median=_quantile_sorted(sorted_values, count, 0.5),
        q1=_quantile_sorted(sorted_values, count, 0.25),
        q3=_quantile_sorted(sorted_values, count, 0.75),
    )


def median_confidence_interval(
    values: npt.ArrayLike, confidence: float = 0.95
) -> tuple[float, float]:
    """Distribution-free confidence interval for the median, from order statistics.

    For a sample of n values sorted as x_(1) <= ... <= x_(n), the interval
    ``[x_(j), x_(n + 1 - j)]`` contains the population median with probability at least
    ``1 - 2 P(B <= j - 1)``, B ~ Binomial(n, 1/2), whatever the distribution (ties only make
    it more conservative). This picks the largest j whose guaranteed coverage is at least
    ``confidence``: the binomial analogue of the Wilson interval for a median runtime,
    with no resampling. ``inf`` values (failures) are order statistics like any other; NaN
    values are dropped. When even ``[x_(1), x_(n)]`` does not reach the confidence (at 95 %,
    n < 6) the answer is ``(-inf, inf)``; with no values it is ``(nan, nan)``.

    Args:
        values: 1-D sample (e.g. steps to target per start, failures as ``inf``).
        confidence: two-sided confidence level in (0, 1).

    Returns:
        ``(low, high)`` as Python floats.

    >>> # n = 10: [x_(2), x_(9)] covers with 1 - 2 * 11 / 1024 = 0.9785 >= 0.95
    >>> median_confidence_interval([5, 1, 9, 3, 7, 2, 8, 4, 10, 6])
    (2.0, 9.0)
    """
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"Invalid confidence: {confidence} (expected 0 < confidence < 1)")
    data = np.asarray(values, dtype=np.float64)
    if data.ndim != 1:
        raise ValueError(f"values must be 1-D (got shape {data.shape})")
    sample = np.sort(data[~np.isnan(data)])
    n = sample.size
    if n == 0:
        return math.nan, math.nan
    alpha = Fraction(1.0 - confidence)
    total = 2**n
    # cumulative = sum_{i < j} C(n, i), so P(B <= j - 1) = cumulative / 2^n, kept exact
    j = 0
    cumulative = 0
    while j + 1 <= n + 1 - (j + 1):
        cumulative += math.comb(n, j)
        if Fraction(2 * cumulative, total) > alpha:
            break
        j += 1
    if j == 0:
        return -math.inf, math.inf
    return float(sample[j - 1]), float(sample[n - j])
