"""Reproduce Reddi, Kale & Kumar (2018): Adam fails on a 1-D online problem, AMSGrad does not.

Three online problems on the feasible set [-1, 1], each with linear losses f_t(x) = g_t x, so
the best fixed point is x* = -1 whenever the gradients sum to a positive number:

* ``theorem1``: Theorem 1's sequence, g_t = C if t mod 3 = 1 else -1, with C = 3,
  beta1 = 0, beta2 = 1 / (1 + C^2) and alpha_t = 0.9 sqrt(1 - beta2) / sqrt(t). The paper proves
  Adam converges to +1, the worst point, so its average regret stays at 2 (C - 2) / 3 (that of
  x = +1) instead of tending to 0.
* ``synthetic``: the paper's Figure 1 (online), g_t = 1010 if t mod 101 = 1 else -10,
  beta1 = 0.9, beta2 = 0.99, alpha_t = 0.5 / sqrt(t).
* ``stochastic``: Figure 1 (stochastic), g_t = 1010 with probability 0.01 else -10, the same
  hyperparameters, run for several seeds.

Every step is adamlab's own :func:`adamlab.functional.adam_update` (``amsgrad=False`` for Adam,
``True`` for AMSGrad; eps = 1e-8; lr = alpha_t), followed by the projection onto [-1, 1], which
in one dimension is clipping. Adam's update is bias-corrected as in torch (the paper's analysis
has no bias correction; it changes only the first steps, as beta2^t vanishes quickly), and the
AMSGrad maximum is taken over the uncorrected v_t and then corrected, as in torch. The paper
states neither x_1 nor the horizon nor alpha for Figure 1: x_1 = 0 (the centre of the set, no
head start for either end), alpha = 0.5 and 2e6 steps are the choices of adamlab's methodology
notes (section 4), where smaller alpha had not converged.

Metric (the paper's): the average regret R_t / t, with
R_t = sum_{s<=t} f_s(x_s) - min_{x in [-1, 1]} sum_{s<=t} f_s(x). For linear losses the minimum
is -|G_t|, G_t = sum_{s<=t} g_s, so R_t = sum_s g_s x_s + |G_t|. x_s is the iterate at which
f_s is charged, before the s-th update. An algorithm that sits at +1 has
R_t / t -> 2 E[g] (0.667 for Theorem 1, 20/101 = 0.198 online, 0.4 stochastic).

Speed: the rows of one batch are runs (Adam and AMSGrad, problems sharing beta1 and beta2,
stochastic seeds), so one call of the update rule advances them all; Adam rows use the AMSGrad
code path with the running maximum reset to 0 before each step (max(0, v_t) = v_t exactly, so
this is Adam bit for bit). The time loop runs in chunks of ``chunk_steps`` steps, each chunk one
``torch.compile``-d call of the same Python function (eagerly with ``compile=False``); gradients
and step sizes are made in NumPy a block of 65,536 steps at a time. Measured on 2 CPU cores:
about 60 s for the default run with a cold compile cache (each of the two batches compiles in
~15-30 s), about 35 s warm; eagerly about 60 us per step of a batch.

On the stochastic problem AMSGrad's drift towards -1 is small next to the noise of the rare
large gradients: after 2e6 steps most seeds are still on their way, and the summary says how
many have reached -0.9 rather than claiming convergence.

Reference:
    S. J. Reddi, S. Kale and S. Kumar. On the Convergence of Adam and Beyond. ICLR 2018.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from torch import Tensor

from adamlab.functional.adam import AdamState, adam_init, adam_update

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

PAPER = (
    "S. J. Reddi, S. Kale and S. Kumar. On the Convergence of Adam and Beyond. ICLR 2018 "
    "(Theorem 1 and Figure 1)"
)
ALGORITHMS = ("adam", "amsgrad")
#: A final iterate beyond this (in absolute value, with the right sign) counts as "at" +-1.
AT_BOUNDARY = 0.9
#: Rows of gradients generated at once (a multiple of every chunk size used).
_BLOCK = 1 << 16


@dataclass(frozen=True)
class LinearProblem:
    """An online problem on [-1, 1] with linear losses f_t(x) = g_t x, and its Adam settings.

    Attributes:
        name: registry key (``theorem1``, ``synthetic``, ``stochastic``).
        title: one line for figures.
        big: the rare, large gradient (C, 1010).
        small: the frequent gradient (-1, -10).
        period: the large gradient comes when t mod period = 1, or
        probability: with this probability at every step (then ``period`` is None).
        beta1, beta2: Adam's decay rates for this problem.
        alpha: alpha_t = alpha / sqrt(t).
    """

    name: str
    title: str
    big: float
    small: float
    beta1: float
    beta2: float
    alpha: float
    period: int | None = None
    probability: float | None = None

    def __post_init__(self) -> None:
        if (self.period is None) == (self.probability is None):
            raise ValueError(f"problem {self.name!r}: give exactly one of period and probability")
        if self.mean_gradient <= 0:
            raise ValueError(f"problem {self.name!r}: E[g] must be > 0 so that x* = -1")

    @property
    def mean_gradient(self) -> float:
        """E[g_t] per step (over a period, or in expectation): > 0, so x* = -1."""
        if self.period is not None:
            return (self.big + (self.period - 1) * self.small) / self.period
        assert self.probability is not None  # by construction, one of the two is set
        return self.probability * self.big + (1 - self.probability) * self.small

    @property
    def regret_at_plus_one(self) -> float:
        """lim R_t / t for an algorithm that stays at x = +1: 2 E[g]."""
        return 2 * self.mean_gradient

    def gradients(self, t: IntArray, rng: np.random.Generator | None) -> FloatArray:
        """g_t at the steps ``t`` (1-based); the stochastic problem draws from ``rng``."""
        if self.period is not None:
            return np.where(t % self.period == 1, self.big, self.small)
        if rng is None or self.probability is None:
            raise ValueError(f"problem {self.name!r} needs a random generator")
        return np.where(rng.random(len(t)) < self.probability, self.big, self.small)


def theorem1_problem(C: float = 3.0) -> LinearProblem:
    """Theorem 1: g_t = C if t mod 3 = 1 else -1; beta1 = 0, beta2 = 1 / (1 + C^2).

    alpha_t = 0.9 sqrt(1 - beta2) / sqrt(t): the theorem needs alpha < sqrt(1 - beta2).
    """
    if not C > 2:
        raise ValueError(f"Invalid C: C={C} (expected C > 2)")
    beta2 = 1 / (1 + C**2)
    return LinearProblem(
        name="theorem1",
        title=f"Theorem 1: {C:g}x if t mod 3 = 1, else -x",
        big=C,
        small=-1.0,
        period=3,
        beta1=0.0,
        beta2=beta2,
        alpha=0.9 * math.sqrt(1 - beta2),
    )


SYNTHETIC = LinearProblem(
    name="synthetic",
    title="online: 1010x if t mod 101 = 1, else -10x",
    big=1010.0,
    small=-10.0,
    period=101,
    beta1=0.9,
    beta2=0.99,
    alpha=0.5,
)
STOCHASTIC = LinearProblem(
    name="stochastic",
    title="stochastic: 1010x w.p. 0.01, else -10x",
    big=1010.0,
    small=-10.0,
    probability=0.01,
    beta1=0.9,
    beta2=0.99,
    alpha=0.5,
)


@dataclass(frozen=True)
class ReproductionConfig:
    """Settings of one reproduction; validated on construction.

    Attributes:
        steps: horizon T of the synthetic and stochastic problems.
        theorem1_steps: horizon of Theorem 1's problem (3e5 in the methodology notes).
        C: Theorem 1's constant, > 2.
        seeds: number of stochastic runs (seeds ``seed``, ``seed + 1``, ...).
        seed: first seed of the stochastic problem.
        eps: Adam's eps.
        x1: the starting point, in [-1, 1].
        points_per_decade: density of the recorded log-spaced time grid.
        chunk_steps: steps per (compiled) call of the update loop.
        compile: run each chunk through ``torch.compile`` (else eagerly; same function).
    """

    steps: int = 2_000_000
    theorem1_steps: int = 300_000
    C: float = 3.0
    seeds: int = 8
    seed: int = 0
    eps: float = 1e-8
    x1: float = 0.0
    points_per_decade: int = 60
    chunk_steps: int = 16
    compile: bool = True

    def __post_init__(self) -> None:
        for name in ("steps", "theorem1_steps", "seeds", "points_per_decade", "chunk_steps"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"Invalid {name}: {name}={value!r} (expected an integer >= 1)")
        if _BLOCK % self.chunk_steps != 0:
            raise ValueError(
                f"Invalid chunk_steps: chunk_steps={self.chunk_steps} "
                f"(expected a power of 2 up to {_BLOCK})"
            )
        if not -1.0 <= self.x1 <= 1.0:
            raise ValueError(f"Invalid x1: x1={self.x1} (expected -1 <= x1 <= 1)")
        if not (math.isfinite(self.eps) and self.eps >= 0):
            raise ValueError(f"Invalid eps: eps={self.eps} (expected a finite value >= 0)")
        theorem1_problem(self.C)  # validates C

    def problems(self) -> tuple[LinearProblem, ...]:
        """The three problems, in the order of the figure's panels."""
        return (theorem1_problem(self.C), SYNTHETIC, STOCHASTIC)

    def horizon(self, problem: LinearProblem) -> int:
        """The number of steps run on ``problem``."""
        return self.theorem1_steps if problem.name == "theorem1" else self.steps


