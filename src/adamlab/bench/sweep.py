"""Learning-rate tuning on one shared grid, then evaluation on fresh starts.

Protocol (DeepOBS's grid search with COCO's "same parameters on every function" rule):

1. **Tuning.** Every optimizer runs every function on one log-spaced learning-rate grid, the
   same grid for all optimizers (default 25 points from 1e-5 to 1e1), from the tuning start
   set (label ``"tune"``). Each (optimizer, function) pair is one vectorized unit whose batch
   rows are (learning rate, start) pairs, written as ordinary records in ``DIR/tuning``.
2. **Choice.** Each learning rate is scored on the tuning starts (see :func:`score_rows`);
   per optimizer the best lr *per function* and the best *single* lr across all functions
   are chosen. Only the single lr is a fair setting (COCO: the same parameters on every
   function); the per-function choices are reported to show how much a per-problem tuning
   would gain and how far the best learning rates of different functions lie apart.
3. **Evaluation.** Each optimizer runs again from a fresh, disjoint start set (label
   ``"eval"``: drawn from its own seeded stream, see :mod:`adamlab.bench.starts`) at its
   single tuned lr (label ``<optimizer>-tuned``) and at its given settings (label
   ``<optimizer>``, the "default" regime), side by side, into ``DIR/evaluation``.

The tuning budget is stated in ``sweep.json``: evaluations per optimizer = grid points x
tuning starts x (steps + 1) x functions (a run of T steps makes T + 1 gradient evaluations;
the last one only scores theta_T), plus the evaluations actually spent after early stops.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from adamlab.bench.engine import UnitResult
from adamlab.bench.metrics import average_runtime
from adamlab.bench.records import Records, atomic_write_text
from adamlab.bench.spec import ExperimentSpec, default_label, spec_from_dict

if TYPE_CHECKING:
    from adamlab.bench.executors import Executor

__all__ = [
    "DEFAULT_LR_GRID",
    "EVAL_LABEL",
    "SWEEP_JSON",
    "TUNE_LABEL",
    "LrScore",
    "OptimizerChoice",
    "choose_learning_rates",
    "evaluation_spec_dict",
    "lr_grid",
    "read_sweep",
    "run_sweep",
    "score_rows",
    "tuned_label",
    "tuning_budget",
    "tuning_spec_dict",
]

#: (low, high, points) of the default learning-rate grid.
DEFAULT_LR_GRID: tuple[float, float, int] = (1e-5, 1e1, 25)
TUNE_LABEL = "tune"
EVAL_LABEL = "eval"
SWEEP_JSON = "sweep.json"
TUNING_DIR = "tuning"
EVALUATION_DIR = "evaluation"
#: Gaps below this count as this in the log-gap score (floating point cannot do better).
GAP_FLOOR = 1e-16
#: Gaps of diverged runs (and above this) count as this in the log-gap score.
GAP_CEILING = 1e300
SCORING = (
    "Each learning rate is scored, on each function, over the tuning starts by (1) the success "
    "rate at the tuning target (fraction of runs whose best-so-far gap f - f* reached it), "
    "higher first; ties by (2) COCO's average runtime aRT at that target (evaluations summed "
    "over all runs, each counted until it hit the target or ended, divided by the successes), "
    "lower first; then by (3) the log10 median final gap f(theta_T) - f* (diverged runs count "
    "as 1e300, gaps below 1e-16 as 1e-16), lower first; then the smaller lr. Across functions "
    "the same keys are averaged with equal weight per function: mean success rate, mean "
    "log10 aRT (infinite if any function had no success), mean log10 median final gap."
)


def lr_grid(low: float = 1e-5, high: float = 10.0, points: int = 25) -> tuple[float, ...]:
    """``points`` learning rates log-spaced from ``low`` to ``high`` (both included).

    >>> lr_grid(1e-3, 1e-1, 3)
    (0.001, 0.01, 0.1)
    """
    if not (math.isfinite(low) and math.isfinite(high) and 0 < low < high):
        raise ValueError(f"invalid lr grid: {low} .. {high} (expected 0 < low < high, finite)")
    if isinstance(points, bool) or not isinstance(points, int) or not 2 <= points <= 1000:
        raise ValueError(f"invalid lr grid size: {points!r} (expected an integer from 2 to 1000)")
    values = np.logspace(math.log10(low), math.log10(high), points)
    # round to 12 significant digits, so 1e-3 stays 0.001 in records and file names
    return tuple(float(f"{v:.12g}") for v in values)


def tuned_label(label: str) -> str:
    """The label of an optimizer's tuned setting in the evaluation records."""
    return f"{label}-tuned"


