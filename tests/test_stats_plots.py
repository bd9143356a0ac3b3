"""ECDF and performance-profile figures: the drawn curves are the metrics of the records."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from adamlab.bench.metrics import aggregate_runtime_ecdf, performance_profile_area
from adamlab.bench.records import Records
from adamlab.bench.runner import run_experiment
from adamlab.bench.spec import spec_from_dict
from adamlab.plot.stats import (
    draw_ecdf,
    ecdf_figure,
    ecdf_groups,
    performance_profile_figure,
    profile_costs,
    solvers_of,
)


@pytest.fixture(scope="module")
def records(tmp_path_factory: pytest.TempPathFactory) -> Records:
    out = tmp_path_factory.mktemp("stats")
    spec = spec_from_dict(
        {
            "optimizers": [
                {"name": "adam", "lr": 0.1},
                {"name": "sgd", "lr": 0.01, "label": "sgd"},
                {"name": "sgd", "lr": 0.05, "label": "sgd-tuned"},
            ],
            "functions": ["booth", "rosenbrock", "three_hump_camel"],
            "starts": [{"name": "domain", "n": 6}],
            "steps": 200,
            "compile": False,
            "targets": [1e-1, 1e-3, 1e-6],
        }
    )
    run_experiment(spec, out)
    return Records(out)


def test_groups_are_overall_categories_and_functions(records: Records) -> None:
    groups = ecdf_groups(records)
    assert groups[0] == ("all 3 functions", ["booth", "rosenbrock", "three_hump_camel"])
    titles = [title for title, _ in groups]
    assert any(t.startswith("plate-shaped") for t in titles)  # booth
    assert any(t.startswith("valley-shaped") for t in titles)  # rosenbrock
    assert [fs for _, fs in groups[-3:]] == [["booth"], ["rosenbrock"], ["three_hump_camel"]]


def test_ecdf_line_is_the_aggregate_metric(records: Records) -> None:
    from matplotlib.figure import Figure

    ax = Figure().subplots()
    lines = draw_ecdf(ax, records, records.functions)
    assert set(lines) == {"adam", "sgd", "sgd-tuned"}
    x, y = lines["adam"].get_data()
    hits = [records.unit("adam", f).hit_evals for f in records.functions]
    assert np.allclose(y, aggregate_runtime_ecdf(hits, np.asarray(x)))
    # a tuned setting shares its optimizer's colour and is dashed
    assert lines["sgd-tuned"].get_color() == lines["sgd"].get_color()
    assert lines["sgd-tuned"].get_linestyle() == "--"


def test_ecdf_figure_has_one_panel_per_group(records: Records) -> None:
    fig = ecdf_figure(records)
    shown = [ax for ax in fig.axes if ax.get_visible()]
    assert len(shown) == len(ecdf_groups(records))
    assert all(ax.get_xscale() == "log" for ax in shown)


def test_profile_costs_are_art_per_function_and_target(records: Records) -> None:
    solvers, problems, costs = profile_costs(records)
    assert [s.name for s in solvers] == ["adam", "sgd", "sgd-tuned"]
    assert len(problems) == 3 * 3 and costs.shape == (3, 9)
    unit = records.unit("adam", "booth")
    hit, spent = unit.hit_evals[:, 0], unit.evals_run
    ok = hit >= 1
    expected = (hit[ok].sum() + spent[~ok].sum()) / ok.sum() if ok.any() else np.inf
    assert costs[0, 0] == pytest.approx(expected)


def test_profile_legend_carries_the_area_score(records: Records) -> None:
    fig = performance_profile_figure(records)
    ax = fig.axes[0]
    assert ax.get_xscale() == "log"
    legend = ax.get_legend()
    assert legend is not None
    labels = [t.get_text() for t in legend.get_texts()]
    _, _, costs = profile_costs(records)
    area = performance_profile_area(costs, 4.0)
    names = ["adam", "sgd", "sgd-tuned"]
    assert labels == [f"{n} (area {a:.2f})" for n, a in zip(names, area, strict=True)]


def test_multi_lr_units_become_one_solver_per_lr(tmp_path: Path) -> None:
    spec = spec_from_dict(
        {
            "optimizers": [{"name": "adam", "lrs": [0.01, 0.1]}],
            "functions": ["booth"],
            "starts": [{"name": "domain", "n": 2}],
            "steps": 20,
            "compile": False,
        }
    )
    run_experiment(spec, tmp_path)
    assert [s.name for s in solvers_of(Records(tmp_path))] == ["adam@0.01", "adam@0.1"]
