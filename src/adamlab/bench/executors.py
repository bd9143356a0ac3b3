"""Where units run: in this process, in worker processes of this machine, or as tasks on a Ray
cluster.

An executor turns a list of (optimizer, function) units into finished
:class:`~adamlab.bench.engine.UnitResult` objects; it never writes records. The runner writes
each result as it arrives, in the same files and format whichever executor computed it, so a
run's records are the same with every executor and worker count (wall-clock timings aside):
a batch (:func:`~adamlab.bench.engine.batches`) is computed by the same code wherever it runs.

Ray is optional (``pip install "adamlab[ray]"``) and imported only when a
:class:`RayExecutor` is created.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
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


def usable_cores() -> int:
    """The CPU cores this process may run on (its affinity mask where the OS has one)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


class LocalExecutor:
    """Every unit on this machine: the units of one optimizer together, as one batch per
    function dimension (:func:`~adamlab.bench.engine.batches`).

    Args:
        workers: how many batches run at once. 1 (the default): one after another in this
            process, in the order given. More: each batch runs in one of that many worker
            processes, each with ``spec.threads`` torch threads; None: as many as the usable
            cores hold (cores // ``spec.threads``). Never more workers than batches.

    Why processes: a batch's compiled step is one loop over its rows, and at a thousand rows
    per function a call lasts tens of microseconds, so a second thread inside that loop gains
    little (a call spends as long in its fixed cost and the threads' hand-over as in its
    rows), where two batches side by side, one per core, each keep a core busy (measured in
    docs/performance.md). A worker is a fresh Python process (started with ``spawn``: a
    ``fork`` once torch's and OpenMP's threads exist can leave the child waiting on a lock
    no thread of it holds); it compiles its own graphs, sharing the on-disk compile cache,
    and reports its progress through a queue.
    """

    def __init__(self, workers: int | None = 1) -> None:
        if workers is not None and (isinstance(workers, bool) or workers < 1):
            raise ValueError(
                f"invalid workers: {workers!r} (expected an integer >= 1, or None for one "
                "per usable core)"
            )
        self.workers = workers

    def worker_count(self, spec: ExperimentSpec, n_batches: int) -> int:
        """How many batches run at once for this spec and number of batches."""
        wanted = self.workers or max(1, usable_cores() // spec.threads)
        return max(1, min(wanted, n_batches))

    def run(
        self,
        spec: ExperimentSpec,
        units: Sequence[Unit],
        progress: Callable[[int], None] | None = None,
    ) -> Iterator[UnitResult]:
        grouped = batches(spec, units)
        workers = self.worker_count(spec, len(grouped))
        if workers == 1:
            for optimizer, functions in grouped:
                yield from run_units(spec, optimizer, functions, progress=progress)
            return
        yield from _in_worker_processes(spec, grouped, workers, progress)


#: a worker sends its steps done at most this often (seconds), so the queue stays quiet
_PROGRESS_EVERY = 0.25

#: how long the parent waits, after the last batch, for the steps still in the queue
_LAST_STEPS_TIMEOUT = 30.0

#: the queue a worker process reports its steps through (set by _start_worker)
_progress_queue: Any = None


def _start_worker(threads: int, steps_queue: Any) -> None:
    global _progress_queue
    torch.set_num_threads(threads)
    _progress_queue = steps_queue


def _run_batch_task(
    batch: int, spec: ExperimentSpec, optimizer: OptimizerSpec, functions: list[str]
) -> list[UnitResult]:
    """One batch inside a worker process. Its steps go to the parent in bundles of
    ``(batch, steps, last)``; the last bundle, sent however the batch ends, says that no
    more of its steps follow (the queue delivers one process's bundles in order)."""
    pending = 0
    sent = time.monotonic()

    def progress(steps: int) -> None:
        nonlocal pending, sent
        pending += steps
        if time.monotonic() - sent >= _PROGRESS_EVERY:
            _progress_queue.put((batch, pending, False))
            pending, sent = 0, time.monotonic()

    try:
        return run_units(spec, optimizer, functions, progress=progress)
    finally:
        _progress_queue.put((batch, pending, True))


def _in_worker_processes(
    spec: ExperimentSpec,
    grouped: list[tuple[OptimizerSpec, list[str]]],
    workers: int,
    progress: Callable[[int], None] | None,
) -> Iterator[UnitResult]:
    """The batches in ``workers`` spawned processes; results as each batch finishes.

    A batch that fails cancels the batches not yet handed to a worker; those already running
    finish, and their results are yielded before the error is raised, so the runner records
    them.
    """
    context = multiprocessing.get_context("spawn")
    steps_queue = context.Queue()
    reporting: set[int] = set()  # batches whose last bundle of steps has not arrived

    def report_steps(wait_for_last: bool = False) -> None:
        deadline = time.monotonic() + _LAST_STEPS_TIMEOUT
        while True:
            try:
                if wait_for_last and reporting:
                    timeout = max(0.0, deadline - time.monotonic())
                    batch, steps, last = steps_queue.get(timeout=timeout)
                else:
                    batch, steps, last = steps_queue.get_nowait()
            except queue.Empty:
                return
            if last:
                reporting.discard(batch)
            if progress is not None and steps:
                progress(steps)

    pool = ProcessPoolExecutor(
        workers, mp_context=context, initializer=_start_worker, initargs=(spec.threads, steps_queue)
    )
    failure: BaseException | None = None
    pending: set[Future[list[UnitResult]]] = set()
    try:
        for batch, (optimizer, functions) in enumerate(grouped):
            pending.add(pool.submit(_run_batch_task, batch, spec, optimizer, functions))
            reporting.add(batch)
        while pending:
            done, pending = wait(pending, timeout=_PROGRESS_EVERY, return_when=FIRST_COMPLETED)
            report_steps()
            for future in done:
                if future.cancelled():
                    continue
                error = future.exception()
                if error is None:
                    yield from future.result()
                elif failure is None:
                    failure = error
                    for other in pending:
                        other.cancel()
        if failure is None:
            # every batch ran to its end: count the steps its last bundles still carry
            report_steps(wait_for_last=True)
    finally:
        # left early (the caller stopped reading): batches still running finish on their own
        pool.shutdown(wait=not pending, cancel_futures=True)
        steps_queue.close()
    if failure is not None:
        raise failure


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


def make_executor(
    name: str = "local", address: str | None = None, workers: int | None = 1
) -> Executor:
    """The executor named ``name`` (see :data:`EXECUTORS`); ValueError for a bad combination.
    ``workers``: see :class:`LocalExecutor` (a Ray cluster places its tasks itself).

    >>> type(make_executor("local")).__name__
    'LocalExecutor'
    """
    if name == "local":
        if address is not None:
            raise ValueError(f"invalid --ray-address: {address!r} (needs --executor ray)")
        return LocalExecutor(workers)
    if name == "ray":
        if workers != 1:
            raise ValueError(f"invalid --workers: {workers!r} (needs --executor local)")
        return RayExecutor(address)
    raise ValueError(f"invalid --executor: {name!r} (expected one of {', '.join(EXECUTORS)})")
