"""The engine: many starts of an optimizer advance together as one tensor.

A *unit* is one (optimizer, function) pair with all its start sets. The units of one
optimizer run together as one *batch* (one per function dimension, :func:`batches`): every
function's starts (times the learning rates, when several are swept) are the rows of a
*block*. A block's iterate is held as one ``[n]`` tensor per coordinate (the whole ``[n, d]``
for many coordinates or a ``module:Class`` optimizer; see :func:`_per_coordinate`). Each
iteration does, for all rows at once:

1. evaluate f and its gradient at theta_t, each block with its own function (analytic
   gradient where the function has one);
2. book-keep: best-so-far gap f - f*, the first evaluation at which each target is reached,
   divergence (a non-finite value or iterate freezes that row and records the step);
3. take one optimizer step with the same update rule the optimizer class uses.

Iterations run in chunks of K (the spec's ``chunk``) in one ``torch.compile``d function, so
Python and dispatch overhead is paid once per call for every unit of the batch, and the
compiler fuses the K steps into one loop over the rows that keeps the iterate and the state
in registers between steps. A chunk ends where a record is read (a curve or trace point) or
early stop is checked; single steps fill in where K steps would pass such a point, so the
records do not depend on K. A unit stops early once every one of its rows has reached the
final target or diverged; its rows then freeze, so its records are those of a run of that
unit alone.

Counting convention (COCO's): evaluation 1 is f(theta_0); the value of theta_t is known at
evaluation t + 1. A run of T steps makes T + 1 evaluations (the last one only to score
theta_T). ``hit_evals`` holds that evaluation count (-1: never); steps to a target are
``hit_evals - 1``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import torch
from torch import Tensor
from torch.utils import _pytree as pytree

from adamlab.bench.drivers import Driver, make_driver, validated_group
from adamlab.bench.spec import ExperimentSpec, OptimizerSpec
from adamlab.bench.starts import starting_points
from adamlab.functional._scalars import hoisted_scalars
from adamlab.functions import TestFunction, get
from adamlab.optim import FunctionalOptimizer

NEVER = -1


@dataclass
class UnitResult:
    """What one unit produced: one entry per row (start x learning rate), as numpy arrays."""

    optimizer: str
    function: str
    start_set: np.ndarray  # (B,) start-set name of each row
    dim: int
    lr: np.ndarray  # (B,)
    start_index: np.ndarray  # (B,) index of the start within its set
    start: np.ndarray  # (B, d)
    final: np.ndarray  # (B, d) last finite iterate
    final_gap: np.ndarray  # (B,) f(final) - f*
    best_gap: np.ndarray  # (B,) best f - f* seen
    distance: np.ndarray  # (B,) distance from final to the nearest global minimizer
    hit_evals: np.ndarray  # (B, T) first evaluation reaching each target, -1 never
    diverged_step: np.ndarray  # (B,) step whose result was non-finite, -1 never
    evals_run: np.ndarray  # (B,) evaluations spent (T + 1, fewer after an early stop)
    curve_steps: np.ndarray  # (P,) iterate indices t at which curves are recorded
    curve: np.ndarray  # (P, B) best-so-far gap after theta_t
    trace_steps: np.ndarray  # (Q,)
    trace: np.ndarray  # (Q, R, d) iterates of the first R starts (of each lr)
    trace_rows: np.ndarray  # (R',) row indices traced
    steps_run: int
    seconds: float
    compile_seconds: float

    @property
    def diverged(self) -> np.ndarray:
        return self.diverged_step >= 0


def log_spaced_steps(last: int, count: int) -> np.ndarray:
    """About ``count`` distinct integers from 0 to ``last``, log-spaced (0 and last included)."""
    if last <= 0:
        return np.zeros(1, dtype=np.int64)
    points = np.unique(np.round(np.logspace(0, math.log10(last + 1), count) - 1).astype(np.int64))
    return np.union1d(points, [0, last]).astype(np.int64)


def _chunk_ends(spec: ExperimentSpec, curve_steps: np.ndarray, trace_steps: np.ndarray) -> set[int]:
    """The step counts at which a chunk must end: records are read, or early stop checked.

    A curve point at step c is the best-so-far after observing theta_c: read when the chunk
    that observed theta_c ends, at c + 1 steps taken. A trace point at step q is theta_q: read
    at q steps taken (curve points at the last step are read after the final scoring). Early
    stop is checked every :data:`_EARLY_STOP_EVERY` steps. All are fixed by the spec alone, so
    the records do not depend on the chunk size nor on the other units of a batch.
    """
    ends = {int(c) + 1 for c in curve_steps} | {int(q) for q in trace_steps if q > 0}
    if spec.early_stop:
        ends |= set(range(_EARLY_STOP_EVERY, spec.steps, _EARLY_STOP_EVERY))
    return {end for end in ends if end <= spec.steps}


#: Steps between early-stop checks (a check reads the batch back: a synchronisation).
_EARLY_STOP_EVERY = 100


class _Tracker:
    """Book-keeping of a block of rows, updated inside the compiled chunk: the best-so-far gap
    ``[n]`` and, per target, the number of evaluations that had not reached it yet (``misses``,
    one ``[n]`` tensor per target).

    The best-so-far gap never increases, so the evaluations that miss a target are exactly
    the ones before its first hit: first hit = misses + 1, once the target is reached. A count
    needs one add per target and step, with no comparison against the previous record;
    ``misses`` is float64 (exact to 2^53) so that the add stays in the float lanes the compare
    produces. Targets are Python floats: compared with a tensor they take its dtype.
    """

    @staticmethod
    def observe(
        gap: Tensor, best: Tensor, misses: Sequence[Tensor], targets: Sequence[float]
    ) -> tuple[Tensor, tuple[Tensor, ...]]:
        """Fold the gap f(theta_t) - f* into best-so-far and the miss counts."""
        # a NaN gap compares false: a row that went non-finite keeps its best finite value
        best = torch.where(gap < best, gap, best)
        misses = tuple(
            count + (best > target).to(count.dtype)
            for count, target in zip(misses, targets, strict=True)
        )
        return best, misses

    @staticmethod
    def first_hits(best: Tensor, misses: Sequence[Tensor], targets: Sequence[float]) -> Tensor:
        """``[n, T]`` int64: the first evaluation reaching each target, NEVER if none did."""
        return torch.stack(
            [
                torch.where(best <= target, count + 1, NEVER)
                for count, target in zip(misses, targets, strict=True)
            ],
            dim=-1,
        ).to(torch.int64)


class _Rows(NamedTuple):
    """The evolving state of one block of rows (one function's starts x learning rates).

    The iterate is held as *pieces*: one ``[n]`` tensor per coordinate when the driver is a
    pure rule and d is small (:func:`_per_coordinate`), else the whole ``[n, d]`` as one piece.
    """

    theta: tuple[Tensor, ...]  # pieces of theta_t
    rule: tuple[Any, ...]  # the update rule's state, one per piece (None for a class)
    best: Tensor  # [n] best-so-far f - f*
    misses: tuple[Tensor, ...]  # per target, [n] evaluations that missed it (float64)
    diverged: Tensor  # [n] step whose result was non-finite, NEVER if none (float64)


def _per_coordinate(driver: Driver, d: int) -> bool:
    """Whether the batch is stepped as one ``[n]`` tensor per coordinate.

    Then every operation of a step runs over the same n rows: the compiler fuses the whole
    step, and several steps of a chunk, into one loop that keeps the iterate and the state in
    registers between steps. A ``[n, d]`` tensor compiles into loops over (n, d) beside loops
    over n (best-so-far, divergence), which exchange their values through memory (measured in
    ``benchmarks/engine_layout_probe.py``). Unrolled over coordinates only up to
    :data:`_UNROLLED_COORDINATES`, so that the compiled code stays small.
    """
    return driver.compilable and d <= _UNROLLED_COORDINATES


def _pieces(theta: Tensor, per_coordinate: bool) -> tuple[Tensor, ...]:
    """Cut a ``[n, d]`` iterate into the pieces of :class:`_Rows`."""
    if per_coordinate:
        return tuple(column.contiguous() for column in theta.unbind(-1))
    return (_coordinate_major(theta),)


def _joined(pieces: Sequence[Tensor]) -> Tensor:
    """The ``[n, d]`` iterate from its pieces."""
    return torch.stack(tuple(pieces), dim=-1) if pieces[0].dim() == 1 else pieces[0]


def _gap_and_grad(
    function: TestFunction,
) -> Callable[[tuple[Tensor, ...]], tuple[Tensor, list[Tensor]]]:
    """``pieces -> (f - f* [n], one gradient per piece)`` for one function."""

    def gap_and_grad(pieces: tuple[Tensor, ...]) -> tuple[Tensor, list[Tensor]]:
        if pieces[0].dim() == 1:
            f, grads = function.value_and_grad_columns(pieces)
        else:
            f, grad = function.value_and_grad(pieces[0])
            grads = [grad]
        return f - function.f_star, grads

    return gap_and_grad


class _Layout(NamedTuple):
    """Where each tensor of a block's :class:`_Rows` lives when the block is *packed*.

    A compiled call pays per tensor it takes and returns (a stride check, an allocation):
    with a dozen tensors per block and six blocks, more than the arithmetic of a step on a
    thousand rows. Packed, a block is one tensor per (dtype, rank) of its per-row tensors,
    stacked (``[F, n]``), plus the 0-dim tensors of the rule's state (the step t, ...),
    which advance alike in every block and piece and are held once for the batch.
    """

    spec: pytree.TreeSpec
    groups: tuple[tuple[torch.dtype, int], ...]  # (dtype, rank) of each stacked tensor
    # per leaf: (kind, group or scalar index, row); kind: "row", "scalar" or "none" (a None)
    slots: tuple[tuple[str, int, int], ...]


def _layout(rows: _Rows) -> _Layout:
    leaves, spec = pytree.tree_flatten(rows)
    groups: list[tuple[torch.dtype, int]] = []
    counts: dict[int, int] = {}
    slots = []
    scalars = 0
    for leaf in leaves:
        if leaf is None:
            slots.append(("none", 0, 0))
            continue
        if leaf.dim() == 0:
            slots.append(("scalar", scalars, 0))
            scalars += 1
            continue
        key = (leaf.dtype, leaf.dim())
        if key not in groups:
            groups.append(key)
        group = groups.index(key)
        slots.append(("row", group, counts.get(group, 0)))
        counts[group] = counts.get(group, 0) + 1
    return _Layout(spec, tuple(groups), tuple(slots))


def _pack(layout: _Layout, rows: _Rows) -> tuple[tuple[Tensor, ...], tuple[Tensor, ...]]:
    """``(stacked per-row tensors, scalars)`` of one block, in ``layout``."""
    leaves, spec = pytree.tree_flatten(rows)
    if spec != layout.spec:
        raise RuntimeError("the state of a block changed structure during a run")
    stacks: list[list[Tensor]] = [[] for _ in layout.groups]
    scalars = []
    for leaf, (kind, group, _) in zip(leaves, layout.slots, strict=True):
        if kind == "scalar":
            scalars.append(leaf)
        elif kind == "row":
            # [n, d] pieces are stored coordinate-major (see _coordinate_major)
            stacks[group].append(leaf if leaf.dim() == 1 else leaf.t())
    packed = tuple(
        torch.stack(stack) if dim == 1 else torch.stack(stack).transpose(1, 2)
        for stack, (_, dim) in zip(stacks, layout.groups, strict=True)
    )
    return packed, tuple(scalars)


def _unpack(layout: _Layout, packed: Sequence[Tensor], scalars: Sequence[Tensor]) -> _Rows:
    """One block's :class:`_Rows` from its packed tensors (views) and the batch's scalars."""
    leaves = [
        None if kind == "none" else scalars[index] if kind == "scalar" else packed[index][row]
        for kind, index, row in layout.slots
    ]
    rows: _Rows = pytree.tree_unflatten(leaves, layout.spec)
    return rows


def _make_advance(
    blocks: Sequence[_Block], driver: Driver, targets: Sequence[float]
) -> Callable[[int, _Rows, Tensor, Tensor, int], _Rows]:
    """``(block index, rows, unit still moving, t0, k) -> rows after k more iterations``."""
    functions = [_gap_and_grad(block.function) for block in blocks]

    def advance(index: int, state: _Rows, moving_unit: Tensor, t0: Tensor, k: int) -> _Rows:
        block, gap_and_grad = blocks[index], functions[index]
        theta, rule, best, misses, diverged = state
        for i in range(k):
            t = t0 + i
            gap, grads = gap_and_grad(theta)
            best, misses = _Tracker.observe(gap, best, misses, targets)
            # rows of a unit that has stopped early are frozen (see run_units)
            moving = (diverged < 0) & moving_unit
            new_theta, rule = driver.step(theta, grads, rule, t, block.rows)
            # a row diverges at step t + 1 when theta_{t+1} (or f(theta_t)) is not finite;
            # it then stays frozen at its last finite iterate
            bad = _non_finite_rows(gap, new_theta)
            diverged = torch.where(moving & bad, t + 1, diverged)
            keep = moving & ~bad
            theta = tuple(
                torch.where(keep if new.dim() == 1 else keep.unsqueeze(-1), new, old)
                for new, old in zip(new_theta, theta, strict=True)
            )
        return _Rows(theta, rule, best, misses, diverged)

    return advance


def _make_chunk(
    advance: Callable[[int, _Rows, Tensor, Tensor, int], _Rows], layout: _Layout, k: int
) -> Callable[..., Any]:
    """K iterations of every block, packed in and out; pure, so ``torch.compile`` can fuse
    it (with one tensor per coordinate, into one loop over each block's rows)."""

    def chunk(
        packed: tuple[tuple[Tensor, ...], ...],
        scalars: tuple[Tensor, ...],
        active: tuple[Tensor, ...],
        t0: Tensor,
    ) -> tuple[tuple[tuple[Tensor, ...], ...], tuple[Tensor, ...], Tensor]:
        out = []
        for index, (block, moving_unit) in enumerate(zip(packed, active, strict=True)):
            out.append(
                _pack(layout, advance(index, _unpack(layout, block, scalars), moving_unit, t0, k))
            )
        # every block computes the same scalars; the first block's serve the next call
        return tuple(block for block, _ in out), out[0][1], t0 + k

    return chunk


def _non_finite_rows(gap: Tensor, pieces: Sequence[Tensor]) -> Tensor:
    """``[n]`` bool: f - f* or any coordinate of theta is NaN or infinite.

    ``isfinite`` itself is needed: an arithmetic probe such as ``f * 0`` may be folded to zero
    by the compiler, and an infinite f(theta_t) at a finite theta_t would then go unnoticed
    for a step.
    """
    finite = torch.isfinite(gap)
    for piece in pieces:
        finite = finite & (
            torch.isfinite(piece) if piece.dim() == 1 else torch.isfinite(piece).all(-1)
        )
    return ~finite


#: Up to this many coordinates a batch is stepped per coordinate (see _per_coordinate).
_UNROLLED_COORDINATES = 8

#: Inductor fuses at most this many nodes into one kernel (its default, 64, cuts a chunk of
#: several steps into kernels that pass the iterate through memory).
_MAX_FUSION_SIZE = 4096


def _scalars_hoisted(elements: int) -> AbstractContextManager[None]:
    """Hoist the rules' per-step scalars (see ``functional._scalars.once``) on large batches.

    Each hoisted scalar costs the compiled call one more operator call (~4 us); inlined, its
    pow and sqrt run once per 8 elements. Measured side by side with Adam on Rosenbrock:
    hoisting is slower at 1,000 rows x 2 coordinates, faster at 10,000.
    """
    return hoisted_scalars() if elements >= _HOIST_FROM_ELEMENTS else nullcontext()


_HOIST_FROM_ELEMENTS = 8192


def _coordinate_major(x: Tensor) -> Tensor:
    """The same ``[n, d]`` values stored coordinate-major (``[d, n]`` memory).

    With rows innermost in memory, the compiled kernel's inner loop runs across starts and
    vectorises; row-major, the per-row reductions over d keep it scalar. Measured side by side
    at 10,000 rows and d = 2: ~2x faster per step.
    """
    return x.t().contiguous().t() if x.dim() == 2 else x


def _map_tensors(fn: Callable[[Tensor], Tensor], state: Any) -> Any:
    """Apply ``fn`` to every tensor field of a NamedTuple state (None and non-tuples pass)."""
    if isinstance(state, tuple) and hasattr(state, "_fields"):
        return type(state)(*(fn(v) if isinstance(v, Tensor) else v for v in state))
    return state


@dataclass(frozen=True)
class _Block:
    """The rows of one function within a batch: ``rows`` = its (lr, start) pairs, lr-major."""

    function: TestFunction
    rows: slice
    n_starts: int
    starts: Tensor  # (n_starts, d) float64
    set_labels: np.ndarray  # (n_starts,)
    set_index: np.ndarray  # (n_starts,)


def _blocks(spec: ExperimentSpec, function_names: Sequence[str], n_lrs: int) -> list[_Block]:
    blocks, first = [], 0
    for name in function_names:
        function = get(name, spec.dim_of(name))
        start_sets = [starting_points(spec.seed, function, start) for start in spec.starts]
        starts = torch.cat(start_sets)
        labels = [
            np.full(len(points), s.key) for points, s in zip(start_sets, spec.starts, strict=True)
        ]
        n_starts = len(starts)
        blocks.append(
            _Block(
                function=function,
                rows=slice(first, first + n_lrs * n_starts),
                n_starts=n_starts,
                starts=starts,
                set_labels=np.concatenate(labels),
                set_index=np.concatenate([np.arange(len(points)) for points in start_sets]),
            )
        )
        first += n_lrs * n_starts
    return blocks


def can_share_batch(optimizer: OptimizerSpec) -> bool:
    """Whether several functions' units of this optimizer can run as one batch: true for the
    optimizers driven through their pure rule (rows never interact); a ``module:Class``
    optimizer runs one unit at a time."""
    if not optimizer.is_registry:
        return False
    cls, _ = validated_group(optimizer)
    return issubclass(cls, FunctionalOptimizer)


def batches(
    spec: ExperimentSpec, units: Sequence[tuple[OptimizerSpec, str]]
) -> list[tuple[OptimizerSpec, list[str]]]:
    """Group units into batches for :func:`run_units`: each optimizer that can share a batch
    gets one per function dimension, in the order its units first appear; others one per
    unit."""
    grouped: dict[tuple[str, int], tuple[OptimizerSpec, list[str]]] = {}
    order: list[tuple[OptimizerSpec, list[str]]] = []
    # can_share_batch builds the optimizer once to find its class: once per optimizer
    shares = {optimizer.label: can_share_batch(optimizer) for optimizer, _ in units}
    for optimizer, function in units:
        if not shares[optimizer.label]:
            order.append((optimizer, [function]))
            continue
        key = (optimizer.label, get(function, spec.dim_of(function)).dim)
        if key not in grouped:
            grouped[key] = (optimizer, [])
            order.append(grouped[key])
        grouped[key][1].append(function)
    return order


def run_unit(
    spec: ExperimentSpec,
    optimizer: OptimizerSpec,
    function_name: str,
    progress: Callable[[int], None] | None = None,
) -> UnitResult:
    """Run one (optimizer, function) unit, every start set and lr as rows of one batch."""
    return run_units(spec, optimizer, [function_name], progress)[0]


def run_units(
    spec: ExperimentSpec,
    optimizer: OptimizerSpec,
    function_names: Sequence[str],
    progress: Callable[[int], None] | None = None,
) -> list[UnitResult]:
    """Run the units of one optimizer on several functions of one dimension as one batch.

    Each function owns a block of rows and its own gradient; the update rule steps all rows
    at once, so one compiled call advances every unit (the step's fixed cost is paid once,
    not once per function). Each unit's records equal a run of that unit alone: when every
    row of a unit has reached the final target or diverged at an early-stop check, its rows
    freeze (theta, best-so-far and divergence stop changing) and its steps end there, as if
    it had stopped. A unit's ``seconds`` and ``compile_seconds`` are its share of the batch's.
    """
    if len(function_names) > 1 and not can_share_batch(optimizer):
        raise ValueError(f"optimizer {optimizer.label!r} runs one function per batch")
    dtype = getattr(torch, spec.dtype)
    n_lrs = len(optimizer.lrs) or 1
    blocks = _blocks(spec, function_names, n_lrs)
    dims = {block.function.dim for block in blocks}
    if len(dims) != 1:
        raise ValueError(f"functions of one batch must share a dimension, got {sorted(dims)}")
    (d,) = dims
    driver, lr_rows = make_driver(optimizer, [block.n_starts for block in blocks], spec.steps)
    per_coordinate = _per_coordinate(driver, d)
    n_rows = blocks[-1].rows.stop
    # rows: function blocks; in each, (lr, start) pairs, lr-major (row j * n + i: start i, lr j)
    rows: list[_Rows] = []
    for block in blocks:
        theta = _pieces(block.starts.to(dtype).repeat(n_lrs, 1), per_coordinate)
        n = block.rows.stop - block.rows.start
        rows.append(
            _Rows(
                theta=theta,
                rule=tuple(_map_tensors(_coordinate_major, driver.init(piece)) for piece in theta),
                best=torch.full((n,), math.inf, dtype=dtype),
                misses=tuple(torch.zeros(n, dtype=torch.float64) for _ in spec.targets),
                # the divergence step is float64 (exact to 2^53 steps), so that the compiled
                # kernel compares and selects it in the same lanes as the float values
                diverged=torch.full((n,), NEVER, dtype=torch.float64),
            )
        )
    # per block, the rows traced: the first trace_rows starts of each start set, for each lr
    traced = [
        torch.cat(
            [
                torch.from_numpy(np.flatnonzero(block.set_index < spec.trace_rows))
                + j * block.n_starts
                for j in range(n_lrs)
            ]
        )
        for block in blocks
    ]
    active = [torch.ones((), dtype=torch.bool) for _ in blocks]
    targets = tuple(float(target) for target in spec.targets)
    advance = _make_advance(blocks, driver, targets)

    curve_steps = log_spaced_steps(spec.steps, spec.curve_points)
    trace_steps = log_spaced_steps(spec.steps, spec.trace_points)
    boundaries = _chunk_ends(spec, curve_steps, trace_steps)
    curve = [np.full((len(curve_steps), len(r.best)), np.nan) for r in rows]
    trace = [np.full((len(trace_steps), len(index), d), np.nan) for index in traced]
    for i, r in enumerate(rows):
        trace[i][0] = _joined(r.theta).index_select(0, traced[i]).double().numpy()
    curve_pos, trace_pos = 0, 1
    steps_run: list[int | None] = [None] * len(blocks)

    def read_records(t0: int, blocks_now: Callable[[], Sequence[_Rows]]) -> None:
        nonlocal curve_pos, trace_pos
        if t0 not in boundaries:
            return
        state = blocks_now()
        while curve_pos < len(curve_steps) and curve_steps[curve_pos] < t0:
            for i, r in enumerate(state):
                curve[i][curve_pos] = r.best.double().numpy()
            curve_pos += 1
        while trace_pos < len(trace_steps) and trace_steps[trace_pos] <= t0:
            for i, r in enumerate(state):
                trace[i][trace_pos] = _joined(r.theta).index_select(0, traced[i]).double().numpy()
            trace_pos += 1

    started = time.perf_counter()
    # The first step runs eagerly on the state as built: a rule may create state on it (SGD's
    # momentum buffer), and the packed layout is the one after it.
    step = torch.zeros((), dtype=torch.float64)  # t0 as the chunk reads it
    state = [advance(i, r, active[i], step, 1) for i, r in enumerate(rows)]
    step, t0 = step + 1, 1
    read_records(t0, lambda: state)
    if progress is not None:
        progress(steps_run.count(None))
    layout = _layout(state[0])
    packed_blocks = [_pack(layout, r) for r in state]
    packed = tuple(block for block, _ in packed_blocks)
    scalars = packed_blocks[0][1]

    # chunks of K steps, and single steps where a record is read within K steps
    k = min(spec.chunk, spec.steps)
    chunks = {size: _make_chunk(advance, layout, size) for size in {1, k}}
    if driver.compilable and spec.compile:
        # every batch compiles the same `chunk` code object for other functions / rules; drop
        # the previous batches' graphs so dynamo neither hits its recompile limit nor checks
        # their guards on every call (inductor's on-disk cache still makes repeats cheap)
        torch._dynamo.reset()
        chunks = {
            size: torch.compile(fn, dynamic=False, options={"max_fusion_size": _MAX_FUSION_SIZE})
            for size, fn in chunks.items()
        }
    compile_seconds = 0.0
    first_call = set(chunks)

    def unpacked() -> list[_Rows]:
        """The blocks' current rows (unpacking costs Python time: only where read)."""
        return [_unpack(layout, block, scalars) for block in packed]

    while t0 < spec.steps:
        next_end = min((end for end in boundaries if end > t0), default=spec.steps)
        size = k if t0 + k <= min(next_end, spec.steps) else 1
        tick = time.perf_counter()
        with _scalars_hoisted(n_rows * d):
            packed, scalars, step = chunks[size](packed, scalars, tuple(active), step)
        if size in first_call:
            first_call.discard(size)
            compile_seconds += time.perf_counter() - tick
        t0 += size
        read_records(t0, unpacked)
        if progress is not None:
            progress(size * steps_run.count(None))
        if spec.early_stop and t0 < spec.steps and t0 % _EARLY_STOP_EVERY == 0:
            for i, r in enumerate(unpacked()):
                finished = bool(((r.best <= targets[-1]) | (r.diverged >= 0)).all())
                if steps_run[i] is None and finished:
                    steps_run[i] = t0
                    active[i] = torch.zeros((), dtype=torch.bool)
                    if progress is not None:
                        progress(spec.steps - t0)
            if None not in steps_run:
                break

    results = []
    state = unpacked()
    for i, (block, r, ran) in enumerate(zip(blocks, state, steps_run, strict=True)):
        # score the last iterate theta_T: evaluation T + 1
        gap_last, _ = _gap_and_grad(block.function)(r.theta)
        best, misses = _Tracker.observe(gap_last, r.best, r.misses, targets)
        if curve_pos < len(curve_steps):
            curve[i][curve_pos:] = best.double().numpy()
        final = _joined(r.theta)
        if trace_pos < len(trace_steps):
            trace[i][trace_pos:] = final.index_select(0, traced[i]).double().numpy()
        final = final.double()
        ran = t0 if ran is None else ran
        results.append(
            UnitResult(
                optimizer=optimizer.label,
                function=block.function.name,
                start_set=np.tile(block.set_labels, n_lrs),
                dim=d,
                lr=lr_rows[block.rows].numpy(),
                start_index=np.tile(block.set_index, n_lrs),
                start=block.starts.repeat(n_lrs, 1).numpy(),
                final=final.numpy(),
                final_gap=gap_last.double().numpy(),
                best_gap=best.double().numpy(),
                distance=block.function.distance_to_minimizer(final).numpy(),
                hit_evals=_Tracker.first_hits(best, misses, targets).numpy(),
                diverged_step=r.diverged.to(torch.int64).numpy(),
                evals_run=np.full(len(best), ran + 1, dtype=np.int64),
                curve_steps=curve_steps,
                curve=curve[i],
                trace_steps=trace_steps,
                trace=trace[i],
                trace_rows=traced[i].numpy(),
                steps_run=ran,
                seconds=0.0,
                compile_seconds=compile_seconds / len(blocks),
            )
        )
    seconds = time.perf_counter() - started
    for result in results:
        result.seconds = seconds / len(blocks)
    return results
