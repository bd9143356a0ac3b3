"""The engine: batched runs equal single-start runs of the optimizer class; divergence is
recorded per row; the spec rejects bad input with one clear message; records round-trip."""

from __future__ import annotations

import dataclasses
import functools
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from adamlab.bench import records
from adamlab.bench.engine import batches, log_spaced_steps, run_unit, run_units
from adamlab.bench.spec import default_spec, default_spec_dict, spec_from_dict
from adamlab.bench.starts import starting_points
from adamlab.functions import get
from adamlab.optim import OPTIMIZERS


def _spec(**overrides: object) -> object:
    data = {
        "optimizers": [{"name": "adam", "lr": 1e-2}],
        "functions": ["booth"],
        "starts": [{"name": "domain", "n": 6}],
        "steps": 300,
        "compile": False,
        **overrides,
    }
    return spec_from_dict(data)


def _single_start_with_class(name: str, kwargs: dict, function: str, x0: torch.Tensor, steps: int):
    """The oracle: one start, the optimizer class, the usual zero_grad/backward/step loop."""
    fn = get(function)
    x = torch.nn.Parameter(x0.clone())
    opt = OPTIMIZERS[name].make([x], **kwargs)
    for _ in range(steps):
        opt.zero_grad()
        fn(x).backward()
        opt.step()
    return x.detach()


@pytest.mark.parametrize(
    ("name", "kwargs", "function"),
    [
        ("adam", {"lr": 1e-2}, "rosenbrock"),
        ("adam", {"lr": 1e-2, "amsgrad": True}, "booth"),
        ("sgd", {"lr": 1e-3, "momentum": 0.9}, "rosenbrock"),
        ("adagrad", {"lr": 0.1}, "three_hump_camel"),
        ("rmsprop", {"lr": 1e-3, "centered": True}, "bohachevsky1"),
    ],
)
@pytest.mark.parametrize("compiled", [False, True])
def test_batched_engine_equals_single_start_class_runs(name, kwargs, function, compiled):
    steps = 200
    spec = _spec(
        optimizers=[{"name": name, **kwargs}],
        functions=[function],
        starts=[{"name": "seed", "n": 4}],
        steps=steps,
        compile=compiled,
        early_stop=False,
    )
    unit = run_unit(spec, spec.optimizers[0], function)
    starts = starting_points(spec.seed, get(function), spec.starts[0])
    for i in range(len(starts)):
        expected = _single_start_with_class(name, kwargs, function, starts[i], steps)
        got = torch.from_numpy(unit.final[i])
        # autograd and the analytic gradient round differently (~1 ulp), hence not bitwise;
        # the oracle tolerance of the optimizer suite holds
        torch.testing.assert_close(got, expected, rtol=1e-10, atol=1e-12)


def test_every_optimizer_gets_the_same_starts():
    spec = _spec(
        optimizers=[{"name": "adam"}, {"name": "sgd"}], starts=[{"name": "domain", "n": 5}]
    )
    a = run_unit(spec, spec.optimizers[0], "booth")
    b = run_unit(spec, spec.optimizers[1], "booth")
    np.testing.assert_array_equal(a.start, b.start)
    assert get("booth").in_domain(torch.from_numpy(a.start)).all()


def _first_non_finite_step(start: list[float], lr: float, steps: int):
    """The oracle for divergence: SGD through its class from one start; returns the step
    t + 1 at which f(theta_t) or theta_{t+1} is first non-finite, and theta_t."""
    fn = get("rosenbrock")
    x = torch.nn.Parameter(torch.tensor(start, dtype=torch.float64))
    opt = OPTIMIZERS["sgd"].make([x], lr=lr)
    for t in range(steps):
        before = x.detach().clone()
        opt.zero_grad()
        value = fn(x)
        value.backward()
        opt.step()
        if not (torch.isfinite(value) and torch.isfinite(x).all()):
            return t + 1, before.numpy()
    raise AssertionError("the oracle start did not diverge")


