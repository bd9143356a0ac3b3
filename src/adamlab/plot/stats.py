"""Statistics figures from records: runtime ECDFs, performance profiles, lr sensitivity.

Every figure reads :class:`~adamlab.bench.records.Records` and the metrics of
:mod:`adamlab.bench.metrics`; nothing is run or saved here.

* **Runtime ECDF** (COCO): for a budget B on the x-axis (gradient evaluations, log scale), the
  fraction of (start, target) pairs whose first hit of the target came within B evaluations;
  aggregated over functions with equal weight per function (per category, and overall).
* **Performance profile** (Dolan & Moré): problems are (function, target) pairs, the cost of a
  solver on a problem is its aRT there (inf: never reached); rho(tau) is the fraction of
  problems on which the solver's aRT is within a factor tau of the best solver's. The legend
  carries AlgoPerf's area score (normalised area under rho for tau from 1 to 4).
* **Learning-rate sensitivity** (DeepOBS): median final gap f(theta_T) - f* with its
  interquartile band against the learning rate, one line per optimizer, log-log.

A *solver* is an optimizer label when its units hold one learning rate, else
``label@lr`` for each learning rate.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from adamlab.bench.engine import UnitResult
from adamlab.bench.metrics import (
    aggregate_runtime_ecdf,
    average_runtime_per_target,
    median_and_iqr,
    performance_profile,
    performance_profile_area,
    performance_ratios,
)
from adamlab.bench.records import Records
from adamlab.functions import get
from adamlab.plot.curves import GAP_FLOOR, optimizer_colors

__all__ = [
    "TAU_MAX",
    "Solver",
    "draw_ecdf",
    "draw_lr_sensitivity",
    "draw_performance_profile",
    "ecdf_figure",
    "lr_sensitivity_figure",
    "performance_profile_figure",
    "profile_costs",
    "solvers_of",
]

#: AlgoPerf's upper end of tau for the area score.
TAU_MAX = 4.0
#: Suffix that marks a tuned setting (see :func:`adamlab.bench.sweep.tuned_label`).
TUNED_SUFFIX = "-tuned"


@dataclass(frozen=True)
class Solver:
    """One line of a statistics figure: an optimizer label at one learning rate (or all)."""

    name: str
    optimizer: str
    lr: float | None

    def rows(self, unit: UnitResult, start_set: str | None) -> np.ndarray:
        select = np.ones(len(unit.lr), dtype=bool)
        if self.lr is not None:
            select &= np.asarray(unit.lr, dtype=np.float64) == self.lr
        if start_set is not None:
            select &= np.asarray(unit.start_set).astype(str) == start_set
        return select


def solvers_of(records: Records) -> list[Solver]:
    """The solvers of the records, in the records' optimizer order."""
    out: list[Solver] = []
    for optimizer in records.optimizers:
        lrs = sorted({float(v) for u in records.units if u.optimizer == optimizer for v in u.lr})
        if len(lrs) == 1:
            out.append(Solver(optimizer, optimizer, None))
        else:
            out += [Solver(f"{optimizer}@{lr:g}", optimizer, lr) for lr in lrs]
    return out


def _styles(solvers: Sequence[Solver]) -> dict[str, tuple[str, str]]:
    """Colour by base optimizer (a tuned setting shares its optimizer's colour), dashes for
    tuned settings."""
    bases = list(dict.fromkeys(s.name.removesuffix(TUNED_SUFFIX) for s in solvers))
    colors = optimizer_colors(bases)
    return {
        s.name: (
            colors[s.name.removesuffix(TUNED_SUFFIX)],
            "--" if s.name.endswith(TUNED_SUFFIX) else "-",
        )
        for s in solvers
    }


def _hits(records: Records, solver: Solver, function: str, start_set: str | None) -> np.ndarray:
    unit = records.unit(solver.optimizer, function)
    return np.asarray(unit.hit_evals)[solver.rows(unit, start_set)]


# -- runtime ECDFs ----------------------------------------------------------------------------


