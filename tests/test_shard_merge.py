"""``--shard k/N`` and ``adamlab merge``: the shards of a run (or a sweep), merged, give the
records of the unsharded run, wall-clock timings aside; bad shards and bad merges are refused
with one line and exit code 2, before anything is written."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import torch

from adamlab.bench import records
from adamlab.bench.shard import Shard, experiment_units, parse_shard, shard_units
from adamlab.bench.spec import spec_from_dict
from adamlab.cli import main

SPEC = """\
steps = 40
seed = 3
functions = ["booth", "rosenbrock", "himmelblau"]
compile = false

[[starts]]
name = "domain"
n = 4

[[optimizers]]
name = "adam"
lr = 1e-2

[[optimizers]]
name = "sgd"
lr = 1e-3
"""
QUICK = ["--no-report", "--quiet"]
#: The ``same_records`` fixture of conftest.py: compares two output folders, returns unit names.
SameRecords = Callable[[Path, Path], list[str]]
SWEEP_CONFIG = """\
steps = 30
functions = ["booth", "matyas"]
compile = false

[[optimizers]]
name = "adam"

[[optimizers]]
name = "sgd"

[sweep]
lr_grid = [1e-3, 1e-1, 3]
tune_starts = 3
eval_starts = 2
"""


@pytest.fixture(autouse=True)
def _keep_threads() -> Iterator[None]:
    """``adamlab run`` sets torch's thread count for the process; restore it afterwards."""
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


def _cli(capsys: pytest.CaptureFixture[str], *argv: str | Path) -> tuple[int, str]:
    capsys.readouterr()
    code = main([str(a) for a in argv])
    return code, capsys.readouterr().err


def assert_same_records(same_records: SameRecords, a: Path, b: Path) -> None:
    """The shared records comparison (conftest), at least one unit, and no shard left in
    either manifest."""
    assert same_records(a, b)
    assert "shard" not in records.read_manifest(a) and "shard" not in records.read_manifest(b)


# -- assignment -------------------------------------------------------------------------------


def test_shards_split_the_units_round_robin_disjoint_and_balanced() -> None:
    spec = spec_from_dict(
        {"optimizers": ["adam", "sgd", "rmsprop"], "functions": ["seed"], "steps": 2}
    )
    every = [(o.label, f) for o, f in experiment_units(spec)]
    assert len(every) == 18
    for count in (1, 2, 4, 5, 18):
        parts = [[(o.label, f) for o, f in shard_units(spec, Shard(k, count))] for k in
                 range(1, count + 1)]  # fmt: skip
        assert sorted(u for part in parts for u in part) == sorted(every)
        assert max(map(len, parts)) - min(map(len, parts)) <= 1
        assert parts[0][0] == every[0]
    # the assignment follows the spec alone: a spec rebuilt from its own dict deals the same
    again = spec_from_dict(records._spec_input(spec.to_dict()))
    assert shard_units(again, Shard(2, 4)) == shard_units(spec, Shard(2, 4))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("0/3", "invalid --shard: '0/3' (expected 1 <= k <= 3 in k/3)"),
        ("4/3", "invalid --shard: '4/3' (expected 1 <= k <= 3 in k/3)"),
        ("1/0", "invalid --shard: '1/0' (expected k/N with integers N >= 1 and 1 <= k <= N"),
        ("-1/3", "invalid --shard: '-1/3' (expected k/N"),
        ("2", "invalid --shard: '2' (expected k/N"),
        ("a/b", "invalid --shard: 'a/b' (expected k/N"),
        ("1/2/3", "invalid --shard: '1/2/3' (expected k/N"),
        ("", "invalid --shard: '' (expected k/N"),
    ],
)
def test_bad_shard_values_are_refused(text: str, message: str) -> None:
    with pytest.raises(ValueError) as error:
        parse_shard(text)
    assert str(error.value).startswith(message)
    assert parse_shard(" 2 / 3 ") == Shard(2, 3)


@pytest.mark.parametrize("command", ["run", "sweep"])
@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("0/3", "invalid --shard: '0/3' (expected 1 <= k <= 3 in k/3)"),
        ("5/4", "invalid --shard: '5/4' (expected 1 <= k <= 4 in k/4)"),
        ("x", "invalid --shard: 'x' (expected k/N"),
        ("1/7", "invalid --shard: '1/7' (the experiment has"),  # 6 units; the tuning has 4
    ],
)
def test_bad_shard_flags_exit_2_with_one_line_and_write_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str, value: str, message: str
) -> None:
    config = tmp_path / "spec.toml"
    config.write_text(SPEC if command == "run" else SWEEP_CONFIG)
    out = tmp_path / "out"
    code, err = _cli(capsys, command, "--config", config, "--out", out, "--shard", value, *QUICK)
    assert code == 2
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith(f"adamlab: error: {message}")
    assert not (out / records.MANIFEST).exists() and not (out / "tuning").exists()