@pytest.mark.parametrize("compiled", [False, True])
def test_divergent_rows_are_marked_and_the_others_continue(compiled):
    # SGD at lr 1e-3 on Rosenbrock: starts far out blow up, starts near (1, 1) converge; from
    # the second start f(theta_5) overflows to inf while theta_5 is still finite
    far = [[8.0, -4.0], [4.2060977, -1.35567274]]
    spec = _spec(
        optimizers=[{"name": "sgd", "lr": 1e-3}],
        functions=["rosenbrock"],
        starts=[{"name": "points", "points": [[1.01, 1.02], *far, [0.9, 0.8]]}],
        steps=2000,
        compile=compiled,
    )
    unit = run_unit(spec, spec.optimizers[0], "rosenbrock")
    for row, start in enumerate(far, start=1):
        step, last_finite = _first_non_finite_step(start, 1e-3, 2000)
        assert unit.diverged_step[row] == step
        # frozen at the last finite iterate
        np.testing.assert_allclose(unit.final[row], last_finite, rtol=1e-12)
    assert unit.diverged_step[0] == -1 and unit.diverged_step[3] == -1
    assert unit.final_gap[0] < 1e-3 and unit.final_gap[3] < 1e-1


def test_lr_rows_match_separate_runs():
    spec = _spec(optimizers=[{"name": "adam", "lrs": [1e-3, 1e-2, 1e-1]}], steps=100)
    swept = run_unit(spec, spec.optimizers[0], "booth")
    for j, lr in enumerate([1e-3, 1e-2, 1e-1]):
        single_spec = _spec(optimizers=[{"name": "adam", "lr": lr}], steps=100)
        single = run_unit(single_spec, single_spec.optimizers[0], "booth")
        np.testing.assert_array_equal(swept.final[j * 6 : (j + 1) * 6], single.final)
        np.testing.assert_array_equal(swept.lr[j * 6 : (j + 1) * 6], lr)


def test_hits_match_the_best_so_far_curve():
    spec = _spec(steps=500, early_stop=False, curve_points=5000)
    unit = run_unit(spec, spec.optimizers[0], "booth")
    # the curve is recorded at every step here; the first index whose best gap is <= target
    # is the hit (evaluation = index + 1)
    assert list(unit.curve_steps) == list(range(501))
    for k, target in enumerate(spec.targets):
        reached = unit.curve <= target
        expected = np.where(reached.any(axis=0), reached.argmax(axis=0) + 1, -1)
        np.testing.assert_array_equal(unit.hit_evals[:, k], expected)


def test_early_stop_when_every_row_hit_the_final_target():
    spec = _spec(steps=60_000, early_stop=True, optimizers=[{"name": "adam", "lr": 0.1}])
    unit = run_unit(spec, spec.optimizers[0], "booth")
    assert unit.steps_run < 60_000
    assert (unit.hit_evals[:, -1] > 0).all()


def test_class_driver_runs_a_user_optimizer():
    spec = _spec(optimizers=[{"name": "torch.optim:Adam", "lr": 1e-2}], steps=200)
    unit = run_unit(spec, spec.optimizers[0], "booth")
    ours = run_unit(_spec(steps=200), _spec(steps=200).optimizers[0], "booth")
    np.testing.assert_allclose(unit.final, ours.final, rtol=1e-12, atol=1e-14)


def test_log_spaced_steps():
    steps = log_spaced_steps(60_000, 60)
    assert steps[0] == 0 and steps[-1] == 60_000
    assert np.all(np.diff(steps) > 0)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"steps": 0}, "steps"),
        ({"steps": 1.5}, "steps"),
        ({"dtype": "float16"}, "dtype"),
        ({"functions": ["rosenbrok"]}, "did you mean rosenbrock"),
        ({"optimizers": [{"name": "adan"}]}, "did you mean adam"),
        ({"optimizers": [{"name": "adam", "lr": -1.0}]}, "lr"),
        ({"optimizers": [{"name": "adam", "lr": math.nan}]}, "finite"),
        ({"starts": [{"name": "sead"}]}, "did you mean seed"),
        ({"targets": [0.1, -1]}, "targets"),
        ({"stepz": 10}, "did you mean steps"),
        ({"optimizers": [{"name": "nonexistent.module:Opt"}]}, "cannot import"),
        ({"optimizers": [{"name": "math:sqrt"}]}, "not a torch.optim.Optimizer"),
    ],
)
def test_bad_spec_is_refused_with_a_clear_message(change, message):
    data = {**default_spec_dict(), **change}
    with pytest.raises(ValueError, match=message):
        spec = spec_from_dict(data)
        run_unit(spec, spec.optimizers[0], spec.functions[0])


