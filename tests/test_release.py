"""The release artefacts: ``python -m build`` makes a wheel and an sdist that install and run.

The wheel goes into a fresh virtual environment in ``tmp_path`` (nothing from this checkout on
its path), after ``torch==2.13.0`` alone, as the Makefile does, so that pip takes the CPU
build. Then the installed ``adamlab`` script prints its version and runs a small experiment
end to end, records and report. The run is eager (``--no-compile``): compiling is torch's work
and costs minutes from a cold cache; everything else is the package's own.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
RELEASE = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]


def _env() -> dict[str, str]:
    """This process's environment without what would let the new venv see this checkout."""
    drop = {"VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP"}
    return {key: value for key, value in os.environ.items() if key not in drop}


def _run(argv: list[str | Path], cwd: Path, timeout: float) -> str:
    done = subprocess.run(
        [str(arg) for arg in argv],
        cwd=cwd,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, f"{argv} exited {done.returncode}:\n{output[-4000:]}"
    return done.stdout


def _package_data() -> list[str]:
    """The non-Python files pyproject's package-data names that exist in the source tree."""
    package = ROOT / "src" / "adamlab"
    found = [package / "py.typed", *sorted((package / "configs").glob("*.toml"))]
    return [path.relative_to(package.parent).as_posix() for path in found]


def test_wheel_installs_into_a_clean_venv_and_runs(tmp_path: Path) -> None:
    # 1. sdist, then the wheel built from that sdist (so the sdist must be complete)
    dist = tmp_path / "dist"
    _run([sys.executable, "-m", "build", "--outdir", dist, ROOT], cwd=tmp_path, timeout=600)
    wheel = dist / f"adamlab-{RELEASE}-py3-none-any.whl"
    sdist = dist / f"adamlab-{RELEASE}.tar.gz"
    assert wheel.is_file() and sdist.is_file(), sorted(p.name for p in dist.iterdir())
    with zipfile.ZipFile(wheel) as archive:
        in_wheel = set(archive.namelist())
    with tarfile.open(sdist) as archive:
        in_sdist = set(archive.getnames())
    for name in _package_data():
        assert name in in_wheel, f"{name} missing from the wheel"
        assert f"adamlab-{RELEASE}/src/{name}" in in_sdist, f"{name} missing from the sdist"
    assert "adamlab/cli/__init__.py" in in_wheel

    # 2. a clean venv: torch pinned first (the local CPU wheel), then the wheel
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", venv], cwd=tmp_path, timeout=300)
    python = venv / "bin" / "python"
    pip = [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    _run([*pip, "torch==2.13.0"], cwd=tmp_path, timeout=600)
    _run([*pip, wheel], cwd=tmp_path, timeout=600)
    listing = _run([python, "-m", "pip", "list", "--format", "json"], cwd=tmp_path, timeout=120)
    installed = {entry["name"].lower(): entry["version"] for entry in json.loads(listing)}
    cuda = sorted(name for name in installed if name.startswith("nvidia"))
    assert not cuda, f"pip pulled CUDA packages instead of the CPU torch wheel: {cuda}"
    assert installed["adamlab"] == RELEASE
    location = _run([python, "-c", "import adamlab; print(adamlab.__file__)"], tmp_path, 120)
    assert Path(location.strip()).is_relative_to(venv), location

    # 3. the installed script
    adamlab = venv / "bin" / "adamlab"
    assert _run([adamlab, "--version"], cwd=tmp_path, timeout=120).strip() == f"adamlab {RELEASE}"
    out = tmp_path / "out"
    argv = [adamlab, "run", "--steps", "1000", "--starts", "5", "--out", out, "--quiet"]
    _run([*argv, "--no-tuned", "--no-compile"], cwd=tmp_path, timeout=900)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "complete"
    assert manifest["environment"]["adamlab"] == RELEASE
    assert manifest["environment"]["torch"].startswith("2.13.0")
    assert len(list((out / "units").glob("*.npz"))) == 4 * 6  # optimizers x seed functions
    for name in ("runs.csv", "summary.md", "report.md", "report.html"):
        assert (out / name).stat().st_size > 0, name
