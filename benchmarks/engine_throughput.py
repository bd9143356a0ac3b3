"""Engine throughput, side by side in one run: the seed notebook's loop vs adamlab's engine.

(a) seed-style: one start, a Python loop of zero_grad / forward / backward / step with the
    optimizer class, for every (optimizer, function) pair;
(b) adamlab's engine on the same pairs and steps, with 1 start and with many starts per pair,
    as ``adamlab run`` drives it: one batch per optimizer holding every function's starts,
    in this process, or with ``--workers N`` side by side in N worker processes (``adamlab
    run --workers``), printed beside the same work in this process on as many threads;
(c) the engine on Adam and Rosenbrock alone, the workload of the reference figures for
    batched multi-start (jax + optax, torch.compile, a C loop: float64, 10,000 starts), or
    on each of other functions alone (``--alone``).

A "row-step" is one start advanced by one step. The engine's rates are given for the stepping
alone (its first call, which compiles, excluded) and end to end (compile included); the
compile cost is printed separately. Run from the repository root:

    .venv/bin/python benchmarks/engine_throughput.py            # all four optimizers x six
    .venv/bin/python benchmarks/engine_throughput.py --quick    # two optimizers x two functions
    .venv/bin/python benchmarks/engine_throughput.py --through-dynamo   # (b) also without the
                                      # direct call of the compiled graph, side by side
    .venv/bin/python benchmarks/engine_throughput.py --threads 2 --chunk 4 --dtype float32
    .venv/bin/python benchmarks/engine_throughput.py --threads 1 --workers 2 --chunk 4 \
        --steps 400000 --seed-steps 2000 --starts 1000 --alone-starts
    .venv/bin/python benchmarks/engine_throughput.py --threads 2 --chunk 4 --starts 1000 \
        --alone rosenbrock bukin_n6 bohachevsky1 booth three_hump_camel easom

``benchmarks/engine_variants.py`` compares the engine with its own choices undone.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import itertools
import math
import statistics
import time
from collections.abc import Iterator

import torch

from adamlab.bench import engine as engine_module
from adamlab.bench.engine import run_units
from adamlab.bench.executors import LocalExecutor
from adamlab.bench.spec import default_spec_dict, spec_from_dict
from adamlab.functions import SUITES, get
from adamlab.optim import OPTIMIZERS


def seed_style_loop(optimizer: str, kwargs: dict, function: str, steps: int) -> float:
    """Seconds for one start stepped ``steps`` times through the optimizer class."""
    fn = get(function)
    x = torch.nn.Parameter(torch.tensor([0.5, -0.5], dtype=torch.float64))
    opt = OPTIMIZERS[optimizer].make([x], **kwargs)
    started = time.perf_counter()
    for _ in range(steps):
        opt.zero_grad()
        loss = fn(x)
        loss.backward()
        opt.step()
    return time.perf_counter() - started


def work_spec(optimizers, functions, starts, steps, compile_, chunk, dtype="float64"):
    """The spec of one workload: every optimizer on every function, ``starts`` per function."""
    return spec_from_dict(
        {
            "optimizers": optimizers,
            "functions": functions,
            "starts": [{"name": "domain", "n": starts}],
            "steps": steps,
            "early_stop": False,
            "compile": compile_,
            "chunk": chunk,
            "dtype": dtype,
        }
    )


def _first_calls(spec) -> tuple[int, int]:
    """Steps per call, and the calls of a batch that compile (a run this long calls every
    chunk)."""
    k = engine_module._chunk_size(spec.steps, spec.chunk)
    return k, len(engine_module.record_modes(k))


def _batch_totals(units) -> tuple[float, float, int]:
    """A batch's seconds, first-call seconds and rows, summed over its units' shares."""
    return (
        sum(unit.seconds for unit in units),
        sum(unit.compile_seconds for unit in units),
        sum(len(unit.lr) for unit in units),
    )


def engine(spec):
    """(stepping seconds, end-to-end seconds, row-steps) over every pair, in this process, as
    ``adamlab run`` runs them: one batch per optimizer holding every function's starts."""
    k, first_calls = _first_calls(spec)
    stepping = total = 0.0
    row_steps = 0
    for opt in spec.optimizers:
        units = run_units(spec, opt, spec.functions)
        seconds, first, rows = _batch_totals(units)
        total += seconds
        # count each first call as one ordinary call's worth of stepping
        calls = units[0].steps_run // k
        per_call = (seconds - first) / max(calls - first_calls, 1)
        stepping += seconds - first + first_calls * per_call
        row_steps += rows * units[0].steps_run
    return stepping, total, row_steps


