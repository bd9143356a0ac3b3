r"""The engine's own choices, each switched back, side by side on one workload.

The engine steps a compiled batch of an element-wise rule by columns (one ``[B, 1]`` piece per
coordinate, ``engine._Layout``) and counts target misses in float32 while that is exact
(``engine._Tracker.count_dtype``). This script runs the engine as it is and with one of those
choices undone, interleaved (A, B, C, A, B, C, ...) so that a machine whose speed drifts
affects every variant alike, and prints per variant the median and best stepping rate over
the repetitions and the median's ratio to the engine as it is:

* ``engine``: as it is;
* ``whole batch``: the ``[B, d]`` layout (the rule's operations loop over (d, B), the
  book-keeping over B, with the tensors between them going through memory);
* ``float64 counts``: the miss counts in float64 (twice the bytes per row and call);
* ``scalars in the loops``: ``compiled_call.scalars_once`` merging repeated scalars but not
  hoisting them, so the loops over the rows compute the rule's per-step scalars;
* ``python wrapper``: inductor's Python wrapper around the compiled kernels (``cpp_wrapper``
  off), which costs more per call;
* ``threads from 1024 rows``: inductor's own rule for running a loop on both threads (512+
  rows per thread), which keeps a batch of up to 1,023 rows on one thread;
* ``size asserts``: the compiled wrapper checks every input's sizes and strides per call;
* ``signature every call``: every call computes its arguments' signature to find its direct
  call (``CompiledFunction.for_signature_of`` not used);
* ``every call records``: with several steps per call, every call returns each iteration's
  best-so-far and traced rows, not only the calls that read a curve or trace step
  (``engine._make_chunk``'s ``record``);
* ``one segment``: a batch of several functions stepped as one segment (each iteration joins
  the functions' gradients), not function by function (``engine._Segment``); the same as
  ``engine`` for one function and for chunk 1;
* ``no book-keeping`` (``--bare``, Rosenbrock only): not the engine, the rule and the gradient
  alone compiled the same way, what the step would cost without best-so-far, targets and
  divergence.

The records of all variants are the same (``tests/test_engine.py``); only the time differs. Run
from the repository root:

    .venv/bin/python benchmarks/engine_variants.py --starts 10000 100000 --threads 2
    .venv/bin/python benchmarks/engine_variants.py --starts 100000 --threads 2 --chunk 4
    .venv/bin/python benchmarks/engine_variants.py --suite --starts 1000 10000 --threads 2
    .venv/bin/python benchmarks/engine_variants.py --chunk 8 --variants engine  # one variant
    .venv/bin/python benchmarks/engine_variants.py --chunk 4 8 --variants engine  # two chunks
    .venv/bin/python benchmarks/engine_variants.py --chunk 4 --variants engine --bare
    .venv/bin/python benchmarks/engine_variants.py --chunk 4 --variants engine --targets 1e-8
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import statistics
import time
from collections.abc import Callable, Iterator

import torch

from adamlab.bench import engine as engine_module
from adamlab.bench.engine import run_units
from adamlab.bench.spec import spec_from_dict
from adamlab.compiled_call import CompiledFunction, scalars_once
from adamlab.functions import SUITES


@contextlib.contextmanager
def whole_batch() -> Iterator[None]:
    kept = engine_module._COLUMNS_UP_TO
    engine_module._COLUMNS_UP_TO = 0
    try:
        yield
    finally:
        engine_module._COLUMNS_UP_TO = kept


@contextlib.contextmanager
def float64_counts() -> Iterator[None]:
    kept = engine_module._Tracker.count_dtype
    engine_module._Tracker.count_dtype = staticmethod(lambda evaluations: torch.float64)
    try:
        yield
    finally:
        engine_module._Tracker.count_dtype = kept


@contextlib.contextmanager
def inductor_settings_changed(**changes: object) -> Iterator[None]:
    """The engine with some of its inductor settings changed; a value None removes one (the
    setting is then inductor's own)."""
    kept = engine_module._inductor_config

    def changed(layout: engine_module._Layout, k: int) -> dict[str, object]:
        config = {**kept(layout, k), **changes}
        return {key: value for key, value in config.items() if value is not None}

    engine_module._inductor_config = changed
    try:
        yield
    finally:
        engine_module._inductor_config = kept


def scalars_in_the_loops() -> contextlib.AbstractContextManager[None]:
    return inductor_settings_changed(post_grad_custom_post_pass=scalars_once(hoist=False))


def python_wrapper() -> contextlib.AbstractContextManager[None]:
    return inductor_settings_changed(cpp_wrapper=False)


def default_thread_threshold() -> contextlib.AbstractContextManager[None]:
    return inductor_settings_changed(**{"cpp.min_chunk_size": None})


def size_asserts() -> contextlib.AbstractContextManager[None]:
    return inductor_settings_changed(size_asserts=True)


@contextlib.contextmanager
def signature_every_call() -> Iterator[None]:
    kept = engine_module.CompiledFunction.for_signature_of
    engine_module.CompiledFunction.for_signature_of = lambda self, *args: self  # type: ignore[method-assign]
    try:
        yield
    finally:
        engine_module.CompiledFunction.for_signature_of = kept  # type: ignore[method-assign]


@contextlib.contextmanager
def one_segment() -> Iterator[None]:
    kept = engine_module._segments

    def whole_batch_segment(blocks, driver, layout, k, trace_index):  # type: ignore[no-untyped-def]
        return kept(blocks, dataclasses.replace(driver, on_rows=None), layout, k, trace_index)

    engine_module._segments = whole_batch_segment
    try:
        yield
    finally:
        engine_module._segments = kept


@contextlib.contextmanager
def every_call_records() -> Iterator[None]:
    kept = engine_module._make_chunk

    def recording(segments, k, layout, record):  # type: ignore[no-untyped-def]
        return kept(segments, k, layout, record=True)

    engine_module._make_chunk = recording
    try:
        yield
    finally:
        engine_module._make_chunk = kept


VARIANTS: dict[str, Callable[[], contextlib.AbstractContextManager[None]]] = {
    "engine": contextlib.nullcontext,
    "whole batch": whole_batch,
    "float64 counts": float64_counts,
    "scalars in the loops": scalars_in_the_loops,
    "python wrapper": python_wrapper,
    "threads from 1024 rows": default_thread_threshold,
    "one segment": one_segment,
    "size asserts": size_asserts,
    "signature every call": signature_every_call,
    "every call records": every_call_records,
}


def stepping_rate(
    functions: list[str],
    starts: int,
    steps: int,
    chunk: int,
    dtype: str,
    targets: list[float] | None = None,
) -> float:
    """Row-steps per second of Adam's batch, its first (compiling) call left out."""
    data: dict[str, object] = {
        "optimizers": [{"name": "adam"}],
        "functions": functions,
        "starts": [{"name": "domain", "n": starts}],
        "steps": steps,
        "early_stop": False,
        "chunk": chunk,
        "dtype": dtype,
    }
    if targets:
        data["targets"] = targets
    spec = spec_from_dict(data)
    units = run_units(spec, spec.optimizers[0], spec.functions)
    seconds = sum(unit.seconds - unit.compile_seconds for unit in units)
    rows = sum(len(unit.lr) for unit in units)
    # left out: the first call of each chunk (a run this long calls every chunk)
    k = engine_module._chunk_size(steps, chunk)
    first_calls = len(engine_module.record_modes(k))
    return rows * (units[0].steps_run - first_calls * k) / seconds


def bare_rate(starts: int, steps: int, chunk: int, dtype: str) -> float:
    """Row-steps per second of Adam on Rosenbrock with no book-keeping at all: the rule and
    the gradient, by columns, ``chunk`` iterations per compiled call, compiled with the
    engine's inductor settings (a ceiling for the engine's step on this workload)."""
    from adamlab.functional import adam_init, adam_update
    from adamlab.functions import get

    rosenbrock = get("rosenbrock")
    lr = torch.full((starts, 1), 1e-3, dtype=getattr(torch, dtype))

    def iterations(columns: list[torch.Tensor], states: list) -> tuple[list, list]:
        for _ in range(chunk):
            _, grads = rosenbrock.value_and_grad_columns([c[:, 0] for c in columns])
            stepped = [
                adam_update(c, g.unsqueeze(-1), s, lr=lr)
                for c, g, s in zip(columns, grads, states, strict=True)
            ]
            columns, states = [new for new, _ in stepped], [s for _, s in stepped]
        return columns, states

    config = engine_module._inductor_config(engine_module._Layout(columns=True), chunk)
    compiled = CompiledFunction(iterations, pure=True, dynamic=False, inductor_config=config)
    start = rosenbrock.sample_uniform(starts, generator=torch.Generator().manual_seed(0))
    columns = [start[:, i : i + 1].to(lr.dtype).contiguous() for i in range(2)]
    states = [adam_init(c, step_dtype=torch.float64) for c in columns]
    columns, states = compiled(columns, states)
    calls = steps // chunk - 1
    started = time.perf_counter()
    for _ in range(calls):
        columns, states = compiled(columns, states)
    return starts * calls * chunk / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--starts", type=int, nargs="+", default=[10000, 100000])
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument(
        "--chunk",
        type=int,
        nargs="+",
        default=[1],
        help="steps per compiled call; several are interleaved like the variants",
    )
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--dtype", choices=["float64", "float32"], default="float64")
    parser.add_argument(
        "--suite", action="store_true", help="the seed's six functions instead of Rosenbrock"
    )
    parser.add_argument(
        "--targets", type=float, nargs="+", help="the spec's targets (default: its eight)"
    )
    parser.add_argument(
        "--bare", action="store_true", help="also time the step without book-keeping (Rosenbrock)"
    )
    parser.add_argument(
        "--variants", nargs="+", choices=list(VARIANTS), default=list(VARIANTS), metavar="NAME"
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    functions = list(SUITES["seed"]) if args.suite else ["rosenbrock"]
    chunks = ", ".join(map(str, args.chunk))
    print(
        f"Adam on {'the seed suite' if args.suite else 'Rosenbrock'}, {args.dtype}, "
        f"{args.steps} steps, chunk {chunks}, {args.threads} thread(s), "
        f"{args.repeats} interleaved repeats; stepping row-steps/s"
    )
    # the ratio's engine is the first chunk's
    print(
        f"{'starts':>8}  {'chunk':>5}  {'variant':<18} {'median':>10} {'best':>10}"
        "   engine / variant"
    )
    for starts in args.starts:
        names = ["engine", *args.variants]
        rates: dict[tuple[int, str], list[float]] = {
            (chunk, name): [] for chunk in args.chunk for name in names
        }
        for _ in range(args.repeats):
            for chunk, name in rates:
                with VARIANTS[name]():
                    rates[chunk, name].append(
                        stepping_rate(
                            functions, starts, args.steps, chunk, args.dtype, args.targets
                        )
                    )
        if args.bare:
            for chunk in args.chunk:
                rates[chunk, "no book-keeping"] = [
                    bare_rate(starts, args.steps, chunk, args.dtype) for _ in range(args.repeats)
                ]
        ours = statistics.median(rates[args.chunk[0], "engine"])
        for (chunk, name), values in rates.items():
            median = statistics.median(values)
            print(
                f"{starts:>8}  {chunk:>5}  {name:<18} {median:>10.3g} {max(values):>10.3g}"
                f"   {ours / median:>6.2f}x"
            )


if __name__ == "__main__":
    main()
