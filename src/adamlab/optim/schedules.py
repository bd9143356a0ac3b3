"""Learning-rate schedules as pure functions of the step, and a torch scheduler that runs them.

A schedule is a function ``(step, lr_max, **params) -> lr``, where ``step`` counts the
optimizer steps already taken (0 for the first step) and ``lr_max`` is the group's initial
learning rate. The benchmark engine calls the function directly (one value per step);
:func:`make_scheduler` wraps the same function in a ``torch.optim.lr_scheduler.LRScheduler``
for code that drives a ``torch.optim`` optimizer, so both paths set the same numbers.

Schedules (:data:`SCHEDULES`):
    constant: lr_max at every step.
    cosine: optional linear warm-up, then half a cosine from lr_max down to lr_min
        (Loshchilov & Hutter, SGDR, ICLR 2017, without restarts).
    inverse_sqrt: lr_max / sqrt(t) with t = step + 1, the alpha_t = alpha / sqrt(t) of the Adam
        paper's logistic regression (section 6.1) and of its regret analysis.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable
from functools import partial
from typing import Any

from torch.optim import Optimizer
from torch.optim.lr_scheduler import LRScheduler

#: A schedule: ``(step, lr_max, **params) -> lr``.
Schedule = Callable[..., float]


def _check_step(step: int) -> None:
    if step < 0:
        raise ValueError(f"Invalid step: step={step} (expected an integer >= 0)")


def constant(step: int, lr_max: float) -> float:
    """The constant schedule: lr_max at every step.

    >>> constant(10, 0.1)
    0.1
    """
    _check_step(step)
    return lr_max


def cosine_decay(
    step: int,
    total_steps: int,
    lr_max: float,
    lr_min: float = 0.0,
    warmup_steps: int = 0,
) -> float:
    """Cosine decay from lr_max to lr_min over ``total_steps``, after a linear warm-up.

    With W = ``warmup_steps`` and T = ``total_steps``::

        lr(s) = lr_max s / W                                           for s < W
        lr(s) = lr_min + (lr_max - lr_min) (1 + cos(pi (s - W) / (T - W))) / 2   for W <= s <= T
        lr(s) = lr_min                                                 for s > T

    so lr(W) = lr_max and lr(T) = lr_min. Without warm-up this is torch's
    ``CosineAnnealingLR(T_max=T, eta_min=lr_min)`` (its closed form, up to its recursive
    rounding) for s <= T; the warm-up starts at 0, as Hugging Face's
    ``get_cosine_schedule_with_warmup`` (which is this function with lr_min = 0).

    Args:
        step: s, the optimizer steps already taken (0 for the first step).
        total_steps: T >= 1, the step at which the decay reaches lr_min.
        lr_max: the peak learning rate, >= 0.
        lr_min: the final learning rate, 0 <= lr_min <= lr_max.
        warmup_steps: W, 0 <= W < T.

    >>> [round(cosine_decay(s, 4, 1.0), 4) for s in range(6)]
    [1.0, 0.8536, 0.5, 0.1464, 0.0, 0.0]
    >>> [cosine_decay(s, 10, 1.0, warmup_steps=4) for s in range(3)]
    [0.0, 0.25, 0.5]
    """
    _check_step(step)
    if total_steps < 1:
        raise ValueError(f"Invalid total_steps: total_steps={total_steps} (expected >= 1)")
    if not 0 <= warmup_steps < total_steps:
        raise ValueError(
            f"Invalid warmup_steps: warmup_steps={warmup_steps} "
            f"(expected 0 <= warmup_steps < total_steps={total_steps})"
        )
    if not 0.0 <= lr_min <= lr_max:
        raise ValueError(
            f"Invalid lr_min: lr_min={lr_min} (expected 0 <= lr_min <= lr_max={lr_max})"
        )
    if step < warmup_steps:
        # linear warm-up from 0: lr_max s / W
        return lr_max * step / warmup_steps
    if step >= total_steps:
        return lr_min
    # progress p = (s - W) / (T - W) in [0, 1)
    progress = (step - warmup_steps) / (total_steps - warmup_steps)
    # lr_min + (lr_max - lr_min) (1 + cos(pi p)) / 2
    return lr_min + (lr_max - lr_min) * (1 + math.cos(math.pi * progress)) / 2


def inverse_sqrt(step: int, lr_max: float) -> float:
    """lr_max / sqrt(t) with t = step + 1: alpha_t = alpha / sqrt(t) (Adam paper, section 6.1).

    >>> [inverse_sqrt(s, 1.0) for s in (0, 3, 99)]
    [1.0, 0.5, 0.1]
    """
    _check_step(step)
    return lr_max / math.sqrt(step + 1)


#: Every schedule by name; each is called as ``schedule(step, lr_max=..., **params)``.
SCHEDULES: dict[str, Schedule] = {
    "constant": constant,
    "cosine": cosine_decay,
    "inverse_sqrt": inverse_sqrt,
}


def get_schedule(name: str) -> Schedule:
    """Return the schedule called ``name``; an unknown name suggests the closest ones."""
    try:
        return SCHEDULES[name]
    except KeyError:
        close = difflib.get_close_matches(name, SCHEDULES, n=3, cutoff=0.5)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise ValueError(
            f"unknown schedule {name!r}{hint} (known: {', '.join(SCHEDULES)})"
        ) from None


class ScheduleLR(LRScheduler):
    """A torch LR scheduler that sets each group's lr to ``schedule(step, lr_max=initial lr)``.

    Unlike ``LambdaLR`` (which multiplies the initial lr by a factor), the learning rate is
    the schedule's own value, so the optimizer sees exactly the numbers the pure function
    returns. ``step`` is the scheduler's ``last_epoch``: 0 at construction, +1 per
    ``scheduler.step()``, i.e. the number of optimizer steps taken when used once per step.

    Args:
        optimizer: the wrapped optimizer; every group's ``initial_lr`` is its lr_max.
        schedule: a function ``(step, lr_max) -> lr`` (bind other parameters first).
        last_epoch: the index of the last step taken, -1 to start afresh (torch's convention).
    """

    def __init__(
        self, optimizer: Optimizer, schedule: Callable[..., float], last_epoch: int = -1
    ) -> None:
        self.schedule = schedule
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:  # type: ignore[override]
        """The learning rate of every param group at step ``last_epoch``."""
        return [self.schedule(self.last_epoch, lr_max=float(lr)) for lr in self.base_lrs]

    def state_dict(self) -> dict[str, Any]:
        """The scheduler's state, without the optimizer and the (re-created) schedule."""
        return {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "schedule")}


