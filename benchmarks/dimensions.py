"""Time per step and optimizer-state memory of N-D test functions, d = 2 ... 1e6.

Usage::

    python benchmarks/dimensions.py --out dimensions.png            # d = 2, 10, ..., 1e6
    python benchmarks/dimensions.py --out dimensions.png --quick    # d up to 1e4, fewer repeats
    python benchmarks/dimensions.py --out dimensions.png --no-memory  # skip the peak runs

Functions: N-D Rosenbrock, Rastrigin and Styblinski-Tang (``adamlab.functions``), one start
drawn uniformly in the standard domain, float32. Optimizers: adamlab's Adam, SGD, SGD with
momentum 0.9, AdaGrad and RMSprop, at their defaults (lr 1e-3 for SGD).

Metrics, defined:

* ms / step: median over repeats of (wall time of ``steps`` full steps) / ``steps``; a full
  step is the analytic gradient ``grad f(theta)`` written into ``theta.grad`` plus
  ``optimizer.step()``. Eager, 1 thread (``torch.set_num_threads(1)``), CPU.
* step-only ms: the same median for ``optimizer.step()`` alone (gradient fixed), which is
  what the optimizer costs and does not depend on the function.
* state bytes / parameter: the exact bytes of every tensor in ``optimizer.state_dict()["state"]``
  after one step, divided by d. A scalar ``step`` tensor counts its few bytes, so Adam at d = 2
  shows slightly more than 2 x 4 bytes per parameter; at large d the ratio is exact.
* state tensors of size d: how many state tensors have as many elements as the parameter.
* peak bytes: in a fresh process per (optimizer, d), the growth of the resident-set
  high-water mark (``benchmarks/_memory.py``) while the optimizer is built and steps 5 times,
  measured after theta and its gradient exist and after the same optimizer class has stepped
  twice on a 16-element replica (so first-call initialisation inside torch, ~80 MB, is not
  counted), with glibc's heap trimmed first and tensors of 128 KiB or more each in their own
  mmap, so a tensor is resident exactly while it lives. It is then the state + the largest
  set of temporaries of the eager update alive at once, at page granularity (4 KiB); below
  128 KiB tensors come from the heap and may reuse freed memory, so at small d it can read 0.
  ``--glibc-default`` keeps glibc's adaptive threshold instead: the resident peak a plain
  process reaches, which can be larger (freed blocks stay resident and fragment).

The state bytes are the optimizer's lasting memory; the peak adds what one update allocates and
frees. The rest (theta, its gradient: 2 x 4 bytes per parameter in float32) is the same for
every optimizer. The peak does not depend on the function, so it is measured once per
(optimizer, d), on Rosenbrock's gradient.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from typing import Any

import torch

from _memory import fix_mmap_threshold, peak_growth_bytes, run_child
from adamlab import functions
from adamlab.optim import SGD, Adagrad, Adam, RMSprop

FUNCTIONS = ("rosenbrock", "rastrigin", "styblinski_tang")
DIMS = (2, 10, 100, 1_000, 10_000, 100_000, 1_000_000)
QUICK_DIMS = (2, 10, 100, 1_000, 10_000)

#: label -> factory(params) for each optimizer compared.
OPTIMIZERS: dict[str, Callable[[list[torch.Tensor]], torch.optim.Optimizer]] = {
    "adam": lambda p: Adam(p, lr=1e-3),
    "sgd": lambda p: SGD(p, lr=1e-3),
    "sgd_momentum": lambda p: SGD(p, lr=1e-3, momentum=0.9),
    "adagrad": lambda p: Adagrad(p, lr=1e-2),
    "rmsprop": lambda p: RMSprop(p, lr=1e-2),
}


def state_bytes(optimizer: torch.optim.Optimizer, dim: int) -> tuple[int, int]:
    """(total bytes of all state tensors, number of state tensors with ``dim`` elements)."""
    total, full = 0, 0
    for per_param in optimizer.state_dict()["state"].values():
        for value in per_param.values():
            if isinstance(value, torch.Tensor):
                total += value.numel() * value.element_size()
                full += int(value.numel() == dim)
    return total, full


def time_steps(step: Callable[[], None], steps: int, repeats: int) -> float:
    """Median over ``repeats`` of the seconds per call of ``step`` (``steps`` calls timed)."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(steps):
            step()
        times.append((time.perf_counter() - start) / steps)
    return statistics.median(times)


def start_point(fn: functions.TestFunction, dim: int) -> torch.Tensor:
    """One float32 start drawn uniformly in the function's domain (seed 0), as a leaf."""
    generator = torch.Generator().manual_seed(0)
    low, high = (b.to(torch.float32) for b in fn.domain)
    return (low + (high - low) * torch.rand(dim, generator=generator)).requires_grad_(True)


