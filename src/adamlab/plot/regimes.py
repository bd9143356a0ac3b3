"""Two regimes side by side: each optimizer's success rate at its given and its tuned settings.

One panel per function; in each panel a pair of bars per optimizer (hatched: the given
settings, solid: the single learning rate tuned for all functions), each with its 95 % Wilson
interval as an error bar. Data in, figure out; nothing is read or saved here.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from adamlab.plot.curves import optimizer_colors

__all__ = ["RegimeRates", "draw_regime_bars", "regimes_figure"]


@dataclass(frozen=True)
class RegimeRates:
    """One optimizer on one function: success rates (with 95 % intervals) in both regimes."""

    optimizer: str
    given: tuple[float, float, float]  # (rate, low, high) at the given settings
    tuned: tuple[float, float, float]  # (rate, low, high) at the tuned single lr


def draw_regime_bars(
    ax: Axes, rates: Sequence[RegimeRates], colors: Mapping[str, str], *, width: float = 0.38
) -> None:
    """A given / tuned pair of bars per optimizer with Wilson error bars, rates in [0, 1]."""
    x = np.arange(len(rates), dtype=np.float64)
    for offset, regime, hatch, alpha in (
        (-width / 2, "given", "///", 0.35),
        (width / 2, "tuned", "", 0.9),
    ):
        values = [getattr(r, regime) for r in rates]
        heights = np.array([v[0] for v in values])
        below = heights - np.array([v[1] for v in values])
        above = np.array([v[2] for v in values]) - heights
        ax.bar(
            x + offset,
            heights,
            width,
            color=[colors[r.optimizer] for r in rates],
            alpha=alpha,
            hatch=hatch,
            edgecolor=[colors[r.optimizer] for r in rates],
            yerr=np.vstack([below, above]),
            error_kw={"ecolor": "0.25", "elinewidth": 0.9, "capsize": 2},
        )
    ax.set_xticks(x, [r.optimizer for r in rates], fontsize=8)
    ax.set_ylim(0.0, 1.05)
    ax.set_ylabel("success rate")
    ax.grid(True, axis="y", alpha=0.3)


def regimes_figure(
    panels: Mapping[str, Sequence[RegimeRates]], target: float, *, ncols: int = 3
) -> Figure:
    """Small multiples: one :func:`draw_regime_bars` panel per function (title = the key)."""
    names = list(panels)
    optimizers = list(dict.fromkeys(r.optimizer for rates in panels.values() for r in rates))
    colors = optimizer_colors(optimizers)
    ncols = min(ncols, len(names))
    nrows = math.ceil(len(names) / ncols)
    fig = Figure(figsize=(4.0 * ncols, 2.9 * nrows + 0.9), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False)
    for ax, name in zip(axes.flat, names, strict=False):
        draw_regime_bars(ax, panels[name], colors)
        ax.set_title(name, fontsize=10)
    for ax in axes.flat[len(names) :]:
        ax.set_visible(False)
    fig.suptitle(
        f"Success rate (f − f* ≤ {target:.0e}, 95 % Wilson interval): given settings (hatched) "
        "vs one tuned lr for all functions (solid)",
        fontsize=10,
    )
    legend = [
        Patch(facecolor="0.6", alpha=0.35, hatch="///", edgecolor="0.4", label="given settings"),
        Patch(facecolor="0.4", alpha=0.9, label="tuned lr (same for every function)"),
    ]
    fig.legend(handles=legend, loc="outside lower center", ncols=2, fontsize=9)
    return fig
