"""Convergence curves from records: median best-so-far ``f - f*`` over many starts.

The y-axis is the gap ``f - f*`` (never ``f`` itself: f* is negative for Easom, and a "loss"
that goes below zero cannot go on a log axis), best-so-far, so a curve never rises. Gaps of
exactly zero (a run that landed on x* in floating point) are drawn at a floor, which the axis
label states. The x-axis is ``t + 1`` on a log scale, so that the start (t = 0) is shown.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from matplotlib.axes import Axes
from matplotlib.collections import FillBetweenPolyCollection
from matplotlib.colors import to_hex
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from adamlab.bench.engine import UnitResult
from adamlab.bench.metrics import median_and_iqr
from adamlab.bench.records import Records
from adamlab.functions import get

#: Gaps below this are drawn at it (log axes cannot show 0).
GAP_FLOOR = 1e-16
#: The y-axis spans at least this many decades.
MIN_DECADES = 2
_PALETTE = (
    "#1f77b4",
    "#d62728",
    "#2ca02c",
    "#ff7f0e",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#17becf",
    "#bcbd22",
    "#7f7f7f",
)
_LINESTYLES = ("-", "--", ":", "-.")


def optimizer_colors(names: Sequence[str]) -> dict[str, str]:
    """One colour per optimizer, by position: pass the same list everywhere (``records.
    optimizers``) and every figure of a run uses the same colour for the same optimizer.

    >>> optimizer_colors(["adam", "sgd"])
    {'adam': '#1f77b4', 'sgd': '#d62728'}
    """
    return {name: to_hex(_PALETTE[i % len(_PALETTE)]) for i, name in enumerate(names)}


@dataclass(frozen=True)
class CurveDrawing:
    """What :func:`draw_median_curves` drew: per curve label, its median line and IQR band."""

    lines: dict[str, Line2D]
    bands: dict[str, FillBetweenPolyCollection]
    floor: float


def _lr_groups(unit: UnitResult, select: np.ndarray) -> list[tuple[float, np.ndarray]]:
    lrs = np.asarray(unit.lr, dtype=np.float64)
    return [(lr, select & (lrs == lr)) for lr in dict.fromkeys(lrs[select].tolist())]


def draw_median_curves(
    ax: Axes,
    units: Sequence[UnitResult],
    start_set: str,
    *,
    colors: dict[str, str] | None = None,
    floor: float = GAP_FLOOR,
    band: bool = True,
) -> CurveDrawing:
    """Median best-so-far ``f - f*`` over the starts of one start set, one line per optimizer.

    For each unit (optimizer) the rows of ``start_set`` give one curve per start; the line
    is their median at each recorded step and the band spans the 25th to 75th percentiles.
    A unit that swept several learning rates gives one line per lr (same colour, other dash).

    Args:
        ax: the Axes to draw on.
        units: the units of ONE function (one per optimizer).
        start_set: the start-set key whose rows are drawn.
        colors: optimizer label -> colour (default: :func:`optimizer_colors` of the units).
        floor: gaps below it are drawn at it (the y label says so).
        band: draw the 25-75 % band.

    Returns:
        A :class:`CurveDrawing`.
    """
    if len({u.function for u in units}) > 1:
        raise ValueError("draw_median_curves takes the units of one function")
    colors = colors or optimizer_colors([u.optimizer for u in units])
    lines: dict[str, Line2D] = {}
    bands: dict[str, FillBetweenPolyCollection] = {}
    low, high = math.inf, -math.inf
    diverged: list[str] = []
    for unit in units:
        select = np.asarray(unit.start_set).astype(str) == start_set
        if not select.any():
            raise ValueError(
                f"unit {unit.optimizer}/{unit.function} has no start set {start_set!r}"
            )
        groups = _lr_groups(unit, select)
        for k, (lr, rows) in enumerate(groups):
            label = unit.optimizer if len(groups) == 1 else f"{unit.optimizer} lr={lr:g}"
            gaps = np.maximum(np.asarray(unit.curve)[:, rows], floor)  # (P, n); NaN stays NaN
            stats = median_and_iqr(gaps, axis=1)
            x = np.asarray(unit.curve_steps, dtype=np.float64) + 1.0
            color = colors[unit.optimizer]
            (line,) = ax.plot(
                x,
                stats.median,
                color=color,
                linestyle=_LINESTYLES[k % len(_LINESTYLES)],
                linewidth=1.8,
                label=label,
            )
            lines[label] = line
            count = int(np.count_nonzero(np.asarray(unit.diverged_step)[rows] >= 0))
            if count:
                diverged.append(f"{label} {count}/{int(np.count_nonzero(rows))}")
            shown = np.concatenate([stats.q1, stats.q3, stats.median])
            shown = shown[np.isfinite(shown)]
            if shown.size:
                low, high = min(low, float(shown.min())), max(high, float(shown.max()))
            if band:
                bands[label] = ax.fill_between(
                    x, stats.q1, stats.q3, color=color, alpha=0.15, linewidth=0
                )
    ax.set_xscale("log")
    ax.set_yscale("log")
    if math.isfinite(low) and high > 0:
        # at least MIN_DECADES on the y-axis: a flat curve (Easom's plateau, where f - f*
        # moves from 1 to 0.9999) must look flat, not be stretched over the whole panel
        low = min(low, high / 10**MIN_DECADES)
        ax.set_ylim(low / 1.6, high * 1.6)
    if diverged:
        # a diverged run keeps its best-so-far gap, so its curve goes flat: say why
        ax.text(
            0.02,
            0.03,
            "diverged: " + ", ".join(diverged),
            transform=ax.transAxes,
            fontsize=8,
            bbox={"facecolor": "white", "alpha": 0.8, "edgecolor": "none"},
        )
    ax.set_xlabel("step t + 1 (log scale)")
    ax.set_ylabel(f"best-so-far $f - f^*$\n(values < {floor:.0e} drawn at {floor:.0e})")
    ax.grid(True, which="major", alpha=0.3)
    return CurveDrawing(lines, bands, floor)


def describe_start_set(records: Records, start_set: str) -> str:
    """A few words on where a start set's points were drawn."""
    for start in records.spec.starts:
        if start.key != start_set:
            continue
        if start.name == "domain":
            return "uniform in each function's standard domain"
        if start.name == "seed":
            return "uniform in [-1, 1]$^2$, the seed notebook's box"
        if start.name == "box" and start.box is not None:
            return f"uniform in [{start.box[0]:g}, {start.box[1]:g}]$^d$"
        if start.name == "points":
            return "given points"
    return start_set