def draw_ecdf(
    ax: Axes,
    records: Records,
    functions: Sequence[str],
    *,
    start_set: str | None = None,
    solvers: Sequence[Solver] | None = None,
    title: str = "",
) -> dict[str, Line2D]:
    """Runtime ECDF over (start, target) pairs of ``functions``, one line per solver.

    Returns:
        solver name -> its line.
    """
    solvers = list(solvers) if solvers is not None else solvers_of(records)
    styles = _styles(solvers)
    last = max(u.steps_run for u in records.units) + 1
    budgets = np.unique(np.round(np.logspace(0, math.log10(last), 200)))
    dims = [records.unit(records.optimizers[0], f).dim for f in functions]
    lines: dict[str, Line2D] = {}
    for solver in solvers:
        per_function = [_hits(records, solver, f, start_set) for f in functions]
        ecdf = aggregate_runtime_ecdf(per_function, budgets, dims=dims)
        color, dash = styles[solver.name]
        (line,) = ax.step(
            budgets, ecdf, where="post", color=color, linestyle=dash, label=solver.name, lw=1.6
        )
        lines[solver.name] = line
    ax.set_xscale("log")
    ax.set_xlim(1, last)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("gradient evaluations")
    ax.set_ylabel("fraction of (start, target) pairs")
    ax.grid(True, which="major", alpha=0.3)
    if title:
        ax.set_title(title, fontsize=10)
    return lines


def ecdf_groups(records: Records) -> list[tuple[str, list[str]]]:
    """(title, functions) of the ECDF panels: all functions, each category, each function.

    Functions of different dimensions are never pooled: "all" and categories are split by
    dimension when the records mix dimensions.
    """
    dims = {f: records.unit(records.optimizers[0], f).dim for f in records.functions}
    groups: list[tuple[str, list[str]]] = []
    for dim in sorted(set(dims.values())):
        suffix = f" ({dim}-D)" if len(set(dims.values())) > 1 else ""
        same = [f for f in records.functions if dims[f] == dim]
        groups.append((f"all {len(same)} functions{suffix}", same))
        categories: dict[str, list[str]] = {}
        for f in same:
            categories.setdefault(get(f, dim).category, []).append(f)
        if len(categories) > 1:
            groups += [
                (f"{c}{suffix}: " + ", ".join(get(f, dim).display_name for f in fs), fs)
                for c, fs in categories.items()
            ]
    groups += [(get(f, dims[f]).display_name, [f]) for f in records.functions]
    return groups


def ecdf_figure(records: Records, start_set: str | None = None, *, ncols: int = 4) -> Figure:
    """Runtime ECDFs: overall, per category and per function (small multiples)."""
    groups = ecdf_groups(records)
    nrows = math.ceil(len(groups) / ncols)
    fig = Figure(figsize=(3.4 * ncols, 2.9 * nrows + 0.9), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False)
    lines: dict[str, Line2D] = {}
    for ax, (title, functions) in zip(axes.flat, groups, strict=False):
        lines = draw_ecdf(ax, records, functions, start_set=start_set, title=title)
        if ax is not axes.flat[0]:
            ax.set_ylabel("")
    for ax in axes.flat[len(groups) :]:
        ax.set_visible(False)
    targets = records.spec.targets
    where = f", starts '{start_set}'" if start_set else ""
    fig.suptitle(
        f"Runtime ECDFs over (start, target) pairs, {len(targets)} targets "
        f"f - f* <= {max(targets):g} .. {min(targets):g}{where}",
        fontsize=11,
    )
    fig.legend(
        list(lines.values()),
        list(lines),
        loc="outside lower center",
        ncols=min(len(lines), 8),
        fontsize=9,
    )
    return fig


# -- performance profiles ---------------------------------------------------------------------


