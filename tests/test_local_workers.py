"""``--workers N``: the batches of a run in N worker processes of this machine give the records
of a run in this process (timings aside); progress counts every step once; a batch that fails
stops the run with its error after the batches already running are recorded; bad values are
refused with one line."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import torch

from adamlab import bench
from adamlab.bench import records
from adamlab.bench.executors import LocalExecutor, make_executor, usable_cores
from adamlab.bench.runner import run_experiment
from adamlab.bench.spec import spec_from_dict
from adamlab.cli import main

SPEC = {
    "steps": 60,
    "seed": 11,
    "functions": ["booth", "rosenbrock", "himmelblau"],
    "compile": False,
    "chunk": 4,
    "starts": [{"name": "domain", "n": 5}, {"name": "seed", "n": 3}],
    "optimizers": [{"name": "adam", "lr": 1e-2}, {"name": "rmsprop"}, {"name": "sgd", "lr": 1e-3}],
}

#: An optimizer whose sixth step raises: importable by the worker processes (module on
#: sys.path, which a spawned process inherits).
FAILING_MODULE = """\
import torch


class FailsAtSixthStep(torch.optim.SGD):
    def step(self, closure=None):
        self.taken = getattr(self, "taken", 0) + 1
        if self.taken == 6:
            raise ValueError("step 6 of FailsAtSixthStep failed on purpose")
        return super().step(closure)
"""


@pytest.fixture(autouse=True)
def _keep_threads() -> Iterator[None]:
    """A run sets torch's thread count for the process; restore it afterwards."""
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


def test_workers_give_the_records_of_a_run_in_this_process(
    tmp_path: Path, same_records: Callable[[Path, Path], list[str]]
) -> None:
    spec = spec_from_dict(SPEC)
    run_experiment(spec, tmp_path / "here", executor=LocalExecutor(1))
    run_experiment(spec, tmp_path / "workers", executor=LocalExecutor(2))
    names = same_records(tmp_path / "here", tmp_path / "workers")
    assert len(names) == 9


@pytest.mark.slow
def test_compiled_workers_give_the_records_of_a_compiled_run_in_this_process(
    tmp_path: Path, same_records: Callable[[Path, Path], list[str]]
) -> None:
    """Each worker compiles its own graphs: they compute what this process's graphs do."""
    spec = spec_from_dict({**SPEC, "compile": True, "optimizers": SPEC["optimizers"][:2]})
    run_experiment(spec, tmp_path / "here", executor=LocalExecutor(1))
    run_experiment(spec, tmp_path / "workers", executor=LocalExecutor(2))
    assert len(same_records(tmp_path / "here", tmp_path / "workers")) == 6


def test_progress_from_workers_counts_every_step_of_every_unit_once() -> None:
    spec = spec_from_dict({**SPEC, "early_stop": False})
    units = [(optimizer, function) for optimizer in spec.optimizers for function in spec.functions]
    counted: list[int] = []
    results = list(LocalExecutor(3).run(spec, units, progress=counted.append))
    assert sorted((r.optimizer, r.function) for r in results) == sorted(
        (o.label, f) for o, f in units
    )
    assert sum(counted) == len(units) * spec.steps


def test_python_api_takes_workers(tmp_path: Path) -> None:
    here = bench.run(SPEC, tmp_path / "here")
    there = bench.run(SPEC, tmp_path / "there", workers=2)
    assert here.rows() == there.rows()


def test_a_failing_batch_raises_its_error_after_the_running_batches_are_recorded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "failing_optimizer.py").write_text(FAILING_MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    spec = spec_from_dict(
        {
            **SPEC,
            "steps": 400,
            "optimizers": [
                {"name": "adam", "lr": 1e-2},
                {"name": "failing_optimizer:FailsAtSixthStep", "lr": 1e-3},
            ],
        }
    )
    out = tmp_path / "out"
    # batches: Adam's three functions together, then the failing class one function at a
    # time; with two workers the first failure cancels the other failing batches
    with pytest.raises(ValueError, match="step 6 of FailsAtSixthStep failed on purpose"):
        run_experiment(spec, out, executor=LocalExecutor(2))
    recorded = sorted(p.name for p in (out / records.UNITS_DIR).glob("*.npz"))
    assert recorded == [records.unit_filename("adam", f) for f in sorted(spec.functions)]
    # the run resumes from what was recorded: only the failing units are missing
    assert records.read_manifest(out)["status"] == "running"


def test_worker_count_is_capped_by_the_batches_and_auto_follows_the_cores() -> None:
    spec = spec_from_dict({**SPEC, "threads": 1})
    assert LocalExecutor(8).worker_count(spec, 3) == 3
    assert LocalExecutor(2).worker_count(spec, 3) == 2
    assert LocalExecutor(None).worker_count(spec, 100) == usable_cores()
    many_threads = spec_from_dict({**SPEC, "threads": usable_cores() + 1})
    assert LocalExecutor(None).worker_count(many_threads, 100) == 1


@pytest.mark.parametrize("workers", [0, -1, True])
def test_executor_refuses_a_bad_worker_count(workers: int) -> None:
    with pytest.raises(ValueError, match=rf"invalid workers: {workers!r} \(expected an integer"):
        LocalExecutor(workers)


def test_ray_executor_takes_no_worker_count() -> None:
    with pytest.raises(ValueError, match=r"invalid --workers: 2 \(needs --executor local\)"):
        make_executor("ray", None, 2)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--workers", "0"], "invalid --workers: '0' (expected an integer >= 1 or auto)"),
        (["--workers", "two"], "invalid --workers: 'two' (expected an integer >= 1 or auto)"),
        (
            ["--workers", "2", "--executor", "ray"],
            "invalid --workers: '2' (needs --executor local)",
        ),
    ],
)
def test_cli_refuses_bad_workers_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    out = tmp_path / "out"
    code = main(["run", "--out", str(out), "--quiet", "--no-report", *argv])
    err = capsys.readouterr().err
    assert code == 2
    assert err.strip().splitlines() == [f"adamlab: error: {message}"]
    assert not out.exists()


def test_cli_workers_run_writes_the_records_of_workers_1(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    same_records: Callable[[Path, Path], list[str]],
) -> None:
    config = tmp_path / "spec.toml"
    config.write_text(
        'steps = 40\nseed = 2\nfunctions = ["booth", "matyas"]\ncompile = false\n'
        '[[starts]]\nname = "domain"\nn = 4\n'
        '[[optimizers]]\nname = "adam"\n[[optimizers]]\nname = "adagrad"\n'
    )
    for workers, out in (("1", "one"), ("auto", "auto")):
        argv = ["run", "--config", str(config), "--out", str(tmp_path / out), "--workers", workers]
        assert main([*argv, "--quiet", "--no-report"]) == 0, capsys.readouterr().err
    assert len(same_records(tmp_path / "one", tmp_path / "auto")) == 4
