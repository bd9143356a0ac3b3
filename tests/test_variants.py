"""Tests for the Adam variants: AdaMax, NAdam, RAdam, AdaBelief, Lion, Adam-atan2.

The torch-twinned three (Adamax, NAdam, RAdam) must equal torch.optim bit for bit, parameters
and state, over every oracle case of their registry entries. The other three have no torch
twin: each is checked against its paper's equations written again here in plain NumPy, and
against a behaviour the paper claims (Lion's fixed step size, Adam-atan2's scale invariance,
AdaBelief's large steps under a predictable gradient).
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
import torch

from adamlab import functional
from adamlab.optim import (
    OPTIMIZERS,
    AdaBelief,
    AdamAtan2,
    Adamax,
    FunctionalOptimizer,
    Lion,
    NAdam,
    RAdam,
)

Array = npt.NDArray[np.float64]

TWINNED = ("adamax", "nadam", "radam")
PAPER_ONLY = ("adabelief", "lion", "adam_atan2")


@pytest.fixture(autouse=True)
def _one_thread() -> Iterator[None]:
    """These tensors are tiny: intra-op threads only add synchronisation (3x slower here)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


# -- the torch twins, bit for bit ---------------------------------------------------------


def _mlp(dtype: torch.dtype) -> list[torch.Tensor]:
    """A 4-8-1 tanh MLP's parameters, the same on every call."""
    gen = torch.Generator().manual_seed(0)
    shapes = [(8, 4), (8,), (1, 8), (1,)]
    return [torch.randn(shape, generator=gen, dtype=dtype) * 0.5 for shape in shapes]


def _mlp_loss(params: Sequence[torch.Tensor], x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    w1, b1, w2, b2 = params
    prediction = torch.tanh(x @ w1.T + b1) @ w2.T + b2
    return (prediction.squeeze(-1) - y).pow(2).mean()


Pair = tuple[list[torch.nn.Parameter], list[torch.nn.Parameter], Any, Any]


def _run_pair(
    make_ours: Callable[[list[torch.nn.Parameter]], torch.optim.Optimizer],
    make_torch: Callable[[list[torch.nn.Parameter]], torch.optim.Optimizer],
    dtype: torch.dtype,
    steps: int,
    check: Callable[[int, Pair], None] | None = None,
) -> Pair:
    """Step both optimizers on the MLP, calling ``check(step, pair)`` after every step."""
    ours = [torch.nn.Parameter(p.clone()) for p in _mlp(dtype)]
    theirs = [torch.nn.Parameter(p.clone()) for p in _mlp(dtype)]
    pair = (ours, theirs, make_ours(ours), make_torch(theirs))
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(32, 4, generator=gen, dtype=dtype)
    y = torch.sin(x.sum(dim=1))
    for step in range(1, steps + 1):
        for params, opt in ((ours, pair[2]), (theirs, pair[3])):
            opt.zero_grad()
            _mlp_loss(params, x, y).backward()
            opt.step()
        if check is not None:
            check(step, pair)
    return pair


def _twin_cases() -> list[Any]:
    return [
        pytest.param(name, case, dtype, id=f"{name}-{index}-{str(dtype)[6:]}")
        for name in TWINNED
        for index, case in enumerate(OPTIMIZERS[name].oracle_cases)
        for dtype in (torch.float32, torch.float64)
    ]


@pytest.mark.parametrize(("name", "case", "dtype"), _twin_cases())
def test_twin_matches_torch_bit_for_bit(
    name: str, case: dict[str, Any], dtype: torch.dtype
) -> None:
    entry = OPTIMIZERS[name]

    def parameters_equal(step: int, pair: Pair) -> None:
        for p_ours, p_theirs in zip(pair[0], pair[1], strict=True):
            assert torch.equal(p_ours, p_theirs), f"{name} {case}: parameters differ at {step}"

    ours, theirs, opt_ours, opt_theirs = _run_pair(
        lambda p: entry.make(p, **case),
        lambda p: entry.make_twin(p, **case),
        dtype,
        steps=300,
        check=parameters_equal,
    )
    for p_ours, p_theirs in zip(ours, theirs, strict=True):
        state_ours, state_theirs = opt_ours.state[p_ours], opt_theirs.state[p_theirs]
        assert set(state_ours) == set(state_theirs)
        for key, value in state_theirs.items():
            assert torch.equal(state_ours[key], value), f"{name} {case}: state {key!r} differs"
            assert state_ours[key].dtype == value.dtype


@pytest.mark.parametrize("name", TWINNED)
def test_twin_resumes_from_a_torch_state_dict(name: str) -> None:
    """Ten torch steps, load its state dict into adamlab, ten more steps each: still equal."""
    entry = OPTIMIZERS[name]
    case = entry.oracle_cases[1]
    ours, theirs, opt_a, opt_b = _run_pair(
        lambda p: entry.make_twin(p, **case),
        lambda p: entry.make_twin(p, **case),
        torch.float32,
        10,
    )
    assert all(torch.equal(a, b) for a, b in zip(ours, theirs, strict=True))
    adamlab_opt = entry.make(ours, **case)
    adamlab_opt.load_state_dict(opt_a.state_dict())
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(32, 4, generator=gen)
    y = torch.sin(x.sum(dim=1))
    for _ in range(10):
        for params, opt in ((ours, adamlab_opt), (theirs, opt_b)):
            opt.zero_grad()
            _mlp_loss(params, x, y).backward()
            opt.step()
    assert all(torch.equal(a, b) for a, b in zip(ours, theirs, strict=True))


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [(Adamax, torch.optim.Adamax), (NAdam, torch.optim.NAdam), (RAdam, torch.optim.RAdam)],
)
def test_twin_signature_matches_torch(
    ours: type[FunctionalOptimizer], theirs: type[torch.optim.Optimizer]
) -> None:
    """Same argument names, order, kinds and defaults, less foreach/capturable/differentiable."""
    dropped = {"foreach", "capturable", "differentiable"}
    ours_params = list(inspect.signature(ours.__init__).parameters.values())
    theirs_params = [
        p for p in inspect.signature(theirs.__init__).parameters.values() if p.name not in dropped
    ]
    assert [(p.name, p.default) for p in ours_params] == [
        (p.name, p.default) for p in theirs_params
    ]
    positional = {inspect.Parameter.POSITIONAL_OR_KEYWORD}
    assert [p.kind in positional for p in ours_params] == [
        p.kind in positional for p in theirs_params
    ]


