"""Time one Adam step: adamlab's two paths against torch.optim's three, side by side.

Usage::

    python benchmarks/optimizer_step.py            # the full table, 1 thread
    python benchmarks/optimizer_step.py --quick    # fewer sizes and repeats
    python benchmarks/optimizer_step.py --threads 2

Cases: one float32 tensor of N = 1e3 ... 1e7 elements, and 1,000 tensors of 1,000 elements.
Paths: adamlab default (the readable per-parameter loop), adamlab ``fused=True`` (the same rule
compiled), torch for-loop (``foreach=False``), torch ``foreach=True``, torch ``fused=True``.

Metrics, defined:

* ms / step: median over repeats of (wall time of ``steps`` calls of ``step()``) / ``steps``;
  gradients are filled once beforehand, only ``step()`` is timed. The paths are interleaved
  within each repeat, so a load change on the (shared) machine hits all of them alike.
* GB/s: 28 bytes per element / (time per step): the traffic of an ideal single-pass Adam step
  (read theta, g, m, v and write theta, m, v, 4 bytes each).
* first step: the first ``step()`` alone, which for adamlab's fast path includes compiling
  (excluded from the timings above).
* copy bandwidth: ``clone`` (8 bytes moved per element) and in-place ``add_`` (12 bytes) of a
  large tensor, the machine's practical ceiling for a one-pass step.
* peak extra memory: in a fresh process per path, the growth of the resident-set high-water
  mark (VmHWM from /proc/self/status, reset to the current RSS through /proc/self/clear_refs)
  over 5 steps, measured after the parameters and gradients exist and after the fast path has
  compiled on a small replica. It includes the
  optimizer state (m, v: 8 bytes per element for every path) plus any temporaries. Limits: it
  sees only memory the process touched, at page granularity, and only the peak; it cannot
  tell a temporary from state, so compare paths, not absolute values.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from collections.abc import Callable
from typing import Any

import torch

from _memory import peak_growth_bytes, run_child
from adamlab.optim import Adam

PATHS = ("adamlab", "adamlab-fused", "torch-for-loop", "torch-foreach", "torch-fused")
BYTES_PER_ELEMENT = 28


def cases(quick: bool) -> list[tuple[str, list[int]]]:
    """(label, tensor sizes) per case."""
    sizes = [1_000, 100_000, 10_000_000] if quick else [10**k for k in range(3, 8)]
    return [(f"N={n:.0e}", [n]) for n in sizes] + [("1000 x 1e3", [1_000] * 1_000)]


def make_optimizer(path: str, params: list[torch.Tensor]) -> torch.optim.Optimizer:
    """The optimizer of ``path`` over ``params`` with Adam's defaults."""
    if path == "adamlab":
        return Adam(params)
    if path == "adamlab-fused":
        return Adam(params, fused=True)
    kwargs = {
        "torch-for-loop": {"foreach": False},
        "torch-foreach": {"foreach": True},
        "torch-fused": {"fused": True},
    }[path]
    return torch.optim.Adam(params, **kwargs)


def make_params(sizes: list[int], seed: int = 0) -> list[torch.Tensor]:
    """float32 leaf tensors with random values and pre-filled random gradients."""
    generator = torch.Generator().manual_seed(seed)
    params = []
    for n in sizes:
        p = torch.randn(n, generator=generator).requires_grad_()
        p.grad = torch.randn(n, generator=generator)
        params.append(p)
    return params


def timed(fn: Callable[[], Any], calls: int) -> float:
    """Seconds per call of ``fn`` over ``calls`` calls."""
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - start) / calls


def bandwidth(n: int, repeats: int) -> dict[str, float]:
    """GB/s of clone (read + write) and in-place add (2 reads + 1 write) of n float32."""
    x, y = torch.randn(n), torch.randn(n)
    x.clone()
    clone = statistics.median(timed(x.clone, 3) for _ in range(repeats))
    add = statistics.median(timed(lambda: x.add_(y, alpha=0.0), 3) for _ in range(repeats))
    return {"clone": 8 * n / clone / 1e9, "add_": 12 * n / add / 1e9}


def measure_times(sizes: list[int], repeats: int) -> dict[str, dict[str, float]]:
    """Median seconds per step and the first step's seconds, per path, interleaved."""
    total = sum(sizes)
    steps = max(3, min(300, int(3e7 / total / 10)))
    setups = {}
    for path in PATHS:
        params = make_params(sizes)
        opt = make_optimizer(path, params)
        start = time.perf_counter()
        opt.step()
        first = time.perf_counter() - start
        opt.step()  # one more warm-up step
        setups[path] = (opt, first)
    samples: dict[str, list[float]] = {path: [] for path in PATHS}
    for _ in range(repeats):
        for path in PATHS:
            samples[path].append(timed(setups[path][0].step, steps))
    return {
        path: {"step": statistics.median(samples[path]), "first": setups[path][1]} for path in PATHS
    }


