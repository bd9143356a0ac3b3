"""``--executor ray``: every unit runs as a Ray task and the driver writes the records, which
equal a local run's (wall-clock timings aside). Ray runs on this machine only, on loopback.

Needs the ray extra (``pip install "adamlab[ray]"``; ``make test-slow`` installs it) and skips
without it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import torch

from adamlab.bench import records
from adamlab.bench.runner import run_experiment
from adamlab.bench.spec import load_spec
from adamlab.cli import main

ray = pytest.importorskip(
    "ray", reason='Ray is not installed (pip install "adamlab[ray]", or make test-slow)'
)

pytestmark = [
    pytest.mark.slow,
    # deprecations inside Ray's own start-up code are Ray's to fix, not adamlab's
    pytest.mark.filterwarnings("ignore::DeprecationWarning:ray.*"),
]

SPEC = """\
steps = 200
seed = 5
functions = ["booth", "rosenbrock", "himmelblau"]
compile = false

[[starts]]
name = "domain"
n = 6

[[optimizers]]
name = "adam"
lr = 1e-2

[[optimizers]]
name = "rmsprop"
"""


@pytest.fixture(scope="module")
def local_ray() -> Iterator[Any]:
    """A Ray instance on this machine only: loopback, no dashboard, two CPUs at most."""
    ray.init(
        address="local",
        num_cpus=2,
        include_dashboard=False,
        _node_ip_address="127.0.0.1",
        log_to_driver=False,
        configure_logging=False,
    )
    try:
        yield ray
    finally:
        ray.shutdown()


@pytest.fixture(autouse=True)
def _keep_threads() -> Iterator[None]:
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


def _run(config: Path, out: Path, *extra: str) -> int:
    return main(
        ["run", "--config", str(config), "--out", str(out), *extra, "--no-report", "--quiet"]
    )


def test_ray_executor_writes_the_records_of_a_local_run(
    local_ray: Any,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    same_records: Callable[[Path, Path], list[str]],
) -> None:
    config = tmp_path / "spec.toml"
    config.write_text(SPEC)
    run_experiment(load_spec(config), tmp_path / "local")

    assert _run(config, tmp_path / "ray", "--executor", "ray") == 0, capsys.readouterr().err
    assert capsys.readouterr().out.count("  done ") == 6
    assert local_ray.is_initialized(), "the executor shut down a Ray instance it did not start"
    assert len(same_records(tmp_path / "local", tmp_path / "ray")) == 6

    # a shard on Ray holds the same units and records as the same shard run locally
    assert _run(config, tmp_path / "ray-shard", "--executor", "ray", "--shard", "2/2") == 0
    assert _run(config, tmp_path / "local-shard", "--shard", "2/2") == 0
    units = sorted(p.name for p in (tmp_path / "ray-shard" / records.UNITS_DIR).glob("*.npz"))
    assert units == ["adam__rosenbrock.npz", "rmsprop__booth.npz", "rmsprop__himmelblau.npz"]
    csv_ray = (tmp_path / "ray-shard" / records.RUNS_CSV).read_bytes()
    assert csv_ray == (tmp_path / "local-shard" / records.RUNS_CSV).read_bytes()