def _optimizer_dicts(base: Mapping[str, Any]) -> list[dict[str, Any]]:
    out = []
    for raw in base.get("optimizers", []):
        item = {"name": raw} if isinstance(raw, str) else dict(raw)
        if "label" not in item and isinstance(item.get("name"), str):
            item["label"] = default_label(item["name"])
        out.append(item)
    return out


def _start_kind(base: Mapping[str, Any]) -> dict[str, Any]:
    """The distribution of the first start set of ``base`` (default: the standard domain)."""
    starts = base.get("starts") or [{"name": "domain"}]
    first = starts[0] if isinstance(starts[0], Mapping) else {"name": starts[0]}
    kind = {k: v for k, v in first.items() if k in ("name", "box")}
    kind.setdefault("name", "domain")
    if kind["name"] == "points":
        raise ValueError("invalid sweep starts: explicit points (tuning and evaluation need draws)")
    return kind


def tuning_spec_dict(
    base: Mapping[str, Any], grid: Sequence[float], n_starts: int
) -> dict[str, Any]:
    """The tuning experiment: ``base`` with every optimizer on ``grid`` from the "tune" starts."""
    optimizers = []
    for item in _optimizer_dicts(base):
        tuned = {k: v for k, v in item.items() if k not in ("lr", "lrs")}
        optimizers.append({**tuned, "lrs": [float(v) for v in grid]})
    return {
        **base,
        "optimizers": optimizers,
        "starts": [{**_start_kind(base), "n": n_starts, "label": TUNE_LABEL}],
        "trace_rows": 0,
    }


def evaluation_spec_dict(
    base: Mapping[str, Any], chosen: Mapping[str, float], n_starts: int
) -> dict[str, Any]:
    """The evaluation experiment: each optimizer at its given settings and at its chosen lr.

    Args:
        base: the sweep's base spec (as a ``spec_from_dict`` mapping).
        chosen: optimizer label -> the single learning rate chosen on the tuning starts.
        n_starts: evaluation starts per function (label "eval").
    """
    optimizers = []
    for item in _optimizer_dicts(base):
        given = {k: v for k, v in item.items() if k != "lrs"}
        tuned = {**given, "label": tuned_label(item["label"]), "lr": chosen[item["label"]]}
        optimizers += [given, tuned]
    return {
        **base,
        "optimizers": optimizers,
        "starts": [{**_start_kind(base), "n": n_starts, "label": EVAL_LABEL}],
    }


@dataclass(frozen=True)
class LrScore:
    """How one learning rate did over the tuning starts of one function (or averaged).

    Attributes:
        lr: the learning rate.
        success: success rate at the tuning target, in [0, 1].
        log_art: log10 of COCO's aRT at the target (inf: no success).
        log_gap: log10 of the median final gap, clipped to [1e-16, 1e300], diverged = 1e300.
        runs: runs scored.
    """

    lr: float
    success: float
    log_art: float
    log_gap: float
    runs: int

    def key(self) -> tuple[float, float, float, float]:
        """Sort key: smaller is better (see the module's ``SCORING``)."""
        return (-self.success, self.log_art, self.log_gap, self.lr)


def score_rows(unit: UnitResult, select: np.ndarray, target_index: int) -> LrScore:
    """Score the runs ``select`` (boolean mask over the unit's rows) at one target.

    >>> import numpy as np
    >>> from types import SimpleNamespace
    >>> unit = SimpleNamespace(lr=np.array([0.1, 0.1]), hit_evals=np.array([[11], [-1]]),
    ...     evals_run=np.array([101, 101]), final_gap=np.array([1e-9, 1.0]),
    ...     diverged_step=np.array([-1, -1]))
    >>> s = score_rows(unit, np.array([True, True]), 0)  # aRT = (11 + 101) / 1
    >>> s.success, round(10 ** s.log_art), s.runs
    (0.5, 112, 2)
    """
    hits = np.asarray(unit.hit_evals)[select, target_index]
    spent = np.asarray(unit.evals_run)[select]
    art = average_runtime(hits, spent)
    gaps = np.asarray(unit.final_gap, dtype=np.float64)[select]
    diverged = np.asarray(unit.diverged_step)[select] >= 0
    gaps = np.where(diverged | ~np.isfinite(gaps), GAP_CEILING, gaps)
    gap = float(np.median(np.clip(gaps, GAP_FLOOR, GAP_CEILING)))
    lrs = np.asarray(unit.lr, dtype=np.float64)[select]
    return LrScore(
        lr=float(lrs[0]),
        success=float(np.mean(hits >= 1)),
        log_art=math.log10(art) if math.isfinite(art) else math.inf,
        log_gap=math.log10(gap),
        runs=int(hits.size),
    )


