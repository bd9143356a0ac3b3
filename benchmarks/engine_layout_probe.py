"""Layout probe: what the engine's step would cost with one ``[B]`` tensor per coordinate.

The engine keeps a batch as ``[B, d]`` (coordinate-major memory). Inductor then compiles the
step into several loops: some over ``(d, B)``, some over ``B`` (best-so-far, divergence, the
per-row NaN probe, a reduction over d), and the tensors between them go through memory.
With every coordinate its own ``[B]`` tensor, every operation of the step runs over the same
``B`` and can share one loop. This script measures, side by side in one run and on the same
starts, Adam on Rosenbrock (d = 2):

(a) the engine as it runs (``run_units``);
(b) the same step (same ``adam_update``, same book-keeping) on per-coordinate tensors, with
    the gradient from ``TestFunction.value_and_grad`` on the coordinates stacked;
(c) as (b) with the gradient from Rosenbrock's coordinate form
    (``TestFunction.value_and_grad_columns``), and K steps per compiled call (``--chunk``)
    with inductor's fusion limit raised (``max_fusion_size``), so that the K steps compile
    into one loop over the rows.

It is a measurement of headroom, not a second engine. Run from the repository root:

    .venv/bin/python benchmarks/engine_layout_probe.py --rows 10000 100000 --threads 1
    .venv/bin/python benchmarks/engine_layout_probe.py --rows 10000 100000 --threads 2 --chunk 4
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor

from adamlab.bench.engine import run_units
from adamlab.bench.spec import DEFAULT_TARGETS, spec_from_dict
from adamlab.functional import adam_init, adam_update
from adamlab.functional._scalars import hoisted_scalars
from adamlab.functions import get

STEPS = 1000


def engine_seconds_per_step(rows: int) -> float:
    spec = spec_from_dict(
        {
            "optimizers": [{"name": "adam"}],
            "functions": ["rosenbrock"],
            "starts": [{"name": "domain", "n": rows}],
            "steps": STEPS,
            "early_stop": False,
        }
    )
    (unit,) = run_units(spec, spec.optimizers[0], spec.functions)
    return (unit.seconds - unit.compile_seconds) / (unit.steps_run - 1)


def _per_coordinate(coords: list[Tensor]) -> tuple[Tensor, list[Tensor]]:
    return get("rosenbrock").value_and_grad_columns(coords)


def _stacked(coords: list[Tensor]) -> tuple[Tensor, list[Tensor]]:
    f, g = get("rosenbrock").value_and_grad(torch.stack(coords, dim=-1))
    return f, [g[..., i] for i in range(len(coords))]


def per_coordinate_seconds_per_step(
    rows: int, gradient: Callable[[list[Tensor]], tuple[Tensor, list[Tensor]]], k: int = 1
) -> float:
    targets = [float(target) for target in DEFAULT_TARGETS]
    lr = torch.full((rows,), 1e-3, dtype=torch.float64)

    def one_step(coords: list[Tensor], states: list[Any], best: Tensor, misses: list[Tensor],
                 diverged: Tensor, active: Tensor, t: Tensor) -> tuple[Any, ...]:  # fmt: skip
        f, grads = gradient(coords)
        best = torch.where(f < best, f, best)
        # one [B] count per target: a [T, B] tensor would be a loop of its own
        misses = [
            count + (best > target).to(count.dtype)
            for count, target in zip(misses, targets, strict=True)
        ]
        moving = (diverged < 0) & active
        stepped = [
            adam_update(c, g, s, lr=lr) for c, g, s in zip(coords, grads, states, strict=True)
        ]
        finite = torch.isfinite(f)
        for new, _ in stepped:
            finite = finite & torch.isfinite(new)
        bad = ~finite
        diverged = torch.where(moving & bad, t + 1, diverged)
        keep = moving & ~bad
        coords = [torch.where(keep, new, c) for (new, _), c in zip(stepped, coords, strict=True)]
        return coords, [s for _, s in stepped], best, misses, diverged, t + 1

    def step(coords: list[Tensor], states: list[Any], best: Tensor, misses: list[Tensor],
             diverged: Tensor, active: Tensor, t: Tensor) -> tuple[Any, ...]:  # fmt: skip
        for _ in range(k):
            coords, states, best, misses, diverged, t = one_step(
                coords, states, best, misses, diverged, active, t
            )
        return coords, states, best, misses, diverged, t

    compiled = torch.compile(step, dynamic=False, options={"max_fusion_size": 4096})
    start = get("rosenbrock").sample_uniform(rows, generator=torch.Generator().manual_seed(0))
    coords = [start[:, i].contiguous() for i in range(2)]
    states = [adam_init(c, step_dtype=torch.float64) for c in coords]
    best = torch.full((rows,), math.inf, dtype=torch.float64)
    misses = [torch.zeros(rows, dtype=torch.float64) for _ in targets]
    diverged = torch.full((rows,), -1.0, dtype=torch.float64)
    active = torch.ones(rows, dtype=torch.bool)
    t = torch.zeros((), dtype=torch.float64)
    with hoisted_scalars():
        coords, states, best, misses, diverged, t = compiled(
            coords, states, best, misses, diverged, active, t
        )
        calls = (STEPS - 1) // k
        started = time.perf_counter()
        for _ in range(calls):
            coords, states, best, misses, diverged, t = compiled(
                coords, states, best, misses, diverged, active, t
            )
        return (time.perf_counter() - started) / (calls * k)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[10000, 100000])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--chunk", type=int, default=1, help="steps per compiled call in (c)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(
        f"Adam on Rosenbrock, float64, {STEPS} steps, {args.threads} thread(s), "
        f"(c) with {args.chunk} step(s) per call"
    )
    print("rows      (a) engine    (b) stacked    (c) per-coordinate   row-steps/s   (c)/(a)")
    for rows in args.rows:
        a = engine_seconds_per_step(rows)
        b = per_coordinate_seconds_per_step(rows, _stacked)
        c = per_coordinate_seconds_per_step(rows, _per_coordinate, args.chunk)
        print(
            f"{rows:>7}  {a * 1e6:>9.0f} us  {b * 1e6:>9.0f} us  {c * 1e6:>12.0f} us"
            f"       {rows / a:.2g} / {rows / b:.2g} / {rows / c:.2g}   {a / c:.2f}x"
        )


if __name__ == "__main__":
    main()