def peak_memory_child(label: str, dim: int, glibc_default: bool = False) -> int:
    """In this (fresh) process: bytes the RSS high-water mark grows by over 5 steps at ``dim``.

    Unless ``glibc_default``, tensors of 128 KiB or more get their own mmap (see
    ``_memory.fix_mmap_threshold``), so the peak is the most bytes alive at once.
    """
    if not glibc_default:
        fix_mmap_threshold()
    # warm-up on a replica: torch's first-call initialisation is not the optimizer's memory
    replica = torch.ones(16, requires_grad=True)
    replica.grad = torch.ones(16)
    warm = OPTIMIZERS[label]([replica])
    warm.step()
    warm.step()
    fn = functions.get(FUNCTIONS[0], dim=dim)
    theta = start_point(fn, dim)
    theta.grad = fn.grad(theta.detach())

    def build_and_step() -> None:
        optimizer = OPTIMIZERS[label]([theta])
        for _ in range(5):
            optimizer.step()

    return peak_growth_bytes(build_and_step, trim=True)


def measure(function_name: str, dim: int, label: str, repeats: int) -> dict[str, Any]:
    fn = functions.get(function_name, dim=dim)
    theta = start_point(fn, dim)
    optimizer = OPTIMIZERS[label]([theta])

    def full_step() -> None:
        theta.grad = fn.grad(theta.detach())
        optimizer.step()

    full_step()  # creates the state lazily; also the warm-up
    total, full = state_bytes(optimizer, dim)
    # about 20 ms of work per repeat, at least 1 step
    probe = time_steps(full_step, 1, 1)
    steps = max(1, int(0.02 / max(probe, 1e-7)))
    per_step = time_steps(full_step, steps, repeats)
    step_only = time_steps(optimizer.step, steps, repeats)
    return {
        "ms_per_step": 1e3 * per_step,
        "step_only_ms": 1e3 * step_only,
        "state_bytes": float(total),
        "bytes_per_param": total / dim,
        "state_tensors": float(full),
    }


#: Below this tensor size (float32 elements) glibc serves tensors from the heap even with the
#: fixed mmap threshold, so the peak there is page-granular noise rather than tensor bytes.
MMAP_ELEMENTS = 128 * 1024 // 4