def engine_in_workers(spec, workers: int):
    """:func:`engine` with the batches in ``workers`` worker processes (``adamlab run
    --workers``): (stepping seconds over the union of the batches' stepping spans,
    end-to-end seconds, row-steps, row-steps/s while every worker steps).

    A batch's stepping span runs from the end of its first calls (``compile_seconds``) to its
    result reaching this process; its rate is its row-steps after the first calls over that
    span. The workers step side by side, so the stepping time is wall-clock time: the length
    of the union of the spans, in which a stretch of one worker stepping while another
    compiles or has nothing left counts in full; the rate over it is a lower bound. The
    stretches where every worker steps give what they sustain together: the sum of the
    stepping batches' rates, averaged over those stretches.
    """
    k, first_calls = _first_calls(spec)
    units = [(optimizer, function) for optimizer in spec.optimizers for function in spec.functions]
    started = time.perf_counter()
    arrived: dict[str, float] = {}
    by_batch: dict[str, list] = {}
    for unit in LocalExecutor(workers).run(spec, units):
        arrived.setdefault(unit.optimizer, time.perf_counter())
        by_batch.setdefault(unit.optimizer, []).append(unit)
    total = time.perf_counter() - started
    spans, stepped_row_steps, row_steps = [], 0, 0
    for label, batch in by_batch.items():
        seconds, first, rows = _batch_totals(batch)
        stepped = rows * (batch[0].steps_run - first_calls * k)
        spans.append(
            (arrived[label] - (seconds - first), arrived[label], stepped / (seconds - first))
        )
        row_steps += rows * batch[0].steps_run
        stepped_row_steps += stepped
    wall = _union_length(spans)
    # the stepping seconds of all row-steps at the rate measured over the union
    return (
        wall * row_steps / stepped_row_steps,
        total,
        row_steps,
        _rate_all_stepping(spans, workers),
    )


def _union_length(spans: list[tuple[float, float, float]]) -> float:
    """Total length covered by the (start, end, rate) spans."""
    covered, reach = 0.0, -math.inf
    for start, end, _ in sorted(spans):
        if end > reach:
            covered += end - max(start, reach)
            reach = end
    return covered


def _rate_all_stepping(spans: list[tuple[float, float, float]], workers: int) -> float:
    """Row-steps/s over the stretches where ``workers`` spans overlap (nan: none do)."""
    edges = sorted({edge for start, end, _ in spans for edge in (start, end)})
    done = seconds = 0.0
    for left, right in itertools.pairwise(edges):
        rates = [rate for start, end, rate in spans if start <= left and right <= end]
        if len(rates) == workers:
            done += sum(rates) * (right - left)
            seconds += right - left
    return done / seconds if seconds else math.nan


