"""Tests for adamlab.plot.surfaces: what is drawn, where the minima markers go, no files."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from matplotlib.figure import Figure
from mpl_toolkits.mplot3d import Axes3D

from adamlab.functions import get, resolve_suite_or_names
from adamlab.plot.surfaces import (
    draw_contour,
    draw_surface,
    evaluate_grid,
    function_figure,
    seed_functions_figure,
)


def test_grid_shapes_and_scale_choice() -> None:
    rosen = evaluate_grid(get("rosenbrock"), resolution=40)
    assert rosen.x.shape == rosen.y.shape == rosen.values.shape == (40, 40)
    assert rosen.log and rosen.floor > 0
    # what the colours encode: f - f* + floor, never below the floor
    assert rosen.shown.min() >= rosen.floor
    assert rosen.x.min() == -2.0 and rosen.x.max() == 2.0  # the plot box, not the domain
    easom = evaluate_grid(get("easom"), resolution=40)
    assert not easom.log and easom.floor == 0.0
    np.testing.assert_array_equal(easom.shown, easom.values)
    assert evaluate_grid(get("easom"), resolution=10, log=True).log


def test_grid_of_an_nd_function_is_a_slice_through_the_minimizer() -> None:
    f = get("rosenbrock", 4)
    grid = evaluate_grid(f, resolution=21)
    assert grid.anchor.tolist() == [1.0, 1.0, 1.0, 1.0]
    assert grid.values.min() >= 0.0
    with pytest.raises(ValueError, match="resolution"):
        evaluate_grid(f, resolution=1)


def _offsets(artist: object) -> np.ndarray:
    return np.asarray(artist.get_offsets())  # type: ignore[attr-defined]


def test_contour_marks_every_global_and_local_minimum() -> None:
    fig = Figure()
    f = get("six_hump_camel")
    drawing = draw_contour(fig.add_subplot(), f, grid=evaluate_grid(f, resolution=30))
    np.testing.assert_allclose(
        np.sort(_offsets(drawing.global_minima), axis=0), np.sort(f.minimizers.numpy(), axis=0)
    )
    assert drawing.local_minima is not None and len(_offsets(drawing.local_minima)) == 4

    himmelblau = get("himmelblau")
    drawing = draw_contour(
        fig.add_subplot(), himmelblau, grid=evaluate_grid(himmelblau, resolution=30)
    )
    assert len(_offsets(drawing.global_minima)) == 4
    assert drawing.local_minima is None


def test_surface_draws_and_marks_minima() -> None:
    fig = Figure()
    ax = fig.add_subplot(projection="3d")
    assert isinstance(ax, Axes3D)
    f = get("three_hump_camel")
    drawing = draw_surface(ax, f, grid=evaluate_grid(f, resolution=15))
    assert drawing.surface in ax.collections
    assert drawing.local_minima is not None
    # on a log scale f* sits at log10(floor), inside the z range
    z_low, _ = ax.get_zlim()
    assert drawing.grid.log
    assert z_low <= np.log10(drawing.grid.floor)


def test_function_figure_has_surface_contour_and_colorbar() -> None:
    f = get("booth")
    fig = function_figure(f, resolution=20, surface_resolution=10)
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 3  # 3D surface, contour map, colour bar
    assert any(isinstance(ax, Axes3D) for ax in fig.axes)
    assert fig.get_suptitle().startswith("Booth\n$")
    fig.canvas.draw()  # renders (mathtext included) without a pyplot backend


def test_seed_figure_has_six_panels_with_titles() -> None:
    fig = seed_functions_figure(
        resolve_suite_or_names("seed"), resolution=20, surface_resolution=10
    )
    assert len(fig.subfigs) == 6
    titles = [sub.get_suptitle().split("\n")[0] for sub in fig.subfigs]
    assert titles == [
        "Rosenbrock",
        "Bukin N.6",
        "Bohachevsky 1",
        "Booth",
        "Three-hump camel",
        "Easom",
    ]
    assert len(fig.axes) == 18
    with pytest.raises(ValueError, match="at least one"):
        seed_functions_figure([])


def test_nd_function_figure_titles_the_slice() -> None:
    fig = function_figure(get("rastrigin", 5), resolution=20, surface_resolution=10)
    assert "d = 5" in fig.get_suptitle()


@pytest.mark.slow  # a fresh interpreter imports torch and matplotlib: seconds
def test_plot_modules_do_not_import_pyplot_or_write_files(tmp_path: Path) -> None:
    code = (
        "import sys; from adamlab.functions import get; "
        "from adamlab.plot.surfaces import function_figure; "
        "function_figure(get('matyas'), resolution=10, surface_resolution=10).canvas.draw(); "
        "print('matplotlib.pyplot' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"
    assert list(tmp_path.iterdir()) == []
