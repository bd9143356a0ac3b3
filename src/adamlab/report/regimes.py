"""The two regimes of a run's report: the optimizers at their given settings and tuned.

``adamlab run`` (default experiment) also runs ``adamlab sweep`` into ``DIR/tuned``: every
optimizer's learning rate tuned on one shared grid from tuning starts, then each optimizer
evaluated twice from the same fresh starts, at its given settings and at its single tuned
lr (see :mod:`adamlab.bench.sweep`). This module reads those evaluation records and writes the
section of ``DIR/report.md`` that puts the two regimes side by side and states what changes.

Definitions used in the section (all on the evaluation starts, at the sweep's target T):

* *success rate*: the fraction of starts whose best-so-far gap f - f* reached T, with its
  95 % Wilson interval;
* *best optimizer on a function*: the highest success rate; ties broken by the lower median
  steps to T among successful runs; "none" when no optimizer reached T from any start;
* *significant change*: the 95 % Wilson intervals of the two regimes do not overlap.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from adamlab.bench.records import Records
from adamlab.bench.summary import format_rate, summary_rows, target_key
from adamlab.functions import get
from adamlab.plot.regimes import RegimeRates, regimes_figure
from adamlab.report.run_report import _save

__all__ = ["TUNED_DIR", "RegimePair", "best_optimizers", "regime_pairs", "regimes_section"]

#: Sub-folder of an ``adamlab run`` output that holds its tuned sweep.
TUNED_DIR = "tuned"
_TUNED_SUFFIX = "-tuned"

Row = dict[str, Any]


@dataclass(frozen=True)
class RegimePair:
    """One optimizer on one function: its summary rows at the given and the tuned settings."""

    function: str
    optimizer: str
    given: Row
    tuned: Row

    def rates(self, key: str) -> RegimeRates:
        def triple(row: Row) -> tuple[float, float, float]:
            return (row[f"success@{key}"], row[f"success@{key}_low"], row[f"success@{key}_high"])

        return RegimeRates(self.optimizer, triple(self.given), triple(self.tuned))


def regime_pairs(evaluation: Records, target: float) -> list[RegimePair]:
    """Pair every optimizer's given-settings row with its ``<name>-tuned`` row, per function.

    Raises:
        ValueError: if a tuned label has no given-settings twin in the records.
    """
    rows = summary_rows(evaluation, (target,))
    by_key = {(r["optimizer"], r["function"]): r for r in rows}
    pairs = []
    for function in evaluation.functions:
        for label in evaluation.optimizers:
            if label.endswith(_TUNED_SUFFIX):
                continue
            tuned = by_key.get((label + _TUNED_SUFFIX, function))
            given = by_key.get((label, function))
            if tuned is None or given is None:
                raise ValueError(f"{evaluation.out}: no tuned twin of {label} on {function}")
            pairs.append(RegimePair(function, label, given, tuned))
    return pairs


def _rank_key(row: Row, key: str) -> tuple[float, float]:
    steps = row[f"median_steps@{key}"]
    return (-row[f"success@{key}"], math.inf if math.isnan(steps) else steps)


def best_optimizers(rows: Sequence[tuple[str, Row]], key: str) -> list[str]:
    """The optimizers with the highest success rate at ``key`` (ties: fewer median steps);
    empty when every rate is 0.

    >>> rows = [("a", {"success@1e-04": 0.5, "median_steps@1e-04": 90.0}),
    ...         ("b", {"success@1e-04": 0.5, "median_steps@1e-04": 40.0}),
    ...         ("c", {"success@1e-04": 0.2, "median_steps@1e-04": 10.0})]
    >>> best_optimizers(rows, "1e-04")
    ['b']
    """
    if not rows or max(r[f"success@{key}"] for _, r in rows) == 0:
        return []
    best = min(_rank_key(r, key) for _, r in rows)
    return [name for name, r in rows if _rank_key(r, key) == best]


def _disjoint(a: Row, b: Row, key: str) -> bool:
    return bool(
        a[f"success@{key}_high"] < b[f"success@{key}_low"]
        or b[f"success@{key}_high"] < a[f"success@{key}_low"]
    )


def _join(names: Sequence[str]) -> str:
    if len(names) <= 1:
        return "".join(names) or "none"
    return ", ".join(names[:-1]) + " and " + names[-1]


def _conclusions(
    pairs: Sequence[RegimePair], functions: Sequence[str], names: dict[str, str], key: str
) -> list[str]:
    optimizers = list(dict.fromkeys(p.optimizer for p in pairs))
    best_given: dict[str, list[str]] = {}
    best_tuned: dict[str, list[str]] = {}
    for function in functions:
        group = [p for p in pairs if p.function == function]
        best_given[function] = best_optimizers([(p.optimizer, p.given) for p in group], key)
        best_tuned[function] = best_optimizers([(p.optimizer, p.tuned) for p in group], key)
    changed = [
        f"{names[f]}: {_join(best_given[f])} → {_join(best_tuned[f])}"
        for f in functions
        if best_given[f] != best_tuned[f]
    ]
    unsolved = [names[f] for f in functions if not best_given[f] and not best_tuned[f]]
    n = len(functions)
    lines = [
        f"- **Tuning changed the best optimizer on {len(changed)} of {n} functions**"
        + (f" (best optimizer given → tuned: {'; '.join(changed)})." if changed else ".")
    ]
    means = []
    for optimizer in optimizers:
        mine = [p for p in pairs if p.optimizer == optimizer]
        given = sum(p.given[f"success@{key}"] for p in mine) / len(mine)
        tuned = sum(p.tuned[f"success@{key}"] for p in mine) / len(mine)
        up = [
            names[p.function]
            for p in mine
            if _disjoint(p.given, p.tuned, key)
            and p.tuned[f"success@{key}"] > p.given[f"success@{key}"]
        ]
        down = [
            names[p.function]
            for p in mine
            if _disjoint(p.given, p.tuned, key)
            and p.tuned[f"success@{key}"] < p.given[f"success@{key}"]
        ]
        lr_given, lr_tuned = mine[0].given["lr"], mine[0].tuned["lr"]
        means.append((tuned - given, optimizer))
        detail = f"significantly better on {_join(up)}" if up else "no significant gain"
        if down:
            detail += f", significantly worse on {_join(down)}"
        lines.append(
            f"- {optimizer}: lr {lr_given:.3g} → {lr_tuned:.3g}; mean success rate over the "
            f"{n} functions {given:.2f} → {tuned:.2f} ({detail})."
        )
    gain, winner = max(means)
    if gain > 0:
        lines.append(f"- The largest mean gain from tuning is {winner}'s (+{gain:.2f}).")
    if "adam" in optimizers:
        count_given = sum("adam" in best_given[f] for f in functions)
        count_tuned = sum("adam" in best_tuned[f] for f in functions)
        lines.append(
            f"- The seed's claim that Adam is the most reliable: Adam is the best optimizer "
            f"(ties included) on {count_given} of {n} functions at the given settings and on "
            f"{count_tuned} of {n} with every optimizer tuned."
        )
    if unsolved:
        lines.append(
            f"- On {_join(unsolved)} no optimizer reached the target from any start in either "
            "regime: a better learning rate does not fix what fails there (see "
            "`docs/findings.md`)."
        )
    return lines


def regimes_section(out: str | Path, written: list[Path]) -> list[str]:
    """The Markdown lines of the two-regime section of ``out/report.md``; its figure is saved
    into ``out/figures`` and appended to ``written``. Empty when ``out`` has no tuned sweep."""
    from adamlab.bench.sweep import EVALUATION_DIR, SWEEP_JSON, read_sweep

    out = Path(out)
    tuned_dir = out / TUNED_DIR
    if not (tuned_dir / SWEEP_JSON).exists():
        return []
    sweep = read_sweep(tuned_dir)
    evaluation = Records(tuned_dir / EVALUATION_DIR)
    target = float(sweep["target"])
    key = target_key(target)
    pairs = regime_pairs(evaluation, target)
    functions = evaluation.functions
    names = {
        f: get(f, evaluation.unit(evaluation.optimizers[0], f).dim).display_name for f in functions
    }
    panels = {names[f]: [p.rates(key) for p in pairs if p.function == f] for f in functions}
    figure = _save(regimes_figure(panels, target), out / "figures" / "regimes.png")
    written.append(figure)
    grid = sweep["lr_grid"]
    steps = evaluation.spec.steps
    lines = [
        "## Given settings vs tuned settings",
        "",
        "The comparison above runs each optimizer at the settings it was given. A learning "
        "rate can matter more than the update rule, so the same optimizers were also tuned "
        f"(`{TUNED_DIR}/`, the `adamlab sweep` protocol): each one's learning rate chosen on "
        f"one shared grid of {len(grid)} rates from {grid[0]:g} to {grid[-1]:g}, the single "
        f"rate that does best over all functions, on {sweep['tune_starts']} tuning starts per "
        f"function. Both regimes were then run from the same {sweep['eval_starts']} fresh "
        f"starts per function, disjoint from the tuning starts, for {steps:,} steps each: "
        "fewer steps than the run above, so compare the rates within this section. "
        f"{sweep['budget_text']}",
        "",
        f"![given vs tuned](figures/{figure.name})",
        "",
        f"| function | optimizer | lr given | lr tuned | success ≤ {key} given [95 % CI] | "
        f"success ≤ {key} tuned [95 % CI] | median steps given | median steps tuned |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for p in pairs:
        steps_given = p.given[f"median_steps@{key}"]
        steps_tuned = p.tuned[f"median_steps@{key}"]
        lines.append(
            f"| {names[p.function]} | {p.optimizer} | {p.given['lr']:.3g} | {p.tuned['lr']:.3g} | "
            f"{format_rate(p.given, key)} | {format_rate(p.tuned, key)} | "
            f"{'-' if math.isnan(steps_given) else f'{steps_given:g}'} | "
            f"{'-' if math.isnan(steps_tuned) else f'{steps_tuned:g}'} |"
        )
    lines += ["", "What changes when every optimizer is tuned:", ""]
    lines += _conclusions(pairs, functions, names, key)
    lines += [
        "",
        f"The tuning itself (learning-rate sensitivity, per-function choices) is in "
        f"[{TUNED_DIR}/report.html]({TUNED_DIR}/report.html).",
        "",
    ]
    return lines
