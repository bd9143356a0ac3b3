"""Bring your own optimizer: ``adamlab run`` and ``adamlab verify`` on a class from outside.

The class is the example ``my_optimizer.signsgd:SignSGD`` in ``examples/``. The engine drives a
user's class through the class itself; the oracle here runs that class (and torch.optim.Adam
for the registry's Adam) in the usual zero_grad / backward / step loop, one start at a time,
and the recorded final points must equal its results.
"""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from adamlab.bench import records
from adamlab.cli import main
from adamlab.functions import get
from adamlab.verify import compare

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
TARGET = "my_optimizer.signsgd:SignSGD"
FUNCTIONS = ("rosenbrock", "booth")
STEPS = 150
STARTS = 4


def _adamlab(*argv: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``python -m adamlab ARGV`` in a fresh process with ``examples/`` on PYTHONPATH."""
    path = os.pathsep.join(filter(None, [str(EXAMPLES), os.environ.get("PYTHONPATH")]))
    return subprocess.run(
        [sys.executable, "-m", "adamlab", *argv],
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": path},
        capture_output=True,
        text=True,
        timeout=300,
    )


def _write_config(path: Path, optimizers: str = "") -> Path:
    path.write_text(
        f"steps = {STEPS}\nfunctions = {list(FUNCTIONS)!r}\n".replace("'", '"')
        + "compile = false\n"
        + f'[[starts]]\nname = "domain"\nn = {STARTS}\n'
        + f'[[starts]]\nname = "seed"\nn = {STARTS}\n'
        + optimizers,
        encoding="utf-8",
    )
    return path


def _signsgd_class() -> type[torch.optim.Optimizer]:
    sys.path.insert(0, str(EXAMPLES))
    try:
        from my_optimizer.signsgd import SignSGD
    finally:
        sys.path.remove(str(EXAMPLES))
    return SignSGD


def _plain_loop(
    make: Any, function: str, start: np.ndarray, steps: int, dtype: torch.dtype = torch.float64
) -> np.ndarray:
    """The oracle: one start, the optimizer class, zero_grad / backward / step."""
    fn = get(function)
    x = torch.nn.Parameter(torch.tensor(start, dtype=dtype))
    optimizer = make([x])
    for _ in range(steps):
        optimizer.zero_grad()
        fn(x).backward()
        optimizer.step()
    return x.detach().double().numpy()


def _check_against_loop(unit: records.UnitResult, make_for_lr: Any) -> None:
    assert unit.steps_run == STEPS and not unit.diverged.any()
    for row in range(len(unit.lr)):
        expected = _plain_loop(
            make_for_lr(float(unit.lr[row])), unit.function, unit.start[row], STEPS
        )
        np.testing.assert_allclose(unit.final[row], expected, rtol=1e-12, atol=1e-12)


def _read_csv(out: Path) -> list[dict[str, str]]:
    with (out / records.RUNS_CSV).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_run_cli_mixes_registry_and_user_optimizer(tmp_path: Path) -> None:
    """The CLI flags form: --optimizer adam --optimizer module:Class --optimizer-args JSON."""
    config = _write_config(tmp_path / "spec.toml")
    out = tmp_path / "out"
    done = _adamlab(
        "run",
        "--config",
        str(config),
        "--optimizer",
        "adam",
        "--optimizer",
        TARGET,
        "--optimizer-args",
        '{"lr": 0.01}',
        "--quiet",
        "--no-report",
        "--out",
        str(out),
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert f"optimizer signsgd: {TARGET}(lr=0.01)" in done.stdout

    manifest = json.loads((out / records.MANIFEST).read_text(encoding="utf-8"))
    assert manifest["status"] == "complete"
    assert [(o["name"], o["label"]) for o in manifest["spec"]["optimizers"]] == [
        ("adam", "adam"),
        (TARGET, "signsgd"),
    ]
    assert sorted(p.name for p in (out / records.UNITS_DIR).iterdir()) == sorted(
        records.unit_filename(o, f) for o in ("adam", "signsgd") for f in FUNCTIONS
    )

    rows = _read_csv(out)
    assert len(rows) == 2 * len(FUNCTIONS) * 2 * STARTS
    keys = {(r["optimizer"], r["function"], r["start_set"], r["start_index"]) for r in rows}
    assert len(keys) == len(rows)

    loaded = records.Records(out)
    assert loaded.optimizers == ["adam", "signsgd"]
    signsgd = _signsgd_class()
    for function in FUNCTIONS:
        adam_unit, sign_unit = loaded.unit("adam", function), loaded.unit("signsgd", function)
        # every optimizer starts from the same points
        np.testing.assert_array_equal(adam_unit.start, sign_unit.start)
        _check_against_loop(sign_unit, lambda lr: lambda p, lr=lr: signsgd(p, lr=lr))
        _check_against_loop(
            adam_unit, lambda lr: lambda p, lr=lr: torch.optim.Adam(p, lr=lr, foreach=False)
        )
    # runs.csv holds the same final points as the units
    for row in rows:
        unit = loaded.unit(row["optimizer"], row["function"])
        index = [
            i
            for i in range(len(unit.lr))
            if unit.start_set[i] == row["start_set"]
            and unit.start_index[i] == int(row["start_index"])
        ]
        assert len(index) == 1
        assert [float(row["xT_0"]), float(row["xT_1"])] == unit.final[index[0]].tolist()


def test_run_config_gives_each_optimizer_its_own_arguments(tmp_path: Path) -> None:
    """A TOML spec: the user's class with momentum and two learning rates beside Adam."""
    config = _write_config(
        tmp_path / "spec.toml",
        '[[optimizers]]\nname = "adam"\nlr = 0.05\n'
        f'[[optimizers]]\nname = "{TARGET}"\nlabel = "signum"\nmomentum = 0.5\n'
        "lrs = [0.002, 0.02]\n",
    )
    out = tmp_path / "out"
    done = _adamlab(
        "run", "--config", str(config), "--quiet", "--no-report", "--out", str(out), cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr

    loaded = records.Records(out)
    assert loaded.optimizers == ["adam", "signum"]
    assert loaded.spec.optimizers[1].kwargs_dict == {"momentum": 0.5}
    signsgd = _signsgd_class()
    for function in FUNCTIONS:
        unit = loaded.unit("signum", function)
        # rows are (lr, start) pairs, lr-major
        assert unit.lr.tolist() == [0.002] * 2 * STARTS + [0.02] * 2 * STARTS
        _check_against_loop(unit, lambda lr: lambda p, lr=lr: signsgd(p, lr=lr, momentum=0.5))
        _check_against_loop(
            loaded.unit("adam", function),
            lambda lr: lambda p, lr=lr: torch.optim.Adam(p, lr=lr, foreach=False),
        )
    assert len(_read_csv(out)) == len(FUNCTIONS) * (2 * STARTS + 2 * 2 * STARTS)


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("my_optimizer.nosuch:SignSGD", "cannot import module 'my_optimizer.nosuch'"),
        ("my_optimizer.signsgd:Nope", "module 'my_optimizer.signsgd' has no attribute 'Nope'"),
        ("my_optimizer.signsgd:math", "is not a torch.optim.Optimizer subclass"),
    ],
)
def test_run_bad_class_exits_2_with_one_line(
    target: str,
    message: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.syspath_prepend(str(EXAMPLES))
    argv = [
        "run",
        "--quiet",
        "--optimizer",
        target,
        "--steps",
        "5",
        "--starts",
        "2",
        "--out",
        str(tmp_path / "out"),
    ]
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.err.count("\n") == 1 and message in captured.err
    assert not (tmp_path / "out").exists()


def test_run_bad_argument_for_user_class_exits_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.syspath_prepend(str(EXAMPLES))
    argv = ["run", "--quiet", "--optimizer", TARGET, "--optimizer-args", '{"momentum": 1.5}']
    assert main([*argv, "--steps", "5", "--starts", "2", "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Invalid momentum value: 1.5" in err


# -- adamlab verify --reference -------------------------------------------------------------


def test_verify_adamlab_adam_against_torch_adam_passes(tmp_path: Path) -> None:
    done = _adamlab(
        "verify",
        "--optimizer",
        "adamlab.optim:Adam",
        "--reference",
        "torch.optim:Adam",
        "--optimizer-args",
        '{"lr": 0.01, "betas": [0.8, 0.99]}',
        "--steps",
        "200",
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("verify: adamlab.optim:Adam(lr=0.01,betas=(0.8, 0.99)) against")
    assert lines[1].split()[:3] == ["optimizer", "reference", "options"]
    rows = [line.split() for line in lines if line.startswith("adamlab.optim:Adam ")]
    # options hold a space ("betas=(0.8, 0.99)"), so read the cells from the right
    assert [(r[-7], r[-6]) for r in rows] == [
        ("float64", "mlp"),
        ("float64", "rosenbrock"),
        ("float32", "mlp"),
        ("float32", "rosenbrock"),
    ]
    assert all(r[1] == "torch.optim:Adam" and r[-5] == "200" and r[-1] == "pass" for r in rows)
    assert "4 comparisons" in lines[-1] and "4 pass, 0 fail" in lines[-1]


def test_verify_example_against_torch_adam_fails(tmp_path: Path) -> None:
    done = _adamlab(
        "verify",
        "--optimizer",
        TARGET,
        "--reference",
        "torch.optim:Adam",
        "--optimizer-args",
        '{"lr": 0.001, "momentum": 0.9}',
        "--reference-args",
        '{"lr": 0.001}',
        "--params-only",
        "--steps",
        "100",
        "--dtype",
        "float64",
        cwd=tmp_path,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    rows = [line.split() for line in done.stdout.splitlines() if line.startswith(TARGET)]
    assert len(rows) == 2 and all(r[-1] == "FAIL" for r in rows)
    assert "FAIL float64 mlp: worst at step" in done.stdout
    assert "0 pass, 2 fail" in done.stdout.splitlines()[-1]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["--optimizer", "nosuch.mod:X", "--reference", "torch.optim:Adam"],
            "cannot import module 'nosuch.mod'",
        ),
        (
            ["--optimizer", TARGET, "--reference", "torch.optim:Nope"],
            "module 'torch.optim' has no attribute 'Nope'",
        ),
        (
            [
                "--optimizer",
                TARGET,
                "--reference",
                "torch.optim:Adam",
                "--optimizer-args",
                "{lr: 1}",
            ],
            "invalid --optimizer-args JSON",
        ),
        (
            ["--optimizer", TARGET, "--reference", "torch.optim:Adam", "--optimizer-args", "[1]"],
            "expected a JSON object",
        ),
        (
            [
                "--optimizer",
                TARGET,
                "--reference",
                "torch.optim:Adam",
                "--optimizer-args",
                '{"momentum": 0.5}',
            ],
            "invalid arguments for reference 'torch.optim:Adam'",
        ),
        (
            [
                "--optimizer",
                TARGET,
                "--reference",
                "torch.optim:Adam",
                "--optimizer-args",
                '{"lr": -1}',
            ],
            "Invalid learning rate: -1",
        ),
        (
            ["--optimizer", TARGET, "--reference", "torch.optim:Adam", "--tolerance", "0"],
            "invalid --tolerance 0",
        ),
        (
            ["--optimizer", TARGET, "--reference", "torch.optim:Adam", "--full"],
            "--full cannot be combined",
        ),
        (["--optimizer", TARGET], "needs --reference"),
        (["--optimizer", "adam", "--optimizer-args", "{}"], "--optimizer-args needs --reference"),
        (["--reference", "torch.optim:Adam"], "--reference needs exactly one --optimizer (got 0)"),
        (
            ["--optimizer", "adam", "--optimizer", "sgd", "--reference", "torch.optim:Adam"],
            "(got 2)",
        ),
    ],
)
def test_verify_bad_input_exits_2_with_one_line(
    argv: list[str],
    message: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.syspath_prepend(str(EXAMPLES))
    assert main(["verify", *argv]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1
    assert captured.err.startswith("adamlab: error: ") and message in captured.err


# -- adamlab.verify.compare -----------------------------------------------------------------


def _example(module: str, name: str) -> Any:
    sys.path.insert(0, str(EXAMPLES))
    try:
        return getattr(__import__(f"my_optimizer.{module}", fromlist=[name]), name)
    finally:
        sys.path.remove(str(EXAMPLES))


def test_compare_plain_adam_equals_torch_adam_within_rounding() -> None:
    plain_adam = _example("plain_adam", "PlainAdam")
    # another order of operations rounds differently; over 300 steps at lr 1e-2 that stays
    # within the oracle's tolerance (at betas (0.8, 0.99) the MLP run amplifies it past it)
    options = {"lr": 1e-2}
    results = compare(plain_adam, torch.optim.Adam, options, steps=300, state=False)
    assert len(results) == 4 and all(r.passed for r in results), results
    assert {r.path for r in results} == {"torch.optim.adam:Adam"}
    assert {r.optimizer for r in results} == {"my_optimizer.plain_adam:PlainAdam"}
    # its state has other key names than torch's, which the full comparison reports
    (strict,) = compare(
        plain_adam,
        "torch.optim:Adam",
        options,
        steps=3,
        dtypes=[torch.float64],
        problems=["rosenbrock"],
    )
    assert not strict.passed and strict.steps == 1
    assert "state keys ['m', 't', 'v'] (my_optimizer.plain_adam:PlainAdam)" in str(strict.mismatch)


def test_compare_sign_sgd_differs_from_adam() -> None:
    signsgd = _signsgd_class()
    results = compare(signsgd, "torch.optim:Adam", {"lr": 1e-3}, steps=100, state=False)
    assert not any(r.passed for r in results)
    assert all(r.max_rel > 1e-3 and r.steps == 100 for r in results)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"steps": 0}, "invalid steps: 0"),
        ({"problems": ["mnist"]}, "unknown problem 'mnist'"),
        ({"dtypes": [torch.float16]}, "invalid dtype: torch.float16"),
        ({"tolerance": -1.0}, "invalid tolerance: -1.0"),
        ({"reference": "torch.optim.Adam"}, "unknown optimizer 'torch.optim.Adam'"),
        ({"reference": 3}, "invalid reference: 3"),
        ({"options": {"lr": 1e-3, "momentum": 0.9}}, "invalid arguments for optimizer 'adam'"),
    ],
)
def test_compare_bad_input_raises_value_error(kwargs: dict[str, Any], message: str) -> None:
    arguments: dict[str, Any] = {"reference": "torch.optim:Adam", "options": None, **kwargs}
    with pytest.raises(ValueError, match=re.escape(message)):
        compare("adam", **arguments)


def test_example_spec_is_valid(monkeypatch: pytest.MonkeyPatch) -> None:
    """The documented spec parses and its classes build (check_optimizers imports them)."""
    from adamlab.bench.runner import check_optimizers
    from adamlab.bench.spec import load_spec

    monkeypatch.syspath_prepend(str(EXAMPLES))
    spec = load_spec(EXAMPLES / "my_optimizer" / "signsgd_vs_adam.toml")
    check_optimizers(spec)
    assert [o.label for o in spec.optimizers] == ["adam", "signsgd"]