def test_ray_address_without_ray_executor_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "spec.toml"
    config.write_text(SPEC)
    argv = ["run", "--config", config, "--out", tmp_path / "out", "--ray-address", "auto"]
    code, err = _cli(capsys, *argv, *QUICK)
    assert code == 2 and err.count("\n") == 1
    assert "invalid --ray-address: 'auto' (needs --executor ray)" in err
    assert not (tmp_path / "out").exists()


# -- a run --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def run_shards(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The whole run in ``whole`` and its three shards in ``shard1`` .. ``shard3``."""
    root = tmp_path_factory.mktemp("run")
    config = root / "spec.toml"
    config.write_text(SPEC)
    threads = torch.get_num_threads()
    try:
        base = ["run", "--config", str(config), *QUICK]
        assert main([*base, "--out", str(root / "whole")]) == 0
        for k in (1, 2, 3):
            assert main([*base, "--out", str(root / f"shard{k}"), "--shard", f"{k}/3"]) == 0
    finally:
        torch.set_num_threads(threads)
    return root


def test_each_shard_folder_records_its_shard_and_the_experiment(run_shards: Path) -> None:
    whole = records.read_manifest(run_shards / "whole")
    seen = []
    for k in (1, 2, 3):
        folder = run_shards / f"shard{k}"
        manifest = records.read_manifest(folder)
        assert manifest["fingerprint"] == whole["fingerprint"]
        assert manifest["status"] == "complete"
        assert manifest["shard"]["index"] == k and manifest["shard"]["count"] == 3
        files = sorted(p.name for p in (folder / records.UNITS_DIR).glob("*.npz"))
        assert len(files) == 2 == len(manifest["shard"]["units"])
        seen += manifest["shard"]["units"]
    assert sorted(seen) == sorted(whole["timings"]["units"])
    # round robin over (optimizer, function) in spec order
    assert records.read_manifest(run_shards / "shard1")["shard"]["units"] == [
        "adam/booth",
        "sgd/booth",
    ]


def test_merged_shards_equal_the_unsharded_run(
    run_shards: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], same_records: SameRecords
) -> None:
    merged = tmp_path / "merged"
    shards = [run_shards / f"shard{k}" for k in (3, 1, 2)]  # any order
    code, err = _cli(capsys, "merge", merged, *shards)
    assert code == 0, err
    assert_same_records(same_records, run_shards / "whole", merged)
    manifest = records.read_manifest(merged)
    assert [m["shard"]["index"] for m in manifest["merged_from"]] == [1, 2, 3]
    assert manifest["environment"]["threads"] == 1
    # the merged folder is an ordinary complete folder: running the experiment there reuses it
    code, _ = _cli(
        capsys, "run", "--config", run_shards / "spec.toml", "--out", merged, "--quiet",
        "--no-report",
    )  # fmt: skip
    assert code == 0
    assert_same_records(same_records, run_shards / "whole", merged)


def _merge_error(capsys: pytest.CaptureFixture[str], out: Path, *shards: Path) -> str:
    code, err = _cli(capsys, "merge", out, *shards)
    assert code == 2, err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert not out.exists(), "a refused merge wrote something"
    return err


