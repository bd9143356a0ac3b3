"""Optimizer paths from records, drawn over the function's contour map.

The engine records the iterates of the first few starts of every start set (``trace``); the
same starts are traced for every optimizer, so small multiples (one panel per optimizer) show
the same starting dots. Paths are drawn in the optimizer's colour; a dot marks the start and an
x the last iterate. The plot box is the function's own, enlarged to include the traced starts
(the seed's [-1, 1]^2 box lies outside Bukin N.6's domain) but not the far excursions of a
diverging run: those paths are cut at the frame, and the panel title counts them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from matplotlib import patheffects
from matplotlib.axes import Axes
from matplotlib.collections import PathCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from mpl_toolkits.mplot3d.axes3d import Axes3D

from adamlab.bench.engine import UnitResult
from adamlab.bench.records import Records
from adamlab.functions import TestFunction, get
from adamlab.plot.curves import describe_start_set, optimizer_colors
from adamlab.plot.surfaces import ContourDrawing, draw_contour, draw_surface, evaluate_grid

#: Margin added around the traced starts when the plot box grows to include them.
MARGIN = 0.05

Box2 = tuple[tuple[float, float], tuple[float, float]]


@dataclass(frozen=True)
class TrajectoryDrawing:
    """What :func:`draw_trajectories` drew.

    Attributes:
        contour: the contour map under the paths.
        paths: one line per traced row.
        starts: the start markers (dots).
        ends: the last-iterate markers (x).
        left_frame: how many paths went outside the plot box (or became non-finite).
    """

    contour: ContourDrawing
    paths: list[Line2D]
    starts: PathCollection
    ends: PathCollection
    left_frame: int


def traced_rows(unit: UnitResult, start_set: str, count: int | None = None) -> list[int]:
    """Row indices of the traced starts of ``start_set`` at the unit's first learning rate."""
    labels = np.asarray(unit.start_set).astype(str)
    first_lr = float(np.asarray(unit.lr)[0])
    rows = [
        int(r)
        for r in np.asarray(unit.trace_rows)
        if labels[r] == start_set and float(unit.lr[r]) == first_lr
    ]
    rows.sort(key=lambda r: int(unit.start_index[r]))
    return rows if count is None else rows[:count]


def plot_box(function: TestFunction, starts: np.ndarray, margin: float = MARGIN) -> Box2:
    """The function's plot box, grown (plus a margin) to include ``starts`` (k, >= 2)."""
    box = function.plot_box or tuple(
        (float(lo), float(hi))
        for lo, hi in zip(function.domain[0].tolist(), function.domain[1].tolist(), strict=True)
    )
    out = []
    for axis in range(2):
        lo, hi = box[axis]
        if starts.size:
            s_lo, s_hi = float(starts[:, axis].min()), float(starts[:, axis].max())
            if s_lo < lo or s_hi > hi:
                lo, hi = min(lo, s_lo), max(hi, s_hi)
                pad = margin * (hi - lo)
                lo, hi = (lo - pad if s_lo <= lo else lo), (hi + pad if s_hi >= hi else hi)
        out.append((lo, hi))
    return out[0], out[1]


def _left_frame(path: np.ndarray, box: Box2) -> bool:
    (x_lo, x_hi), (y_lo, y_hi) = box
    finite = np.isfinite(path).all()
    x, y = path[:, 0], path[:, 1]
    inside = (x >= x_lo) & (x <= x_hi) & (y >= y_lo) & (y <= y_hi)
    return not (finite and bool(inside.all()))