@dataclass(frozen=True)
class RunRecord:
    """One run (a problem, an algorithm, a seed) on the recorded log-spaced time grid.

    Attributes:
        problem, algorithm, seed: what ran (seed None for deterministic problems).
        steps: its horizon T.
        t: recorded steps, 1 <= t <= T, increasing, T included.
        x: the iterate x_t at each recorded t (the point f_t is charged at).
        x_low, x_high: min and max of x_s over the steps since the previous recorded t, so
            the figure can draw the oscillation the sampling skips.
        average_regret: R_t / t at each recorded t.
        final_x: x_{T+1}, the iterate after the last update.
    """

    problem: str
    algorithm: str
    seed: int | None
    steps: int
    t: IntArray
    x: FloatArray
    x_low: FloatArray
    x_high: FloatArray
    average_regret: FloatArray
    final_x: float

    @property
    def final_average_regret(self) -> float:
        """R_T / T."""
        return float(self.average_regret[-1])

    def to_dict(self) -> dict[str, Any]:
        return {
            "problem": self.problem,
            "algorithm": self.algorithm,
            "seed": self.seed,
            "steps": self.steps,
            "final_x": self.final_x,
            "final_average_regret": self.final_average_regret,
            "t": self.t.tolist(),
            "x": self.x.tolist(),
            "x_low": self.x_low.tolist(),
            "x_high": self.x_high.tolist(),
            "average_regret": self.average_regret.tolist(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunRecord:
        return cls(
            problem=data["problem"],
            algorithm=data["algorithm"],
            seed=data["seed"],
            steps=int(data["steps"]),
            t=np.asarray(data["t"], dtype=np.int64),
            x=np.asarray(data["x"], dtype=np.float64),
            x_low=np.asarray(data["x_low"], dtype=np.float64),
            x_high=np.asarray(data["x_high"], dtype=np.float64),
            average_regret=np.asarray(data["average_regret"], dtype=np.float64),
            final_x=float(data["final_x"]),
        )


@dataclass(frozen=True)
class Outcome:
    """What happened on one problem, next to what the paper reports.

    For the stochastic problem the numbers are medians over the seeds.
    """

    problem: str
    steps: int
    adam_x: float
    amsgrad_x: float
    adam_regret: float
    amsgrad_regret: float
    regret_at_plus_one: float
    verdict: str
    sentence: str


@dataclass(frozen=True)
class ReproductionResult:
    """Everything a run produced: its settings, every run's record, and the wall time."""

    config: ReproductionConfig
    runs: tuple[RunRecord, ...]
    seconds: float
    notes: tuple[str, ...] = field(default=())

    def select(self, problem: str, algorithm: str) -> list[RunRecord]:
        return [r for r in self.runs if r.problem == problem and r.algorithm == algorithm]

    def to_dict(self) -> dict[str, Any]:
        outcomes = assess(self)
        return {
            "paper": PAPER,
            "config": asdict(self.config),
            "runtime_seconds": round(self.seconds, 2),
            "notes": list(self.notes),
            "problems": {
                p.name: {
                    **asdict(p),
                    "steps": self.config.horizon(p),
                    "regret_at_plus_one": p.regret_at_plus_one,
                }
                for p in self.config.problems()
            },
            "outcomes": [asdict(o) for o in outcomes],
            "runs": [r.to_dict() for r in self.runs],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ReproductionResult:
        return cls(
            config=ReproductionConfig(**data["config"]),
            runs=tuple(RunRecord.from_dict(r) for r in data["runs"]),
            seconds=float(data["runtime_seconds"]),
            notes=tuple(data.get("notes", ())),
        )


# -- the simulation -----------------------------------------------------------------------


def _advance(
    x: Tensor,
    state: AdamState,
    loss: Tensor,
    total: Tensor,
    grads: Tensor,
    lrs: Tensor,
    amsgrad: Tensor,
    beta1: float,
    beta2: float,
    eps: float,
) -> tuple[Tensor, Tensor, Tensor, Tensor, AdamState, Tensor, Tensor]:
    """Take ``len(grads)`` projected Adam / AMSGrad steps on f_t(x) = g_t x for B runs at once.

    Args:
        x: [B] iterates x_t. state: their Adam state (with ``v_max``; step as float64).
        loss: [B] sum_{s<t} g_s x_s. total: [B] G_{t-1} = sum_{s<t} g_s.
        grads: [K, B] gradients g_t .. g_{t+K-1}.
        lrs: [K, B] step sizes alpha_t .. alpha_{t+K-1}.
        amsgrad: [B] bool, True for AMSGrad rows.

    Returns:
        [K, B] iterates, cumulative losses and gradient sums at each of the K steps (the
        iterate before its update), then the new x, state, loss and total.
    """
    xs, losses, totals = [], [], []
    no_maximum = torch.zeros_like(x)
    for k in range(grads.shape[0]):
        g = grads[k]
        xs.append(x)
        # f_t(x_t) = g_t x_t is charged at the iterate before the update
        loss = loss + g * x
        total = total + g
        losses.append(loss)
        totals.append(total)
        # Adam rows forget the running maximum, so AMSGrad's max(0, v_t) = v_t is Adam's v_t
        v_max = state.v_max if state.v_max is not None else no_maximum
        state = state._replace(v_max=torch.where(amsgrad, v_max, no_maximum))
        x, state = adam_update(
            x, g, state, lr=lrs[k], beta1=beta1, beta2=beta2, eps=eps, amsgrad=True
        )
        # projection onto the feasible set: x_{t+1} = clip(x, -1, 1)
        x = torch.clamp(x, -1.0, 1.0)
    return torch.stack(xs), torch.stack(losses), torch.stack(totals), x, state, loss, total


class _Recorder:
    """Keeps x_t, its envelope, and the running sums at the recorded steps, block by block."""

    def __init__(self, record_t: IntArray, rows: int) -> None:
        self.t = record_t
        shape = (len(record_t), rows)
        self.x, self.low, self.high = np.empty(shape), np.empty(shape), np.empty(shape)
        self.loss, self.total = np.empty(shape), np.empty(shape)
        self.next = 0
        self.carry_low = np.full(rows, np.inf)
        self.carry_high = np.full(rows, -np.inf)

    def add(self, start: int, xs: FloatArray, losses: FloatArray, totals: FloatArray) -> None:
        """Take rows for steps start + 1 .. start + len(xs)."""
        stop = int(np.searchsorted(self.t, start + len(xs), side="right"))
        index = self.t[self.next : stop] - start - 1
        if len(index) == 0:
            self.carry_low = np.minimum(self.carry_low, xs.min(axis=0))
            self.carry_high = np.maximum(self.carry_high, xs.max(axis=0))
            return
        # segment j covers rows (index[j-1], index[j]]; the first one continues the carry
        starts = np.concatenate([[0], index[:-1] + 1])
        head = xs[: index[-1] + 1]
        low = np.minimum.reduceat(head, starts, axis=0)
        high = np.maximum.reduceat(head, starts, axis=0)
        low[0] = np.minimum(low[0], self.carry_low)
        high[0] = np.maximum(high[0], self.carry_high)
        rows = slice(self.next, stop)
        self.x[rows], self.low[rows], self.high[rows] = xs[index], low, high
        self.loss[rows], self.total[rows] = losses[index], totals[index]
        tail = xs[index[-1] + 1 :]
        self.carry_low = tail.min(axis=0) if len(tail) else np.full(xs.shape[1], np.inf)
        self.carry_high = tail.max(axis=0) if len(tail) else np.full(xs.shape[1], -np.inf)
        self.next = stop


def record_grid(steps: int, points_per_decade: int) -> IntArray:
    """Log-spaced recorded steps 1 .. T, T included.

    >>> record_grid(1000, 2).tolist()
    [1, 3, 10, 32, 100, 316, 1000]
    """
    count = max(2, math.ceil(points_per_decade * math.log10(max(steps, 2))) + 1)
    grid = np.unique(np.rint(np.geomspace(1, steps, count)).astype(np.int64))
    return grid


@dataclass(frozen=True)
class _Row:
    problem: LinearProblem
    algorithm: str
    seed: int | None


def simulate(
    rows: Sequence[_Row],
    steps: int,
    config: ReproductionConfig,
    notes: list[str],
) -> list[RunRecord]:
    """Run ``rows`` (all sharing beta1 and beta2) for ``steps`` steps as one batch."""
    beta1, beta2 = rows[0].problem.beta1, rows[0].problem.beta2
    if any((r.problem.beta1, r.problem.beta2) != (beta1, beta2) for r in rows):
        raise ValueError("one batch must share beta1 and beta2")
    # one gradient stream per (problem, seed): Adam and AMSGrad see the same draws
    streams = sorted({(r.problem.name, r.seed) for r in rows}, key=str)
    problem_of = {r.problem.name: r.problem for r in rows}
    column = [streams.index((r.problem.name, r.seed)) for r in rows]
    rngs = {key: np.random.default_rng(key[1]) if key[1] is not None else None for key in streams}

    f64 = torch.float64
    x = torch.full((len(rows),), config.x1, dtype=f64)
    state = adam_init(x, amsgrad=True, step_dtype=f64)
    loss, total = torch.zeros_like(x), torch.zeros_like(x)
    alpha = np.array([r.problem.alpha for r in rows])
    amsgrad = torch.tensor([r.algorithm == "amsgrad" for r in rows])
    hyper = {"beta1": beta1, "beta2": beta2, "eps": config.eps}

    advance: Callable[..., Any] = _advance
    if config.compile:
        advance = torch.compile(_advance, dynamic=False, fullgraph=True)
    recorder = _Recorder(record_grid(steps, config.points_per_decade), len(rows))
    chunk = config.chunk_steps

    for start in range(0, steps, _BLOCK):
        n = min(_BLOCK, steps - start)
        t = np.arange(start + 1, start + n + 1, dtype=np.int64)
        by_stream = [problem_of[name].gradients(t, rngs[(name, s)]) for name, s in streams]
        grads = torch.from_numpy(np.stack(by_stream, axis=1)[:, column])
        # alpha_t = alpha / sqrt(t) (schedules.inverse_sqrt), in NumPy: correctly rounded,
        # where torch.sqrt of a float64 tensor was seen to differ from math.sqrt in the last bit
        lrs = torch.from_numpy(alpha[None, :] / np.sqrt(t.astype(np.float64))[:, None])
        xs, losses, totals = (torch.empty(n, len(rows), dtype=f64) for _ in range(3))
        for c in range(0, n, chunk):
            k = min(chunk, n - c)
            step_fn = advance if k == chunk else _advance  # a short last chunk runs eagerly
            try:
                out = step_fn(
                    x, state, loss, total, grads[c : c + k], lrs[c : c + k], amsgrad, **hyper
                )
            except Exception as error:  # torch.compile unavailable (no compiler, ...)
                if step_fn is _advance:
                    raise
                notes.append(f"torch.compile failed ({type(error).__name__}); ran eagerly")
                advance = step_fn = _advance
                out = step_fn(
                    x, state, loss, total, grads[c : c + k], lrs[c : c + k], amsgrad, **hyper
                )
            xs[c : c + k], losses[c : c + k], totals[c : c + k] = out[0], out[1], out[2]
            x, state, loss, total = out[3], out[4], out[5], out[6]
        recorder.add(start, xs.numpy(), losses.numpy(), totals.numpy())

    regret = (recorder.loss + np.abs(recorder.total)) / recorder.t[:, None]
    final = x.numpy()
    return [
        RunRecord(
            problem=row.problem.name,
            algorithm=row.algorithm,
            seed=row.seed,
            steps=steps,
            t=recorder.t.copy(),
            x=recorder.x[:, i].copy(),
            x_low=recorder.low[:, i].copy(),
            x_high=recorder.high[:, i].copy(),
            average_regret=regret[:, i].copy(),
            final_x=float(final[i]),
        )
        for i, row in enumerate(rows)
    ]


def reproduce(config: ReproductionConfig | None = None) -> ReproductionResult:
    """Run Adam and AMSGrad on the three problems; see the module docstring for the protocol."""
    config = config or ReproductionConfig()
    started = time.perf_counter()
    theorem1, synthetic, stochastic = config.problems()
    seeds = [config.seed + i for i in range(config.seeds)]
    batches: list[tuple[list[_Row], int]] = [
        ([_Row(theorem1, a, None) for a in ALGORITHMS], config.horizon(theorem1)),
    ]
    synthetic_rows = [_Row(synthetic, a, None) for a in ALGORITHMS]
    stochastic_rows = [_Row(stochastic, a, s) for s in seeds for a in ALGORITHMS]
    # Theorem 1 has beta1 = 0, the synthetic problems 0.9: two batches, one per beta pair
    batches.append((synthetic_rows + stochastic_rows, config.steps))
    notes: list[str] = []
    runs: list[RunRecord] = []
    for rows, steps in batches:
        runs.extend(simulate(rows, steps, config, notes))
    return ReproductionResult(
        config=config,
        runs=tuple(runs),
        seconds=time.perf_counter() - started,
        notes=tuple(dict.fromkeys(notes)),
    )


# -- assessment ---------------------------------------------------------------------------


def _median(values: Sequence[float]) -> float:
    return float(np.median(np.asarray(values, dtype=np.float64)))


def format_steps(steps: int) -> str:
    """``2e6`` for round numbers of steps, ``12,345`` otherwise.

    >>> format_steps(2_000_000), format_steps(300_000), format_steps(12_345)
    ('2e6', '3e5', '12,345')
    """
    mantissa, exponent = f"{steps:.0e}".split("e")
    if float(f"{steps:.0e}") == steps:
        return f"{mantissa}e{int(exponent)}"
    return f"{steps:,}"


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


def assess(result: ReproductionResult) -> list[Outcome]:
    """Compare each problem's outcome with the paper's: Adam at +1, AMSGrad at -1.

    A final iterate within ``AT_BOUNDARY`` of +-1 counts as there. On Theorem 1, Adam's
    average regret must also be within 5% of 2 (C - 2) / 3.
    """
    outcomes = []
    for problem in result.config.problems():
        adam = result.select(problem.name, "adam")
        ams = result.select(problem.name, "amsgrad")
        if not adam or not ams:
            continue
        adam_x = _median([r.final_x for r in adam])
        ams_x = _median([r.final_x for r in ams])
        adam_regret = _median([r.final_average_regret for r in adam])
        ams_regret = _median([r.final_average_regret for r in ams])
        adam_ok = adam_x > AT_BOUNDARY
        ams_ok = ams_x < -AT_BOUNDARY
        regret_ok = True
        if problem.name == "theorem1":
            regret_ok = abs(adam_regret / problem.regret_at_plus_one - 1) < 0.05
        steps = adam[0].steps
        where = f"after {format_steps(steps)} steps"
        if len(adam) > 1:
            below = sum(r.final_x < -AT_BOUNDARY for r in ams)
            above = sum(r.final_x > AT_BOUNDARY for r in adam)
            where += (
                f", medians over {len(adam)} seeds; Adam above {AT_BOUNDARY:g} in {above}, "
                f"AMSGrad below -{AT_BOUNDARY:g} in {below}"
            )
        numbers = (
            f"Adam ends at x = {adam_x:+.3f} with average regret {adam_regret:.3f} "
            f"(staying at +1 gives {problem.regret_at_plus_one:.3f}), AMSGrad at "
            f"x = {ams_x:+.3f} with {ams_regret:.3f}; the paper: Adam -> +1, AMSGrad -> -1"
        )
        if adam_ok and ams_ok and regret_ok:
            verdict = "matches"
        elif adam_ok and regret_ok and ams_x < adam_x and ams_regret < adam_regret:
            verdict = "partly matches: AMSGrad heads for -1 but has not reached it"
        else:
            verdict = "does not match"
        outcomes.append(
            Outcome(
                problem=problem.name,
                steps=steps,
                adam_x=adam_x,
                amsgrad_x=ams_x,
                adam_regret=adam_regret,
                amsgrad_regret=ams_regret,
                regret_at_plus_one=problem.regret_at_plus_one,
                verdict=verdict,
                sentence=f"{problem.title} ({where}): {numbers}. {_capitalised(verdict)}.",
            )
        )
    return outcomes


def summary(result: ReproductionResult) -> str:
    """One paragraph: each problem's outcome and whether it matches the paper."""
    config = result.config
    lead = (
        f"Reddi, Kale & Kumar (2018) reproduced with adamlab's adam_update (eps = {config.eps:g}, "
        f"x_1 = {config.x1:g}, alpha_t = alpha / sqrt(t), projection onto [-1, 1]) "
        f"in {result.seconds:.0f} s."
    )
    sentences = [o.sentence for o in assess(result)]
    return " ".join([lead, *sentences, *result.notes])


# -- the figure ---------------------------------------------------------------------------

COLOURS = {"adam": "#d62728", "amsgrad": "#1f77b4"}
LABELS = {"adam": "Adam", "amsgrad": "AMSGrad"}


def draw_iterates(ax: Axes, runs: Sequence[RunRecord], algorithm: str) -> list[Any]:
    """x_t against t: one run as a line inside its min-max band; several as lines and a median.

    Returns the artists drawn.
    """
    colour = COLOURS[algorithm]
    if len(runs) == 1:
        run = runs[0]
        band = ax.fill_between(run.t, run.x_low, run.x_high, color=colour, alpha=0.3, lw=0)
        return [band, *ax.plot(run.t, run.x, color=colour, linewidth=1.0)]
    drawn: list[Any] = []
    for run in runs:
        drawn += ax.plot(run.t, run.x, color=colour, linewidth=0.5, alpha=0.35)
    median = np.median(np.stack([r.x for r in runs]), axis=0)
    return drawn + ax.plot(runs[0].t, median, color=colour, linewidth=1.8)


def draw_regret(ax: Axes, runs: Sequence[RunRecord], algorithm: str) -> list[Any]:
    """R_t / t against t (the median over runs); returns the artists drawn.

    Single stochastic runs are not drawn: their regret touches 0 and can be negative (a run
    may beat the best fixed point), which a logarithmic axis cannot show.
    """
    median = np.median(np.stack([r.average_regret for r in runs]), axis=0)
    return list(ax.plot(runs[0].t, median, color=COLOURS[algorithm], linewidth=1.4))


def _panel_title(problem: LinearProblem) -> str:
    return (
        f"{problem.title}\n"
        rf"$\beta_1$ = {problem.beta1:g}, $\beta_2$ = {problem.beta2:.3g}, "
        rf"$\alpha_t$ = {problem.alpha:.3g}/$\sqrt{{t}}$"
    )


def figure(result: ReproductionResult) -> Figure:
    """The layout of the paper's Figure 1 for all three problems.

    Top row: the iterate x_t; bottom row: the average regret R_t / t (median over seeds for
    the stochastic problem). Both against t on a logarithmic axis, Adam and AMSGrad together.
    """
    problems = result.config.problems()
    fig = Figure(figsize=(5.2 * len(problems), 8.0), layout="constrained")
    axes = fig.subplots(2, len(problems), squeeze=False)
    for column, problem in enumerate(problems):
        top, bottom = axes[0][column], axes[1][column]
        seeds = 1
        for algorithm in ALGORITHMS:
            runs = result.select(problem.name, algorithm)
            if runs:
                draw_iterates(top, runs, algorithm)
                draw_regret(bottom, runs, algorithm)
                seeds = len(runs)
        steps = result.config.horizon(problem)
        top.axhline(-1.0, color="black", linestyle="--", linewidth=0.8)
        top.set(xscale="log", ylim=(-1.08, 1.08), xlim=(1, steps), ylabel=r"iterate $x_t$")
        top.set_title(_panel_title(problem), fontsize=10)
        if seeds > 1:
            top.text(
                0.02,
                0.08,
                f"{seeds} seeds: thin lines; bold: median",
                transform=top.transAxes,
                ha="left",
                va="bottom",
                fontsize=8,
            )
        plateau = problem.regret_at_plus_one
        bottom.axhline(
            plateau,
            color="grey",
            linestyle=":",
            linewidth=1.2,
            label=f"x = +1 forever: 2E[g] = {plateau:.3f}",
        )
        bottom.legend(loc="lower left", fontsize=8, frameon=False)
        bottom.set(
            xscale="log",
            yscale="log",
            xlim=(1, steps),
            xlabel="iteration t",
            ylabel=r"average regret $R_t / t$",
        )
        for ax in (top, bottom):
            ax.grid(True, which="major", alpha=0.3)
    handles = [
        Line2D([], [], color=COLOURS["adam"], linewidth=1.6, label="Adam"),
        Line2D([], [], color=COLOURS["amsgrad"], linewidth=1.6, label="AMSGrad"),
        Line2D([], [], color="black", linestyle="--", linewidth=0.8, label="best point x* = -1"),
        Line2D([], [], color="grey", linestyle=":", linewidth=1.2, label="regret of x = +1"),
    ]
    fig.legend(handles=handles, loc="outside lower center", ncol=4, frameon=False)
    fig.suptitle(
        "Adam vs AMSGrad on the online problems of Reddi, Kale & Kumar (2018): "
        f"losses f_t(x) = g_t x on [-1, 1], x_1 = {result.config.x1:g}"
    )
    return fig
