"""Training-curve loggers for the task loops: the loops report scalars, a logger decides where.

A training loop in :mod:`adamlab.tasks` takes a :class:`TrainingLogger` and calls
``logger.scalar(run, tag, value, step)`` (or ``logger.scalars`` for a batch of runs trained as
rows of one tensor). The base class drops everything, so the loops cost nothing extra without
a logger; :class:`TensorBoardLogger` writes one TensorBoard run (a sub-folder of event files)
per ``run`` name. The math never imports TensorBoard: only the logger does, and only when one is
made.

Names used by :mod:`adamlab.tasks.adam_paper`:

* run: ``6.1/adam/lr=0.1/seed=0`` (section, optimizer, learning rate, seed) and
  ``6.4/beta1=0.9/beta2=0.999/bias_correction=on/log10_lr=-3/seed=0``;
* tag: ``<section>/<quantity>``, e.g. ``6.1/training_cost`` against the epoch (the numbers of
  ``results.json``) or ``6.1/minibatch_loss`` against the minibatch step.

Example:
    >>> logger = TrainingLogger()
    >>> logger.scalar("6.1/adam/lr=0.1/seed=0", "6.1/training_cost", 2.3, 0)
    >>> logger.close()
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from torch import Tensor

#: What a logger accepts as a value: a float or a 0-dim tensor (converted only when written).
Scalar = float | Tensor


class TrainingLogger:
    """A sink for scalar training curves; this base class discards every value.

    Subclasses override :meth:`scalar` (and :meth:`scalars` where a batch can be written at
    once), :meth:`end_run` to release a finished run's resources and :meth:`close`.
    A logger is a context manager that closes itself.
    """

    def scalar(self, run: str, tag: str, value: Scalar, step: int) -> None:
        """Record ``value`` of curve ``tag`` of run ``run`` at ``step``."""

    def scalars(self, runs: Sequence[str], tag: str, values: Tensor, step: int) -> None:
        """Record one value per run: ``values[i]`` (shape ``[len(runs)]``) goes to ``runs[i]``."""

    def end_run(self, run: str) -> None:
        """``run`` will get no more values."""

    def close(self) -> None:
        """Write out everything still buffered."""

    def __enter__(self) -> TrainingLogger:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


class TensorBoardLogger(TrainingLogger):
    """Write each run's curves as TensorBoard event files under ``logdir/<run>/``.

    View them with ``tensorboard --logdir LOGDIR``: runs with the same tag share a chart.
    Values are stored as TensorBoard stores scalars (float32).

    Raises:
        ImportError: TensorBoard is not installed (``pip install "adamlab[tensorboard]"``).
    """

    def __init__(self, logdir: Path | str) -> None:
        # imported here: TensorBoard is an optional dependency, needed only when logging
        from torch.utils.tensorboard import SummaryWriter

        self.logdir = Path(logdir)
        self._writer_class = SummaryWriter
        self._writers: dict[str, Any] = {}

    def _writer(self, run: str) -> Any:
        writer = self._writers.get(run)
        if writer is None:
            writer = self._writer_class(log_dir=str(self.logdir / run))
            self._writers[run] = writer
        return writer

    def scalar(self, run: str, tag: str, value: Scalar, step: int) -> None:
        self._writer(run).add_scalar(tag, float(value), global_step=step)

    def scalars(self, runs: Sequence[str], tag: str, values: Tensor, step: int) -> None:
        for run, value in zip(runs, values.tolist(), strict=True):
            self.scalar(run, tag, value, step)

    def end_run(self, run: str) -> None:
        writer = self._writers.pop(run, None)
        if writer is not None:
            writer.close()

    def close(self) -> None:
        for run in list(self._writers):
            self.end_run(run)
