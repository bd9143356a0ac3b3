"""The example notebook runs top to bottom in a fresh kernel, and is committed without outputs.

The notebook is executed with nbclient in a kernel that runs this interpreter (a kernel spec
written into a temporary folder, so a ``python3`` spec elsewhere on the machine cannot pick
another Python). Its own checks are asserts inside it; the test also reads what it printed and
displayed: the oracle's deviation of exactly 0, figures, the summary table and the GIF.
"""

from __future__ import annotations

import base64
import io
import json
import re
import sys
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient
from PIL import Image

NOTEBOOK = Path(__file__).resolve().parents[1] / "examples" / "optimizer_experimentation.ipynb"
KERNEL_NAME = "adamlab-notebook-test"
#: Seconds any one cell may take (the experiment cell takes ~15 s on a loaded 2-core machine).
CELL_TIMEOUT = 180


def _cell(notebook: Any, tag: str) -> Any:
    (cell,) = [c for c in notebook.cells if tag in c.metadata.get("tags", [])]
    return cell


def _text(cell: Any) -> str:
    return "".join(
        output.get("text", "") for output in cell.outputs if output.output_type == "stream"
    )


def _data(cell: Any, mime: str) -> list[Any]:
    return [
        output.data[mime]
        for output in cell.outputs
        if output.output_type in ("display_data", "execute_result") and mime in output.data
    ]


def test_committed_notebook_has_no_outputs() -> None:
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(notebook)
    code_cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code_cells
    for cell in code_cells:
        assert cell.outputs == [], f"cell {cell.id} has outputs"
        assert cell.execution_count is None, f"cell {cell.id} has an execution count"


@pytest.fixture(scope="module")
def executed(tmp_path_factory: pytest.TempPathFactory) -> Any:
    work = tmp_path_factory.mktemp("notebook")
    kernels = work / "jupyter" / "kernels" / KERNEL_NAME
    kernels.mkdir(parents=True)
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "adamlab test kernel",
        "language": "python",
    }
    (kernels / "kernel.json").write_text(json.dumps(spec), encoding="utf-8")
    with pytest.MonkeyPatch.context() as patch:
        # the kernel spec above is found first on JUPYTER_PATH
        patch.setenv("JUPYTER_PATH", str(work / "jupyter"))
        # older jupyter_core 5 releases warn (DeprecationWarning, an error under pytest's
        # filterwarnings) unless the platformdirs layout is chosen explicitly
        patch.setenv("JUPYTER_PLATFORM_DIRS", "1")
        # connection files and the IPython profile stay in this test's folder, not in $HOME
        patch.setenv("JUPYTER_RUNTIME_DIR", str(work / "runtime"))
        patch.setenv("IPYTHONDIR", str(work / "ipython"))
        # the notebook's tempfile.mkdtemp() lands in this test's folder
        patch.setenv("TMPDIR", str(work))
        notebook = nbformat.read(NOTEBOOK, as_version=4)
        client = NotebookClient(
            notebook,
            timeout=CELL_TIMEOUT,
            kernel_name=KERNEL_NAME,
            resources={"metadata": {"path": str(work)}},
        )
        client.execute()
    return notebook


def test_notebook_runs_without_errors_or_warnings(executed: Any) -> None:
    for cell in executed.cells:
        if cell.cell_type != "code":
            continue
        assert cell.execution_count is not None, f"cell {cell.id} did not run"
        for output in cell.outputs:
            assert output.output_type != "error", f"cell {cell.id}: {output.get('ename')}"
            # a Python warning printed under a cell (one-off notices such as matplotlib's
            # font-cache message are not warnings and may appear on a fresh machine)
            if output.get("name") == "stderr":
                assert not re.search(r"\w+Warning\b", output.text), f"cell {cell.id}: {output.text}"


def test_adam_equals_torch_exactly(executed: Any) -> None:
    printed = _text(_cell(executed, "oracle"))
    deviations = re.findall(r"max abs difference = (\S+), same state: (\w+)", printed)
    assert len(deviations) == 2, printed
    assert all(float(value) == 0.0 and same == "True" for value, same in deviations)
    paper = re.search(r"max abs difference = (\S+)", _text(_cell(executed, "paper-check")))
    assert paper is not None and float(paper.group(1)) < 1e-12


def test_functions_table_checks_every_minimum(executed: Any) -> None:
    (table,) = _data(_cell(executed, "functions-table"), "text/markdown")
    for name in ("Rosenbrock", "Bukin N.6", "Bohachevsky 1", "Booth", "Three-hump camel", "Easom"):
        assert f"| {name} |" in table
    assert table.count("\n") == 7  # header, rule, six functions


def test_experiment_figures_table_and_animation(executed: Any) -> None:
    assert "4 optimizers x 6 functions" in _text(_cell(executed, "experiment"))
    curves = _data(_cell(executed, "curves"), "image/png")
    assert len(curves) == 2  # one per start set
    summary = _data(_cell(executed, "summary"), "text/markdown")
    assert len(summary) == 3  # two success tables and the full table
    full = summary[-1].splitlines()
    assert len(full) == 2 + 4 * 6 * 2  # header, rule, optimizer x function x start set
    (gif,) = _data(_cell(executed, "animation"), "image/gif")
    with Image.open(io.BytesIO(base64.b64decode(gif))) as image:
        assert image.format == "GIF"
        assert getattr(image, "n_frames", 1) > 1