def test_default_spec_is_the_seed_experiment():
    spec = default_spec()
    assert [o.name for o in spec.optimizers] == ["adam", "sgd", "adagrad", "rmsprop"]
    assert spec.optimizers[0].kwargs_dict == {"lr": 1e-3}
    assert spec.optimizers[2].kwargs_dict == {}  # AdaGrad and RMSprop at their defaults
    assert spec.steps == 60_000 and spec.dtype == "float64"
    assert [s.key for s in spec.starts] == ["domain", "seed"]
    assert spec.functions == (
        "rosenbrock",
        "bukin_n6",
        "bohachevsky1",
        "booth",
        "three_hump_camel",
        "easom",
    )


def test_records_round_trip(tmp_path: Path):
    spec = _spec(steps=50)
    unit = run_unit(spec, spec.optimizers[0], "booth")
    records.write_manifest(tmp_path, spec)
    records.write_unit(tmp_path, unit)
    loaded = records.Records(tmp_path)
    assert loaded.spec == spec
    back = loaded.units[0]
    np.testing.assert_array_equal(back.final, unit.final)
    np.testing.assert_array_equal(back.hit_evals, unit.hit_evals)
    assert back.optimizer == "adam" and back.steps_run == unit.steps_run
    assert not list(tmp_path.rglob("*.tmp"))


def test_cosine_schedule_matches_the_class_under_a_scheduler():
    from adamlab.optim.schedules import make_scheduler

    steps = 200
    spec = _spec(
        optimizers=[{"name": "adam", "lr": 0.05, "schedule": "cosine"}],
        functions=["booth"],
        starts=[{"name": "seed", "n": 3}],
        steps=steps,
        early_stop=False,
    )
    unit = run_unit(spec, spec.optimizers[0], "booth")
    fn = get("booth")
    starts = starting_points(spec.seed, fn, spec.starts[0])
    for i in range(len(starts)):
        x = torch.nn.Parameter(starts[i].clone())
        opt = OPTIMIZERS["adam"].make([x], lr=0.05)
        scheduler = make_scheduler(opt, "cosine", total_steps=steps)
        for _ in range(steps):
            opt.zero_grad()
            fn(x).backward()
            opt.step()
            scheduler.step()
        torch.testing.assert_close(
            torch.from_numpy(unit.final[i]), x.detach(), rtol=1e-10, atol=1e-12
        )


def test_unknown_schedule_is_refused():
    with pytest.raises(ValueError, match="did you mean cosine"):
        _spec(optimizers=[{"name": "adam", "schedule": "cosin"}])


def _assert_same_records(ours, theirs) -> None:
    """Every field of two units' results equal, bit for bit and dtype too; timings aside."""
    for field in dataclasses.fields(ours):
        if field.name in ("seconds", "compile_seconds"):
            continue
        a, b = getattr(ours, field.name), getattr(theirs, field.name)
        if isinstance(a, np.ndarray):
            assert a.dtype == b.dtype, field.name
            np.testing.assert_array_equal(a, b, err_msg=field.name)
        else:
            assert a == b, field.name


@pytest.mark.parametrize(("compiled", "chunk"), [(False, 1), (True, 1), (True, 2)])
def test_a_batch_of_functions_equals_each_unit_run_alone(compiled, chunk):
    """run_units steps several functions' units as one batch; every unit's records equal a
    run of that unit alone, with units stopping early at different steps and rows diverging.
    With several steps per call, the compiled batch steps each function's rows as a segment
    of its own (engine._Segment)."""
    spec = spec_from_dict(
        {
            "optimizers": [{"name": "sgd", "lr": 1e-2}, {"name": "adam", "lrs": [0.3, 1e-2]}],
            "functions": ["rosenbrock", "booth", "three_hump_camel", "easom"],
            "starts": [{"name": "domain", "n": 8}, {"name": "seed", "n": 4}],
            "steps": 1000,
            "compile": compiled,
            "chunk": chunk,
        }
    )
    stopped, diverged = set(), 0
    for optimizer in spec.optimizers:
        batch = run_units(spec, optimizer, spec.functions)
        assert [unit.function for unit in batch] == list(spec.functions)
        for unit in batch:
            _assert_same_records(unit, run_unit(spec, optimizer, unit.function))
            if unit.steps_run < spec.steps:
                stopped.add(unit.steps_run)
            diverged += int(unit.diverged.sum())
    # the case covers units frozen at different steps while the rest of the batch goes on
    assert len(stopped) >= 2 and diverged > 0