def _mean_score(scores: Sequence[LrScore]) -> LrScore:
    return LrScore(
        lr=scores[0].lr,
        success=float(np.mean([s.success for s in scores])),
        log_art=float(np.mean([s.log_art for s in scores])),
        log_gap=float(np.mean([s.log_gap for s in scores])),
        runs=sum(s.runs for s in scores),
    )


@dataclass(frozen=True)
class OptimizerChoice:
    """The learning rates chosen for one optimizer on the tuning starts.

    Attributes:
        optimizer: the optimizer's label.
        lr: the best single lr across all functions (COCO's rule; the one evaluated).
        overall: its averaged score.
        per_function: function -> (best lr on that function alone, its score).
        at_overall: function -> the score of the single lr on that function.
    """

    optimizer: str
    lr: float
    overall: LrScore
    per_function: dict[str, LrScore]
    at_overall: dict[str, LrScore]

    def to_json(self) -> dict[str, Any]:
        return {
            "lr": self.lr,
            "overall": _json_score(self.overall),
            "per_function": {f: _json_score(s) for f, s in self.per_function.items()},
            "at_overall_lr": {f: _json_score(s) for f, s in self.at_overall.items()},
        }


def _json_score(score: LrScore) -> dict[str, Any]:
    # JSON has no infinity: write it as null
    return {
        k: (v if not isinstance(v, float) or math.isfinite(v) else None)
        for k, v in asdict(score).items()
    }


def _target_index(targets: Sequence[float], target: float) -> int:
    for i, value in enumerate(targets):
        if math.isclose(value, target, rel_tol=1e-9):
            return i
    raise ValueError(
        f"invalid tuning target: {target:g} (expected one of the recorded targets "
        f"{', '.join(f'{t:g}' for t in targets)})"
    )


