"""Every bad input gets one line on stderr and exit code 2: no traceback, nothing written.

Table-driven cases for each kind of mistake, then a hypothesis property over random argument
lists and spec files: whatever it tries, ``adamlab`` exits 0, 1 or 2 and never raises.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adamlab.cli import main

QUICK = ["--no-compile", "--no-report", "--quiet"]
TABLES = '[[optimizers]]\nname = "adam"\n[[starts]]\nn = 2\n'


@pytest.fixture(autouse=True)
def _keep_threads() -> Iterator[None]:
    """``adamlab run`` sets torch's thread count for the process; restore it afterwards."""
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


def _run(tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str]) -> tuple[int, str]:
    capsys.readouterr()
    code = main(argv)
    return code, capsys.readouterr().err


CONFIG_CASES = {
    "invalid toml": ("steps = = 3\n", "invalid TOML"),
    "unknown optimizer": ('[[optimizers]]\nname = "adma"\n', "did you mean adam"),
    "unknown function": ('functions = ["rosenbrok"]\n' + TABLES, "did you mean rosenbrock"),
    "unknown key": ("stpes = 3\n" + TABLES, "did you mean steps"),
    "steps out of range": ("steps = 0\n" + TABLES, "invalid steps: 0"),
    "negative lr": ('[[optimizers]]\nname = "adam"\nlr = -1.0\n', "Invalid learning rate"),
    "beta out of range": (
        '[[optimizers]]\nname = "adam"\nbetas = [1.0, 0.999]\n',
        "Invalid beta parameter at index 0",
    ),
    "nan lr": ('[[optimizers]]\nname = "adam"\nlr = nan\n', "expected a finite number"),
    "inf eps": ('[[optimizers]]\nname = "adam"\neps = inf\n', "expected a finite number"),
    "module does not import": (
        '[[optimizers]]\nname = "no_such_pkg.optim:Fast"\n',
        "cannot import module 'no_such_pkg.optim'",
    ),
    "not an optimizer": (
        '[[optimizers]]\nname = "torch.nn:Linear"\n',
        "is not a torch.optim.Optimizer subclass",
    ),
    "no such class": ('[[optimizers]]\nname = "torch.optim:Adamm"\n', "has no attribute"),
    "unknown schedule": ('[[optimizers]]\nname = "adam"\nschedule = "cosin"\n', "schedule"),
    "wrong type": (TABLES.replace("n = 2", 'n = "two"'), "invalid n"),
}


@pytest.mark.parametrize(("text", "message"), CONFIG_CASES.values(), ids=list(CONFIG_CASES))
def test_bad_spec_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, message: str
) -> None:
    config = tmp_path / "spec.toml"
    config.write_text(text)
    out = tmp_path / "out"
    code, err = _run(tmp_path, capsys, ["run", "--config", str(config), "--out", str(out), *QUICK])
    assert code == 2
    assert err.startswith("adamlab: error: ") and err.count("\n") == 1, err
    assert message in err
    assert not out.exists(), "a spec that fails validation must not create its output directory"


ARGV_CASES = {
    "unknown optimizer flag": (["--optimizer", "adamw2"], "did you mean adamw"),
    "bad optimizer args": (["--optimizer", "adam", "--optimizer-args", "{lr"], "invalid"),
    "nan optimizer args": (["--optimizer", "adam", "--optimizer-args", '{"lr": NaN}'], "finite"),
    "steps not a number": (["--steps", "many"], "invalid int value"),
    "negative steps": (["--steps", "-3"], "invalid steps"),
    "unknown function": (["--functions", "boot"], "did you mean booth"),
    "missing config": (["--config", "nowhere.toml"], "config file not found"),
    "unknown flag": (["--stepz", "3"], "unrecognized arguments"),
    "zero threads": (["--threads", "0"], "invalid threads"),
}