def draw_trajectories(
    ax: Axes,
    function: TestFunction,
    unit: UnitResult,
    rows: Sequence[int],
    *,
    color: str = "#d62728",
    box: Box2 | None = None,
    resolution: int = 160,
) -> TrajectoryDrawing:
    """Paths of traced rows over the contour map of ``function``.

    Args:
        ax: the Axes to draw on.
        function: the test function (d >= 2; only coordinates 1 and 2 are drawn).
        unit: the unit whose ``trace`` holds the rows.
        rows: row indices into the unit's batch; each must be in ``unit.trace_rows``.
        color: the paths' colour (the optimizer's).
        box: the plot box (default: :func:`plot_box` of the rows' starts).
        resolution: contour grid points per axis.

    Returns:
        A :class:`TrajectoryDrawing`.
    """
    traced = [int(r) for r in np.asarray(unit.trace_rows)]
    missing = [r for r in rows if r not in traced]
    if missing:
        raise ValueError(f"rows {missing} were not traced (traced: {traced})")
    trace = np.asarray(unit.trace)[:, [traced.index(int(r)) for r in rows], :2]  # (Q, k, 2)
    starts = np.asarray(unit.start)[list(rows), :2]
    box = box or plot_box(function, starts)
    grid = evaluate_grid(function, resolution=resolution, box=box)
    contour = draw_contour(ax, function, grid=grid, legend=False)
    outline = [patheffects.Stroke(linewidth=3.0, foreground="white"), patheffects.Normal()]
    paths = []
    left = 0
    for k in range(len(rows)):
        path = trace[:, k, :]
        keep = np.isfinite(path).all(axis=1)
        (line,) = ax.plot(
            path[keep, 0], path[keep, 1], color=color, linewidth=1.4, path_effects=outline
        )
        paths.append(line)
        left += _left_frame(path, box)
    finals = np.array(
        [trace[np.isfinite(trace[:, k]).all(axis=1), k][-1] for k in range(len(rows))]
    ).reshape(-1, 2)
    start_artist = ax.scatter(
        starts[:, 0], starts[:, 1], s=28, c=color, edgecolors="white", linewidths=0.9, zorder=6
    )
    end_artist = ax.scatter(
        finals[:, 0], finals[:, 1], s=55, c="white", marker="x", linewidths=2.2, zorder=7
    )
    ax.scatter(finals[:, 0], finals[:, 1], s=40, c=color, marker="x", linewidths=1.1, zorder=8)
    ax.set_xlim(*box[0])
    ax.set_ylim(*box[1])
    return TrajectoryDrawing(contour, paths, start_artist, end_artist, left)


def trajectories_figure(
    records: Records,
    function: str,
    start_set: str,
    *,
    count: int = 6,
    ncols: int | None = None,
    resolution: int = 160,
) -> Figure:
    """Small multiples: the same traced starts of ``start_set``, one panel per optimizer.

    Args:
        records: the run's records.
        function: the function's registry name.
        start_set: the start-set key.
        count: at most this many paths per panel (the first traced starts).
        ncols: panels per row (default: up to 4).
        resolution: contour grid points per axis.

    Returns:
        The figure (not saved).
    """
    units = [u for u in records.units if u.function == function]
    if not units:
        raise ValueError(f"no records for function {function!r}")
    f = get(function, units[0].dim)
    colors = optimizer_colors(records.optimizers)
    # the same starts in every panel: rows chosen by start index, the first unit's traced ones
    indices = [int(units[0].start_index[r]) for r in traced_rows(units[0], start_set, count)]
    if not indices:
        raise ValueError(f"no traced starts of start set {start_set!r} for {function!r}")

    def rows_of(unit: UnitResult) -> list[int]:
        by_index = {int(unit.start_index[r]): r for r in traced_rows(unit, start_set)}
        return [by_index[i] for i in indices if i in by_index]

    all_starts = np.concatenate([np.asarray(u.start)[rows_of(u), :2] for u in units])
    box = plot_box(f, all_starts)
    n = len(units)
    ncols = ncols or min(n, 4)
    nrows = math.ceil(n / ncols)
    fig = Figure(figsize=(4.2 * ncols + 0.6, 3.9 * nrows + 0.9), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False, sharex=True, sharey=True)
    for ax, unit in zip(axes.flat, units, strict=False):
        drawing = draw_trajectories(
            ax,
            f,
            unit,
            rows_of(unit),
            color=colors[unit.optimizer],
            box=box,
            resolution=resolution,
        )
        lr = float(unit.lr[rows_of(unit)[0]])
        title = f"{unit.optimizer} (lr {lr:g})"
        if drawing.left_frame:
            title += f"\n{drawing.left_frame} of {len(drawing.paths)} paths left the frame"
        ax.set_title(title, fontsize=10)
        ax.label_outer()
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    fig.suptitle(
        f"{f.display_name}: paths of the same {len(indices)} starts for every optimizer, "
        f"{records.spec.steps:,} steps\nstart set '{start_set}' "
        f"({describe_start_set(records, start_set)}); dot = start, x = last iterate, "
        f"red star = global minimum" + (", white dot = local minimum" if f.local_minima else ""),
        fontsize=11,
    )
    return fig


