"""Surfaces and contour maps of test functions, with their known minima marked.

The drawing functions take a :class:`~adamlab.functions.TestFunction` (data: it carries its
plot box, minimizers and f*) and an Axes, and return what they drew. Figure builders return a
:class:`matplotlib.figure.Figure` and leave saving to the caller.

Colour scale: when the values in the plot box span several decades (Rosenbrock, Beale,
Goldstein-Price, ...) a linear colour map shows one dark basin and hides the valley, so these are
drawn as ``f - f*`` plus a small floor on a logarithmic scale (the 3D surface as
``log10(f - f* + floor)``). Functions whose values stay within a few decades (Easom, Rastrigin,
...) keep a linear scale of ``f`` itself.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.collections import PathCollection
from matplotlib.colorbar import Colorbar
from matplotlib.colors import LogNorm, Normalize
from matplotlib.contour import QuadContourSet
from matplotlib.figure import Figure, SubFigure
from matplotlib.ticker import (
    FormatStrFormatter,
    LogFormatterSciNotation,
    LogLocator,
    MaxNLocator,
)
from mpl_toolkits.mplot3d import Axes3D
from mpl_toolkits.mplot3d.art3d import Poly3DCollection

from adamlab.functions import TestFunction

#: Automatic scale: use log colours when at least this fraction of the plot box lies in the
#: bottom 5% of the value range, i.e. a linear colour map would paint it all one dark colour.
LOG_SCALE_AREA = 0.1
#: On a log scale the floor added to f - f* is this percentile of f - f* on the grid: the
#: darkest colour then covers about that share of the box around the minima, instead of the
#: colour range being spent on decades that only a pin-prick at x* reaches.
LOG_FLOOR_PERCENTILE = 0.5
#: 3D surfaces use a higher floor: a coarse grid samples a narrow valley unevenly, and on a
#: log scale the unevenly deep samples would stand out as spikes.
SURFACE_FLOOR_PERCENTILE = 3.0

_GLOBAL_STYLE: dict[str, Any] = {
    "marker": "*",
    "s": 220,
    "c": "red",
    "edgecolors": "white",
    "linewidths": 1.0,
    "zorder": 5,
}
_LOCAL_STYLE: dict[str, Any] = {
    "marker": "o",
    "s": 45,
    "c": "white",
    "edgecolors": "black",
    "linewidths": 1.0,
    "zorder": 4,
}


@dataclass(frozen=True)
class SurfaceGrid:
    """f evaluated on a regular 2-D grid over the plot box (a slice for d > 2).

    Attributes:
        x, y: the grid coordinates, shape (n, n) (``np.meshgrid`` layout, x along columns).
        values: f on the grid, shape (n, n), float64.
        f_star: the global minimum value of the function.
        log: whether to show ``f - f* + floor`` on a log scale (else ``f`` on a linear scale).
        floor: the value added to ``f - f*`` before taking logs (0 when ``log`` is False).
        anchor: the point whose coordinates 3..d the slice keeps fixed, shape (d,).
    """

    x: np.ndarray
    y: np.ndarray
    values: np.ndarray
    f_star: float
    log: bool
    floor: float
    anchor: np.ndarray

    @property
    def shown(self) -> np.ndarray:
        """What the colour encodes: ``f - f* + floor`` (log scale) or ``f`` (linear)."""
        if self.log:
            return np.maximum(self.values - self.f_star, 0.0) + self.floor
        return self.values

    @property
    def height(self) -> np.ndarray:
        """The z of the 3D surface: ``log10(f - f* + floor)`` or ``f``."""
        return np.log10(self.shown) if self.log else self.values

    def height_of(self, value: float) -> float:
        """The surface height of a function value, on the same scale as :attr:`height`."""
        if self.log:
            return math.log10(max(value - self.f_star, 0.0) + self.floor)
        return value

    @property
    def colour_label(self) -> str:
        return r"$f - f^*$ (log scale)" if self.log else r"$f$"

    @property
    def height_label(self) -> str:
        return r"$\log_{10}(f - f^*)$" if self.log else r"$f$"


def evaluate_grid(
    f: TestFunction,
    *,
    resolution: int = 240,
    box: Sequence[tuple[float, float]] | None = None,
    anchor: Sequence[float] | None = None,
    log: bool | None = None,
    floor_percentile: float = LOG_FLOOR_PERCENTILE,
) -> SurfaceGrid:
    """Evaluate ``f`` on a ``resolution x resolution`` grid over its plot box.

    Args:
        f: the test function.
        resolution: grid points per axis.
        box: ``(low, high)`` for coordinates 1 and 2 (default: ``f.plot_box``).
        anchor: for d > 2, the point whose other coordinates the slice keeps (default: the
            first global minimizer, so the slice passes through it).
        log: force the colour scale; None takes ``f.plot_log`` and, where that is None too,
            chooses log when the values span decades (see :data:`LOG_SCALE_AREA`).
        floor_percentile: on a log scale, the floor added to ``f - f*`` is this percentile
            of ``f - f*`` over the grid (see :data:`LOG_FLOOR_PERCENTILE`).

    Returns:
        The :class:`SurfaceGrid`.
    """
    if resolution < 2:
        raise ValueError(f"Invalid resolution: {resolution} (expected an integer >= 2)")
    plot_box = f.plot_box or ()
    (x_lo, x_hi), (y_lo, y_hi) = box if box is not None else plot_box[:2]
    base = f.minimizers[0] if anchor is None else torch.tensor(anchor, dtype=torch.float64)
    xs = torch.linspace(x_lo, x_hi, resolution, dtype=torch.float64)
    ys = torch.linspace(y_lo, y_hi, resolution, dtype=torch.float64)
    X, Y = torch.meshgrid(xs, ys, indexing="xy")  # (n, n) each, x along columns
    points = base.expand(resolution, resolution, f.dim).clone()
    points[..., 0] = X
    points[..., 1] = Y
    with torch.no_grad():
        values = f(points).numpy()
    values = np.where(np.isfinite(values), values, np.nanmax(values[np.isfinite(values)]))

    gap = np.maximum(values - f.f_star, 0.0)
    top = float(gap.max())
    if log is None:
        log = f.plot_log
    if log is None:
        # values span decades when much of the box sits in the bottom 5% of the range
        log = top > 0 and float(np.mean(gap < 0.05 * top)) >= LOG_SCALE_AREA
    floor = 0.0
    if log:
        floor = max(float(np.percentile(gap, floor_percentile)), top * 1e-12, 1e-300)
    return SurfaceGrid(
        x=X.numpy(),
        y=Y.numpy(),
        values=values,
        f_star=f.f_star,
        log=bool(log),
        floor=floor,
        anchor=base.numpy(),
    )


def _points_in_view(
    f: TestFunction, grid: SurfaceGrid, points: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The rows of ``points`` (k, d) that lie in the plotted slice and box, and a mask."""
    if points.size == 0:
        return points.reshape(0, f.dim), np.zeros(0, dtype=bool)
    in_slice = np.all(np.isclose(points[:, 2:], grid.anchor[2:]), axis=1)
    x_lo, x_hi = grid.x.min(), grid.x.max()
    y_lo, y_hi = grid.y.min(), grid.y.max()
    in_box = (
        (points[:, 0] >= x_lo)
        & (points[:, 0] <= x_hi)
        & (points[:, 1] >= y_lo)
        & (points[:, 1] <= y_hi)
    )
    mask = in_slice & in_box
    return points[mask], mask


