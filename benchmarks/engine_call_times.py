"""Where a compiled engine call's time goes: each call timed on its own, Adam on Rosenbrock.

The engine's stepping rate (``engine_throughput.py``, ``engine_variants.py``) is row-steps per
second of the whole loop. This script times every call of the compiled chunk's direct call
(the graph run without dynamo, ``adamlab.compiled_call``) and prints, per starts setting, the
distribution of those times (min, 10th percentile, median, 90th percentile), the loop's time
per call (the call plus what ``run_units`` does around it), and the stepping rate. Fewer rows
leave mostly the fixed cost of a call; the difference between two row counts, the cost per
row. Run from the repository root:

    .venv/bin/python benchmarks/engine_call_times.py --starts 16 1000 10000 --chunk 4
    .venv/bin/python benchmarks/engine_call_times.py --starts 320 1000 --chunk 4 --threads 1
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from adamlab.bench import engine as engine_module
from adamlab.bench.engine import run_units
from adamlab.bench.spec import spec_from_dict
from adamlab.compiled_call import CompiledFunction


def call_times(starts: int, steps: int, chunk: int) -> tuple[np.ndarray, float, float]:
    """Per-call seconds of the most called direct call (with several steps per call, the chunk
    that records nothing), the loop's seconds per call, and the stepping rate."""
    timed: dict[int, list[int]] = {}
    bind = CompiledFunction.for_signature_of

    def timing(self: CompiledFunction, *args: Any) -> Callable[..., Any]:
        call = bind(self, *args)
        if call is self:  # nothing bound: the loop keeps calling the compiled function
            return call
        times = timed.setdefault(id(self), [])
        clock = time.perf_counter_ns

        def timed_call(*call_args: Any) -> Any:
            start = clock()
            result = call(*call_args)
            times.append(clock() - start)
            return result

        return timed_call

    spec = spec_from_dict(
        {
            "optimizers": [{"name": "adam"}],
            "functions": ["rosenbrock"],
            "starts": [{"name": "domain", "n": starts}],
            "steps": steps,
            "early_stop": False,
            "chunk": chunk,
        }
    )
    CompiledFunction.for_signature_of = timing  # type: ignore[method-assign]
    try:
        (unit,) = run_units(spec, spec.optimizers[0], spec.functions)
    finally:
        CompiledFunction.for_signature_of = bind  # type: ignore[method-assign]
    k = engine_module._chunk_size(steps, chunk)
    first_calls = len(engine_module.record_modes(k))
    calls = steps // k - first_calls
    stepping = unit.seconds - unit.compile_seconds
    most = max(timed.values(), key=len)
    return np.array(most) * 1e-9, stepping / calls, starts * calls * k / stepping


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--starts", type=int, nargs="+", default=[16, 1000, 10000])
    parser.add_argument("--steps", type=int, default=16000)
    parser.add_argument("--chunk", type=int, default=4, help="steps per compiled call")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(
        f"Adam on Rosenbrock, float64, {args.steps} steps, chunk {args.chunk}, "
        f"{args.threads} thread(s); microseconds per call"
    )
    print(
        f"{'starts':>8}  {'min':>7} {'p10':>7} {'median':>7} {'p90':>7}"
        f"  {'loop per call':>13}  {'row-steps/s':>11}"
    )
    for starts in args.starts:
        for _ in range(args.repeats):
            times, loop, rate = call_times(starts, args.steps, args.chunk)
            q = np.percentile(times, [0, 10, 50, 90]) * 1e6
            print(
                f"{starts:>8}  {q[0]:>7.1f} {q[1]:>7.1f} {q[2]:>7.1f} {q[3]:>7.1f}"
                f"  {loop * 1e6:>13.1f}  {rate:>11.3g}"
            )


if __name__ == "__main__":
    main()
