"""Killed and started again, ``adamlab run`` resumes and ends with the uninterrupted records.

A real ``adamlab run`` subprocess is SIGKILLed after its first unit file appears; the same
command then finishes the run. Every record (each unit's arrays except its wall-clock
timings, runs.csv, the manifest's spec and fingerprint) must equal, bit for bit, those of a
run that was never interrupted.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import torch

from adamlab.bench import records
from adamlab.bench.runner import run_experiment
from adamlab.bench.spec import load_spec
from adamlab.cli import main

SPEC = """\
steps = 1000
seed = 3
functions = ["booth", "rosenbrock", "himmelblau"]
early_stop = false
compile = false

[[starts]]
name = "domain"
n = 8

[[optimizers]]
name = "adam"
lr = 1e-2

[[optimizers]]
name = "sgd"
lr = 1e-3
"""
#: Wall-clock fields of a unit: they differ between any two runs and are not results.
RUN_FLAGS = ["--no-compile", "--no-report", "--quiet"]


def _command(config: Path, out: Path) -> list[str]:
    return [sys.executable, "-m", "adamlab", "run", "--config", str(config), "--out", str(out)]


def _environment() -> dict[str, str]:
    return {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONWARNINGS": "error"}


def assert_same_records(same_records: Callable[[Path, Path], list[str]], a: Path, b: Path) -> None:
    """The shared records comparison (conftest), no stray file among the units, and a complete
    run on one thread."""
    same_records(a, b)
    names_a = sorted(p.name for p in (a / records.UNITS_DIR).iterdir())
    assert names_a == sorted(p.name for p in (b / records.UNITS_DIR).iterdir())
    manifest_a, manifest_b = records.read_manifest(a), records.read_manifest(b)
    assert manifest_a["status"] == "complete"
    assert manifest_a["environment"]["threads"] == manifest_b["environment"]["threads"] == 1


def _snapshot(out: Path) -> dict[str, tuple[str, int]]:
    return {
        str(p.relative_to(out)): (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
        for p in sorted(out.rglob("*"))
        if p.is_file()
    }


def test_killed_run_resumes_to_the_uninterrupted_records(
    tmp_path: Path, same_records: Callable[[Path, Path], list[str]]
) -> None:
    config = tmp_path / "spec.toml"
    config.write_text(SPEC)
    reference = tmp_path / "reference"
    threads = torch.get_num_threads()
    try:
        run_experiment(load_spec(config), reference)
    finally:
        torch.set_num_threads(threads)

    out = tmp_path / "killed"
    command = [*_command(config, out), *RUN_FLAGS]
    process = subprocess.Popen(
        command, env=_environment(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 120
    try:
        while not list((out / records.UNITS_DIR).glob("*.npz")):
            assert process.poll() is None, process.stderr.read() if process.stderr else ""
            assert time.monotonic() < deadline, "no unit written in 120 s"
            time.sleep(0.01)
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait()
        if process.stderr is not None:
            process.stderr.close()
    assert process.returncode == -signal.SIGKILL
    finished = len(list((out / records.UNITS_DIR).glob("*.npz")))
    assert 1 <= finished < 6, "the run was not killed part-way"
    assert not (out / records.RUNS_CSV).exists()
    assert json.loads((out / records.MANIFEST).read_text())["status"] == "running"

    resumed = subprocess.run(
        command, env=_environment(), capture_output=True, text=True, timeout=300, check=False
    )
    assert resumed.returncode == 0, resumed.stderr
    assert resumed.stdout.count("(already recorded)") == finished
    assert not list(out.rglob("*.tmp")), "a temporary file was left behind"
    assert_same_records(same_records, reference, out)


@pytest.fixture
def five_step_config(tmp_path: Path) -> Iterator[Path]:
    """SPEC at 5 steps as a file; torch's thread count, which ``adamlab run`` sets, is restored
    afterwards."""
    config = tmp_path / "spec.toml"
    config.write_text(SPEC.replace("steps = 1000", "steps = 5"))
    threads = torch.get_num_threads()
    yield config
    torch.set_num_threads(threads)


def _run(config: Path, out: Path, *extra: str) -> int:
    return main(["run", "--config", str(config), "--out", str(out), *RUN_FLAGS, *extra])


@pytest.mark.parametrize("flag", [["--steps", "1499"], ["--seed", "4"]])
def test_a_different_spec_is_refused_and_changes_nothing(
    tmp_path: Path, five_step_config: Path, capsys: pytest.CaptureFixture[str], flag: list[str]
) -> None:
    out = tmp_path / "out"
    assert _run(five_step_config, out) == 0
    before = _snapshot(out)
    capsys.readouterr()
    assert _run(five_step_config, out, *flag) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "holds records of a different experiment" in err and "choose another --out" in err
    assert _snapshot(out) == before


def test_a_temporary_file_left_by_a_killed_write_is_removed(
    tmp_path: Path, five_step_config: Path
) -> None:
    """A kill during a unit's atomic write leaves ``.<unit>.npz.<random>.tmp``; the next run
    in that folder removes it (the unit itself was never recorded and runs again)."""
    out = tmp_path / "out"
    assert _run(five_step_config, out) == 0
    unit = next((out / records.UNITS_DIR).glob("*.npz"))
    stale = unit.with_name(f".{unit.name}.k1ll3d.tmp")
    stale.write_bytes(unit.read_bytes()[:100])
    unit.unlink()
    assert _run(five_step_config, out) == 0
    assert not stale.exists()
    assert unit.exists()
    assert records.read_manifest(out)["status"] == "complete"
