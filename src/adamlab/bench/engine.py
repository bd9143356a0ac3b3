"""The engine: many starts of an optimizer advance together as one tensor.

A *unit* is one (optimizer, function) pair with all its start sets. The units of one
optimizer run together as one *batch* (one per function dimension, :func:`batches`): the rows
of a ``[B, d]`` tensor are every function's starts (times the learning rates, when several
are swept), each function owning a block of rows. Each iteration does, for all rows at once:

1. evaluate f and its gradient at theta_t, each block with its own function (analytic
   gradient where the function has one);
2. book-keep: best-so-far gap f - f*, the first evaluation at which each target is reached,
   divergence (a non-finite value or iterate freezes that row and records the step);
3. take one optimizer step with the same update rule the optimizer class uses.

Iterations run in chunks of K (default 1) in one ``torch.compile``d function, so Python and
dispatch overhead is paid once per call for every unit of the batch. A unit stops early once
every one of its rows has reached the final target or diverged; its rows then freeze, so its
records are those of a run of that unit alone.

Counting convention (COCO's): evaluation 1 is f(theta_0); the value of theta_t is known at
evaluation t + 1. A run of T steps makes T + 1 evaluations (the last one only to score
theta_T). ``hit_evals`` holds that evaluation count (-1: never); steps to a target are
``hit_evals - 1``.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor

from adamlab.bench.drivers import Driver, make_driver, validated_group
from adamlab.bench.spec import ExperimentSpec, OptimizerSpec
from adamlab.bench.starts import starting_points
from adamlab.compiled_call import CompiledFunction, scalars_once, tensor_signature
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


def _chunk_size(steps: int, preferred: int) -> int:
    # the chunk must divide the step count, so that one compiled graph serves the whole run
    for k in range(min(preferred, steps), 0, -1):
        if steps % k == 0:
            return k
    return 1


class _Tracker:
    """Book-keeping of a unit, updated inside the compiled chunk: best-so-far gap ``[B]`` and,
    per target, the number of evaluations that had not reached it yet (``misses``, ``[T, B]``).

    The best-so-far gap never increases, so the evaluations that miss a target are exactly
    the ones before its first hit: first hit = misses + 1, once the target is reached. A count
    needs one add per target and step, with no comparison against the previous record;
    ``misses`` is a float (see :meth:`count_dtype`) so that the add stays in the float lanes
    the compare produces.
    """

    @staticmethod
    def count_dtype(evaluations: int) -> torch.dtype:
        """float32 while it counts every evaluation exactly (up to 2^24), else float64 (2^53):
        the counts are most of the bytes a compiled call reads and writes per row; halving
        them measured 1.08-1.16x faster per step at 100,000 rows (docs/performance.md)."""
        return torch.float32 if evaluations <= 2**24 else torch.float64

    @staticmethod
    def observe(
        gap: Tensor, best: Tensor, misses: Sequence[Tensor], targets: Sequence[Tensor]
    ) -> tuple[Tensor, list[Tensor]]:
        """Fold the gap f(theta_t) - f* into best-so-far and the miss counts (one ``[B]``
        count per target: a single ``[T, B]`` add would be a loop of its own when compiled,
        apart from the other per-row work)."""
        # a NaN gap compares false: a row that went non-finite keeps its best finite value
        best = torch.where(gap < best, gap, best)
        counts = [
            count + (best > target).to(count.dtype)
            for count, target in zip(misses, targets, strict=True)
        ]
        return best, counts

    @staticmethod
    def first_hits(best: Tensor, misses: Tensor, targets: Tensor) -> Tensor:
        """``[B, T]`` int64: the first evaluation reaching each target, NEVER if none did."""
        reached = best <= targets.unsqueeze(-1)
        return torch.where(reached, misses + 1, NEVER).t().to(torch.int64)


#: Pieces of a batch: the whole ``[B, d]`` iterate, or its d columns ``[B, 1]`` (see _Layout).
Pieces = list[Tensor]


@dataclass(frozen=True)
class _Layout:
    """How the compiled chunk splits the batch: whole, or one ``[B, 1]`` piece per coordinate.

    By columns, every operation of an iteration (the function, the rule, the book-keeping)
    runs over the same B rows, so the compiler fuses the whole iteration, and K iterations
    per call, into one loop over the rows that keeps iterate, moments and book-keeping in
    registers. Whole, the rule's operations run over ``(d, B)`` and the book-keeping over
    ``B``: separate loops, with every tensor between them going through memory. Measured in
    docs/performance.md. Columns need an element-wise rule (each coordinate's update reads
    only that coordinate) and few coordinates (each is traced separately).
    """

    columns: bool

    def split(self, theta: Tensor) -> Pieces:
        if not self.columns:
            return [theta]
        return [_column(theta, i) for i in range(theta.shape[-1])]

    def split_state(self, state: Any, d: int) -> list[Any]:
        if not self.columns:
            return [state]
        # fields shaped like the iterate split with it; the rest (the step count) is shared
        return [_map_tensors(functools.partial(_column, i=i), state) for i in range(d)]

    @staticmethod
    def join(pieces: Sequence[Tensor]) -> Tensor:
        """The ``[B, d]`` iterate from its pieces; from columns it is stored coordinate-major
        (see _coordinate_major) as it is built, saving the compiled call a copy."""
        if len(pieces) == 1:
            return pieces[0]
        return torch.stack([piece[:, 0] for piece in pieces]).t()

    @staticmethod
    def join_segments(per_segment: Sequence[Pieces]) -> Tensor:
        """The batch's ``[B, d]`` iterate from the pieces of each of its segments (several
        segments only by columns), coordinate-major like :meth:`join`."""
        if len(per_segment) == 1:
            return _Layout.join(per_segment[0])
        columns = zip(*per_segment, strict=True)
        return _stack_joined([[piece[:, 0] for piece in column] for column in columns]).t()

    @staticmethod
    def join_states(per_segment: Sequence[Sequence[Any]]) -> Any:
        """The batch's state from each segment's states (one per piece)."""
        first = per_segment[0]
        if len(per_segment) == 1 and len(first) == 1:
            return first[0]
        # by columns the rule is a registry rule: its state is a NamedTuple
        fields = []
        for i, value in enumerate(first[0]):
            if isinstance(value, Tensor) and value.dim() == 2:  # shaped like the iterate
                value = _Layout.join_segments([[s[i] for s in states] for states in per_segment])
            fields.append(value)  # the rest (the step count) is the same in every segment
        return type(first[0])(*fields)


def _column(x: Tensor, i: int) -> Tensor:
    """Column i (``[B, 1]``) of a field shaped like the iterate; other fields as they are."""
    return x[:, i : i + 1] if x.dim() == 2 else x


@dataclass(frozen=True)
class _Segment:
    """Rows that the compiled chunk steps together, its K iterations in a row.

    With K > 1 by columns, each function's block of rows is a segment: the K iterations of a
    block then compile into one loop over its rows, where a batch stepped as one joins the
    blocks' values and gradients (``torch.cat``) in every iteration, which cuts the loop at
    every iteration. Measured side by side (docs/performance.md): the six functions, 4
    iterations per call, 1.54x / 1.39x as fast by blocks at 1,000 / 10,000 starts each.
    With K = 1 nothing spans iterations, and a loop per block only adds to the compile time
    (about twice as long for the six functions), so the batch is one segment, as it is
    whole.
    """

    rows: slice
    gap_and_grad: Callable[[Pieces], tuple[Tensor, Pieces]]
    driver: Driver
    #: the segment's entries of the batch's ``trace_index`` (which lists rows in order)
    traced: slice


def _segments(
    blocks: Sequence[_Block], driver: Driver, layout: _Layout, k: int, trace_index: Tensor
) -> list[_Segment]:
    if k == 1 or not layout.columns or len(blocks) == 1 or driver.on_rows is None:
        every = slice(0, blocks[-1].rows.stop)
        return [_Segment(every, _batch_gap_and_grad(blocks), driver, slice(0, len(trace_index)))]
    segments, traced = [], 0
    for block in blocks:
        count = int(((trace_index >= block.rows.start) & (trace_index < block.rows.stop)).sum())
        segments.append(
            _Segment(
                rows=block.rows,
                # the segment's pieces hold the block's rows alone
                gap_and_grad=_batch_gap_and_grad(
                    [dataclasses.replace(block, rows=slice(0, block.rows.stop - block.rows.start))]
                ),
                driver=driver.on_rows(block.rows),
                traced=slice(traced, traced + count),
            )
        )
        traced += count
    return segments


def _make_chunk(
    segments: Sequence[_Segment], k: int, layout: _Layout, record: bool
) -> Callable[..., Any]:
    """K iterations for all rows; pure in its inputs, so ``torch.compile`` can fuse it.

    ``record``: also return each iteration's best-so-far (with K > 1) and traced rows, which
    the caller reads at the curve's and the traces' steps. Without them (for the calls that
    read neither, see _ChunkCalls) the compiled call neither stores every iteration's
    iterate and best-so-far nor keeps them live to the end of its loop.
    """

    def advance(
        segment: _Segment,
        theta: Tensor,
        state: Any,
        best: Tensor,
        counts: list[Tensor],
        diverged: Tensor,
        active: Tensor,
        t0: Tensor,
        levels: list[Tensor],
        trace_index: Tensor,
    ) -> tuple[Pieces, list[Any], Tensor, list[Tensor], Tensor, list[Tensor], list[Tensor]]:
        """The segment's K iterations; the arguments are the whole batch's."""
        rows = segment.rows
        pieces = layout.split(theta[rows])
        states = layout.split_state(_map_tensors(lambda x: _rows(x, rows), state), len(pieces))
        best, diverged, active = best[rows], diverged[rows], active[rows]
        counts = [count[rows] for count in counts]
        traced = trace_index[segment.traced] - rows.start
        bests, traces = [], []
        for i in range(k):
            t = t0 + i
            gap, grads = segment.gap_and_grad(pieces)
            best, counts = _Tracker.observe(gap, best, counts, levels)
            # rows of a unit that has stopped early are frozen (see run_units)
            moving = (diverged < 0) & active
            stepped = [
                segment.driver.step(piece, g, s, t)
                for piece, g, s in zip(pieces, grads, states, strict=True)
            ]
            # a row diverges at step t + 1 when theta_{t+1} (or f(theta_t)) is not finite;
            # it then stays frozen at its last finite iterate
            bad = _non_finite_rows(gap, [new for new, _ in stepped])
            diverged = torch.where(moving & bad, t + 1, diverged)
            keep = (moving & ~bad).unsqueeze(-1)
            pieces = [
                torch.where(keep, new, piece)
                for (new, _), piece in zip(stepped, pieces, strict=True)
            ]
            states = [s for _, s in stepped]
            if record:
                bests.append(best)
                traces.append(layout.join(pieces).index_select(0, traced))
        return pieces, states, best, counts, diverged, bests, traces

    def chunk(
        theta: Tensor,
        state: Any,
        best: Tensor,
        misses: Tensor,
        diverged: Tensor,
        active: Tensor,
        t0: Tensor,
        targets: Tensor,
        trace_index: Tensor,
    ) -> tuple[Tensor, Any, Tensor, Tensor, Tensor, Tensor, Tensor | None, Tensor | None]:
        counts, levels = list(misses.unbind(0)), list(targets.unbind(0))
        done = [
            advance(s, theta, state, best, counts, diverged, active, t0, levels, trace_index)
            for s in segments
        ]
        pieces, states, bests, counts, divergeds, best_lists, trace_lists = zip(*done, strict=True)
        return (
            _coordinate_major(layout.join_segments(pieces)),
            _map_tensors(_coordinate_major, layout.join_states(states)),
            _join_rows(list(bests), dim=0),
            _stack_joined(list(zip(*counts, strict=True))),
            _join_rows(list(divergeds), dim=0),
            t0 + k,
            # one step per chunk: the caller reads ``best`` itself, saving a copy per step
            _stack_joined(list(zip(*best_lists, strict=True))) if record and k > 1 else None,
            _stack_joined(list(zip(*trace_lists, strict=True))) if record else None,
        )

    return chunk


def _stack_joined(parts: Sequence[Sequence[Tensor]]) -> Tensor:
    """``torch.stack`` of each list of parts joined along rows (``torch.cat``), written as one
    ``cat`` of all parts: the compiler then computes every part into its place in the result,
    where a stack of cats computes each cat into a buffer of its own and then copies it into
    the stack (in the generated code of a six-function batch: one more pass over all rows
    per count, per iteration's best-so-far and per coordinate, on every call)."""
    flat = torch.cat([part for row_parts in parts for part in row_parts])
    return flat.view(len(parts), -1, *flat.shape[1:])


def _rows(x: Tensor, rows: slice) -> Tensor:
    """The given rows of a per-row field (``[B, ...]``); a 0-dim field (the step count) as is."""
    return x[rows] if x.dim() > 0 else x


def _non_finite_rows(gap: Tensor, pieces: Pieces) -> Tensor:
    """``[B]`` bool: f - f* or any coordinate of the iterate (given in pieces) is NaN or
    infinite.

    The test: the largest magnitude is below infinity (``maximum`` propagates NaN, and
    NaN < inf is false), fewer operations per value than ``isfinite``'s two comparisons. An
    arithmetic probe such as ``f * 0`` would be cheaper still, but the compiler may fold it to
    zero, and an infinite f(theta_t) at a finite theta_t would then go unnoticed for a step.
    For a few coordinates it is written per coordinate: the compiled step then checks each row
    in the same vectorised loop as the other per-row book-keeping, where a reduction over d
    compiles to a loop of its own (measured: Adam on Rosenbrock at 10,000 rows, 520 us per
    step against 425 us).
    """
    largest = gap.abs()
    for piece in pieces:
        if piece.shape[-1] <= _UNROLLED_COORDINATES:
            for i in range(piece.shape[-1]):
                largest = torch.maximum(largest, piece[..., i].abs())
        else:
            largest = torch.maximum(largest, piece.abs().amax(dim=-1))
    return ~(largest < math.inf)


#: Up to this many coordinates the finiteness test is unrolled (see _non_finite_rows).
_UNROLLED_COORDINATES = 8

#: Up to this many coordinates a compiled batch of an element-wise rule runs by columns.
_COLUMNS_UP_TO = 8


def _layout(driver: Driver, d: int, compiled: bool) -> _Layout:
    """By columns where it pays: compiled (eagerly, columns only multiply the operator calls)
    with an element-wise rule and at most ``_COLUMNS_UP_TO`` coordinates."""
    return _Layout(columns=compiled and driver.elementwise and d <= _COLUMNS_UP_TO)


def _inductor_config(layout: _Layout, k: int) -> dict[str, Any]:
    """Inductor settings for the chunk of K iterations (each measured side by side in
    docs/performance.md, ``benchmarks/engine_variants.py``).

    Both layouts:
      * the rule's per-step scalars (t + 1, the bias corrections) are computed once per call,
        all K steps' together, ahead of the loops over the rows
        (``compiled_call.scalars_once``);
      * the wrapper that allocates the outputs and calls the kernels is C++ (``cpp_wrapper``):
        about 30 us less per call than inductor's Python wrapper, for about 2 s more
        compiling per graph;
      * no check of the inputs' sizes and strides on each call (``size_asserts``, about 3 us
        of a call's fixed cost): the graph runs only through ``CompiledFunction``, whose
        direct calls are keyed by those same sizes and strides, and ``run_units`` binds one
        only to calls of the signature it was compiled for.
    By columns, also: every operation of the K iterations may join one loop (inductor's
    default stops fusing at 64 operations per kernel, which cuts even one iteration of a
    batch of several functions into kernels that pass the iterate through memory), and with
    K > 1 that loop runs on all threads from fewer rows than inductor's default, which
    assumes a few operations per row (the loop here has about a hundred per row and
    iteration).
    """
    config: dict[str, Any] = {
        "post_grad_custom_post_pass": scalars_once(),
        "cpp_wrapper": True,
        "size_asserts": False,
    }
    if layout.columns:
        config["max_fusion_size"] = _MAX_FUSION_SIZE
        config["cpp.min_chunk_size"] = max(1, _ROWS_PER_THREAD_AT_K1 // k)
    return config


#: inductor's default ``cpp.min_chunk_size``: the fewest rows per thread of a parallel loop
_ROWS_PER_THREAD_AT_K1 = 512

_MAX_FUSION_SIZE = 4096


def _coordinate_major(x: Tensor) -> Tensor:
    """The same ``[B, d]`` values stored coordinate-major (``[d, B]`` memory).

    With d = 2 and rows innermost in memory, the compiled kernel's inner loop runs across
    starts and vectorises; row-major, the per-row reductions over d keep it scalar. Measured
    side by side at 10,000 rows: ~2x faster per step.
    """
    if x.dim() != 2 or x.t().is_contiguous():
        return x
    return x.t().contiguous().t()


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


def _batch_gap_and_grad(blocks: Sequence[_Block]) -> Callable[[Pieces], tuple[Tensor, Pieces]]:
    """``pieces -> (f - f* [B], gradient in the same pieces)``, each block with its own
    function: the iterate whole (``[theta]``, ``[B, d]``) or by columns (d x ``[B, 1]``)."""

    def evaluate(function: TestFunction, pieces: Pieces) -> tuple[Tensor, Pieces]:
        if len(pieces) == 1:
            f, g = function.value_and_grad(pieces[0])
            return f, [g]
        f, columns = function.value_and_grad_columns([piece[:, 0] for piece in pieces])
        return f, [column.unsqueeze(-1) for column in columns]

    def several(pieces: Pieces) -> tuple[Tensor, Pieces]:
        gaps, grads = [], []
        for block in blocks:
            f, g = evaluate(block.function, [piece[block.rows] for piece in pieces])
            gaps.append(f - block.function.f_star)
            grads.append(g)
        # each piece's gradient joined over the blocks coordinate-major ([d, B] memory), the
        # layout of the batch (_coordinate_major)
        joined = [
            _join_rows([g[i].movedim(-1, 0) for g in grads], dim=1).movedim(0, -1)
            for i in range(len(pieces))
        ]
        return _join_rows(gaps, dim=0), joined

    return several


def _join_rows(parts: list[Tensor], dim: int) -> Tensor:
    return parts[0] if len(parts) == 1 else torch.cat(parts, dim=dim)


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


def record_modes(k: int) -> tuple[bool, ...]:
    """The chunks a batch of K steps per call compiles, by whether they record.

    With several steps per call, the calls that read no curve or trace step (most calls of a
    long run: both are log-spaced) run a chunk that records neither (measured in
    docs/performance.md); with one step per call that second graph would double the compiling
    for little. Each chunk's first call compiles.
    """
    return (True, False) if k > 1 else (True,)


class _ChunkCalls:
    """How the loop of :func:`run_units` calls one chunk function.

    Compiled, the function is a :class:`CompiledFunction`: each call takes the previous
    call's outputs, so once two calls in a row have one signature the graph maps it to itself
    and every later call has it too (from the second call, or the third where the state gains
    a field at the first step, as SGD's momentum buffer); from then on the loop calls that
    graph's direct call itself (:attr:`call`). The first call, which compiles, is timed.
    """

    def __init__(self, function: Callable[..., Any], compiled: CompiledFunction | None) -> None:
        #: what the loop calls once :attr:`settling` is over
        self.call: Callable[..., Any] = function
        self._compiled = compiled
        self._last_signature: Any = None
        self._calls = 0
        #: the first calls go through :meth:`settle`
        self.settling = True
        #: the first call's duration (compiling included)
        self.first_seconds = 0.0

    def settle(self, args: tuple[Any, ...]) -> Any:
        """One of the first calls: binds the direct call where it can, times the first."""
        if self._compiled is not None and self.call is self._compiled:
            signature = tensor_signature(args)
            if signature == self._last_signature:
                self.call = self._compiled.for_signature_of(*args)
            self._last_signature = signature
        tick = time.perf_counter()
        outputs = self.call(*args)
        if self._calls == 0:
            self.first_seconds = time.perf_counter() - tick
        self._calls += 1
        self.settling = self._calls < 3
        return outputs


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
    # rows: function blocks; in each, (lr, start) pairs, lr-major (row j * n + i: start i, lr j)
    theta = _coordinate_major(torch.cat([b.starts.to(dtype).repeat(n_lrs, 1) for b in blocks]))
    rows = theta.shape[0]
    trace_index = torch.cat(
        [
            torch.from_numpy(np.flatnonzero(b.set_index < spec.trace_rows))
            + b.rows.start
            + j * b.n_starts
            for b in blocks
            for j in range(n_lrs)
        ]
    )

    targets = torch.tensor(spec.targets, dtype=dtype)
    best = torch.full((rows,), math.inf, dtype=dtype)
    misses = torch.zeros((len(spec.targets), rows), dtype=_Tracker.count_dtype(spec.steps + 1))
    # the step counter and the divergence step are float64 (exact to 2^53 steps), so that the
    # compiled kernel compares and selects them in the same lanes as the float values
    diverged = torch.full((rows,), NEVER, dtype=torch.float64)
    active = torch.ones(rows, dtype=torch.bool)
    state = _map_tensors(_coordinate_major, driver.init(theta))

    k = _chunk_size(spec.steps, spec.chunk)
    compiled = driver.compilable and spec.compile
    layout = _layout(driver, d, compiled)
    gap_and_grad = _batch_gap_and_grad(blocks)
    segments = _segments(blocks, driver, layout, k, trace_index)
    if compiled:
        # every batch compiles the same `chunk` code object for other functions / rules; drop
        # the previous batches' graphs so dynamo neither hits its recompile limit nor checks
        # their guards on every call (inductor's on-disk cache still makes repeats cheap)
        torch._dynamo.reset()
    chunks: dict[bool, _ChunkCalls] = {}
    for record in record_modes(k):
        function = _make_chunk(segments, k, layout, record)
        # after its first call, a compiled chunk's graph runs without dynamo's per-call guards
        compiled_chunk = (
            CompiledFunction(
                function, pure=True, dynamic=False, inductor_config=_inductor_config(layout, k)
            )
            if compiled
            else None
        )
        chunks[record] = _ChunkCalls(
            function if compiled_chunk is None else compiled_chunk, compiled_chunk
        )
    recording, plain = chunks[True], chunks.get(False, chunks[True])

    curve_steps = log_spaced_steps(spec.steps, spec.curve_points)
    trace_steps = log_spaced_steps(spec.steps, spec.trace_points)
    curve_at, trace_at = curve_steps.tolist(), trace_steps.tolist()
    curve = np.full((len(curve_steps), rows), np.nan)
    trace = np.full((len(trace_steps), len(trace_index), d), np.nan)
    trace[0] = theta.index_select(0, trace_index).double().numpy()
    curve_pos, trace_pos = 0, 1
    steps_run: list[int | None] = [None] * len(blocks)

    t0 = 0
    step = torch.zeros((), dtype=torch.float64)  # t0 as the chunk reads it
    started = time.perf_counter()
    while t0 < spec.steps:
        args = (theta, state, best, misses, diverged, active, step, targets, trace_index)
        reads = (curve_pos < len(curve_at) and curve_at[curve_pos] < t0 + k) or (
            trace_pos < len(trace_at) and trace_at[trace_pos] <= t0 + k
        )
        calls = recording if reads else plain
        outputs = calls.settle(args) if calls.settling else calls.call(*args)
        theta, state, best, misses, diverged, step, bests, traces = outputs
        # bests[i]: best-so-far after observing theta_{t0+i};  traces[i]: theta_{t0+i+1}
        while curve_pos < len(curve_at) and curve_at[curve_pos] < t0 + k:
            # one step per chunk: that best-so-far is ``best`` itself
            at_step = best if bests is None else bests[curve_at[curve_pos] - t0]
            curve[curve_pos] = at_step.double().numpy()
            curve_pos += 1
        while trace_pos < len(trace_at) and trace_at[trace_pos] <= t0 + k:
            trace[trace_pos] = traces[trace_at[trace_pos] - t0 - 1].double().numpy()
            trace_pos += 1
        t0 += k
        if progress is not None:
            progress(k * steps_run.count(None))
        # checking costs a synchronisation, so look only every ~100 chunks
        if spec.early_stop and t0 < spec.steps and (t0 // k) % 100 == 0:
            finished = ((best <= targets[-1]) | (diverged >= 0)).numpy()
            for i, block in enumerate(blocks):
                if steps_run[i] is None and finished[block.rows].all():
                    steps_run[i] = t0
                    active[block.rows] = False
                    if progress is not None:
                        progress(spec.steps - t0)
            if None not in steps_run:
                break

    # score the last iterate theta_T: evaluation T + 1
    gap_last = gap_and_grad([theta])[0]
    best, counts = _Tracker.observe(gap_last, best, list(misses), list(targets))
    misses = torch.stack(counts)
    if curve_pos < len(curve_steps):
        curve[curve_pos:] = best.double().numpy()
    if trace_pos < len(trace_steps):
        trace[trace_pos:] = theta.index_select(0, trace_index).double().numpy()
    hits = _Tracker.first_hits(best, misses, targets).numpy()
    final = theta.double()
    traced = trace_index.numpy()
    seconds = time.perf_counter() - started
    compile_seconds = sum(calls.first_seconds for calls in chunks.values())

    results = []
    for block, ran in zip(blocks, steps_run, strict=True):
        here = block.rows
        ran = t0 if ran is None else ran
        traced_here = (traced >= here.start) & (traced < here.stop)
        results.append(
            UnitResult(
                optimizer=optimizer.label,
                function=block.function.name,
                start_set=np.tile(block.set_labels, n_lrs),
                dim=d,
                lr=lr_rows[here].numpy(),
                start_index=np.tile(block.set_index, n_lrs),
                start=block.starts.repeat(n_lrs, 1).numpy(),
                final=final[here].numpy(),
                final_gap=gap_last[here].double().numpy(),
                best_gap=best[here].double().numpy(),
                distance=block.function.distance_to_minimizer(final[here]).numpy(),
                hit_evals=hits[here],
                diverged_step=diverged[here].to(torch.int64).numpy(),
                evals_run=np.full(here.stop - here.start, ran + 1, dtype=np.int64),
                curve_steps=curve_steps,
                curve=curve[:, here],
                trace_steps=trace_steps,
                trace=trace[:, traced_here],
                trace_rows=traced[traced_here] - here.start,
                steps_run=ran,
                seconds=seconds / len(blocks),
                compile_seconds=compile_seconds / len(blocks),
            )
        )
    return results