def peak_memory_child(path: str, sizes: list[int]) -> int:
    """In this (fresh) process: bytes the RSS high-water mark grows by over 5 steps."""
    # every path first steps a small replica of the same structure: the code pages and caches
    # torch touches on a path's first call (and the fast path's compiling, whose dynamic-shape
    # graph then serves the real sizes) stay out of the step's peak. Sizes above 8192 shrink
    # to 8192, which keeps the fast path's choice of graph (scalars hoisted from 4096 elements,
    # adamlab.optim.fused.HOIST_FROM_ELEMENTS)
    replica = make_params([min(n, 8192) for n in sizes], seed=1)
    make_optimizer(path, replica).step()
    params = make_params(sizes)

    def five_steps() -> None:
        opt = make_optimizer(path, params)
        for _ in range(5):
            opt.step()

    # the reset inside keeps the peak of importing torch and compiling out of the step's
    return peak_growth_bytes(five_steps)


def measure_peak(path: str, sizes: list[int], threads: int) -> int:
    """Run :func:`peak_memory_child` in a fresh interpreter."""
    return run_child(__file__, {"path": path, "sizes": sizes, "threads": threads})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    parser.add_argument("--quick", action="store_true", help="3 sizes, 3 repeats")
    parser.add_argument("--repeats", type=int, default=None, help="timing repeats (default 7)")
    parser.add_argument("--no-memory", action="store_true", help="skip the peak-memory runs")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child is not None:
        spec = json.loads(args.child)
        torch.set_num_threads(spec["threads"])
        print(peak_memory_child(spec["path"], spec["sizes"]))
        return 0
    if args.threads < 1:
        parser.error(f"invalid --threads {args.threads} (expected >= 1)")
    torch.set_num_threads(args.threads)
    repeats = args.repeats or (3 if args.quick else 7)
    print(
        f"optimizer_step: torch {torch.__version__}, threads={args.threads}, repeats={repeats}, "
        f"cpus={os.cpu_count()}, load average {os.getloadavg()[0]:.2f}"
    )
    bw = bandwidth(25_000_000 if not args.quick else 10_000_000, repeats)
    print(f"copy bandwidth: clone {bw['clone']:.1f} GB/s, in-place add_ {bw['add_']:.1f} GB/s")

    header = "| case | " + " | ".join(f"{p} ms" for p in PATHS) + " |"
    header += " fast/torch-fused | default/for-loop | fast GB/s | torch-fused GB/s |"
    print(header)
    print("|" + "---|" * (header.count("|") - 1))
    firsts = {}
    results = {}
    for label, sizes in cases(args.quick):
        times = measure_times(sizes, repeats)
        results[label] = times
        firsts[label] = times["adamlab-fused"]["first"]
        ms = {p: 1e3 * times[p]["step"] for p in PATHS}
        total = sum(sizes)
        gbs = {p: BYTES_PER_ELEMENT * total / times[p]["step"] / 1e9 for p in PATHS}
        # ratios as speed: > 1 means the first path is faster
        fast_ratio = times["torch-fused"]["step"] / times["adamlab-fused"]["step"]
        default_ratio = times["torch-for-loop"]["step"] / times["adamlab"]["step"]
        print(
            f"| {label} | "
            + " | ".join(f"{ms[p]:.4g}" for p in PATHS)
            + f" | {fast_ratio:.2f}x | {default_ratio:.2f}x | {gbs['adamlab-fused']:.1f}"
            f" | {gbs['torch-fused']:.1f} |",
            flush=True,
        )
    print("ratios are speed ratios: torch time / adamlab time (>= 1: adamlab as fast or faster)")
    print(
        "first step of adamlab fused (compile, excluded above): "
        + ", ".join(f"{label} {seconds:.1f} s" for label, seconds in firsts.items())
    )
    if not args.no_memory:
        print("peak extra memory per path (RSS high-water growth over 5 steps, fresh process):")
        memory_cases = [c for c in cases(args.quick) if sum(c[1]) >= 1_000_000]
        print("| case | " + " | ".join(f"{p} MB" for p in PATHS) + " | state m+v MB |")
        print("|" + "---|" * (len(PATHS) + 2))
        for label, sizes in memory_cases:
            peaks = {p: measure_peak(p, sizes, args.threads) for p in PATHS}
            print(
                f"| {label} | "
                + " | ".join(f"{peaks[p] / 1e6:.1f}" for p in PATHS)
                + f" | {8 * sum(sizes) / 1e6:.1f} |",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
