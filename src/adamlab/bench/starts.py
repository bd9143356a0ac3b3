"""Starting points: drawn once per (seed, function, start set) and shared by every optimizer."""

from __future__ import annotations

import hashlib

import torch
from torch import Tensor

from adamlab.bench.spec import NAMED_BOXES, StartSpec
from adamlab.functions import TestFunction


def start_generator(seed: int, function: str, start_key: str) -> torch.Generator:
    """A generator seeded from the experiment seed and the names, never from the optimizer.

    The same (seed, function, start set) always gives the same points, whichever optimizers
    run and in whatever order, so every optimizer starts from exactly the same places.
    """
    digest = hashlib.sha256(f"{seed}/{function}/{start_key}".encode()).digest()
    return torch.Generator().manual_seed(int.from_bytes(digest[:8], "little"))


def starting_points(seed: int, function: TestFunction, start: StartSpec) -> Tensor:
    """The ``(n, d)`` float64 starting points of one start set on one function."""
    d = function.dim
    if start.name == "points":
        return torch.tensor(start.points, dtype=torch.float64).reshape(-1, d)
    generator = start_generator(seed, function.name, start.key)
    if start.name == "domain":
        return function.sample_uniform(start.n, generator=generator)
    low, high = start.box if start.name == "box" and start.box else NAMED_BOXES[start.name]
    u = torch.rand(start.n, d, generator=generator, dtype=torch.float64)
    return low + (high - low) * u
