"""``write_run_outputs``: every file, a report naming every optimizer and function, stable."""

from __future__ import annotations

import csv
import importlib.util
import sys
from pathlib import Path

import pytest

from adamlab.bench.records import Records
from adamlab.functions import get
from adamlab.report.run_report import report_targets, write_run_outputs


def _make_records(out: Path) -> Records:
    # the record builder lives next to the plot tests; load it without a tests package
    spec = importlib.util.spec_from_file_location(
        "_run_plots_helpers", Path(__file__).with_name("test_run_plots.py")
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(spec.name, module)
    spec.loader.exec_module(module)
    records: Records = module.make_records(out)
    return records


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Records, Path, list[Path]]:
    records = _make_records(tmp_path_factory.mktemp("records"))
    out = tmp_path_factory.mktemp("report")
    return records, out, write_run_outputs(records, out)


def test_every_file_is_written(outputs: tuple[Records, Path, list[Path]]) -> None:
    records, out, written = outputs
    expected = {f"figures/curves_{s}.png" for s in records.start_sets}
    expected |= {
        f"figures/{kind}_{f}_{s}.png"
        for kind in ("trajectories", "surface")
        for f in records.functions
        for s in records.start_sets
    }
    expected |= {"summary.csv", "summary.md", "report.md"}
    assert {p.relative_to(out).as_posix() for p in written} == expected
    assert all(p.is_file() and p.stat().st_size > 0 for p in written)
    with (out / "summary.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == len(records.optimizers) * len(records.functions) * 2


def test_report_mentions_everything(outputs: tuple[Records, Path, list[Path]]) -> None:
    records, out, _ = outputs
    text = (out / "report.md").read_text(encoding="utf-8")
    for optimizer in records.optimizers:
        assert f"**{optimizer}**" in text
    for function in records.functions:
        assert f"### {get(function).display_name}" in text
        assert f"`{function}`" in text
    for heading in ("## Protocol", "## Summary", "## The seed's conclusions, checked"):
        assert heading in text
    assert "same points" in text
    assert "lr=0.05 (set)" in text and "betas=(0.9, 0.999) (default)" in text
    # figures are embedded with links relative to the report
    assert "](figures/curves_domain.png)" in text
    assert "](figures/trajectories_booth_seed.png)" in text
    assert "/tmp" not in text and str(out) not in text
    assert text.count("the claim") >= 4 or text.count("The claim") >= 4
    assert (out / "summary.md").read_text(encoding="utf-8") in text


def test_output_is_deterministic(outputs: tuple[Records, Path, list[Path]], tmp_path: Path) -> None:
    records, out, _ = outputs
    write_run_outputs(records, tmp_path)
    for name in ("report.md", "summary.csv", "summary.md", "figures/curves_seed.png"):
        assert (tmp_path / name).read_bytes() == (out / name).read_bytes(), name


def test_report_targets() -> None:
    assert report_targets((1e-1, 1e-4, 1e-8)) == (1e-4, 1e-8)
    assert report_targets((1e-1, 1e-2, 1e-3)) == (1e-2, 1e-3)