def plot(results: list[dict[str, Any]], path: str) -> None:
    """Row 1: time per full step per function. Row 2: memory vs d, per parameter, step time."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    colours = {label: f"C{i}" for i, label in enumerate(OPTIMIZERS)}
    fig, axes = plt.subplots(2, 3, figsize=(14, 8.4))
    for ax, name in zip(axes[0], FUNCTIONS, strict=True):
        for label in OPTIMIZERS:
            rows = [r for r in results if r["function"] == name and r["optimizer"] == label]
            xs, ys = [r["dim"] for r in rows], [r["ms_per_step"] for r in rows]
            ax.loglog(xs, ys, "o-", color=colours[label], label=label)
        ax.set_title(f"{name}: time per step (grad + step)", fontsize=10)
        ax.set_xlabel("dimension d")
        ax.set_ylabel("ms / step (median, 1 thread)")
        ax.grid(True, which="both", alpha=0.3)
    axes[0][0].legend(fontsize=8)
    # memory and the optimizer's own step do not depend on the function: Rosenbrock's rows
    by_label = {
        label: [r for r in results if r["function"] == FUNCTIONS[0] and r["optimizer"] == label]
        for label in OPTIMIZERS
    }
    bytes_ax, per_param_ax, step_ax = axes[1]
    for label, rows in by_label.items():
        xs = [r["dim"] for r in rows]
        state = [float(r["state_bytes"]) for r in rows]
        if any(state):  # SGD keeps no state: nothing to draw on a log axis
            bytes_ax.loglog(xs, state, "o-", color=colours[label], label=f"{label} state")
        per_param_ax.semilogx(
            xs, [b / float(d) for b, d in zip(state, xs, strict=True)], "o-", color=colours[label]
        )
        peaks = [(r["dim"], float(r["peak_bytes"])) for r in rows if "peak_bytes" in r]
        if peaks:
            big = [(d, b) for d, b in peaks if d >= MMAP_ELEMENTS]
            bytes_ax.loglog(
                [d for d, _ in peaks],
                [max(b, 1.0) for _, b in peaks],
                "s--",
                color=colours[label],
                markersize=4,
                label=f"{label} peak",
            )
            per_param_ax.semilogx(
                [d for d, _ in big],
                [b / float(d) for d, b in big],
                "s--",
                color=colours[label],
                markersize=5,
            )
        step_ax.loglog(xs, [r["step_only_ms"] for r in rows], "o-", color=colours[label])
    for ax in (bytes_ax, per_param_ax):
        ax.axvspan(1, MMAP_ELEMENTS, color="0.9", zorder=0)
        ax.set_xlim(1, 2e6)
        ax.set_xlabel("dimension d")
        ax.grid(True, which="both", alpha=0.3)
    bytes_ax.set_title("optimizer memory: state (solid), peak over 5 steps (dashed)", fontsize=10)
    bytes_ax.set_ylabel("bytes (float32; peak 0 drawn at 1)")
    bytes_ax.legend(fontsize=7, ncol=2)
    per_param_ax.set_title("bytes per parameter (peak only where a tensor >= 128 KiB)", fontsize=10)
    per_param_ax.set_ylabel("bytes / d")
    per_param_ax.text(
        1.5,
        0.93,
        "grey: tensors < 128 KiB,\npeak is page-granular",
        transform=per_param_ax.get_xaxis_transform(),
        fontsize=7,
        va="top",
    )
    step_ax.set_title("optimizer.step() alone", fontsize=10)
    step_ax.set_xlabel("dimension d")
    step_ax.set_ylabel("ms / step (median, 1 thread)")
    step_ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", help="PNG path of the figure (required)")
    parser.add_argument("--quick", action="store_true", help="d up to 1e4, 3 repeats")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--no-memory", action="store_true", help="skip the peak-memory runs")
    parser.add_argument("--json", default=None, help="also write every row to this JSON file")
    parser.add_argument(
        "--replot", default=None, metavar="JSON", help="only redraw --out from a --json file"
    )
    parser.add_argument(
        "--glibc-default",
        action="store_true",
        help="measure the peak with glibc's own mmap threshold (freed blocks stay resident)",
    )
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    if args.child is not None:
        spec = json.loads(args.child)
        print(peak_memory_child(spec["optimizer"], spec["dim"], spec["glibc_default"]))
        return 0
    if args.out is None:
        parser.error("the following arguments are required: --out")
    if args.replot is not None:
        with open(args.replot) as rows:
            plot(json.load(rows), args.out)
        print(f"figure: {args.out}")
        return 0
    dims = QUICK_DIMS if args.quick else DIMS
    repeats = 3 if args.quick else args.repeats
    results: list[dict[str, Any]] = []
    header = (
        f"{'function':<16} {'d':>8} {'optimizer':<13} {'ms/step':>9} {'step-only ms':>12} "
        f"{'state bytes':>12} {'bytes/param':>11} {'tensors of size d':>17}"
    )
    print(header)
    print("-" * len(header))
    for name in FUNCTIONS:
        for dim in dims:
            for label in OPTIMIZERS:
                row = measure(name, dim, label, repeats)
                results.append({"function": name, "dim": dim, "optimizer": label, **row})
                print(
                    f"{name:<16} {dim:>8.0e} {label:<13} {row['ms_per_step']:>9.4f} "
                    f"{row['step_only_ms']:>12.4f} {int(row['state_bytes']):>12d} "
                    f"{row['bytes_per_param']:>11.2f} {int(row['state_tensors']):>17d}",
                    flush=True,
                )
    if not args.no_memory:
        print("\npeak memory over 5 steps (RSS high-water growth, fresh process per row):")
        header = (
            f"{'d':>8} {'optimizer':<13} {'state bytes':>12} {'peak bytes':>12} "
            f"{'peak / state':>12} {'peak bytes/param':>16}"
        )
        print(header)
        print("-" * len(header))
        for dim in dims:
            for label in OPTIMIZERS:
                spec = {"optimizer": label, "dim": dim, "glibc_default": args.glibc_default}
                peak = run_child(__file__, spec)
                for row in results:
                    if row["dim"] == dim and row["optimizer"] == label:
                        row["peak_bytes"] = float(peak)
                state = next(
                    float(r["state_bytes"])
                    for r in results
                    if r["dim"] == dim and r["optimizer"] == label
                )
                ratio = f"{peak / state:.2f}" if state else "-"
                print(
                    f"{dim:>8.0e} {label:<13} {int(state):>12d} {peak:>12d} {ratio:>12} "
                    f"{peak / dim:>16.2f}",
                    flush=True,
                )
    if args.json is not None:
        with open(args.json, "w") as out:
            json.dump(results, out, indent=1)
    plot(results, args.out)
    print(f"figure: {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
