"""The oracle: step an adamlab optimizer and its torch.optim twin side by side and compare.

Where torch has no twin (AdaBelief, Lion, Adam-atan2), the twin is the paper's equations
written out as a torch.optim class (:mod:`adamlab.verify.references`, the :data:`PAPER` path).

Both sides start from bit-identical copies of a problem's parameters, compute their own
gradients, and take ``steps`` steps. After every step the oracle compares every parameter and
every per-parameter state tensor (``step`` included) under torch's state key names, and keeps
the largest deviation seen over the whole run.

Deviation, per tensor, with ``a`` adamlab's tensor and ``b`` torch's (the reference):

* absolute: ``max |a - b|`` over the elements;
* relative: ``max |a - b| / max(max |b|, tiny)``, with ``tiny`` the smallest normal number of
  ``b``'s dtype (so an all-zero reference does not divide by zero).

Elements that are equal (the same infinity included) or NaN on both sides count as 0; a NaN on
one side only counts as infinite. A run's deviation is the maximum over all tensors and steps;
it passes when the state layouts match (same parameters have state, same keys) and the maximum
relative deviation is within the tolerance of its dtype and torch path.

On a path with ``resync`` (:data:`PAPER`), the reference is set to adamlab's parameters and
state after every comparison, so each step compares one application of both rules to the same
inputs (see :data:`PAPER` for why).
"""

from __future__ import annotations

import importlib
import inspect
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor

from adamlab.optim.registry import OPTIMIZERS, OptimizerEntry
from adamlab.verify.problems import PROBLEMS, OracleProblem

#: Steps per oracle run unless told otherwise.
DEFAULT_STEPS = 1000

#: dtypes the oracle checks, by name.
DTYPES: dict[str, torch.dtype] = {"float64": torch.float64, "float32": torch.float32}


@dataclass(frozen=True)
class TorchPath:
    """One reference implementation of an update, and the tolerance against it.

    Attributes:
        name: ``"single-tensor"``, ``"foreach"``, ``"fused"``, ``"adamlab-fused"`` (torch.optim's
            paths), or ``"paper"`` (the paper's equations).
        kwargs: the constructor arguments that select it.
        tolerance: dtype -> largest accepted relative deviation.
        ours: constructor arguments for adamlab's side (``{"fused": True}`` compares
            adamlab's fast path with torch's single-tensor path).
        paper: the reference is the entry's ``paper_reference`` class, not its torch twin.
        resync: after every step, set the reference's parameters and state to adamlab's, so
            that each step is compared from identical inputs (see :data:`PAPER`).
    """

    name: str
    kwargs: Mapping[str, Any]
    tolerance: Mapping[torch.dtype, float]
    ours: Mapping[str, Any] = field(default_factory=dict)
    paper: bool = False
    resync: bool = False


#: torch's for-loop path, which adamlab reproduces op for op: the oracle proper.
SINGLE_TENSOR = TorchPath(
    "single-tensor", {"foreach": False}, {torch.float64: 1e-10, torch.float32: 1e-5}
)
#: torch's multi-tensor path. Measured with torch 2.13 on CPU: it rounds like the single-tensor
#: path for Adam, AdamW, SGD, AdaGrad, RMSProp and Adamax (deviation 0), while NAdam's and
#: RAdam's group their scalar arithmetic differently (1e-14 in float64, 1e-5 in float32 after
#: 1000 steps at the defaults). The tolerance leaves room for such ulp-level differences,
#: which the trajectory amplifies; at large learning rates they grow chaotically, so compare
#: these paths at the defaults only.
FOREACH = TorchPath("foreach", {"foreach": True}, {torch.float64: 1e-9, torch.float32: 1e-3})
#: torch's fused CPU kernel, where the twin has one (Adam, AdamW, SGD, AdaGrad): it fuses the
#: update into one pass with its own rounding (1e-14 / 1e-5 at the defaults, as above).
FUSED = TorchPath("fused", {"fused": True}, {torch.float64: 1e-9, torch.float32: 1e-3})

#: adamlab's fast path (``fused=True``: the same rule compiled by torch.compile) against torch's
#: single-tensor path, under the oracle's own tolerance: inductor may fuse and reorder the
#: arithmetic, so the last bits may differ, but no more than the oracle allows.
ADAMLAB_FUSED = TorchPath(
    "adamlab-fused",
    {"foreach": False},
    {torch.float64: 1e-10, torch.float32: 1e-5},
    ours={"fused": True},
)

