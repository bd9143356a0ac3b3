"""The progress bar and per-unit messages shared by the commands that run experiments."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def unit_progress(
    total_steps: int, quiet: bool
) -> Iterator[tuple[Callable[[int], None] | None, Callable[[Any, bool], None]]]:
    """Yield ``(progress, on_unit)`` for :func:`adamlab.bench.runner.run_experiment`: a tqdm
    bar over ``total_steps`` steps on stderr (none when ``quiet``) and a one-line message per
    finished unit."""
    bar = None
    if not quiet:
        from tqdm import tqdm

        bar = tqdm(total=total_steps, unit="step", file=sys.stderr, mininterval=1.0, smoothing=0.1)

    def on_unit(unit: Any, reused: bool) -> None:
        note = " (already recorded)" if reused else f" ({unit.seconds:.1f} s)"
        message = f"  done {unit.optimizer} on {unit.function}{note}"
        if bar is not None:
            bar.write(message)
        else:
            print(message, flush=True)

    try:
        yield (bar.update if bar is not None else None), on_unit
    finally:
        if bar is not None:
            bar.close()