def profile_costs(
    records: Records, start_set: str | None = None, solvers: Sequence[Solver] | None = None
) -> tuple[list[Solver], list[tuple[str, float]], np.ndarray]:
    """The ``[solvers, problems]`` aRT table; problems are (function, target) pairs.

    A pair no solver ever reached stays in the table (it counts against every solver).
    """
    solvers = list(solvers) if solvers is not None else solvers_of(records)
    targets = list(records.spec.targets)
    problems = [(f, t) for f in records.functions for t in targets]
    costs = np.full((len(solvers), len(problems)), np.inf)
    for i, solver in enumerate(solvers):
        row = []
        for function in records.functions:
            unit = records.unit(solver.optimizer, function)
            select = solver.rows(unit, start_set)
            row.append(
                average_runtime_per_target(
                    np.asarray(unit.hit_evals)[select], np.asarray(unit.evals_run)[select]
                )
            )
        costs[i] = np.concatenate(row)
    return solvers, problems, costs


def draw_performance_profile(
    ax: Axes, records: Records, start_set: str | None = None, *, tau_max: float = TAU_MAX
) -> dict[str, float]:
    """Dolan-Moré profile on a log2 tau axis; the legend gives each solver's area score.

    Returns:
        solver name -> area score (tau from 1 to ``tau_max``).
    """
    solvers, _, costs = profile_costs(records, start_set)
    styles = _styles(solvers)
    upper = 2.0**10
    ratio = performance_ratios(costs)
    finite = ratio[np.isfinite(ratio)]
    if finite.size:
        upper = max(2.0 * tau_max, 2.0 ** math.ceil(math.log2(max(float(finite.max()), 2.0))))
    taus = np.unique(np.concatenate([np.logspace(0, math.log2(upper), 400, base=2.0), [1.0]]))
    rho = performance_profile(costs, taus)
    area = performance_profile_area(costs, tau_max)
    scores: dict[str, float] = {}
    for i, solver in enumerate(solvers):
        color, dash = styles[solver.name]
        scores[solver.name] = float(area[i])
        ax.step(
            taus,
            rho[i],
            where="post",
            color=color,
            linestyle=dash,
            lw=1.6,
            label=f"{solver.name} (area {area[i]:.2f})",
        )
    ax.axvline(tau_max, color="0.5", lw=0.8, ls=":")
    ax.set_xscale("log", base=2)
    ax.set_xlim(1, upper)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("tau (aRT within a factor tau of the best)")
    ax.set_ylabel("fraction of (function, target) problems")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8, loc="lower right", title=f"area score, tau <= {tau_max:g}")
    return scores


def performance_profile_figure(records: Records, start_set: str | None = None) -> Figure:
    """The performance profile of every solver over (function, target) problems."""
    fig = Figure(figsize=(7.5, 4.8), layout="constrained")
    ax = fig.subplots()
    draw_performance_profile(ax, records, start_set)
    n_problems = len(records.functions) * len(records.spec.targets)
    where = f", starts '{start_set}'" if start_set else ""
    ax.set_title(
        f"Performance profile: aRT on {n_problems} (function, target) problems{where}",
        fontsize=10,
    )
    return fig


# -- learning-rate sensitivity ----------------------------------------------------------------


