"""The release's version: one number in pyproject.toml, seen the same by metadata and the CLI."""

from __future__ import annotations

import tomllib
from importlib.metadata import version
from pathlib import Path

import pytest

import adamlab
from adamlab.cli import main

RELEASE = "0.1.0"
PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"


def test_pyproject_declares_the_release() -> None:
    assert tomllib.loads(PYPROJECT.read_text())["project"]["version"] == RELEASE


def test_installed_metadata_and_module_agree() -> None:
    # a stale install (pyproject changed, package not reinstalled) fails here
    assert version("adamlab") == RELEASE
    assert adamlab.__version__ == RELEASE


def test_cli_prints_the_version(capsys: pytest.CaptureFixture[str]) -> None:
    # argparse's version action prints and exits 0 (the installed script is checked end to end
    # by tests/test_release.py)
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out == f"adamlab {RELEASE}\n"