#: The oracle for entries without a torch twin (AdaBelief, Lion, Adam-atan2): the paper's
#: equations, written out independently in :mod:`adamlab.verify.references`.
#:
#: Two independent transcriptions round differently (``beta1 m + (1 - beta1) g`` against
#: ``torch.lerp``, ``theta - alpha lambda theta`` against ``theta (1 - alpha lambda)``), so
#: they cannot agree bit for bit. Stepped freely for 1000 steps (torch 2.13, CPU), the two
#: trajectories drifted apart by at most 1.9e-13 (float64) and 1.2e-4 (float32, AdaBelief on
#: the MLP) at the defaults, and by up to 270 at lr 1e-2, where ulp-level differences grow
#: chaotically: a free-running comparison measures the dynamics, not the rule. So this path
#: resynchronises: after each step is compared, the reference takes adamlab's parameters and
#: state, and the next step again starts both rules from identical inputs. Every step of
#: every oracle case is then within a few ulps: at most 5.2e-15 (float64) and 4.6e-6
#: (float32; 1.2e-7 at the defaults) over 1000 steps. float64 keeps the oracle's 1e-10. In
#: float32 the tolerance is 1e-3, as for torch's foreach path: AdaBelief's (g_t - m_t)^2
#: cancels when m_t is close to g_t, which multiplies the ulp-level difference between the
#: two m_t by |g_t| / |g_t - m_t|; random hyperparameters (beta1 0.25, eps 1e-4, lr 1e-2)
#: reached 3.5e-5 on ``exp_avg_var`` within 200 steps.
#: A wrong rule still fails at the step where it first differs (a beta off by 0.01 gives
#: ~1e-2), and the state is compared too, so a wrongly stored moment fails the next step.
PAPER = TorchPath("paper", {}, {torch.float64: 1e-10, torch.float32: 1e-3}, paper=True, resync=True)

#: Every path, by name.
TORCH_PATHS: dict[str, TorchPath] = {
    p.name: p for p in (SINGLE_TENSOR, FOREACH, FUSED, ADAMLAB_FUSED, PAPER)
}

#: The paths that prove an entry correct: its torch twin's single-tensor path, or, for an
#: entry without a twin, its paper's equations. Each entry has exactly one of them.
ORACLE_PATHS = (SINGLE_TENSOR, PAPER)


def paper_reference(entry: OptimizerEntry) -> type[torch.optim.Optimizer]:
    """Import ``entry.paper_reference`` (``"package.module:Class"``); ValueError if it has none.

    >>> from adamlab.optim import OPTIMIZERS
    >>> paper_reference(OPTIMIZERS["lion"]).__name__
    'PaperLion'
    """
    if entry.paper_reference is None:
        raise ValueError(f"optimizer {entry.name!r} has no paper reference")
    module_name, _, class_name = entry.paper_reference.partition(":")
    cls = getattr(importlib.import_module(module_name), class_name)
    if not (isinstance(cls, type) and issubclass(cls, torch.optim.Optimizer)):
        raise ValueError(f"{entry.paper_reference!r} is not a torch.optim.Optimizer subclass")
    return cls


def supports(entry: OptimizerEntry, path: TorchPath) -> bool:
    """Whether ``entry`` has the reference ``path`` needs and it accepts ``path``'s arguments.

    The :data:`PAPER` path needs a ``paper_reference``; the others a torch twin.
    """
    if path.paper:
        return entry.paper_reference is not None and not path.kwargs and not path.ours
    if entry.torch_twin is None:
        return False
    accepted = inspect.signature(entry.torch_twin.__init__).parameters
    ours = inspect.signature(entry.cls.__init__).parameters
    return all(name in accepted for name in path.kwargs) and all(name in ours for name in path.ours)


def make_reference(
    entry: OptimizerEntry, params: list[Tensor], options: Mapping[str, Any], path: TorchPath
) -> torch.optim.Optimizer:
    """The torch twin of ``entry`` with ``options``, on ``path`` (or its paper reference)."""
    if path.paper:
        return paper_reference(entry)(params, **{**entry.kwargs, **options})
    if path.kwargs == SINGLE_TENSOR.kwargs:
        return entry.make_twin(params, **options)
    if entry.torch_twin is None:
        raise ValueError(f"optimizer {entry.name!r} has no torch.optim twin")
    return entry.torch_twin(params, **{**entry.kwargs, **options, **path.kwargs})