def default_target(targets: Sequence[float]) -> float:
    """1e-4 when recorded (the summary's loose target), else the middle recorded target."""
    for value in targets:
        if math.isclose(value, 1e-4):
            return value
    ordered = sorted(targets, reverse=True)
    return ordered[len(ordered) // 2]


def choose_learning_rates(
    tuning: Records, target: float | None = None, start_set: str = TUNE_LABEL
) -> dict[str, OptimizerChoice]:
    """Per optimizer, the best lr per function and the best single lr (see ``SCORING``)."""
    targets = tuple(tuning.spec.targets)
    column = _target_index(targets, default_target(targets) if target is None else target)
    choices: dict[str, OptimizerChoice] = {}
    for optimizer in tuning.optimizers:
        by_lr: dict[float, dict[str, LrScore]] = {}
        for function in tuning.functions:
            unit = tuning.unit(optimizer, function)
            labels = np.asarray(unit.start_set).astype(str)
            lrs = np.asarray(unit.lr, dtype=np.float64)
            for lr in dict.fromkeys(lrs.tolist()):
                select = (labels == start_set) & (lrs == lr)
                if select.any():
                    by_lr.setdefault(float(lr), {})[function] = score_rows(unit, select, column)
        complete = {lr: s for lr, s in by_lr.items() if len(s) == len(tuning.functions)}
        if not complete:
            raise ValueError(f"no learning rate of {optimizer} was run on every function")
        overall = min((_mean_score(list(s.values())) for s in complete.values()), key=LrScore.key)
        per_function = {
            function: min((s[function] for s in complete.values()), key=LrScore.key)
            for function in tuning.functions
        }
        choices[optimizer] = OptimizerChoice(
            optimizer=optimizer,
            lr=overall.lr,
            overall=overall,
            per_function=per_function,
            at_overall=dict(complete[overall.lr]),
        )
    return choices


def tuning_budget(spec: ExperimentSpec, units: Sequence[UnitResult] = ()) -> dict[str, Any]:
    """Evaluations the tuning may spend per optimizer, and (given units) what it spent."""
    n_functions = len(spec.functions)
    n_starts = sum(s.n for s in spec.starts)
    points = {o.label: len(o.lrs) or 1 for o in spec.optimizers}
    budget: dict[str, Any] = {
        "grid_points": max(points.values()),
        "tuning_starts": n_starts,
        "steps": spec.steps,
        "functions": n_functions,
        "evaluations_per_run": spec.steps + 1,
        "evaluations_per_optimizer": {
            label: n * n_starts * (spec.steps + 1) * n_functions for label, n in points.items()
        },
    }
    if units:
        spent: dict[str, int] = {}
        for unit in units:
            spent[unit.optimizer] = spent.get(unit.optimizer, 0) + int(
                np.asarray(unit.evals_run).sum()
            )
        budget["evaluations_spent_per_optimizer"] = spent
    return budget


def budget_sentence(budget: Mapping[str, Any]) -> str:
    """The tuning budget in words."""
    per = budget["evaluations_per_optimizer"]
    total = next(iter(per.values())) if len(set(per.values())) == 1 else max(per.values())
    return (
        f"Tuning budget: {budget['grid_points']} learning rates x {budget['tuning_starts']} "
        f"tuning starts x {budget['evaluations_per_run']:,} gradient evaluations "
        f"({budget['steps']:,} steps + 1) x {budget['functions']} functions = {total:,} "
        "evaluations per optimizer, the same for every optimizer."
    )


def run_sweep(
    base: Mapping[str, Any],
    out: str | Path,
    *,
    grid: Sequence[float] | None = None,
    tune_starts: int = 50,
    eval_starts: int = 50,
    target: float | None = None,
    progress: Callable[[int], None] | None = None,
    on_unit: Callable[[UnitResult, bool], None] | None = None,
    executor: Executor | None = None,
) -> dict[str, Any]:
    """Tune on the grid, choose, evaluate; write records and ``sweep.json``; return its dict.

    Args:
        base: the experiment (``spec_from_dict`` input): optimizers, functions, steps, seed,
            dtype, targets; its first start set's distribution is used for both start sets.
        out: output folder; records go to ``out/tuning`` and ``out/evaluation``.
        grid: learning rates (default :data:`DEFAULT_LR_GRID`).
        tune_starts, eval_starts: starts per function of the two start sets.
        target: tuning target gap (default 1e-4 when recorded).
        progress, on_unit, executor: passed to :func:`~adamlab.bench.runner.run_experiment`.

    To spread a sweep over machines see :mod:`adamlab.bench.shard` (``run_sweep_shard``).
    """
    from adamlab.bench.runner import run_experiment

    out = Path(out)
    grid = tuple(grid) if grid is not None else lr_grid(*DEFAULT_LR_GRID)
    tuning_spec = spec_from_dict(tuning_spec_dict(base, grid, tune_starts))
    tuning_units = run_experiment(
        tuning_spec, out / TUNING_DIR, progress=progress, on_unit=on_unit, executor=executor
    )
    tuning = Records(out / TUNING_DIR)
    targets = tuning_spec.targets
    chosen_target = default_target(targets) if target is None else target
    choices = choose_learning_rates(tuning, chosen_target)
    evaluation_spec = spec_from_dict(
        evaluation_spec_dict(base, {k: c.lr for k, c in choices.items()}, eval_starts)
    )
    run_experiment(
        evaluation_spec, out / EVALUATION_DIR, progress=progress, on_unit=on_unit, executor=executor
    )
    budget = tuning_budget(tuning_spec, tuning_units)
    result = {
        "lr_grid": list(grid),
        "target": chosen_target,
        "tune_start_set": TUNE_LABEL,
        "eval_start_set": EVAL_LABEL,
        "tune_starts": tune_starts,
        "eval_starts": eval_starts,
        "scoring": SCORING,
        "budget": budget,
        "budget_text": budget_sentence(budget),
        "choices": {label: choice.to_json() for label, choice in choices.items()},
        "tuning_fingerprint": tuning_spec.fingerprint(),
        "evaluation_fingerprint": evaluation_spec.fingerprint(),
    }
    atomic_write_text(out / SWEEP_JSON, json.dumps(result, indent=2, sort_keys=True) + "\n")
    return result


def read_sweep(out: str | Path) -> dict[str, Any]:
    """Read ``sweep.json`` of a sweep folder."""
    path = Path(out) / SWEEP_JSON
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValueError(f"not a sweep folder: {path} not found") from None
    except json.JSONDecodeError as error:
        raise ValueError(f"corrupt {path}: {error}") from None
    return data
