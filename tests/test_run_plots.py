"""Figures of a run, built from a tiny record directory made by the real engine."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from adamlab.bench import records as records_module
from adamlab.bench.engine import run_unit
from adamlab.bench.records import Records
from adamlab.bench.spec import spec_from_dict
from adamlab.functions import get
from adamlab.plot.curves import draw_median_curves, optimizer_colors, seed_figure
from adamlab.plot.trajectories import draw_trajectories, plot_box, trajectories_figure

TINY = {
    "optimizers": [{"name": "adam", "lr": 0.05}, {"name": "sgd", "lr": 1e-3}],
    "functions": ["booth", "bukin_n6"],
    "starts": [{"name": "domain", "n": 5}, {"name": "seed", "n": 5}],
    "steps": 200,
    "compile": False,
    "trace_rows": 3,
}


def make_records(out: Path) -> Records:
    spec = spec_from_dict(TINY)
    records_module.write_manifest(out, spec)
    for optimizer in spec.optimizers:
        for function in spec.functions:
            records_module.write_unit(out, run_unit(spec, optimizer, function))
    return Records(out)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Records:
    return make_records(tmp_path_factory.mktemp("records"))


def _plot_axes(fig: Figure) -> list[Axes]:
    return [ax for ax in fig.axes if ax.get_visible()]


def test_optimizer_colors_are_distinct_and_stable() -> None:
    colors = optimizer_colors(["adam", "sgd", "adagrad"])
    assert len(set(colors.values())) == 3
    assert optimizer_colors(["adam", "sgd", "adagrad"]) == colors


def test_draw_median_curves_one_line_per_optimizer(tiny: Records) -> None:
    fig = Figure()
    ax = fig.add_subplot()
    units = [u for u in tiny.units if u.function == "booth"]
    drawing = draw_median_curves(ax, units, "seed")
    assert list(drawing.lines) == ["adam", "sgd"]
    assert len(ax.get_lines()) == 2
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    assert "1e-16" in ax.get_ylabel()
    # the x data is t + 1, so the start (t = 0) sits at x = 1
    assert drawing.lines["adam"].get_xdata()[0] == 1.0  # type: ignore[index]


def test_draw_median_curves_rejects_mixed_functions_and_unknown_sets(tiny: Records) -> None:
    ax = Figure().add_subplot()
    with pytest.raises(ValueError, match="one function"):
        draw_median_curves(ax, tiny.units, "seed")
    with pytest.raises(ValueError, match="no start set"):
        draw_median_curves(ax, [tiny.units[0]], "nowhere")


def test_seed_figure(tiny: Records) -> None:
    fig = seed_figure(tiny, "domain")
    axes = _plot_axes(fig)
    assert len(axes) == 2
    assert [ax.get_title() for ax in axes] == ["Booth", "Bukin N.6"]
    assert all(len(ax.get_lines()) == 2 for ax in axes)
    assert len(fig.legends) == 1
    title = fig.get_suptitle()
    assert "5 starts" in title and "200 steps" in title and "not $f$" in title
    assert "'domain'" in title


def test_plot_box_grows_to_include_starts() -> None:
    bukin = get("bukin_n6")
    (x_lo, x_hi), (y_lo, y_hi) = plot_box(bukin, np.array([[0.5, 0.0], [-1.0, 0.9]]))
    assert x_lo == -15.0 and x_hi > 0.5 and (y_lo, y_hi) == (-3.0, 3.0)
    assert plot_box(bukin, np.array([[-10.0, 1.0]])) == ((-15.0, -5.0), (-3.0, 3.0))


def test_draw_trajectories(tiny: Records) -> None:
    ax = Figure().add_subplot()
    unit = tiny.unit("sgd", "booth")
    rows = [int(r) for r in unit.trace_rows[:2]]
    drawing = draw_trajectories(ax, get("booth"), unit, rows)
    assert len(drawing.paths) == 2
    assert drawing.starts.get_offsets().shape == (2, 2)
    np.testing.assert_allclose(drawing.starts.get_offsets(), unit.start[rows])
    assert drawing.left_frame == 0
    with pytest.raises(ValueError, match="not traced"):
        draw_trajectories(ax, get("booth"), unit, [len(unit.lr) - 1])


def test_trajectories_figure_same_starts_in_every_panel(tiny: Records) -> None:
    fig = trajectories_figure(tiny, "bukin_n6", "seed")
    axes = _plot_axes(fig)
    panels = [ax for ax in axes if ax.get_title()]
    assert [ax.get_title().split(" ")[0] for ax in panels] == ["adam", "sgd"]
    starts = [ax.collections[-3].get_offsets() for ax in panels]
    assert len(starts[0]) == 3
    np.testing.assert_array_equal(starts[0], starts[1])
    # the seed box lies outside Bukin's domain: the frame grew to show the starts
    assert panels[0].get_xlim()[1] > -5.0