def deviation(actual: Tensor, reference: Tensor) -> tuple[float, float]:
    """Absolute and relative deviation of ``actual`` from ``reference`` (see module docstring).

    >>> deviation(torch.tensor([1.0, 2.0]), torch.tensor([1.0, 4.0]))
    (2.0, 0.5)
    >>> deviation(torch.tensor([float("nan")]), torch.tensor([float("nan")]))
    (0.0, 0.0)
    """
    a = actual.detach().to(torch.float64)
    b = reference.detach().to(torch.float64)
    same = (a == b) | (a.isnan() & b.isnan())
    diff = torch.where(same, 0.0, (a - b).abs()).nan_to_num(nan=math.inf)
    worst = float(diff.max()) if diff.numel() else 0.0
    finite_b = torch.where(b.isfinite(), b.abs(), 0.0)
    scale = max(float(finite_b.max()) if b.numel() else 0.0, torch.finfo(reference.dtype).tiny)
    return worst, worst / scale


@dataclass(frozen=True)
class OracleResult:
    """The outcome of one oracle run.

    Attributes:
        optimizer: registry name (for :func:`adamlab.verify.compare`, the compared class).
        options: the oracle case's hyperparameters (the entry's fixed kwargs not included).
        dtype: parameter dtype.
        problem: problem name.
        path: the torch path compared against (for :func:`adamlab.verify.compare`, the
            reference's name).
        steps: steps compared (fewer than asked when the run diverged or the layouts clashed).
        max_abs: the largest absolute deviation over all tensors and steps.
        max_rel: the largest relative deviation over all tensors and steps.
        tolerance: the largest accepted ``max_rel``.
        worst: where ``max_rel`` occurred (``"step 12, param 0 exp_avg"``), or ``""``.
        mismatch: why the state layouts differ, or None when they match.
        diverged: torch's loss became inf or NaN at step ``steps``, so the run stopped there
            (beyond it both sides would compare NaN with NaN, which proves nothing).
    """

    optimizer: str
    options: Mapping[str, Any]
    dtype: torch.dtype
    problem: str
    path: str
    steps: int
    max_abs: float
    max_rel: float
    tolerance: float
    worst: str = ""
    mismatch: str | None = None
    diverged: bool = False

    @property
    def passed(self) -> bool:
        """No state layout clash and ``max_rel <= tolerance``."""
        return self.mismatch is None and self.max_rel <= self.tolerance


@dataclass
class Comparison:
    """The largest deviations seen so far between two optimizers over the same parameters.

    Call :meth:`add` after every step; it compares each parameter and every state tensor of
    that parameter under the same key, and records a layout clash (a parameter with state on
    one side only, different keys, or a state value of another kind, dtype or shape).

    Attributes:
        max_abs: the largest absolute deviation seen.
        max_rel: the largest relative deviation seen (see :func:`deviation`).
        worst: where ``max_rel`` occurred, e.g. ``"step 12, param 0 exp_avg"``.
        mismatch: the first layout clash, or None.
        names: how a layout clash names the two sides (the compared one, the reference).
        state: compare the per-parameter state too (False: parameters only).
    """

    max_abs: float = 0.0
    max_rel: float = 0.0
    worst: str = ""
    mismatch: str | None = None
    names: tuple[str, str] = ("adamlab", "torch")
    state: bool = True

    def within(self, tolerance: float) -> bool:
        """No layout clash and ``max_rel <= tolerance``."""
        return self.mismatch is None and self.max_rel <= tolerance

    def add(
        self,
        ours: Sequence[Tensor],
        our_opt: torch.optim.Optimizer,
        theirs: Sequence[Tensor],
        their_opt: torch.optim.Optimizer,
        where: str = "",
    ) -> None:
        """Fold in the deviations of ``ours`` from ``theirs`` (the reference) and their states."""
        for index, (a, b) in enumerate(zip(ours, theirs, strict=True)):
            label = f"{where}param {index}"
            self._tensor(a, b, label)
            if not self.state:
                continue
            state_a, state_b = our_opt.state.get(a, {}), their_opt.state.get(b, {})
            if state_a.keys() != state_b.keys():
                ours_name, theirs_name = self.names
                self.mismatch = self.mismatch or (
                    f"{label}: state keys {sorted(state_a)} ({ours_name}) != "
                    f"{sorted(state_b)} ({theirs_name})"
                )
                continue
            for key, value in state_b.items():
                self._value(state_a[key], value, f"{label} {key}")

    def _value(self, mine: object, reference: object, label: str) -> None:
        if isinstance(mine, Tensor) and isinstance(reference, Tensor):
            if mine.dtype != reference.dtype or mine.shape != reference.shape:
                self.mismatch = self.mismatch or (
                    f"{label}: {mine.dtype} {tuple(mine.shape)} ({self.names[0]}) != "
                    f"{reference.dtype} {tuple(reference.shape)} ({self.names[1]})"
                )
            else:
                self._tensor(mine, reference, label)
        elif mine != reference:
            self.mismatch = self.mismatch or (
                f"{label}: {mine!r} ({self.names[0]}) != {reference!r} ({self.names[1]})"
            )

    def _tensor(self, mine: Tensor, reference: Tensor, label: str) -> None:
        # exact equality is the common case, and torch.equal its cheapest test
        if torch.equal(mine, reference):
            return
        abs_dev, rel_dev = deviation(mine, reference)
        self.max_abs = max(self.max_abs, abs_dev)
        if rel_dev > self.max_rel:
            self.max_rel, self.worst = rel_dev, label