def _local_minima(f: TestFunction) -> tuple[np.ndarray, np.ndarray]:
    points = np.array([p for p, _ in f.local_minima], dtype=np.float64).reshape(-1, f.dim)
    values = np.array([v for _, v in f.local_minima], dtype=np.float64)
    return points, values


def _axis_labels(f: TestFunction) -> tuple[str, str]:
    if f.dim == 2:
        return r"$x_1$", r"$x_2$"
    return r"$x_1$", rf"$x_2$   ($x_3 \ldots x_{{{f.dim}}}$ at $x^*$)"


@dataclass(frozen=True)
class ContourDrawing:
    """What :func:`draw_contour` drew.

    Attributes:
        filled: the filled contours (pass to ``fig.colorbar``).
        lines: thin contour lines over them.
        global_minima: markers at the global minimizers in view.
        local_minima: markers at the known local minima in view, or None if there are none.
        grid: the evaluated grid.
    """

    filled: QuadContourSet
    lines: QuadContourSet
    global_minima: PathCollection
    local_minima: PathCollection | None
    grid: SurfaceGrid


def draw_contour(
    ax: Axes,
    f: TestFunction,
    *,
    grid: SurfaceGrid | None = None,
    levels: int = 30,
    cmap: str = "viridis",
    legend: bool = True,
) -> ContourDrawing:
    """Draw a filled contour map of ``f`` over its plot box and mark its known minima.

    Global minimizers are red stars, known local minima white dots. On a log scale the
    colours show ``f - f* + floor`` with levels spaced evenly in log10.

    Args:
        ax: the Axes to draw on.
        f: the test function.
        grid: a precomputed grid (default: :func:`evaluate_grid` at its default resolution).
        levels: the number of colour levels.
        cmap: a matplotlib colour map name.
        legend: add a small legend for the markers.

    Returns:
        A :class:`ContourDrawing`.
    """
    grid = grid if grid is not None else evaluate_grid(f)
    shown = grid.shown
    norm: Normalize
    if grid.log:
        low, high = float(shown.min()), float(shown.max())
        bounds = np.geomspace(low, high, levels + 1)
        norm = LogNorm(vmin=low, vmax=high)
    else:
        # round level values (steps of 1, 2, 2.5, 5 x 10^k) so the colour bar reads cleanly
        bounds = np.asarray(
            MaxNLocator(levels, steps=[1, 2, 2.5, 5, 10]).tick_values(
                float(shown.min()), float(shown.max())
            )
        )
        norm = Normalize(vmin=bounds[0], vmax=bounds[-1])
    filled = ax.contourf(grid.x, grid.y, shown, levels=bounds, norm=norm, cmap=cmap)
    lines = ax.contour(
        grid.x,
        grid.y,
        shown,
        levels=bounds[::3],
        norm=norm,
        colors="black",
        linewidths=0.4,
        alpha=0.35,
    )

    # Markers: every global minimizer and every known local minimum that lies in view.
    glob, _ = _points_in_view(f, grid, f.minimizers.numpy())
    global_artist = ax.scatter(glob[:, 0], glob[:, 1], label="global minimum", **_GLOBAL_STYLE)
    local_points, _ = _points_in_view(f, grid, _local_minima(f)[0])
    local_artist = None
    if len(local_points):
        local_artist = ax.scatter(
            local_points[:, 0], local_points[:, 1], label="local minimum", **_LOCAL_STYLE
        )
    xlabel, ylabel = _axis_labels(f)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_aspect("auto")
    if legend:
        ax.legend(loc="upper right", fontsize=8, framealpha=0.85, scatterpoints=1)
    return ContourDrawing(filled, lines, global_artist, local_artist, grid)