def make_scheduler(optimizer: Optimizer, name: str, **params: Any) -> ScheduleLR:
    """Return a torch scheduler running the schedule ``name`` with ``params`` on ``optimizer``.

    The group's lr at construction is lr_max; call ``scheduler.step()`` after each
    ``optimizer.step()``. Invalid parameters raise ValueError here, not mid-training.

    Args:
        optimizer: any ``torch.optim.Optimizer``.
        name: a key of :data:`SCHEDULES`.
        **params: the schedule's parameters other than ``step`` and ``lr_max`` (for
            ``"cosine"``: ``total_steps``, optionally ``lr_min`` and ``warmup_steps``).

    >>> import torch
    >>> opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    >>> scheduler = make_scheduler(opt, "cosine", total_steps=2)
    >>> lrs = []
    >>> for _ in range(3):
    ...     lrs.append(round(opt.param_groups[0]["lr"], 6))
    ...     opt.step()
    ...     scheduler.step()
    >>> lrs
    [0.1, 0.05, 0.0]
    """
    schedule = partial(get_schedule(name), **params)
    for group in optimizer.param_groups:
        try:
            schedule(0, lr_max=float(group["lr"]))
        except TypeError as error:
            raise ValueError(f"invalid parameters for schedule {name!r}: {error}") from None
    return ScheduleLR(optimizer, schedule)