def test_batches_group_each_registry_optimizer_and_leave_classes_alone():
    spec = spec_from_dict(
        {
            "optimizers": [{"name": "adam"}, {"name": "torch.optim:SGD", "lr": 1e-3}],
            "functions": ["booth", "ackley", "easom"],
            "dims": {"ackley": 3},
            "steps": 10,
        }
    )
    units = [(o, f) for o in spec.optimizers for f in spec.functions]
    grouped = [(o.label, functions) for o, functions in batches(spec, units)]
    adam, sgd = (o.label for o in spec.optimizers)
    assert grouped == [
        (adam, ["booth", "easom"]),
        (adam, ["ackley"]),
        (sgd, ["booth"]),
        (sgd, ["ackley"]),
        (sgd, ["easom"]),
    ]
    with pytest.raises(ValueError, match="one function per batch"):
        run_units(spec, spec.optimizers[1], ["booth", "easom"])
    with pytest.raises(ValueError, match="share a dimension"):
        run_units(spec, spec.optimizers[0], ["booth", "ackley"])


def _sgd_and_adam_compiled(functions: list[str], chunk: int):
    """SGD with momentum (its state gains a field after the first step) and Adam at two
    learning rates, compiled, on a few functions."""
    return spec_from_dict(
        {
            "optimizers": [
                {"name": "sgd", "lr": 1e-3, "momentum": 0.9},
                {"name": "adam", "lrs": [0.3, 1e-2]},
            ],
            "functions": functions,
            "starts": [{"name": "domain", "n": 5}],
            "steps": 600,
            "compile": True,
            "chunk": chunk,
        }
    )


def _assert_same_batches(ours: list, theirs: list) -> None:
    for ours_batch, theirs_batch in zip(ours, theirs, strict=True):
        for unit, other in zip(ours_batch, theirs_batch, strict=True):
            _assert_same_records(unit, other)


@pytest.mark.parametrize("chunk", [1, 3])
def test_the_compiled_step_called_directly_equals_every_call_through_torch_compile(
    monkeypatch, chunk
):
    """After its first call the engine runs the compiled graph without dynamo
    (``adamlab.compiled_call``), and once two calls in a row have one signature it calls the
    graph's direct call itself, without looking up the arguments' signature; the records are
    bit-identical to calling ``torch.compile``'s function every time, including SGD's momentum
    buffer appearing after the first step. With several steps per call each optimizer has two
    chunks, one that records the curve and traces and one that does not, each bound on its
    own."""
    from adamlab.bench import engine
    from adamlab.compiled_call import CompiledFunction, DirectCall

    spec = _sgd_and_adam_compiled(["rosenbrock", "booth", "easom"], chunk)
    made: list[Recorded] = []

    class Recorded(CompiledFunction):
        def __init__(self, function, **options):
            super().__init__(function, **options)
            self.calls = 0
            self.bound: list[object] = []

        def __call__(self, *args):
            self.calls += 1
            return super().__call__(*args)

        def for_signature_of(self, *args):
            self.bound.append(super().for_signature_of(*args))
            return self.bound[-1]

    def recorded(function, **options):
        made.append(Recorded(function, **options))
        return made[-1]

    monkeypatch.setattr(engine, "CompiledFunction", recorded)
    direct = [run_units(spec, optimizer, spec.functions) for optimizer in spec.optimizers]
    # per optimizer: the recording chunk, then (several steps per call) the one that does not
    # record, which first runs once the state holds SGD's momentum buffer
    per_optimizer = 1 if chunk == 1 else 2
    assert len(made) == 2 * per_optimizer
    # SGD: one graph for the first step (no momentum buffer yet), one for the others
    assert [compiled.direct_calls for compiled in made] == [2] + [1] * (len(made) - 1)
    # each binds once two calls in a row have one signature: SGD's recording chunk at its
    # third call (its second call's state holds the momentum buffer), the others at their
    # second
    assert [[isinstance(b, DirectCall) for b in c.bound] for c in made] == [[True]] * len(made)
    assert [compiled.calls for compiled in made] == [2] + [1] * (len(made) - 1)

    monkeypatch.setattr(
        engine, "CompiledFunction", functools.partial(CompiledFunction, direct=False)
    )
    guarded = [run_units(spec, optimizer, spec.functions) for optimizer in spec.optimizers]
    _assert_same_batches(direct, guarded)