@contextlib.contextmanager
def every_call_through_dynamo() -> Iterator[None]:
    """The engine with plain ``torch.compile``: every call evaluates dynamo's guards (what the
    engine did before it called its captured graph directly, ``adamlab.compiled_call``)."""
    kept = engine_module.CompiledFunction
    engine_module.CompiledFunction = functools.partial(kept, direct=False)  # type: ignore[misc]
    try:
        yield
    finally:
        engine_module.CompiledFunction = kept


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument(
        "--seed-steps",
        type=int,
        help="steps of each (a) loop (default: --steps; its time per step does not depend on it)",
    )
    parser.add_argument(
        "--starts",
        type=int,
        nargs="*",
        default=[1, 1000, 10000],
        help="starts per function for (b)",
    )
    parser.add_argument(
        "--alone-starts",
        "--rosenbrock-starts",
        type=int,
        nargs="*",
        default=[10000],
        help="starts for (c), Adam on one function at a time",
    )
    parser.add_argument(
        "--alone",
        nargs="+",
        default=["rosenbrock"],
        metavar="FUNCTION",
        help="the functions of (c), each alone (default: rosenbrock)",
    )
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="(b) with the batches side by side in this many worker processes of --threads "
        "threads each, and beside it (b) in this process with workers x threads threads",
    )
    parser.add_argument("--quick", action="store_true")
    parser.add_argument(
        "--chunk", type=int, default=1, help="steps per compiled call (the spec's chunk)"
    )
    parser.add_argument("--no-compile", action="store_true")
    parser.add_argument("--dtype", choices=["float64", "float32"], default="float64")
    parser.add_argument(
        "--through-dynamo",
        action="store_true",
        help="also time (b) with every compiled call going through torch.compile's guards",
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    optimizers = default_spec_dict()["optimizers"]
    functions = list(SUITES["seed"])
    if args.quick:
        optimizers, functions = optimizers[:2], functions[:2]
    pairs = len(optimizers) * len(functions)
    print(
        f"{len(optimizers)} optimizers x {len(functions)} functions, {args.steps} steps, "
        f"{args.dtype}, {args.threads} thread(s), chunk {args.chunk}, torch {torch.__version__}"
        + (f"; (b) in {args.workers} worker processes" if args.workers > 1 else "")
    )

    seed_steps = args.seed_steps or args.steps
    seed_seconds = [
        seed_style_loop(o["name"], {k: v for k, v in o.items() if k != "name"}, f, seed_steps)
        for o in optimizers
        for f in functions
    ]
    seed_rate = pairs * seed_steps / sum(seed_seconds)
    print(f"\n(a) seed-style loop, 1 start: {sum(seed_seconds):.2f} s, {seed_rate:.3g} row-steps/s")
    print(f"    per step: {statistics.median(s / seed_steps for s in seed_seconds) * 1e6:.0f} us")

    if args.starts:
        print("\n(b) engine           stepping row-steps/s   end-to-end row-steps/s   vs (a)")
    compiled = not args.no_compile
    where = f"{args.workers} workers" if args.workers > 1 else f"{args.threads} thread(s)"

    def print_engine_row(
        starts: int, stepping: float, total: float, row_steps: int, where: str
    ) -> None:
        rate = row_steps / stepping
        print(
            f"    {starts:>6} starts   {rate:>14.3g}          {row_steps / total:>14.3g}"
            f"          {rate / seed_rate:>8.0f}x   ({where}; compile {total - stepping:.1f} s)"
        )

    for starts in args.starts:
        spec = work_spec(
            optimizers, functions, starts, args.steps, compiled, args.chunk, args.dtype
        )
        if args.workers > 1:
            # the same cores as one process's threads, side by side with the workers
            torch.set_num_threads(args.workers * args.threads)
            threaded = engine(spec)
            torch.set_num_threads(args.threads)
            print_engine_row(starts, *threaded, f"{args.workers * args.threads} threads")
            stepping, total, row_steps, together = engine_in_workers(spec, args.workers)
        else:
            stepping, total, row_steps = engine(spec)
        print_engine_row(starts, stepping, total, row_steps, where)
        if args.workers > 1:
            threaded_rate = threaded[2] / threaded[0]
            union = (
                f"workers vs threads {row_steps / stepping / threaded_rate:.2f}x (union of spans)"
            )
            if math.isnan(together):
                print(f"    {'':>6}  the workers never all stepped at once; {union}")
            else:
                print(
                    f"    {'':>6}  while all {args.workers} workers step: {together:.3g}; "
                    f"{union}, {together / threaded_rate:.2f}x (all stepping)"
                )
        if args.through_dynamo and not args.no_compile:
            with every_call_through_dynamo():
                dynamo_stepping, _, _ = engine(spec)
            print(
                f"    {'':>6}  every call through dynamo: {row_steps / dynamo_stepping:.3g}"
                f" (the direct call: {dynamo_stepping / stepping:.2f}x as fast)"
            )

    adam = [o for o in optimizers if o["name"] == "adam"]
    for function in args.alone:
        print(f"\n(c) Adam on {function} alone, stepping row-steps/s")
        for starts in args.alone_starts:
            stepping, total, row_steps = engine(
                work_spec(adam, [function], starts, args.steps, compiled, args.chunk, args.dtype)
            )
            print(
                f"    {starts:>6} starts   {row_steps / stepping:>14.3g}"
                f"   (compile {total - stepping:.1f} s)"
            )


if __name__ == "__main__":
    main()