# -- AdaBelief, Lion, Adam-atan2 against their papers' equations ---------------------------


def adabelief_reference(
    theta: Array,
    grads: Array,
    *,
    lr: float = 1e-3,
    betas: tuple[float, float] = (0.9, 0.999),
    eps: float = 1e-16,
    weight_decay: float = 0.0,
    decoupled_weight_decay: bool = False,
    maximize: bool = False,
) -> Array:
    """Zhuang et al. 2020, Algorithm 2 with bias correction, one row of ``grads`` per step."""
    beta1, beta2 = betas
    m, s = np.zeros_like(theta), np.zeros_like(theta)
    for t, g in enumerate(grads, start=1):
        g = -g if maximize else g
        if weight_decay and decoupled_weight_decay:
            theta = theta - lr * weight_decay * theta
        elif weight_decay:
            g = g + weight_decay * theta
        m = beta1 * m + (1 - beta1) * g
        s = beta2 * s + (1 - beta2) * (g - m) ** 2 + eps
        m_hat = m / (1 - beta1**t)
        s_hat = s / (1 - beta2**t)
        theta = theta - lr * m_hat / (np.sqrt(s_hat) + eps)
    return theta


def lion_reference(
    theta: Array,
    grads: Array,
    *,
    lr: float = 1e-4,
    betas: tuple[float, float] = (0.9, 0.99),
    weight_decay: float = 0.0,
    maximize: bool = False,
) -> Array:
    """Chen et al. 2023, Algorithm 2 (Lion), one row of ``grads`` per step."""
    beta1, beta2 = betas
    m = np.zeros_like(theta)
    for g in grads:
        g = -g if maximize else g
        c = beta1 * m + (1 - beta1) * g
        theta = theta - lr * (np.sign(c) + weight_decay * theta)
        m = beta2 * m + (1 - beta2) * g
    return theta


