"""``adamlab report``: report.md and a self-contained report.html, rendered in Chromium."""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from adamlab.bench.sweep import lr_grid, run_sweep
from adamlab.cli import main
from adamlab.report.html import markdown_to_html

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def sweep_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sweep_report")
    base = {
        "optimizers": [{"name": "adam", "lr": 1e-3}, {"name": "sgd", "lr": 1e-3}],
        "functions": ["booth"],
        "steps": 60,
        "compile": False,
        "trace_rows": 2,
        "trace_points": 12,
        "targets": [1e-1, 1e-4],
    }
    run_sweep(base, out, grid=lr_grid(1e-3, 1e-1, 3), tune_starts=3, eval_starts=3)
    assert main(["report", str(out)]) == 0
    return out


def test_markdown_subset() -> None:
    text = "## H\n\n- a `x`\n- **b**\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n![fig](missing.png)"
    page = markdown_to_html(text)
    assert "<h2>H</h2>" in page and "<li>a <code>x</code></li>" in page
    assert "<th>a</th>" in page and "<td>2</td>" in page
    assert '<img alt="fig" src="missing.png">' in page


def test_report_files_and_sections(sweep_dir: Path) -> None:
    markdown = (sweep_dir / "report.md").read_text()
    for heading in ("## Learning-rate tuning", "## Runtime ECDFs", "## Animations", "## Summary"):
        assert heading in markdown
    assert "Tuning budget: 3 learning rates x 3 tuning starts x 61" in markdown
    for name in ("lr_sensitivity.png", "ecdf_eval.png", "profile_eval.png"):
        assert (sweep_dir / "figures" / name).stat().st_size > 5_000
    assert (sweep_dir / "animations" / "booth.gif").stat().st_size < 5 * 1024 * 1024
    page = (sweep_dir / "report.html").read_text()
    assert "http://" not in page and "https://" not in page and "<script" not in page


def test_report_does_not_rerun(sweep_dir: Path) -> None:
    units = sorted((sweep_dir / "evaluation" / "units").glob("*.npz"))
    before = [p.stat().st_mtime_ns for p in units]
    assert main(["report", str(sweep_dir)]) == 0
    assert [p.stat().st_mtime_ns for p in units] == before


@pytest.mark.slow
def test_report_on_a_run_folder(tmp_path: Path) -> None:
    argv = ["run", "--out", str(tmp_path), "--steps", "40", "--starts", "3", "--quiet"]
    argv += ["--functions", "booth", "--optimizer", "adam", "--optimizer", "sgd"]
    assert main([*argv, "--no-compile", "--no-report"]) == 0
    assert main(["report", str(tmp_path)]) == 0
    assert (tmp_path / "report.html").exists()
    assert "## Runtime ECDFs" in (tmp_path / "report.md").read_text()


def test_report_refuses_a_folder_without_records(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report", str(tmp_path)]) == 2
    assert "no records" in capsys.readouterr().err


def _chromium() -> Path:
    if CHROMIUM.exists():
        return CHROMIUM
    if shutil.which("apt-get") is None:
        pytest.skip("chromium missing at /usr/bin/chromium and no apt-get to install it")
    try:
        subprocess.run(["apt-get", "update"], check=True, capture_output=True, timeout=300)
        subprocess.run(
            ["apt-get", "install", "-y", "chromium"], check=True, capture_output=True, timeout=600
        )
    except (subprocess.SubprocessError, OSError) as error:
        pytest.skip(f"chromium missing and `apt-get install -y chromium` failed: {error}")
    if not CHROMIUM.exists():
        pytest.skip("chromium missing after apt-get install")
    return CHROMIUM


def test_html_renders_in_headless_chromium(sweep_dir: Path, tmp_path: Path) -> None:
    chromium = _chromium()
    url = (sweep_dir / "report.html").resolve().as_uri()
    shot = tmp_path / "shot.png"
    common = [str(chromium), *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}"]
    started = time.perf_counter()
    subprocess.run(
        [*common, f"--screenshot={shot}", "--window-size=1200,3000", url],
        check=True,
        capture_output=True,
        timeout=120,
    )
    assert shot.exists()
    pixels = np.asarray(Image.open(shot).convert("L"), dtype=np.float64)
    assert pixels.std() > 10, "screenshot is blank"
    dom = subprocess.run(
        [*common, "--dump-dom", url], check=True, capture_output=True, text=True, timeout=120
    ).stdout
    sources = re.findall(r'<img[^>]*src="([^"]+)"', dom)
    assert len(sources) >= 4
    for src in sources:
        if src.startswith("data:"):
            assert src.startswith("data:image/png;base64,") and len(src) > 1000
        else:
            assert (sweep_dir / src).is_file(), src
    assert time.perf_counter() - started < 120