@dataclass(frozen=True)
class SurfaceDrawing:
    """What :func:`draw_surface` drew: the surface, the minima markers and the grid."""

    surface: Poly3DCollection
    global_minima: Any
    local_minima: Any | None
    grid: SurfaceGrid


def draw_surface(
    ax: Axes3D,
    f: TestFunction,
    *,
    grid: SurfaceGrid | None = None,
    cmap: str = "viridis",
) -> SurfaceDrawing:
    """Draw ``f`` as a 3D surface over its plot box and mark its known minima.

    On a log scale the height is ``log10(f - f* + floor)``, so a function whose values span
    decades shows its valley instead of one wall.

    Args:
        ax: a 3D Axes (``fig.add_subplot(projection="3d")``).
        f: the test function.
        grid: a precomputed grid (default: :func:`evaluate_grid` at 80 points per axis, with
            the floor at :data:`SURFACE_FLOOR_PERCENTILE`).
        cmap: a matplotlib colour map name.

    Returns:
        A :class:`SurfaceDrawing`.
    """
    if grid is None:
        grid = evaluate_grid(f, resolution=80, floor_percentile=SURFACE_FLOOR_PERCENTILE)
    height = grid.height
    surface = ax.plot_surface(
        grid.x,
        grid.y,
        height,
        cmap=cmap,
        linewidth=0,
        antialiased=False,
        alpha=0.9,
        rcount=height.shape[0],
        ccount=height.shape[1],
    )
    glob, _ = _points_in_view(f, grid, f.minimizers.numpy())
    z_glob = np.full(len(glob), grid.height_of(f.f_star))
    global_artist = ax.scatter(glob[:, 0], glob[:, 1], z_glob, depthshade=False, **_GLOBAL_STYLE)
    local_points, mask = _points_in_view(f, grid, _local_minima(f)[0])
    local_artist = None
    if len(local_points):
        z_local = np.array([grid.height_of(v) for v in _local_minima(f)[1][mask]])
        local_artist = ax.scatter(
            local_points[:, 0], local_points[:, 1], z_local, depthshade=False, **_LOCAL_STYLE
        )
    # Draw markers over the surface instead of letting the depth sort hide them, and keep
    # them inside the z range (on a log scale f* sits at the floor, under the lowest grid node).
    ax.computed_zorder = False
    z_low = min(float(height.min()), float(z_glob.min(initial=np.inf)))
    z_high = float(height.max())
    pad = 0.02 * (z_high - z_low or 1.0)
    ax.set_zlim(z_low - pad, z_high + pad)
    for axis in (ax.xaxis, ax.yaxis, ax.zaxis):
        axis.set_major_locator(MaxNLocator(5))
    xlabel, _ = _axis_labels(f)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(r"$x_2$")
    ax.set_zlabel(grid.height_label)
    return SurfaceDrawing(surface, global_artist, local_artist, grid)