def test_merge_refuses_a_missing_shard(
    run_shards: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    err = _merge_error(capsys, run_shards / "m", run_shards / "shard1", run_shards / "shard3")
    assert "missing shard 2/3 (units adam/rosenbrock, sgd/rosenbrock)" in err


def test_merge_refuses_a_duplicate_shard(
    run_shards: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    copy = tmp_path / "copy-of-2"
    shutil.copytree(run_shards / "shard2", copy)
    shards = [run_shards / "shard1", run_shards / "shard2", copy, run_shards / "shard3"]
    err = _merge_error(capsys, tmp_path / "m", *shards)
    assert "duplicate shard 2/3" in err and str(copy) in err
    err = _merge_error(capsys, tmp_path / "m", *shards[:2], shards[1])
    assert "shard directory given twice" in err


def test_merge_refuses_shards_of_different_experiments(
    run_shards: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "other.toml"
    config.write_text(SPEC.replace("seed = 3", "seed = 4"))
    other = tmp_path / "other2"
    argv = ["run", "--config", config, "--out", other, "--shard", "2/3", *QUICK]
    assert _cli(capsys, *argv)[0] == 0
    err = _merge_error(capsys, tmp_path / "m", run_shards / "shard1", other, run_shards / "shard3")
    assert "shards of different experiments" in err and str(other) in err


def test_merge_refuses_unfinished_whole_and_foreign_folders(
    run_shards: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shard1, shard2, shard3 = (run_shards / f"shard{k}" for k in (1, 2, 3))
    unfinished = tmp_path / "unfinished"
    shutil.copytree(shard2, unfinished)
    (unfinished / records.UNITS_DIR / "sgd__rosenbrock.npz").unlink()
    err = _merge_error(capsys, tmp_path / "m", shard1, unfinished, shard3)
    assert "shard 2/3 is unfinished, 1 of its 2 units missing (sgd/rosenbrock)" in err

    stray = tmp_path / "stray"
    shutil.copytree(shard2, stray)
    shutil.copy(shard1 / records.UNITS_DIR / "adam__booth.npz", stray / records.UNITS_DIR)
    err = _merge_error(capsys, tmp_path / "m", shard1, stray, shard3)
    assert "adam__booth.npz does not belong to shard 2/3" in err

    err = _merge_error(capsys, tmp_path / "m", shard1, run_shards / "whole", shard3)
    assert "holds a whole experiment, not a shard" in err
    err = _merge_error(capsys, tmp_path / "m", shard1, tmp_path / "nowhere", shard3)
    assert "no records in" in err


def test_a_shard_folder_refuses_another_shard_and_the_whole_run(
    run_shards: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = run_shards / "spec.toml"
    folder = run_shards / "shard1"
    before = (folder / records.MANIFEST).read_bytes()
    for extra in (["--shard", "2/3"], []):
        code, err = _cli(capsys, "run", "--config", config, "--out", folder, *extra, *QUICK)
        assert code == 2 and err.count("\n") == 1
        assert "holds shard 1/3 of this experiment" in err
    assert (folder / records.MANIFEST).read_bytes() == before


# -- a sweep ------------------------------------------------------------------------------------


def _sweep(capsys: pytest.CaptureFixture[str], config: Path, out: Path, *extra: str) -> None:
    code, err = _cli(capsys, "sweep", "--config", config, "--out", out, *extra, *QUICK)
    assert code == 0, err


def _assert_same_sweep(same_records: SameRecords, a: Path, b: Path) -> None:
    for part in ("tuning", "evaluation"):
        assert_same_records(same_records, a / part, b / part)
    assert (a / "sweep.json").read_bytes() == (b / "sweep.json").read_bytes()


def test_sharded_sweep_merges_to_the_unsharded_sweep(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], same_records: SameRecords
) -> None:
    config = tmp_path / "sweep.toml"
    config.write_text(SWEEP_CONFIG)
    whole = tmp_path / "whole"
    _sweep(capsys, config, whole)

    # pass 1: the tuning in three shards, merged
    for k in (1, 2, 3):
        _sweep(capsys, config, tmp_path / f"tune{k}", "--shard", f"{k}/3")
        info = json.loads((tmp_path / f"tune{k}" / "sweep-shard.json").read_text())
        assert info["phase"] == "tuning" and info["shard"] == {"index": k, "count": 3}
        assert not (tmp_path / f"tune{k}" / "evaluation").exists()
        assert not (tmp_path / f"tune{k}" / "sweep.json").exists()
    tuned = tmp_path / "tuned"
    code, err = _cli(capsys, "merge", tuned, *(tmp_path / f"tune{k}" for k in (1, 2, 3)))
    assert code == 0, err
    assert_same_records(same_records, whole / "tuning", tuned / "tuning")
    assert not (tuned / "evaluation").exists()

    # pass 2, on one machine: the sweep resumes from the merged tuning and evaluates
    local = tmp_path / "local"
    shutil.copytree(tuned, local)
    _sweep(capsys, config, local)
    _assert_same_sweep(same_records, whole, local)

    # pass 2, sharded: each copy of the merged folder runs one shard of the evaluation
    for k in (1, 2):
        shutil.copytree(tuned, tmp_path / f"eval{k}")
        _sweep(capsys, config, tmp_path / f"eval{k}", "--shard", f"{k}/2")
        info = json.loads((tmp_path / f"eval{k}" / "sweep-shard.json").read_text())
        assert info["phase"] == "evaluation" and len(info["units"]) == 4
    final = tmp_path / "final"
    code, err = _cli(capsys, "merge", final, tmp_path / "eval2", tmp_path / "eval1")
    assert code == 0, err
    _assert_same_sweep(same_records, whole, final)

    # tuning shards and evaluation shards do not mix, nor do different sweeps
    err = _merge_error(capsys, tmp_path / "m", tmp_path / "tune1", tmp_path / "eval2")
    assert "different phases" in err
    other = tmp_path / "other.toml"
    other.write_text(SWEEP_CONFIG.replace("eval_starts = 2", "eval_starts = 3"))
    _sweep(capsys, other, tmp_path / "other2", "--shard", "2/3")
    err = _merge_error(
        capsys, tmp_path / "m", tmp_path / "tune1", tmp_path / "other2", tmp_path / "tune3"
    )
    assert "shards of different sweeps" in err
    err = _merge_error(capsys, tmp_path / "m", tmp_path / "tune1", tmp_path / "tune3")
    assert "missing shard 2/3" in err
