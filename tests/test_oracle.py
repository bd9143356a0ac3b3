"""adamlab against torch.optim, step for step, driven by the registry.

* the oracle matrix: every registered optimizer x each of its oracle cases x float64 / float32
  x the MLP and Rosenbrock problems, 1000 steps each, within the documented tolerance, against
  its torch twin or, where torch has none, its paper's equations (each optimizer's defaults run
  unmarked; the other cases are ``slow``);
* random hyperparameters (hypothesis) for every optimizer, 200 steps each;
* torch's foreach and fused paths against their looser tolerance (information: they round
  differently, see ``adamlab.verify.FOREACH``);
* the oracle's own machinery: problems' hand-written gradients equal autograd's, and a
  deliberate deviation is reported.
"""

from __future__ import annotations

import inspect
import math
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import adamlab.functional
from adamlab.optim import OPTIMIZERS, AdaBelief, Adam, OptimizerEntry
from adamlab.verify import (
    DEFAULT_STEPS,
    FOREACH,
    FUSED,
    PAPER,
    PROBLEMS,
    SINGLE_TENSOR,
    Comparison,
    OracleCase,
    OracleResult,
    clone_params,
    deviation,
    oracle_matrix,
    paper_reference,
    run_oracle,
    step_side_by_side,
)

TWINNED = [name for name, entry in OPTIMIZERS.items() if entry.torch_twin is not None]
PAPER_ONLY = [name for name, entry in OPTIMIZERS.items() if entry.torch_twin is None]


def _params(cases: list[OracleCase], fast: set[str]) -> list[Any]:
    return [
        pytest.param(case, id=case.label, marks=() if case.label in fast else pytest.mark.slow)
        for case in cases
    ]


def _explain(result: OracleResult) -> str:
    return (
        f"max rel deviation {result.max_rel:.3g} > {result.tolerance:g} at {result.worst}"
        if result.mismatch is None
        else result.mismatch
    )


# -- the oracle matrix ----------------------------------------------------------------------------

MATRIX = list(oracle_matrix(scope="full"))
FAST_MATRIX = {case.label for case in oracle_matrix(scope="defaults")}


@pytest.mark.parametrize("case", _params(MATRIX, FAST_MATRIX))
def test_oracle_matrix(case: OracleCase) -> None:
    result = case.run(DEFAULT_STEPS)
    assert result.passed, _explain(result)
    # every case is compared over all its steps on the MLP; on Rosenbrock, large steps (SGD
    # with momentum at lr 1e-2, maximize) leave the valley and overflow, which ends the run
    assert result.steps == DEFAULT_STEPS or (case.problem.name == "rosenbrock" and result.diverged)


def test_matrix_covers_the_registry() -> None:
    """Every optimizer and every one of its oracle cases is in the matrix, on its oracle path."""
    covered = {(case.entry.name, repr(dict(case.options))) for case in MATRIX}
    expected = {
        (name, repr(dict(options)))
        for name, entry in OPTIMIZERS.items()
        for options in entry.oracle_cases
    }
    assert covered == expected
    for case in MATRIX:
        twinned = case.entry.torch_twin is not None
        assert case.path == (SINGLE_TENSOR if twinned else PAPER), case.label
    assert PAPER_ONLY == ["adabelief", "lion", "adam_atan2"]
    assert all(OPTIMIZERS[name].paper_reference is not None for name in PAPER_ONLY)


# -- random hyperparameters -----------------------------------------------------------------------


def _log_uniform(low: float, high: float) -> st.SearchStrategy[float]:
    return st.floats(math.log10(low), math.log10(high)).map(lambda e: 10.0**e)


#: A valid range for every hyperparameter the registered optimizers take (unknown ones keep
#: their defaults).
STRATEGIES: dict[str, st.SearchStrategy[Any]] = {
    "lr": _log_uniform(1e-4, 3e-2),
    "betas": st.tuples(st.floats(0.0, 0.99), st.floats(0.5, 0.9999)),
    "eps": _log_uniform(1e-10, 1e-4),
    "weight_decay": st.one_of(st.just(0.0), st.floats(0.0, 0.2)),
    "momentum": st.one_of(st.just(0.0), st.floats(0.0, 0.95)),
    "dampening": st.floats(0.0, 0.9),
    "alpha": st.floats(0.5, 0.999),
    "lr_decay": st.floats(0.0, 0.01),
    "initial_accumulator_value": st.floats(0.0, 0.5),
    "momentum_decay": st.floats(0.0, 0.01),
    "nesterov": st.booleans(),
    "amsgrad": st.booleans(),
    "centered": st.booleans(),
    "maximize": st.booleans(),
    "decoupled_weight_decay": st.booleans(),
}