def adam_atan2_reference(
    theta: Array,
    grads: Array,
    *,
    lr: float = 1e-3,
    betas: tuple[float, float] = (0.9, 0.999),
    weight_decay: float = 0.0,
    a: float = 1.0,
    b: float = 1.0,
    maximize: bool = False,
) -> Array:
    """Everett et al. 2024: Adam with a atan2(m_hat, b sqrt(v_hat)), decoupled weight decay."""
    beta1, beta2 = betas
    m, v = np.zeros_like(theta), np.zeros_like(theta)
    for t, g in enumerate(grads, start=1):
        g = -g if maximize else g
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g**2
        m_hat = m / (1 - beta1**t)
        v_hat = v / (1 - beta2**t)
        theta = theta - lr * (a * np.arctan2(m_hat, b * np.sqrt(v_hat)) + weight_decay * theta)
    return theta


REFERENCES: dict[str, Callable[..., Array]] = {
    "adabelief": adabelief_reference,
    "lion": lion_reference,
    "adam_atan2": adam_atan2_reference,
}


def _gradients(steps: int, dim: int, seed: int = 0) -> Array:
    """Gradients of mixed signs and scales, with an exact 0 and a run of constant values."""
    rng = np.random.default_rng(seed)
    grads = rng.normal(size=(steps, dim)) * np.logspace(-3, 1, dim)
    grads[:, 0] = 0.0
    grads[:, 1] = 0.7
    return grads


def _run_class(
    entry_name: str, theta0: Array, grads: Array, case: dict[str, Any]
) -> tuple[Array, list[Array]]:
    """Run the registered class on float64 ``theta0`` with the given gradient rows."""
    param = torch.nn.Parameter(torch.tensor(theta0, dtype=torch.float64))
    opt = OPTIMIZERS[entry_name].make([param], **case)
    trajectory = []
    for g in grads:
        param.grad = torch.tensor(g, dtype=torch.float64)
        opt.step()
        trajectory.append(param.detach().numpy().copy())
    return trajectory[-1], trajectory


def _paper_cases() -> list[Any]:
    return [
        pytest.param(name, case, id=f"{name}-{index}")
        for name in PAPER_ONLY
        for index, case in enumerate(OPTIMIZERS[name].oracle_cases)
    ]


@pytest.mark.parametrize(("name", "case"), _paper_cases())
def test_matches_the_papers_equations(name: str, case: dict[str, Any]) -> None:
    dim, steps = 7, 25
    theta0 = np.linspace(-1.5, 2.0, dim)
    grads = _gradients(steps, dim)
    final, _ = _run_class(name, theta0, grads, case)
    for t in (1, 2, 5, steps):  # the first steps too, where bias correction matters most
        expected = REFERENCES[name](theta0, grads[:t], **case)
        got, _ = _run_class(name, theta0, grads[:t], case)
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)
    assert np.all(np.isfinite(final))


def test_registry_entries() -> None:
    for name, twin in (
        ("adamax", torch.optim.Adamax),
        ("nadam", torch.optim.NAdam),
        ("radam", torch.optim.RAdam),
    ):
        assert OPTIMIZERS[name].torch_twin is twin
    for name in PAPER_ONLY:
        assert OPTIMIZERS[name].torch_twin is None
    assert OPTIMIZERS["amsgrad"].kwargs == {"amsgrad": True}


# -- behaviours the papers claim ----------------------------------------------------------


def test_lion_moves_every_coordinate_by_exactly_lr() -> None:
    lr = 2.0**-7
    theta0 = np.linspace(-1.0, 1.0, 9)
    grads = _gradients(30, 9, seed=3)
    grads[:, 0] = 1e-30  # a tiny gradient still moves its coordinate by the full lr
    _, trajectory = _run_class("lion", theta0, grads, {"lr": lr})
    previous = theta0
    for theta in trajectory:
        step = np.abs(theta - previous)
        # theta - lr sign(c) is exact here: lr is a power of 2 and |theta| <= 2
        moved = step > 0
        np.testing.assert_array_equal(step[moved], lr)
        previous = theta
    assert moved[0]  # the coordinate with g = 1e-30 moved by lr on the last step as well