def take_step(
    optimizer: torch.optim.Optimizer, params: Sequence[Tensor], problem: OracleProblem
) -> Tensor:
    """Set each parameter's grad from ``problem.value_and_grad`` and step; return the loss.

    The grads are what ``zero_grad()`` followed by ``loss.backward()`` would leave (None for a
    frozen or unused tensor), without autograd's per-call overhead.
    """
    loss, grads = problem.value_and_grad(list(params))
    for param, grad in zip(params, grads, strict=True):
        param.grad = grad
    optimizer.step()
    return loss


@contextmanager
def single_threaded() -> Iterator[None]:
    """Run torch's CPU kernels on one thread inside the block, then restore the count.

    The oracle's tensors have a few dozen elements, far too few to gain from threads, and
    torch's fused CPU kernels slowed from ~0.13 ms to ~12 ms per step when their two threads
    competed with other processes for this machine's two cores.
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def clone_params(params: Iterable[Tensor]) -> list[Tensor]:
    """Independent leaf copies of ``params`` with the same values and ``requires_grad``."""
    return [p.detach().clone().requires_grad_(p.requires_grad) for p in params]


def step_side_by_side(
    our_opt: torch.optim.Optimizer,
    ours: Sequence[Tensor],
    their_opt: torch.optim.Optimizer,
    theirs: Sequence[Tensor],
    problem: OracleProblem,
    steps: int,
    comparison: Comparison,
    *,
    resync: bool = False,
) -> tuple[int, bool]:
    """Step both optimizers ``steps`` times, folding each step's deviations into ``comparison``.

    Stops early at a layout clash, or when the reference's loss is no longer finite. With
    ``resync``, the reference's parameters and state are set to ours after each comparison
    (:func:`resynchronise`), so every step starts both sides from identical inputs.

    Returns:
        ``(steps taken, diverged)``: diverged is True when the reference's loss became inf
        or NaN at the last step taken.
    """
    taken, diverged = 0, False
    with single_threaded():
        for step in range(1, steps + 1):
            take_step(our_opt, ours, problem)
            loss = take_step(their_opt, theirs, problem)
            taken = step
            comparison.add(ours, our_opt, theirs, their_opt, where=f"step {step}, ")
            if comparison.mismatch is not None:
                break
            if not math.isfinite(loss.item()):
                # the reference's trajectory left the finite numbers: from here on both sides
                # compare NaN with NaN, which proves nothing, so stop at the steps that counted
                diverged = True
                break
            if resync:
                resynchronise(our_opt, ours, their_opt, theirs)
    return taken, diverged


@torch.no_grad()
def resynchronise(
    our_opt: torch.optim.Optimizer,
    ours: Sequence[Tensor],
    their_opt: torch.optim.Optimizer,
    theirs: Sequence[Tensor],
) -> None:
    """Copy our parameters' values and per-parameter state (tensors cloned) into theirs."""
    for mine, reference in zip(ours, theirs, strict=True):
        reference.copy_(mine)
        if mine in our_opt.state:
            their_opt.state[reference] = {
                key: value.clone() if isinstance(value, Tensor) else value
                for key, value in our_opt.state[mine].items()
            }