def draw_colorbar(fig: Figure | SubFigure, ax: Axes, contour: ContourDrawing) -> Colorbar:
    """A colour bar for ``contour`` next to ``ax``; on a log scale, ticks at powers of ten."""
    bar = fig.colorbar(contour.filled, ax=ax, label=contour.grid.colour_label, shrink=0.9)
    if contour.grid.log:
        shown = contour.grid.shown
        if float(shown.max()) < 1e3 * float(shown.min()):
            # under three decades powers of ten alone leave the bar almost unlabelled
            bar.locator = LogLocator(subs=(1.0, 2.0, 5.0))
            bar.formatter = FormatStrFormatter("%g")
        else:
            bar.locator = LogLocator()
            bar.formatter = LogFormatterSciNotation()
    else:
        bar.locator = MaxNLocator(8)
    bar.update_ticks()
    return bar


def title_of(f: TestFunction) -> str:
    """A figure title: the name (and dimension when d > 2) over the formula."""
    name = f.display_name if f.dim == 2 else f"{f.display_name} (d = {f.dim}, 2-D slice)"
    return f"{name}\n{f.formula_latex}"


def _draw_pair(
    fig: Figure | SubFigure,
    f: TestFunction,
    *,
    resolution: int,
    surface_resolution: int,
) -> tuple[SurfaceDrawing, ContourDrawing]:
    """Surface on the left, contour map (with colour bar) on the right."""
    ax3d = cast(Axes3D, fig.add_subplot(1, 2, 1, projection="3d"))
    ax = fig.add_subplot(1, 2, 2)
    contour = draw_contour(ax, f, grid=evaluate_grid(f, resolution=resolution))
    # same colour scale in both panels, even if the coarser grid would decide otherwise
    surface_grid = evaluate_grid(
        f,
        resolution=surface_resolution,
        log=contour.grid.log,
        floor_percentile=SURFACE_FLOOR_PERCENTILE,
    )
    surface = draw_surface(ax3d, f, grid=surface_grid)
    draw_colorbar(fig, ax, contour)
    return surface, contour


def function_figure(
    f: TestFunction, *, resolution: int = 240, surface_resolution: int = 80
) -> Figure:
    """One function: its 3D surface and its contour map side by side, minima marked.

    Args:
        f: the test function.
        resolution: contour grid points per axis.
        surface_resolution: surface grid points per axis.

    Returns:
        The figure (not saved).
    """
    fig = Figure(figsize=(13.0, 5.6), layout="constrained")
    _draw_pair(fig, f, resolution=resolution, surface_resolution=surface_resolution)
    fig.suptitle(title_of(f), fontsize=13)
    return fig


def seed_functions_figure(
    functions: Sequence[TestFunction],
    *,
    ncols: int = 2,
    title: str | None = None,
    resolution: int = 200,
    surface_resolution: int = 70,
) -> Figure:
    """Several functions in a grid, each as a surface plus a contour map (the seed's figure).

    Args:
        functions: the functions, e.g. ``resolve_suite_or_names("seed")``.
        ncols: functions per row (each takes two panels).
        title: an overall title, or None.
        resolution: contour grid points per axis.
        surface_resolution: surface grid points per axis.

    Returns:
        The figure (not saved).
    """
    if not functions:
        raise ValueError("seed_functions_figure needs at least one function")
    nrows = math.ceil(len(functions) / ncols)
    fig = Figure(figsize=(13.0 * ncols, 5.8 * nrows), layout="constrained")
    subfigures = fig.subfigures(nrows, ncols, squeeze=False)
    for f, subfigure in zip(functions, subfigures.flat, strict=False):
        _draw_pair(subfigure, f, resolution=resolution, surface_resolution=surface_resolution)
        subfigure.suptitle(title_of(f), fontsize=13)
    if title:
        fig.suptitle(title, fontsize=16, fontweight="bold")
    return fig