def n_starts(records: Records, start_set: str) -> int:
    """The number of starts of one start set (rows of the first lr of the first unit)."""
    unit = records.units[0]
    select = np.asarray(unit.start_set).astype(str) == start_set
    return len(set(np.asarray(unit.start_index)[select].tolist()))


def seed_figure(records: Records, start_set: str, *, ncols: int = 2) -> Figure:
    """The seed notebook's figure done right: one panel per function, median f - f* curves.

    Every optimizer starts from the same points; the line is the median best-so-far gap over
    the starts of ``start_set`` and the band the 25-75 % range. One legend for all panels.

    Args:
        records: the run's records.
        start_set: the start-set key to draw.
        ncols: panels per row (the seed's six functions give 3 x 2).

    Returns:
        The figure (not saved).
    """
    if start_set not in records.start_sets:
        raise ValueError(f"unknown start set {start_set!r} (records have {records.start_sets})")
    functions = records.functions
    nrows = math.ceil(len(functions) / ncols)
    fig = Figure(figsize=(6.0 * ncols, 3.9 * nrows + 1.2), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False)
    colors = optimizer_colors(records.optimizers)
    handles: dict[str, Line2D] = {}
    for ax, name in zip(axes.flat, functions, strict=False):
        units = [u for u in records.units if u.function == name]
        drawing = draw_median_curves(ax, units, start_set, colors=colors)
        handles.update(drawing.lines)
        ax.set_title(get(name, units[0].dim).display_name)
    for ax in axes.flat[len(functions) :]:
        ax.set_visible(False)
    fig.legend(
        list(handles.values()),
        list(handles),
        loc="outside lower center",
        ncols=min(len(handles), 6),
        frameon=False,
    )
    steps = records.spec.steps
    fig.suptitle(
        f"Median best-so-far $f - f^*$ (y-axis is the gap to the minimum, not $f$) over "
        f"{n_starts(records, start_set)} starts, {steps:,} steps\n"
        f"start set '{start_set}': {describe_start_set(records, start_set)}; the same starts "
        f"for every optimizer; line: median, band: 25-75 % of starts",
        fontsize=12,
    )
    return fig