def test_lion_does_not_move_where_the_direction_is_zero() -> None:
    theta = torch.tensor([0.5, -0.5], dtype=torch.float64)
    new_theta, _ = functional.lion_update(
        theta, torch.zeros(2, dtype=torch.float64), functional.lion_init(theta)
    )
    assert torch.equal(new_theta, theta)


def test_adam_atan2_is_invariant_to_the_gradients_scale() -> None:
    theta0 = np.linspace(-1.0, 1.0, 6)
    grads = _gradients(20, 6, seed=5)
    base, _ = _run_class("adam_atan2", theta0, grads, {"lr": 0.01})
    for scale in (2.0**-90, 2.0**60):  # powers of 2 rescale m, v and sqrt(v) exactly
        scaled, _ = _run_class("adam_atan2", theta0, grads * scale, {"lr": 0.01})
        np.testing.assert_array_equal(scaled, base)
    for scale in (1e-25, 3e-7, 1e8):
        scaled, _ = _run_class("adam_atan2", theta0, grads * scale, {"lr": 0.01})
        np.testing.assert_allclose(scaled, base, rtol=0, atol=1e-14)


def test_adam_atan2_needs_no_eps_where_adam_stalls() -> None:
    """At g = 1e-12, Adam's step shrinks by g / eps = 1e-4 (eps = 1e-8); Adam-atan2's does not."""
    theta0 = np.zeros(3)
    grads = np.full((10, 3), 1e-12)
    atan2_final, _ = _run_class("adam_atan2", theta0, grads, {"lr": 0.01})
    np.testing.assert_allclose(atan2_final, -10 * 0.01 * math.pi / 4, rtol=1e-12)
    param = torch.nn.Parameter(torch.zeros(3, dtype=torch.float64))
    adam = OPTIMIZERS["adam"].make([param], lr=0.01)
    for g in grads:
        param.grad = torch.tensor(g)
        adam.step()
    np.testing.assert_allclose(param.detach().numpy(), 1e-4 * 4 / math.pi * atan2_final, rtol=1e-3)


def test_adam_atan2_is_finite_and_still_at_a_zero_gradient() -> None:
    theta = torch.tensor([1.0, -2.0, 0.0], dtype=torch.float64)
    state = functional.adam_atan2_init(theta)
    for _ in range(5):
        new_theta, state = functional.adam_atan2_update(
            theta, torch.zeros(3, dtype=torch.float64), state
        )
        assert torch.equal(new_theta, theta)
    assert torch.isfinite(state.v).all() and torch.equal(state.m, torch.zeros(3).double())


def test_adam_atan2_step_is_bounded_by_lr_a_pi_over_2() -> None:
    theta0 = np.zeros(8)
    grads = _gradients(40, 8, seed=7) * np.array([1e6, 1, 1, 1, 1e-6, 1, 1, 1])
    _, trajectory = _run_class("adam_atan2", theta0, grads, {"lr": 0.1, "a": 1.5})
    steps = np.abs(np.diff(np.vstack([theta0, *trajectory]), axis=0))
    assert steps.max() <= 0.1 * 1.5 * math.pi / 2


def test_adabelief_first_step_is_lr_over_beta1() -> None:
    """m_1 = (1 - b1) g and s_1 = (1 - b2)(b1 g)^2 + eps, so after bias correction the step is
    lr g / (sqrt(b1^2 g^2 + eps / (1 - b2)) + eps), which is lr sign(g) / b1 unless |g| ~ sqrt(eps).
    """
    lr, beta1, beta2, eps = 0.01, 0.8, 0.999, 1e-16
    grads = np.array([[3.0, -0.2, 1e-3, -50.0]])
    final, _ = _run_class("adabelief", np.zeros(4), grads, {"lr": lr, "betas": (beta1, beta2)})
    g = grads[0]
    exact = -lr * g / (np.sqrt(beta1**2 * g**2 + eps / (1 - beta2)) + eps)
    np.testing.assert_allclose(final, exact, rtol=1e-12)
    np.testing.assert_allclose(final, -lr / beta1 * np.sign(g), rtol=1e-6)