def run_oracle(
    entry: OptimizerEntry,
    options: Mapping[str, Any],
    problem: OracleProblem,
    dtype: torch.dtype,
    *,
    steps: int = DEFAULT_STEPS,
    path: TorchPath = SINGLE_TENSOR,
) -> OracleResult:
    """Step ``entry``'s adamlab optimizer and its torch twin side by side and compare.

    Args:
        entry: a registry entry with a torch twin (or, on :data:`PAPER`, a paper reference).
        options: hyperparameters for both sides (e.g. one of ``entry.oracle_cases``).
        problem: the objective; both sides start from bit-identical copies of its parameters.
        dtype: parameter dtype.
        steps: steps per side.
        path: which implementation to compare against.

    Returns:
        The deviations over every parameter, every state tensor and every step.

    >>> from adamlab.optim import OPTIMIZERS
    >>> from adamlab.verify.problems import PROBLEMS
    >>> result = run_oracle(OPTIMIZERS["adam"], {}, PROBLEMS["rosenbrock"], torch.float64, steps=5)
    >>> result.passed, result.max_abs
    (True, 0.0)
    """
    if not supports(entry, path):
        missing = "paper reference" if path.paper else "torch twin"
        raise ValueError(f"optimizer {entry.name!r} has no {missing} on the {path.name} path")
    start = problem.make_params(dtype)
    ours, theirs = clone_params(start), clone_params(start)
    our_opt = entry.make(ours, **options, **path.ours)
    their_opt = make_reference(entry, theirs, options, path)
    comparison = Comparison()
    taken, diverged = step_side_by_side(
        our_opt, ours, their_opt, theirs, problem, steps, comparison, resync=path.resync
    )
    return OracleResult(
        optimizer=entry.name,
        options=dict(options),
        dtype=dtype,
        problem=problem.name,
        path=path.name,
        steps=taken,
        max_abs=comparison.max_abs,
        max_rel=comparison.max_rel,
        tolerance=path.tolerance[dtype],
        worst=comparison.worst,
        mismatch=comparison.mismatch,
        diverged=diverged,
    )


@dataclass(frozen=True)
class OracleCase:
    """One cell of the oracle matrix: optimizer x options x dtype x problem x reference path."""

    entry: OptimizerEntry
    options: Mapping[str, Any]
    dtype: torch.dtype
    problem: OracleProblem
    path: TorchPath = SINGLE_TENSOR

    @property
    def label(self) -> str:
        """``adam[amsgrad=True]-float64-mlp-single-tensor``, for test ids."""
        return "-".join(
            [
                f"{self.entry.name}[{format_options(self.options)}]",
                str(self.dtype).removeprefix("torch."),
                self.problem.name,
                self.path.name,
            ]
        )

    def run(self, steps: int = DEFAULT_STEPS) -> OracleResult:
        """Run this cell for ``steps`` steps."""
        return run_oracle(
            self.entry, self.options, self.problem, self.dtype, steps=steps, path=self.path
        )


def format_options(options: Mapping[str, Any]) -> str:
    """``lr=0.01,betas=(0.8, 0.99)``; ``defaults`` for no options."""
    return ",".join(f"{k}={v}" for k, v in options.items()) or "defaults"


#: How much of the matrix :func:`oracle_matrix` enumerates, smallest first.
SCOPES = ("quick", "defaults", "full")


def oracle_matrix(
    optimizers: Iterable[str] | None = None,
    *,
    dtypes: Sequence[torch.dtype] = (torch.float64, torch.float32),
    problems: Sequence[str] = tuple(PROBLEMS),
    paths: Iterable[TorchPath] = ORACLE_PATHS,
    scope: str = "full",
) -> Iterator[OracleCase]:
    """Enumerate the registry: optimizers x oracle cases x dtypes x problems x paths.

    By default each entry is compared on its oracle path (:data:`ORACLE_PATHS`): torch's
    single-tensor twin, or the paper's equations for an entry without a twin. Paths an entry
    lacks (e.g. fused RMSprop, or single-tensor for Lion) are skipped.

    Scopes (a cell is one dtype x problem pair; the first cell is ``dtypes[0], problems[0]``):

    * ``"full"``: every oracle case in every cell;
    * ``"defaults"``: each entry's first oracle case (its defaults) in every cell;
    * ``"quick"``: each entry's first oracle case in the first cell.

    Args:
        optimizers: registry names (default: all registered).
        dtypes: parameter dtypes.
        problems: problem names from :data:`PROBLEMS`.
        paths: reference paths to compare against.
        scope: one of :data:`SCOPES`.

    >>> [c.label for c in oracle_matrix(["sgd"], dtypes=[torch.float64], scope="defaults")]
    ['sgd[defaults]-float64-mlp-single-tensor', 'sgd[defaults]-float64-rosenbrock-single-tensor']
    """
    if scope not in SCOPES:
        raise ValueError(f"unknown scope {scope!r} (expected one of {', '.join(SCOPES)})")
    names = list(OPTIMIZERS) if optimizers is None else list(optimizers)
    cells = [(dtype, problem) for dtype in dtypes for problem in problems]
    if scope == "quick":
        cells = cells[:1]
    for name in names:
        entry = OPTIMIZERS[name]
        cases = entry.oracle_cases if scope == "full" else entry.oracle_cases[:1]
        for path in paths:
            if not supports(entry, path):
                continue
            for options in cases:
                for dtype, problem in cells:
                    yield OracleCase(entry, options, dtype, PROBLEMS[problem], path)
