"""Time per step and optimizer-state memory of N-D test functions, d = 2 ... 1e6.

Usage::

    python benchmarks/dimensions.py --out dimensions.png            # d = 2, 10, ..., 1e6
    python benchmarks/dimensions.py --out dimensions.png --quick    # d up to 1e4, fewer repeats

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

The state bytes are the optimizer's part of peak memory; the rest (theta, its gradient: 2 x 4
bytes per parameter in float32) is the same for every optimizer.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import torch

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


def measure(function_name: str, dim: int, label: str, repeats: int) -> dict[str, float]:
    fn = functions.get(function_name, dim=dim)
    generator = torch.Generator().manual_seed(0)
    low, high = (b.to(torch.float32) for b in fn.domain)
    theta = (low + (high - low) * torch.rand(dim, generator=generator)).requires_grad_(True)
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


def plot(results: list[dict[str, object]], path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(FUNCTIONS) + 1, figsize=(4.2 * (len(FUNCTIONS) + 1), 3.8))
    for ax, name in zip(axes, FUNCTIONS, strict=False):
        for label in OPTIMIZERS:
            rows = [r for r in results if r["function"] == name and r["optimizer"] == label]
            ax.loglog([r["dim"] for r in rows], [r["ms_per_step"] for r in rows], "o-", label=label)
        ax.set_title(f"{name}: time per step (grad + step)")
        ax.set_xlabel("dimension d")
        ax.set_ylabel("ms / step (median, 1 thread)")
        ax.grid(True, which="both", alpha=0.3)
    axes[0].legend(fontsize=8)
    ax = axes[-1]
    for label in OPTIMIZERS:
        rows = [r for r in results if r["function"] == FUNCTIONS[0] and r["optimizer"] == label]
        xs = [r["dim"] for r in rows]
        ys = [max(float(r["state_bytes"]), 0.5) for r in rows]  # SGD's 0 bytes drawn at 0.5
        ax.loglog(xs, ys, "o-", label=label)
    ax.set_title("optimizer state (float32)")
    ax.set_xlabel("dimension d")
    ax.set_ylabel("state bytes (SGD: 0, drawn at 0.5)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="PNG path of the figure")
    parser.add_argument("--quick", action="store_true", help="d up to 1e4, 3 repeats")
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    dims = QUICK_DIMS if args.quick else DIMS
    repeats = 3 if args.quick else args.repeats
    results: list[dict[str, object]] = []
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
    plot(results, args.out)
    print(f"figure: {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