def test_adabelief_takes_large_steps_on_a_predictable_gradient() -> None:
    """Constant g: the belief s decays to its eps floor, the step to lr g / sqrt(eps / (1 - b2)).

    Adam's step under the same gradient stays lr; AdaBelief trusts the gradient completely.
    """
    lr, eps, beta1, beta2 = 1e-9, 1e-16, 0.5, 0.5
    grads = np.full((200, 3), [2.0, -0.5, 1e-3])
    _, trajectory = _run_class(
        "adabelief", np.zeros(3), grads, {"lr": lr, "eps": eps, "betas": (beta1, beta2)}
    )
    last_step = trajectory[-1] - trajectory[-2]
    expected = -lr * grads[0] / (math.sqrt(eps / (1 - beta2)) + eps)
    np.testing.assert_allclose(last_step, expected, rtol=1e-6)
    assert np.all(np.abs(last_step) > 1e4 * lr)


@pytest.mark.parametrize(
    ("init", "update"),
    [
        (functional.adamax_init, functional.adamax_update),
        (functional.nadam_init, functional.nadam_update),
        (functional.radam_init, functional.radam_update),
        (functional.adabelief_init, functional.adabelief_update),
        (functional.lion_init, functional.lion_update),
        (functional.adam_atan2_init, functional.adam_atan2_update),
    ],
)
def test_rules_are_pure_and_batch_rows_are_independent(
    init: Callable[..., Any], update: Callable[..., Any]
) -> None:
    """No input is modified, and a [B, d] batch with a [B, 1] lr equals B separate runs."""
    gen = torch.Generator().manual_seed(2)
    theta = torch.randn(3, 5, generator=gen, dtype=torch.float64)
    lrs = torch.tensor([[1e-3], [1e-2], [0.1]], dtype=torch.float64)
    state = init(theta)
    rows = [init(theta[i]) for i in range(3)]
    thetas = [theta[i] for i in range(3)]
    for _ in range(8):
        grad = torch.randn(3, 5, generator=gen, dtype=torch.float64)
        grad_copy, theta_copy = grad.clone(), theta.clone()
        old_state, snapshot = state, [x.clone() for x in state]
        theta, state = update(theta, grad, state, lr=lrs)
        assert torch.equal(grad, grad_copy) and not torch.equal(theta, theta_copy)
        assert all(torch.equal(a, b) for a, b in zip(old_state, snapshot, strict=True))
        for i in range(3):
            thetas[i], rows[i] = update(thetas[i], grad[i], rows[i], lr=float(lrs[i]))
    for i in range(3):
        torch.testing.assert_close(theta[i], thetas[i], rtol=1e-14, atol=1e-15)


# -- validation ---------------------------------------------------------------------------