def lr_sensitivity(
    unit: UnitResult, start_set: str | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per learning rate: (lrs, median, q1, q3 of the final gap, fraction diverged).

    Diverged runs have final gap ``inf`` (worse than any finite gap), so the median is
    ``inf`` when half the runs or more diverged.
    """
    lrs_all = np.asarray(unit.lr, dtype=np.float64)
    labels = np.asarray(unit.start_set).astype(str)
    gaps = np.asarray(unit.final_gap, dtype=np.float64)
    diverged = np.asarray(unit.diverged_step) >= 0
    gaps = np.where(diverged | np.isnan(gaps), np.inf, gaps)
    lrs = np.array(sorted(set(lrs_all.tolist())))
    med, q1, q3, frac = (np.empty(len(lrs)) for _ in range(4))
    for i, lr in enumerate(lrs):
        select = lrs_all == lr
        if start_set is not None:
            select &= labels == start_set
        stats = median_and_iqr(gaps[select])
        med[i], q1[i], q3[i] = float(stats.median), float(stats.q1), float(stats.q3)
        frac[i] = float(diverged[select].mean())
    return lrs, med, q1, q3, frac


def draw_lr_sensitivity(
    ax: Axes,
    records: Records,
    function: str,
    *,
    start_set: str | None = None,
    chosen: Mapping[str, float] | None = None,
) -> dict[str, Line2D]:
    """Median final gap with IQR band against lr, one line per optimizer (log-log).

    Gaps below :data:`~adamlab.plot.curves.GAP_FLOOR` are drawn at the floor; a median of
    diverged runs is drawn at the top edge ("diverged") with a cross. ``chosen`` marks each
    optimizer's chosen lr with a ring.
    """
    colors = optimizer_colors(records.optimizers)
    data = {o: lr_sensitivity(records.unit(o, function), start_set) for o in records.optimizers}
    finite = np.concatenate([d[3][np.isfinite(d[3])] for d in data.values()] + [[1.0]])
    # the "diverged" line sits a decade above the largest finite gap, but no higher than 1e100:
    # matplotlib's log locator places ticks decades beyond the limits, and over ~300 decades
    # those overflow to inf; gaps that large are drawn on the line, as good as diverged
    exponent = math.ceil(math.log10(max(float(finite.max()), GAP_FLOOR))) + 1
    top = 10.0 ** min(exponent, 100)
    lines: dict[str, Line2D] = {}
    for optimizer, (lrs, med, q1, q3, _) in data.items():
        color = colors[optimizer]

        def shown(values: np.ndarray) -> np.ndarray:
            return np.clip(np.where(np.isfinite(values), values, top), GAP_FLOOR, top)

        ax.fill_between(lrs, shown(q1), shown(q3), color=color, alpha=0.15, lw=0)
        (line,) = ax.plot(lrs, shown(med), color=color, lw=1.6, marker=".", label=optimizer)
        blown = ~np.isfinite(med)
        if blown.any():
            ax.plot(lrs[blown], np.full(blown.sum(), top), "x", color=color, ms=6)
        if chosen and optimizer in chosen:
            i = int(np.argmin(np.abs(np.log(lrs) - math.log(chosen[optimizer]))))
            ax.plot(lrs[i], shown(med)[i], "o", mfc="none", mec=color, ms=10, mew=1.6)
        lines[optimizer] = line
    ax.axhline(top, color="0.6", lw=0.8, ls=":")
    ax.text(0.01, 0.98, "diverged", transform=ax.transAxes, va="top", fontsize=7, color="0.4")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_ylim(GAP_FLOOR / 3, top * 10)
    ax.set_xlabel("learning rate")
    ax.set_ylabel("final f - f*")
    ax.grid(True, which="major", alpha=0.3)
    return lines


def lr_sensitivity_figure(
    records: Records,
    *,
    start_set: str | None = None,
    chosen: Mapping[str, float] | None = None,
    ncols: int = 3,
) -> Figure:
    """One lr-sensitivity panel per function (small multiples)."""
    functions = records.functions
    ncols = min(ncols, len(functions))
    nrows = math.ceil(len(functions) / ncols)
    fig = Figure(figsize=(4.2 * ncols, 3.3 * nrows + 0.9), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False)
    lines: dict[str, Line2D] = {}
    for ax, function in zip(axes.flat, functions, strict=False):
        lines = draw_lr_sensitivity(ax, records, function, start_set=start_set, chosen=chosen)
        ax.set_title(
            get(function, records.unit(records.optimizers[0], function).dim).display_name,
            fontsize=10,
        )
    for ax in axes.flat[len(functions) :]:
        ax.set_visible(False)
    ring = " (ring: the single lr chosen for all functions)" if chosen else ""
    fig.suptitle(
        f"Learning-rate sensitivity after {records.spec.steps:,} steps: median final gap "
        f"with interquartile band{ring}",
        fontsize=11,
    )
    fig.legend(
        list(lines.values()), list(lines), loc="outside lower center", ncols=len(lines), fontsize=9
    )
    return fig
