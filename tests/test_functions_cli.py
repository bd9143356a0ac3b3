"""Command-line tests for ``adamlab functions`` and ``adamlab plot functions``."""

from __future__ import annotations

from pathlib import Path

import pytest

from adamlab.cli import main
from adamlab.functions import FUNCTIONS, SUITES

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _table_rows(out: str) -> list[list[str]]:
    lines = out.strip().splitlines()
    assert lines[0].split()[:2] == ["name", "dim"]
    assert set(lines[1].replace(" ", "")) == {"-"}
    return [line.split() for line in lines[2:]]


def test_functions_lists_every_registered_function(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["functions"]) == 0
    rows = _table_rows(capsys.readouterr().out)
    assert [row[0] for row in rows] == list(FUNCTIONS)
    by_name = {row[0]: row for row in rows}
    assert by_name["bukin_n6"][1:6] == ["2", "[-15,", "-5]", "x", "[-3,"]
    assert by_name["easom"][-2:] == ["steep", "ridges/drops"]
    assert "-1.03162845349" in by_name["six_hump_camel"]


def test_functions_suite_and_dim(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["functions", "--suite", "seed"]) == 0
    rows = _table_rows(capsys.readouterr().out)
    assert tuple(row[0] for row in rows) == SUITES["seed"]

    assert main(["functions", "--suite", "nd", "--dim", "5"]) == 0
    out = capsys.readouterr().out
    rows = _table_rows(out)
    assert {row[0]: row[1] for row in rows} == {name: "5" for name in SUITES["nd"]}
    assert "[-5, 10]^5" in out
    assert "-195.830828519" in out  # Styblinski-Tang f* = -39.166165703771415 * 5


def test_functions_columns_are_aligned(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["functions"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    header, rule = lines[0], lines[1]
    # every column starts where its rule segment starts
    starts = [i for i, ch in enumerate(rule) if ch == "-" and (i == 0 or rule[i - 1] == " ")]
    assert header.index("category") == starts[-1]
    for line in lines[2:]:
        assert line[starts[-1] - 2 : starts[-1]] == "  "


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["functions", "--suite", "nope"], "unknown suite 'nope'"),
        (["functions", "--suite", "sed"], "did you mean seed"),
        (["functions", "--dim", "1"], "invalid --dim 1"),
        (["functions", "--dim", "two"], "invalid int value"),
        (["plot"], "required"),
        (["plot", "functions"], "--out"),
        (["plot", "functions", "--out", "x", "--dpi", "0"], "invalid --dpi 0"),
        (["plot", "functions", "--out", "x", "--suite", "nope"], "unknown suite"),
    ],
)
def test_bad_input_exits_2_with_one_line(
    argv: list[str],
    message: str,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)  # "--out x" must not be created before validation fails
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
    assert message in err
    assert not (tmp_path / "x").exists()


def test_plot_out_must_be_a_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    not_a_folder = tmp_path / "file.png"
    not_a_folder.write_bytes(b"")
    assert main(["plot", "functions", "--out", str(not_a_folder)]) == 2
    assert "not a folder" in capsys.readouterr().err


def test_plot_functions_writes_the_seed_figure_and_one_per_function(tmp_path: Path) -> None:
    out = tmp_path / "figures"
    argv = ["plot", "functions", "--out", str(out), "--suite", "seed", "--dpi", "30"]
    assert main([*argv, "--resolution", "20"]) == 0
    expected = {"seed_functions.png", *(f"{name}.png" for name in SUITES["seed"])}
    assert {p.name for p in out.iterdir()} == expected
    for path in out.iterdir():
        assert path.read_bytes()[:8] == PNG_MAGIC


@pytest.mark.slow
def test_plot_functions_default_writes_every_registered_function(tmp_path: Path) -> None:
    argv = ["plot", "functions", "--out", str(tmp_path), "--dpi", "30", "--resolution", "20"]
    assert main(argv) == 0
    expected = {"seed_functions.png", *(f"{name}.png" for name in FUNCTIONS)}
    assert {p.name for p in tmp_path.iterdir()} == expected