def draw_surface_paths(
    ax: Axes3D,
    function: TestFunction,
    units: Sequence[UnitResult],
    rows_of: Callable[[UnitResult], list[int]],
    colors: dict[str, str],
    box: Box2,
) -> int:
    """Paths of the traced rows of each unit, lifted onto the 3D surface of ``function``.

    Points outside ``box`` are not drawn (the surface exists only there). Returns the number
    of paths that left the box.
    """
    grid = evaluate_grid(function, resolution=70, box=box, floor_percentile=3.0)
    draw_surface(ax, function, grid=grid)
    left = 0
    for unit in units:
        traced = [int(r) for r in np.asarray(unit.trace_rows)]
        for row in rows_of(unit):
            path = np.asarray(unit.trace)[:, traced.index(row), :]
            inside = (
                np.isfinite(path).all(axis=1)
                & (path[:, 0] >= box[0][0])
                & (path[:, 0] <= box[0][1])
                & (path[:, 1] >= box[1][0])
                & (path[:, 1] <= box[1][1])
            )
            left += bool((~inside).any())
            point = path[inside]
            if len(point) == 0:
                continue
            values = function(torch.from_numpy(np.ascontiguousarray(point))).numpy()
            z = np.array([grid.height_of(float(v)) for v in values])
            ax.plot(point[:, 0], point[:, 1], z, color=colors[unit.optimizer], linewidth=1.6)
            ax.scatter(
                point[-1:, 0],
                point[-1:, 1],
                z[-1:],
                color=colors[unit.optimizer],
                marker="x",
                s=30,
                depthshade=False,
            )
    return left


def surface_paths_figure(
    records: Records, function: str, start_set: str, *, count: int = 3
) -> Figure:
    """One 3D surface with the paths of the same ``count`` starts for every optimizer."""
    units = [u for u in records.units if u.function == function]
    if not units:
        raise ValueError(f"no records for function {function!r}")
    f = get(function, units[0].dim)
    indices = [int(units[0].start_index[r]) for r in traced_rows(units[0], start_set, count)]

    def rows_of(unit: UnitResult) -> list[int]:
        by_index = {int(unit.start_index[r]): r for r in traced_rows(unit, start_set)}
        return [by_index[i] for i in indices if i in by_index]

    starts = np.concatenate([np.asarray(u.start)[rows_of(u), :2] for u in units])
    box = plot_box(f, starts)
    colors = optimizer_colors(records.optimizers)
    fig = Figure(figsize=(8.0, 6.4), layout="constrained")
    ax = fig.add_subplot(projection="3d")
    left = draw_surface_paths(ax, f, units, rows_of, colors, box)
    handles = [Line2D([], [], color=colors[u.optimizer], label=u.optimizer) for u in units]
    ax.legend(handles=handles, loc="upper left", fontsize=9)
    note = f"; {left} cut at the box edge" if left else ""
    fig.suptitle(
        f"{f.display_name}: the same {len(indices)} starts of '{start_set}' for every "
        f"optimizer, {records.spec.steps:,} steps\n(x = last iterate; where paths coincide the "
        f"last drawn shows{note})",
        fontsize=10,
    )
    return fig