@st.composite
def hyperparameters(draw: st.DrawFn, entry: OptimizerEntry) -> dict[str, Any]:
    """Valid hyperparameters for ``entry`` that both it and its twin (or paper) accept."""
    reference = entry.torch_twin or paper_reference(entry)
    ours = inspect.signature(entry.cls.__init__).parameters
    theirs = inspect.signature(reference.__init__).parameters
    options = {
        name: draw(strategy)
        for name, strategy in STRATEGIES.items()
        if name in ours and name in theirs and name not in entry.kwargs
    }
    if entry.torch_twin is None and "betas" in options and options["betas"][0] < 1e-3:
        # A tiny beta1 > 0 makes the paper's formula and adamlab's lerp part ways by more than
        # rounding shows elsewhere. Below 1e-6, 1 - beta1 rounds to 1: the lerp gives m_t = g_t
        # exactly, the paper's beta1 m + (1 - beta1) g keeps beta1 m_{t-1}; where g_t = 0 over
        # a whole tensor (saturated tanh units) that relative deviation is 1 on values ~1e-200.
        # Below ~1e-3, AdaBelief's g_t - m_t = beta1 (g_t - m_{t-1}) cancels: one ulp between
        # the two ways of computing m_t becomes ~ulp / beta1 in it (measured: beta1 = 6.1e-5,
        # betas[1] = 0.5, float64, 3.4e-10 on exp_avg_var at step 187; 2.4e-16 at beta1 = 0)
        options["betas"] = (0.0, options["betas"][1])
    if options.get("nesterov"):
        # Nesterov needs momentum > 0 and no dampening
        options["dampening"] = 0.0
        options["momentum"] = options.get("momentum") or 0.9
    return options


@pytest.mark.parametrize("name", list(OPTIMIZERS))
# derandomize: the same examples at every run, so that a fresh checkout's test run is
# reproducible (a random draw that fails shows up as a failing CI, not as a flaky one)
@settings(max_examples=20, deadline=None, derandomize=True)
@given(data=st.data())
def test_random_hyperparameters(name: str, data: st.DataObject) -> None:
    entry = OPTIMIZERS[name]
    options = data.draw(hyperparameters(entry), label="options")
    dtype = data.draw(st.sampled_from([torch.float64, torch.float32]), label="dtype")
    path = SINGLE_TENSOR if entry.torch_twin is not None else PAPER
    result = run_oracle(entry, options, PROBLEMS["mlp"], dtype, steps=200, path=path)
    assert result.passed, _explain(result)


# -- torch's other paths --------------------------------------------------------------------------

OTHER_PATHS = list(oracle_matrix(problems=["mlp"], paths=(FOREACH, FUSED), scope="defaults"))


@pytest.mark.parametrize(
    "case", _params(OTHER_PATHS, {c.label for c in OTHER_PATHS if c.entry.name == "adam"})
)
def test_foreach_and_fused_within_loose_tolerance(case: OracleCase) -> None:
    result = case.run(DEFAULT_STEPS)
    assert result.passed, _explain(result)


# -- the oracle itself ----------------------------------------------------------------------------


@pytest.mark.parametrize("problem", list(PROBLEMS))
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_hand_written_gradients_equal_autograd(problem: str, dtype: torch.dtype) -> None:
    spec = PROBLEMS[problem]
    params = spec.make_params(dtype)
    loss = spec.loss(params)
    loss.backward()
    value, grads = spec.value_and_grad(params)
    rel = 1e-12 if dtype == torch.float64 else 1e-5
    assert deviation(value, loss.detach())[1] <= rel
    for param, grad in zip(params, grads, strict=True):
        if param.grad is None:
            assert grad is None  # the frozen and the unused tensor
        else:
            assert grad is not None
            assert deviation(grad, param.grad)[1] <= rel


def test_problems_are_deterministic() -> None:
    for problem in PROBLEMS.values():
        for a, b in zip(
            problem.make_params(torch.float64), problem.make_params(torch.float64), strict=True
        ):
            assert torch.equal(a, b)


def test_oracle_reports_a_deviation(perturbed_adam: OptimizerEntry) -> None:
    result = run_oracle(perturbed_adam, {}, PROBLEMS["mlp"], torch.float64, steps=20)
    assert not result.passed
    assert result.tolerance < result.max_rel < 1e-6
    assert result.worst.startswith("step ") and ", param " in result.worst


class _WrongStateKey(Adam):
    """Adam that stores its first moment under another key."""

    state_keys = {**Adam.state_keys, "m": "first_moment"}


def test_oracle_reports_a_state_layout_mismatch() -> None:
    entry = replace(OPTIMIZERS["adam"], name="renamed", cls=_WrongStateKey)
    result = run_oracle(entry, {}, PROBLEMS["rosenbrock"], torch.float64, steps=5)
    assert not result.passed
    assert result.steps == 1
    assert result.mismatch is not None and "first_moment" in result.mismatch