@pytest.mark.parametrize("compiled", [False, pytest.param(True, marks=pytest.mark.slow)])
def test_calls_that_record_nothing_leave_the_records_as_every_call_recording(monkeypatch, compiled):
    """With several steps per call, a call that reads no curve or trace step runs a chunk
    that returns neither (``engine._make_chunk`` with ``record=False``); the records are
    bit-identical to a run whose every call records."""
    from adamlab.bench import engine

    spec = dataclasses.replace(_sgd_and_adam_compiled(["rosenbrock", "easom"], 3), compile=compiled)
    make_chunk = engine._make_chunk
    calls = {True: 0, False: 0}

    def counted(segments, k, layout, record):
        chunk = make_chunk(segments, k, layout, record)
        if compiled:  # a wrapper would count only dynamo's trace
            return chunk

        def call(*args):
            calls[record] += 1
            return chunk(*args)

        return call

    monkeypatch.setattr(engine, "_make_chunk", counted)
    mixed = [run_units(spec, optimizer, spec.functions) for optimizer in spec.optimizers]
    if not compiled:
        # most of the 200 calls per optimizer read no curve or trace step
        assert calls[False] > calls[True] > 0
    monkeypatch.setattr(
        engine,
        "_make_chunk",
        lambda segments, k, layout, record: make_chunk(segments, k, layout, True),
    )
    recording = [run_units(spec, optimizer, spec.functions) for optimizer in spec.optimizers]
    _assert_same_batches(mixed, recording)


def _layout_forced(monkeypatch, columns: bool) -> None:
    from adamlab.bench import engine

    monkeypatch.setattr(engine, "_layout", lambda driver, d, compiled: engine._Layout(columns))


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_every_registry_rule_steps_a_batch_by_columns_as_it_steps_it_whole(monkeypatch, name):
    """The compiled engine steps each coordinate of a batch as its own ``[B, 1]`` column
    (engine._Layout), with several iterations per call each function's block of rows on its
    own (engine._Segment), which is right only for element-wise rules; eagerly, every registry
    rule gives the same records bit for bit both ways.

    Each block holds 16 rows (8 starts x 2 learning rates): torch computes some functions
    (atan2) differently, to the last bit, in its vectorised loop and in the loop's remainder,
    so every row must take the same path both ways."""
    spec = spec_from_dict(
        {
            "optimizers": [{"name": name, "lrs": [0.5, 1e-2]}],
            "functions": ["rosenbrock", "booth", "easom"],
            "starts": [{"name": "domain", "n": 8}],
            "steps": 400,
            "chunk": 2,
            "compile": False,
        }
    )
    (optimizer,) = spec.optimizers
    _layout_forced(monkeypatch, columns=True)
    by_columns = run_units(spec, optimizer, spec.functions)
    _layout_forced(monkeypatch, columns=False)
    whole = run_units(spec, optimizer, spec.functions)
    _assert_same_batches([by_columns], [whole])


@pytest.mark.parametrize("chunk", [1, 3])
def test_the_compiled_batch_by_columns_equals_the_compiled_whole_batch(monkeypatch, chunk):
    """Compiled, the two layouts fuse differently (by columns, each function's block of rows
    K steps in one loop, each per-step scalar computed once for all columns and blocks); the
    records stay bit-identical."""
    spec = _sgd_and_adam_compiled(["rosenbrock", "bohachevsky1", "easom"], chunk)
    by_columns = [run_units(spec, optimizer, spec.functions) for optimizer in spec.optimizers]
    _layout_forced(monkeypatch, columns=False)
    whole = [run_units(spec, optimizer, spec.functions) for optimizer in spec.optimizers]
    _assert_same_batches(by_columns, whole)


def test_miss_counts_are_float32_only_while_float32_counts_every_evaluation_exactly():
    from adamlab.bench.engine import _Tracker

    # a count (or first hit, count + 1) never exceeds the run's number of evaluations
    most = 2**24
    count = torch.tensor(float(most - 1), dtype=torch.float32)
    assert (count + 1).item() == most
    assert (count + 2).item() != most + 1  # one more evaluation would be lost
    assert _Tracker.count_dtype(most) is torch.float32
    assert _Tracker.count_dtype(most + 1) is torch.float64
