"""Where units run: one after another in this process, or as tasks on a Ray cluster.

An executor turns a list of (optimizer, function) units into finished
:class:`~adamlab.bench.engine.UnitResult` objects; it never writes records. The runner writes
each result as it arrives, in the same files and format whichever executor computed it, so a
Ray run's records equal a local run's (wall-clock timings aside).

Ray is optional (``pip install "adamlab[ray]"``) and imported only when a
:class:`RayExecutor` is created.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any, Protocol

import torch

from adamlab.bench.engine import UnitResult, batches, run_unit, run_units
from adamlab.bench.spec import ExperimentSpec, OptimizerSpec

#: Names accepted by ``--executor``.
EXECUTORS = ("local", "ray")
RAY_INSTALL_HINT = 'pip install "adamlab[ray]"'

Unit = tuple[OptimizerSpec, str]


class Executor(Protocol):
    """Runs units and yields their results, in any order, as they finish."""

    def run(
        self,
        spec: ExperimentSpec,
        units: Sequence[Unit],
        progress: Callable[[int], None] | None = None,
    ) -> Iterator[UnitResult]: ...


class LocalExecutor:
    """Every unit in this process: the units of one optimizer together, as one batch per
    function dimension (:func:`~adamlab.bench.engine.batches`), batches in the order given."""

    def run(
        self,
        spec: ExperimentSpec,
        units: Sequence[Unit],
        progress: Callable[[int], None] | None = None,
    ) -> Iterator[UnitResult]:
        for optimizer, functions in batches(spec, units):
            yield from run_units(spec, optimizer, functions, progress=progress)


def _run_unit_task(spec: ExperimentSpec, optimizer: OptimizerSpec, function: str) -> UnitResult:
    """One unit inside a Ray worker: the worker's own torch thread count is set from the spec,
    as the runner does for a local run, so both compute with the same settings."""
    torch.set_num_threads(spec.threads)
    return run_unit(spec, optimizer, function)


def import_ray() -> Any:
    """The ``ray`` module, or a one-line ValueError saying how to install it."""
    try:
        import ray
    except ImportError:
        raise ValueError(
            f"--executor ray needs Ray, which is not installed: {RAY_INSTALL_HINT}"
        ) from None
    return ray


class RayExecutor:
    """Each unit as one Ray task; results come back to this process (the driver).

    Args:
        address: a running cluster's address (``ray://host:10001`` or ``host:6379``); None
            connects to the cluster Ray is already initialised with in this process, or else
            starts a local one with ``ray.init()`` and shuts it down when the units are done.

    Each task asks for ``spec.threads`` CPUs. The workers must have the same adamlab and
    torch installed as the driver (the same environment, or a Ray runtime environment).
    """

    def __init__(self, address: str | None = None) -> None:
        self.address = address
        self._ray = import_ray()

    def run(
        self,
        spec: ExperimentSpec,
        units: Sequence[Unit],
        progress: Callable[[int], None] | None = None,
    ) -> Iterator[UnitResult]:
        if not units:
            return
        ray = self._ray
        started_here = False
        if not ray.is_initialized():
            ray.init(address=self.address) if self.address else ray.init()
            started_here = True
        try:
            task = ray.remote(num_cpus=spec.threads)(_run_unit_task)
            pending = [task.remote(spec, optimizer, function) for optimizer, function in units]
            while pending:
                done, pending = ray.wait(pending, num_returns=1)
                result: UnitResult = ray.get(done[0])
                if progress is not None:
                    progress(spec.steps)  # a unit counts its whole budget, early stop or not
                yield result
        finally:
            if started_here:
                ray.shutdown()


def make_executor(name: str = "local", address: str | None = None) -> Executor:
    """The executor named ``name`` (see :data:`EXECUTORS`); ValueError for a bad combination.

    >>> type(make_executor("local")).__name__
    'LocalExecutor'
    """
    if name == "local":
        if address is not None:
            raise ValueError(f"invalid --ray-address: {address!r} (needs --executor ray)")
        return LocalExecutor()
    if name == "ray":
        return RayExecutor(address)
    raise ValueError(f"invalid --executor: {name!r} (expected one of {', '.join(EXECUTORS)})")
