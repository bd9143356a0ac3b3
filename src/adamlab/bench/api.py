"""Run an experiment from Python and get its records back: :func:`run`.

The command line's ``adamlab run`` and this function share one engine
(:func:`adamlab.bench.runner.run_experiment`): the records returned here are the ones written
to ``out`` (manifest, one NPZ per unit, ``runs.csv``), loaded back into memory. Without ``out``
the records are written to a temporary folder, loaded, and the folder is removed.

>>> from adamlab.bench import run
>>> records = run({
...     "optimizers": [{"name": "adam", "lr": 0.1}],
...     "functions": ["booth"],
...     "starts": [{"name": "domain", "n": 3}],
...     "steps": 20,
...     "compile": False,
... })
>>> records.optimizers, records.functions, len(records.rows())
(['adam'], ['booth'], 3)
>>> records.unit("adam", "booth").final.shape
(3, 2)
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import torch

from adamlab.bench.executors import LocalExecutor
from adamlab.bench.records import Records
from adamlab.bench.runner import run_experiment
from adamlab.bench.spec import ExperimentSpec, spec_from_dict


class RunRecords(Records):
    """The records of one experiment, in memory, with a per-run table.

    Everything :class:`~adamlab.bench.records.Records` offers (``spec``, ``manifest``,
    ``units``, ``unit(optimizer, function)``, ``optimizers``, ``functions``, ``start_sets``),
    plus :meth:`rows`.

    Attributes:
        out: the folder the records were read from.
        temporary: True when ``out`` was a temporary folder, removed once the records were
            loaded; ``out`` then no longer exists and only the in-memory records remain.
    """

    def __init__(self, out: str | Path, *, temporary: bool = False) -> None:
        super().__init__(out)
        self.temporary = temporary

    def rows(
        self,
        optimizer: str | None = None,
        function: str | None = None,
        start_set: str | None = None,
    ) -> list[dict[str, Any]]:
        """One dict per run (a start at one learning rate), like a line of ``runs.csv``.

        Keys: ``optimizer``, ``function``, ``start_set``, ``start_index``, ``lr``, ``start``
        and ``final`` (tuples of d floats: theta_0 and the last finite iterate), ``final_gap``
        (f(final) - f*), ``best_gap`` (the best f - f* seen), ``distance`` (from ``final``
        to the nearest global minimizer), ``diverged_step`` (-1: never), ``evals_run`` and
        ``hit_evals@<target>`` for each target (the first evaluation with f - f* <= target,
        -1: never). Values are plain Python numbers, so the list feeds ``csv.DictWriter``
        or ``pandas.DataFrame`` as it is.

        Args:
            optimizer: only this optimizer label (default: all).
            function: only this function (default: all).
            start_set: only this start set (default: all).
        """
        table: list[dict[str, Any]] = []
        for unit in self.units:
            if optimizer is not None and unit.optimizer != optimizer:
                continue
            if function is not None and unit.function != function:
                continue
            for row in range(len(unit.lr)):
                if start_set is not None and str(unit.start_set[row]) != start_set:
                    continue
                line: dict[str, Any] = {
                    "optimizer": unit.optimizer,
                    "function": unit.function,
                    "start_set": str(unit.start_set[row]),
                    "start_index": int(unit.start_index[row]),
                    "lr": float(unit.lr[row]),
                    "start": tuple(float(x) for x in unit.start[row]),
                    "final": tuple(float(x) for x in unit.final[row]),
                    "final_gap": float(unit.final_gap[row]),
                    "best_gap": float(unit.best_gap[row]),
                    "distance": float(unit.distance[row]),
                    "diverged_step": int(unit.diverged_step[row]),
                    "evals_run": int(unit.evals_run[row]),
                }
                for target, hit in zip(self.spec.targets, unit.hit_evals[row], strict=True):
                    line[f"hit_evals@{target:g}"] = int(hit)
                table.append(line)
        return table


def run(
    spec: ExperimentSpec | Mapping[str, Any],
    out: str | Path | None = None,
    *,
    progress: Callable[[int], None] | None = None,
    workers: int | None = 1,
) -> RunRecords:
    """Run an experiment and return its records.

    Args:
        spec: an :class:`~adamlab.bench.spec.ExperimentSpec`, or a mapping in the form of a
            TOML spec (validated by :func:`~adamlab.bench.spec.spec_from_dict`). Optimizers
            are registry names or ``"package.module:Class"`` for any importable
            ``torch.optim.Optimizer`` subclass.
        out: folder to write the records into (created if needed). A folder that already
            holds records of the same spec is resumed: finished units are read, not re-run;
            one holding another experiment's records is refused. None (default): a
            temporary folder, removed before returning.
        progress: called with the number of steps done after each chunk of steps (from
            worker processes: in bundles, a few times a second).
        workers: how many batches (one per optimizer and dimension) run at once, each in a
            worker process of its own; 1 (default): one after another in this process; None:
            one per ``spec.threads`` usable cores. The records are the same with any count.

    Returns:
        The records, loaded into memory (see :class:`RunRecords`).

    Raises:
        ValueError: a bad spec (naming the field, its value and what is allowed), an
            optimizer class that cannot be imported or built, or an unusable ``out``.

    torch's thread count is set to ``spec.threads`` while the experiment runs and restored
    afterwards.
    """
    if isinstance(spec, Mapping):
        spec = spec_from_dict(spec)
    elif not isinstance(spec, ExperimentSpec):
        raise ValueError(
            f"invalid spec: {spec!r} (expected an ExperimentSpec or a mapping of spec keys)"
        )
    if out is not None and not isinstance(out, str | Path):
        raise ValueError(f"invalid out: {out!r} (expected a folder path or None)")
    executor = LocalExecutor(workers)
    threads = torch.get_num_threads()
    try:
        if out is not None:
            run_experiment(spec, Path(out), progress=progress, executor=executor)
            return RunRecords(out)
        with tempfile.TemporaryDirectory(prefix="adamlab-run-") as folder:
            run_experiment(spec, Path(folder), progress=progress, executor=executor)
            return RunRecords(folder, temporary=True)
    finally:
        torch.set_num_threads(threads)