INVALID: list[tuple[type[FunctionalOptimizer], dict[str, Any], str]] = [
    (Adamax, {"lr": -1e-3}, r"Invalid learning rate: lr=-0\.001 \(expected a finite value >= 0\)"),
    (Adamax, {"betas": (1.0, 0.999)}, r"Invalid beta parameter at index 0: betas\[0\]=1\.0"),
    (Adamax, {"eps": -1e-8}, r"Invalid epsilon value: eps=-1e-08"),
    (Adamax, {"weight_decay": -0.1}, r"Invalid weight_decay value: weight_decay=-0\.1"),
    (Adamax, {"lr": torch.tensor([1e-3, 1e-3])}, r"Tensor lr must be 1-element"),
    (NAdam, {"betas": (0.9, 1.0)}, r"Invalid beta parameter at index 1: betas\[1\]=1\.0"),
    (NAdam, {"momentum_decay": -4e-3}, r"Invalid momentum_decay value: momentum_decay=-0\.004"),
    (NAdam, {"lr": float("nan")}, r"Invalid learning rate: lr=nan"),
    (RAdam, {"eps": float("inf")}, r"Invalid epsilon value: eps=inf"),
    (RAdam, {"weight_decay": float("nan")}, r"Invalid weight_decay value: weight_decay=nan"),
    (RAdam, {"betas": (-0.1, 0.9)}, r"index 0: betas\[0\]=-0\.1 \(expected 0 <= beta < 1\)"),
    (AdaBelief, {"eps": -1e-16}, r"Invalid epsilon value: eps=-1e-16"),
    (AdaBelief, {"betas": (0.9, float("nan"))}, r"Invalid beta parameter at index 1"),
    (Lion, {"betas": (0.9,)}, r"Invalid betas: \(0\.9,\) \(expected a pair"),
    (Lion, {"weight_decay": float("inf")}, r"Invalid weight_decay value: weight_decay=inf"),
    (Lion, {"lr": "0.1"}, r"Invalid lr: '0\.1' \(expected a real number\)"),
    (AdamAtan2, {"a": -1.0}, r"Invalid a value: a=-1\.0 \(expected a finite value >= 0\)"),
    (AdamAtan2, {"b": float("nan")}, r"Invalid b value: b=nan"),
    (AdamAtan2, {"lr": -1.0}, r"Invalid learning rate: lr=-1\.0"),
]


@pytest.mark.parametrize(
    ("cls", "kwargs", "message"),
    INVALID,
    ids=[f"{cls.__name__}-{next(iter(kwargs))}" for cls, kwargs, _ in INVALID],
)
def test_invalid_hyperparameters_are_rejected(
    cls: Callable[..., FunctionalOptimizer], kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        cls([torch.nn.Parameter(torch.zeros(2))], **kwargs)


@pytest.mark.parametrize("cls", [Adamax, NAdam, RAdam, AdaBelief, Lion, AdamAtan2])
def test_invalid_param_group_is_rejected(cls: Callable[..., FunctionalOptimizer]) -> None:
    opt = cls([torch.nn.Parameter(torch.zeros(2))])
    with pytest.raises(ValueError, match=r"Invalid learning rate: lr=-1\.0"):
        opt.add_param_group({"params": [torch.nn.Parameter(torch.zeros(1))], "lr": -1.0})


# -- the torch references of `adamlab verify` pinned to the NumPy references above -----------


def _run_paper_class(entry_name: str, theta0: Array, grads: Array, case: dict[str, Any]) -> Array:
    """Run the entry's paper reference (adamlab.verify.references) on float64 ``theta0``."""
    from adamlab.verify import paper_reference

    param = torch.nn.Parameter(torch.tensor(theta0, dtype=torch.float64))
    opt = paper_reference(OPTIMIZERS[entry_name])([param], **case)
    for g in grads:
        param.grad = torch.tensor(g, dtype=torch.float64)
        opt.step()
    return param.detach().numpy().copy()


@pytest.mark.parametrize(("name", "case"), _paper_cases())
def test_verify_references_match_the_numpy_references(name: str, case: dict[str, Any]) -> None:
    """The classes ``adamlab verify`` uses as the oracle agree with this file's equations."""
    dim, steps = 7, 25
    theta0 = np.linspace(-1.5, 2.0, dim)
    grads = _gradients(steps, dim, seed=5)
    for t in (1, 2, 5, steps):
        expected = REFERENCES[name](theta0, grads[:t], **case)
        got = _run_paper_class(name, theta0, grads[:t], case)
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)


def test_verify_references_take_the_classes_arguments_and_defaults() -> None:
    """Same constructor arguments and defaults as adamlab's classes, so a case runs on both."""
    from adamlab.verify import paper_reference

    for name in PAPER_ONLY:
        entry = OPTIMIZERS[name]
        ours = inspect.signature(entry.cls.__init__).parameters
        theirs = inspect.signature(paper_reference(entry).__init__).parameters
        assert list(theirs) == list(ours), name
        for arg, parameter in ours.items():
            assert theirs[arg].default == parameter.default, (name, arg)