@pytest.mark.parametrize(("argv", "message"), ARGV_CASES.values(), ids=list(ARGV_CASES))
def test_bad_arguments(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    out = tmp_path / "out"
    code, err = _run(tmp_path, capsys, ["run", "--out", str(out), "--steps", "2", *argv, *QUICK])
    assert code == 2
    assert err.startswith("adamlab") and err.count("\n") == 1, err
    assert message in err
    assert not out.exists()


def test_unwritable_output_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    argv = ["run", "--steps", "2", "--starts", "1", "--functions", "booth", *QUICK]
    code, err = _run(tmp_path, capsys, [*argv, "--out", str(blocker / "out")])
    assert code == 2 and err.count("\n") == 1
    assert "cannot write to output directory" in err
    assert blocker.read_text() == "not a directory"


# -- NaN / Inf gradients during a run: that row is marked diverged, the rest continue -----------


class NaNForFarStarts(torch.optim.SGD):
    """SGD that turns its parameter into NaN once any coordinate leaves [-5, 5]."""

    @torch.no_grad()
    def step(self, closure=None):  # type: ignore[no-untyped-def, override]
        loss = super().step(closure)
        for group in self.param_groups:
            for p in group["params"]:
                far = (p.abs() > 5).any(dim=-1, keepdim=True)
                p.copy_(torch.where(far, torch.full_like(p, math.nan), p))
        return loss


def test_nan_rows_are_marked_diverged_and_the_others_continue() -> None:
    from adamlab.bench.engine import run_unit
    from adamlab.bench.spec import spec_from_dict

    spec = spec_from_dict(
        {
            "optimizers": [{"name": f"{__name__}:NaNForFarStarts", "lr": 1e-2}],
            "functions": ["booth"],
            "starts": [{"name": "points", "points": [[1.0, 3.0], [8.0, -4.0], [0.5, 2.5]]}],
            "steps": 50,
            "compile": False,
        }
    )
    unit = run_unit(spec, spec.optimizers[0], "booth")
    assert unit.diverged_step[1] == 1  # NaN after its first step
    assert (unit.diverged_step[[0, 2]] == -1).all()
    assert unit.steps_run == 50 and np.isfinite(unit.final[[0, 2]]).all()
    assert unit.final_gap[0] == 0.0  # started at the minimum, stays there


# -- property: no input gives a traceback ----------------------------------------------------------

NAMES = st.sampled_from(["adam", "sgd", "adma", "torch.optim:Adam", "torch.nn:Linear", "x:", ""])
VALUES = st.one_of(
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.text(max_size=6),
    st.lists(st.integers(-3, 3), max_size=3),
    st.dictionaries(st.text(max_size=4), st.integers(-2, 2), max_size=2),
)
KEYS = st.sampled_from(
    ["steps", "seed", "dtype", "targets", "dims", "functions", "starts", "curve_points",
     "trace_rows", "trace_points", "chunk", "compile", "threads", "early_stop", "lr", "bogus"]
)  # fmt: skip


def _toml(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return (
            "nan"
            if math.isnan(value)
            else ("inf" if value > 0 else "-inf")
            if math.isinf(value)
            else repr(value)
        )
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f'"{k}" = {_toml(v)}' for k, v in value.items()) + "}"
    return str(value)


@st.composite
def spec_texts(draw: st.DrawFn) -> str:
    if draw(st.booleans()):
        return draw(st.text(max_size=40))  # mostly invalid TOML
    lines = [f"{draw(KEYS)} = {_toml(draw(VALUES))}" for _ in range(draw(st.integers(0, 3)))]
    lines.append('functions = ["booth"]')
    for _ in range(draw(st.integers(0, 2))):
        lines.append(f'[[optimizers]]\nname = "{draw(NAMES)}"')
        if draw(st.booleans()):
            lines.append(f"{draw(st.sampled_from(['lr', 'eps', 'betas', 'schedule', 'lrs']))}"
                         f" = {_toml(draw(VALUES))}")  # fmt: skip
    lines.append(f"[[starts]]\nn = {draw(st.integers(-1, 3))}")
    return "\n".join(dict.fromkeys(lines))  # TOML refuses a repeated key


FLAGS = st.lists(
    st.one_of(
        st.sampled_from(
            ["--steps", "--seed", "--starts", "--threads", "--dtype", "--optimizer",
             "--optimizer-args", "--functions", "--no-compile", "--quiet", "--version", "run"]
        ),
        st.sampled_from(["1", "2", "0", "-1", "adam", "booth", "float32", "{}", '{"lr": 1}']),
        st.text(max_size=5),
    ),
    max_size=6,
)  # fmt: skip


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(text=spec_texts(), flags=FLAGS, use_config=st.booleans())
def test_no_input_gives_a_traceback(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    text: str,
    flags: list[str],
    use_config: bool,
) -> None:
    config = tmp_path / "spec.toml"
    config.write_text(text)
    # the forced flags come last, so a valid input still runs two steps from a start or two
    forced = ["--steps", "2", "--threads", "1", "--functions", "booth", *QUICK]
    argv = ["run", *flags, "--out", str(tmp_path / "out"), *forced]
    if use_config:
        argv += ["--config", str(config)]
    else:
        argv += ["--starts", "1"]
    capsys.readouterr()
    try:
        code = main(argv)
    except SystemExit as exit_:  # --version / --help print and exit 0
        code = exit_.code if isinstance(exit_.code, int) else 2
    err = capsys.readouterr().err
    assert code in (0, 1, 2)
    assert "Traceback" not in err
    if code == 2:
        assert err.count("\n") == 1, err


def test_debug_variable_shows_the_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    argv = ["run", "--out", str(tmp_path / "out"), "--steps", "0", *QUICK]
    code, err = _run(tmp_path, capsys, argv)
    assert code == 2 and err.count("\n") == 1
    monkeypatch.setenv("ADAMLAB_DEBUG", "1")
    with pytest.raises(ValueError, match="steps"):
        main(argv)