def test_deviation_definition() -> None:
    """max|a - b| / max(max|b|, tiny), NaN on both sides equal, NaN on one side infinite."""
    a = torch.tensor([1.0, 2.5, -3.0])
    b = torch.tensor([1.0, 2.0, -4.0])
    assert deviation(a, b) == (1.0, 0.25)
    assert deviation(torch.zeros(2), torch.zeros(2)) == (0.0, 0.0)
    nan = torch.tensor([float("nan"), 1.0])
    assert deviation(nan, nan.clone()) == (0.0, 0.0)
    assert deviation(nan, torch.tensor([0.0, 1.0]))[0] == math.inf
    inf = torch.tensor([float("inf")])
    assert deviation(inf, inf.clone()) == (0.0, 0.0)


def test_documented_equations_point_at_code() -> None:
    """Each equation comment quoted in docs/algorithms.md is in the file its table names."""
    docs = (Path(__file__).parents[1] / "docs" / "algorithms.md").read_text()
    functional = Path(adamlab.functional.__file__).parent
    rules = ["adam", "sgd", "adagrad", "rmsprop"]
    files: list[str] = []
    quoted = 0
    for line in docs.splitlines():
        header = re.search(r"`functional/(<rule>|\w+)\.py:", line)
        if header:
            files = rules if header.group(1) == "<rule>" else [header.group(1)]
        if not line.startswith("|") or not files:
            continue
        for comment in re.findall(r"`(# [^`]+)`", line):
            comment = comment.replace("\\|", "|")
            for name in files:
                assert comment in (functional / f"{name}.py").read_text(), (name, comment)
            quoted += 1
    assert quoted >= 20


# -- the paper path -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", PAPER_ONLY)
def test_paper_path_resynchronises_after_every_step(name: str) -> None:
    """On the paper path both sides start every step from adamlab's parameters and state."""
    entry = OPTIMIZERS[name]
    problem = PROBLEMS["mlp"]
    start = problem.make_params(torch.float32)
    ours, theirs = clone_params(start), clone_params(start)
    our_opt, their_opt = entry.make(ours), paper_reference(entry)(theirs)
    step_side_by_side(our_opt, ours, their_opt, theirs, problem, 3, Comparison(), resync=True)
    for mine, reference in zip(ours, theirs, strict=True):
        assert torch.equal(mine, reference)
        state_a, state_b = our_opt.state.get(mine, {}), their_opt.state.get(reference, {})
        assert state_a.keys() == state_b.keys()
        for key, value in state_a.items():
            assert torch.equal(value, state_b[key]) and value is not state_b[key]


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("resync", [True, False])
def test_paper_path_fails_a_reference_with_another_beta(dtype: torch.dtype, resync: bool) -> None:
    """The paper's Lion with beta2 = 0.98 instead of adamlab's 0.99: the verdict is fail."""
    problem = PROBLEMS["rosenbrock"]
    start = problem.make_params(dtype)
    ours, theirs = clone_params(start), clone_params(start)
    our_opt = OPTIMIZERS["lion"].make(ours, lr=1e-3)
    their_opt = paper_reference(OPTIMIZERS["lion"])(theirs, lr=1e-3, betas=(0.9, 0.98))
    comparison = Comparison()
    step_side_by_side(our_opt, ours, their_opt, theirs, problem, 50, comparison, resync=resync)
    assert not comparison.within(PAPER.tolerance[dtype])
    assert comparison.max_rel > 1e-3 and "exp_avg" in comparison.worst


class _AdaBeliefWithAnotherBeta1(AdaBelief):
    """A deliberately wrong AdaBelief: beta1 0.8 where the paper (and adamlab) use 0.9."""

    def __init__(self, params: Any, **kwargs: Any) -> None:
        super().__init__(params, betas=(0.8, 0.999), **kwargs)


def test_paper_path_fails_a_wrong_rule() -> None:
    entry = replace(OPTIMIZERS["adabelief"], name="wrong", cls=_AdaBeliefWithAnotherBeta1)
    result = run_oracle(entry, {}, PROBLEMS["mlp"], torch.float64, steps=20, path=PAPER)
    assert not result.passed and result.path == "paper"
    assert result.max_rel > 1e-3
    # the same class passes against itself: the failure is the rule, not the machinery
    assert run_oracle(
        OPTIMIZERS["lion"], {}, PROBLEMS["mlp"], torch.float64, steps=20, path=PAPER
    ).passed


def test_paper_path_needs_a_paper_reference() -> None:
    with pytest.raises(ValueError, match="no paper reference on the paper path"):
        run_oracle(OPTIMIZERS["adam"], {}, PROBLEMS["mlp"], torch.float64, steps=1, path=PAPER)
    with pytest.raises(ValueError, match="no torch twin on the single-tensor path"):
        run_oracle(OPTIMIZERS["lion"], {}, PROBLEMS["mlp"], torch.float64, steps=1)
