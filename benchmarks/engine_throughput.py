"""Engine throughput, side by side in one run: the seed notebook's loop vs adamlab's engine.

(a) seed-style: one start, a Python loop of zero_grad / forward / backward / step with the
    optimizer class, for every (optimizer, function) pair;
(b) adamlab's engine on the same pairs and steps, with 1 start and with many starts per pair,
    as ``adamlab run`` drives it: one batch per optimizer holding every function's starts;
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
    .venv/bin/python benchmarks/engine_throughput.py --threads 2 --chunk 4 --starts 1000 \
        --alone rosenbrock bukin_n6 bohachevsky1 booth three_hump_camel easom

``benchmarks/engine_variants.py`` compares the engine with its own choices undone.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import statistics
import time
from collections.abc import Iterator

import torch

from adamlab.bench import engine as engine_module
from adamlab.bench.engine import run_units
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


def engine(
    optimizers: list[dict],
    functions: list[str],
    starts: int,
    steps: int,
    compile_: bool,
    chunk: int,
    dtype: str = "float64",
):
    """(stepping seconds, end-to-end seconds, row-steps) over every pair."""
    spec = spec_from_dict(
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
    stepping = total = 0.0
    row_steps = 0
    for opt in spec.optimizers:
        # as a run does it: one batch per optimizer, every function's starts as rows
        units = run_units(spec, opt, spec.functions)
        seconds = sum(unit.seconds for unit in units)
        first = sum(unit.compile_seconds for unit in units)
        steps = units[0].steps_run
        total += seconds
        # the first call of each chunk compiles (a run this long calls every chunk); count
        # each as one ordinary call's worth of stepping
        k = engine_module._chunk_size(spec.steps, chunk)
        first_calls = len(engine_module.record_modes(k))
        calls = steps // k
        per_call = (seconds - first) / max(calls - first_calls, 1)
        stepping += seconds - first + first_calls * per_call
        row_steps += sum(len(unit.lr) * unit.steps_run for unit in units)
    return stepping, total, row_steps


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
    )

    seed_seconds = [
        seed_style_loop(o["name"], {k: v for k, v in o.items() if k != "name"}, f, args.steps)
        for o in optimizers
        for f in functions
    ]
    seed_rate = pairs * args.steps / sum(seed_seconds)
    print(f"\n(a) seed-style loop, 1 start: {sum(seed_seconds):.2f} s, {seed_rate:.3g} row-steps/s")
    print(f"    per step: {statistics.median(s / args.steps for s in seed_seconds) * 1e6:.0f} us")

    if args.starts:
        print("\n(b) engine           stepping row-steps/s   end-to-end row-steps/s   vs (a)")
    for starts in args.starts:
        stepping, total, row_steps = engine(
            optimizers, functions, starts, args.steps, not args.no_compile, args.chunk, args.dtype
        )
        rate = row_steps / stepping
        print(
            f"    {starts:>6} starts   {rate:>14.3g}          {row_steps / total:>14.3g}"
            f"          {rate / seed_rate:>8.0f}x   (compile {total - stepping:.1f} s)"
        )
        if args.through_dynamo and not args.no_compile:
            with every_call_through_dynamo():
                dynamo_stepping, _, _ = engine(
                    optimizers, functions, starts, args.steps, True, args.chunk, args.dtype
                )
            print(
                f"    {'':>6}  every call through dynamo: {row_steps / dynamo_stepping:.3g}"
                f" (the direct call: {dynamo_stepping / stepping:.2f}x as fast)"
            )

    adam = [o for o in optimizers if o["name"] == "adam"]
    for function in args.alone:
        print(f"\n(c) Adam on {function} alone, stepping row-steps/s")
        for starts in args.alone_starts:
            stepping, total, row_steps = engine(
                adam, [function], starts, args.steps, not args.no_compile, args.chunk, args.dtype
            )
            print(
                f"    {starts:>6} starts   {row_steps / stepping:>14.3g}"
                f"   (compile {total - stepping:.1f} s)"
            )


if __name__ == "__main__":
    main()
