"""The seed project's seven Adam bugs, each caught by a named test.

``SeedAdam`` below re-creates the seed's hand-written Adam from its description (the seed's
code is not in this repository): every bug of the list is in it, marked ``# bug N``. Each test
states one property of a correct Adam, asserts it on ``adamlab.optim.Adam`` and asserts that
``SeedAdam`` violates it, so the test demonstrably catches the bug it is named after.

1. bias correction applied in place to the stored moments, so it compounds every step;
2. the stored v overwritten by its square root, the stored m by the update direction;
3. as a result, the step is no longer invariant to the gradient's scale;
4. one state shared by all parameters;
5. ``p.grad`` mutated (it holds g^2 after a step);
6. eps written 10e-8 (= 1e-7, not the paper's 1e-8);
7. the learning rate named ``stepsize`` (LR schedulers raise KeyError 'lr'), a parameter whose
   grad is None raises, beta = 1 accepted (NaN after one step).
"""

from __future__ import annotations

import inspect
import math
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest
import torch
from torch import Tensor

from adamlab.optim import Adam

# -- the seed's Adam, bugs included ----------------------------------------------------------


class SeedAdam(torch.optim.Optimizer):
    """The seed's Adam as described: do not use; it exists to be caught."""

    def __init__(
        self,
        params: Iterable[Tensor],
        stepsize: float = 1e-3,  # bug 7: not called lr, so schedulers cannot find it
        betas: tuple[float, float] = (0.9, 0.999),  # bug 7: never checked, beta = 1 passes
        epsilon: float = 10e-8,  # bug 6: 10e-8 is 1e-7
    ) -> None:
        super().__init__(params, {"stepsize": stepsize, "betas": betas, "epsilon": epsilon})
        # bug 4: one step counter and one pair of moments for the whole optimizer
        self.t = 0
        self.m = torch.zeros(())
        self.v = torch.zeros(())

    @torch.no_grad()
    def step(self, closure: Callable[[], float] | None = None) -> None:  # type: ignore[override]
        self.t += 1
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            for p in group["params"]:
                grad = p.grad.data  # bug 7: AttributeError when p.grad is None
                if self.t == 1:
                    # bug 4: re-created for each parameter, so the last one's moments win
                    self.m = torch.zeros_like(p)
                    self.v = torch.zeros_like(p)
                self.m.mul_(beta1).add_(grad, alpha=1 - beta1)
                # bug 5: grad.mul_ squares p.grad itself
                self.v.mul_(beta2).add_(grad.mul_(grad), alpha=1 - beta2)
                # bug 1: the bias corrections are stored, so they compound step after step
                self.m.div_(1 - beta1**self.t)
                self.v.div_(1 - beta2**self.t)
                # bug 2: v replaced by its root, m by the update direction
                self.v.sqrt_()
                self.m.div_(self.v.add(group["epsilon"]))
                p.sub_(group["stepsize"] * self.m)


# -- helpers -----------------------------------------------------------------------------------

Factory = Callable[..., torch.optim.Optimizer]


def ours(params: Iterable[Tensor], **kw: Any) -> torch.optim.Optimizer:
    return Adam(params, **kw)


def seed(params: Iterable[Tensor], lr: float = 1e-3, eps: float = 1e-8, **kw: Any) -> SeedAdam:
    # same hyperparameters under the seed's names; eps passed explicitly, so bug 6 is kept
    # out of every test but its own
    return SeedAdam(params, stepsize=lr, epsilon=eps, **kw)


#: A gradient sequence for a 3-element parameter: mixed signs and scales, no two steps alike.
GRADS = torch.tensor(
    [
        [0.5, -2.0, 0.03],
        [0.4, 1.5, -0.01],
        [-0.2, -1.0, 0.05],
        [0.3, 0.5, 0.02],
        [0.1, -0.7, -0.04],
    ],
    dtype=torch.float64,
)
THETA0 = [1.0, -0.5, 0.25]
LR, BETA1, BETA2, EPS = 0.1, 0.9, 0.999, 1e-8


def paper_adam(grads: list[list[float]]) -> list[dict[str, list[float]]]:
    """Algorithm 1 of Kingma & Ba in plain Python floats, per coordinate: theta, m, v per step."""
    theta, m, v = list(THETA0), [0.0] * 3, [0.0] * 3
    history = []
    for t, g in enumerate(grads, start=1):
        for i in range(3):
            m[i] = BETA1 * m[i] + (1 - BETA1) * g[i]
            v[i] = BETA2 * v[i] + (1 - BETA2) * g[i] ** 2
            m_hat = m[i] / (1 - BETA1**t)
            v_hat = v[i] / (1 - BETA2**t)
            theta[i] = theta[i] - LR * m_hat / (math.sqrt(v_hat) + EPS)
        history.append({"theta": list(theta), "m": list(m), "v": list(v)})
    return history


def run(make: Factory, grads: Tensor, **kw: Any) -> tuple[list[Tensor], torch.optim.Optimizer]:
    """Feed ``grads`` (one row per step) to a fresh optimizer; return theta after each step."""
    theta = torch.tensor(THETA0, dtype=torch.float64, requires_grad=True)
    optimizer = make([theta], **kw)
    trajectory = []
    for g in grads:
        theta.grad = g.clone()
        optimizer.step()
        trajectory.append(theta.detach().clone())
    return trajectory, optimizer


def close(a: Tensor | list[float], b: Tensor | list[float], rel: float = 1e-12) -> bool:
    a_t, b_t = torch.as_tensor(a, dtype=torch.float64), torch.as_tensor(b, dtype=torch.float64)
    return bool(torch.allclose(a_t, b_t, rtol=rel, atol=1e-15))


# -- the tests ---------------------------------------------------------------------------------


def test_bug1_bias_correction_not_compounded() -> None:
    """Five steps follow Algorithm 1 computed independently; the seed leaves it after step 1."""
    paper = paper_adam(GRADS.tolist())
    trajectory, _ = run(ours, GRADS, lr=LR)
    for t, (theta, expected) in enumerate(zip(trajectory, paper, strict=True), start=1):
        assert close(theta, expected["theta"]), f"step {t}"

    seed_trajectory, _ = run(seed, GRADS, lr=LR)
    assert close(seed_trajectory[0], paper[0]["theta"])  # step 1: m_hat = g, v_hat = g^2
    for t in range(1, 5):
        assert not close(seed_trajectory[t], paper[t]["theta"], rel=1e-3), f"step {t + 1}"


def test_bug2_stored_moments_are_m_and_v() -> None:
    """The state keeps the paper's raw moments m_t and v_t, not sqrt(v_hat) or the direction."""
    paper = paper_adam(GRADS.tolist())[-1]
    _, optimizer = run(ours, GRADS, lr=LR)
    (state,) = optimizer.state.values()
    assert close(state["exp_avg"], paper["m"])
    assert close(state["exp_avg_sq"], paper["v"])

    trajectory, seed_opt = run(seed, GRADS, lr=LR)
    assert isinstance(seed_opt, SeedAdam)
    assert not close(seed_opt.m, paper["m"], rel=1e-3)
    assert not close(seed_opt.v, paper["v"], rel=1e-3)
    # what the seed does store: the root of its v, and the last update direction
    assert bool((seed_opt.v > torch.tensor(paper["v"])).all())  # sqrt grows numbers < 1
    last_move = (trajectory[-2] - trajectory[-1]) / LR
    assert close(seed_opt.m, last_move, rel=1e-9)


@pytest.mark.parametrize("scale", [1e-2, 1e3])
def test_bug3_step_invariant_to_gradient_scale(scale: float) -> None:
    """Multiplying every gradient by c leaves the steps unchanged while |g| >> eps."""

    def moves(make: Factory, grads: Tensor) -> Tensor:
        trajectory, _ = run(make, grads, lr=LR)
        return torch.diff(
            torch.stack([torch.tensor(THETA0, dtype=torch.float64), *trajectory]), dim=0
        )

    # the smallest |c g| is 1e-4 = 1e4 eps, so eps shifts a step by ~1e-4 of itself at most
    assert close(moves(ours, GRADS), moves(ours, GRADS * scale), rel=1e-3)
    assert not close(moves(seed, GRADS), moves(seed, GRADS * scale), rel=1e-1)


def test_bug4_state_per_parameter() -> None:
    """Two same-shape parameters in one optimizer move as they would in two optimizers."""

    def steps(make: Factory, together: bool) -> list[Tensor]:
        """a and b get opposite gradients for 3 steps; return [a, b] after each step."""
        a = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)
        b = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)
        optimizers = [make([a, b], lr=LR)] if together else [make([a], lr=LR), make([b], lr=LR)]
        history = []
        for _ in range(3):
            a.grad = torch.tensor([1.0, -1.0], dtype=torch.float64)
            b.grad = torch.tensor([-1.0, 1.0], dtype=torch.float64)
            for optimizer in optimizers:
                optimizer.step()
            history.append(torch.stack([a.detach(), b.detach()]))
        return history

    for x, y in zip(steps(ours, together=True), steps(ours, together=False), strict=True):
        assert torch.equal(x, y)

    seed_together = steps(seed, together=True)
    assert not close(seed_together[-1], steps(seed, together=False)[-1], rel=1e-3)
    # after step 1, a runs on b's moments: a[0], whose gradient is +1, moves up
    assert seed_together[2][0, 0] > seed_together[0][0, 0]


def test_bug4_parameters_of_different_shapes() -> None:
    """Parameters of different shapes step without error; the seed raises at step 2."""

    def three_steps(make: Factory) -> None:
        w = torch.ones(2, 3, requires_grad=True)
        b = torch.ones(3, requires_grad=True)
        optimizer = make([w, b], lr=LR)
        for _ in range(3):
            w.grad, b.grad = torch.ones(2, 3), torch.ones(3)
            optimizer.step()

    three_steps(ours)
    with pytest.raises(RuntimeError):
        three_steps(seed)


def test_bug5_grad_not_mutated() -> None:
    """``p.grad`` holds the same values before and after a step."""
    for make, unchanged in ((ours, True), (seed, False)):
        theta = torch.tensor([1.0, -2.0, 3.0], requires_grad=True)
        optimizer = make([theta], lr=LR)
        theta.grad = torch.tensor([0.5, -3.0, 2.0])
        before = theta.grad.clone()
        optimizer.step()
        assert torch.equal(theta.grad, before) is unchanged
    # the seed leaves g^2 behind
    assert theta.grad is not None and torch.equal(theta.grad, before * before)


def test_bug6_default_eps_is_1e_minus_8() -> None:
    """The default eps is the paper's 1e-8 (and torch's), not 10e-8 = 1e-7."""
    theta = torch.zeros(1, requires_grad=True)
    assert inspect.signature(Adam).parameters["eps"].default == 1e-8
    assert Adam([theta]).defaults["eps"] == 1e-8
    assert Adam([theta]).defaults["eps"] == torch.optim.Adam([theta]).defaults["eps"]
    assert SeedAdam([theta]).defaults["epsilon"] != 1e-8
    assert SeedAdam([theta]).defaults["epsilon"] == pytest.approx(1e-7)


def test_bug7_lr_named_lr_so_schedulers_work() -> None:
    """A torch LR scheduler drives ``group["lr"]`` and the step size follows it."""
    theta = torch.tensor([1.0], dtype=torch.float64, requires_grad=True)
    optimizer = Adam([theta], lr=0.1)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)
    moves = []
    for _ in range(3):
        theta.grad = torch.tensor([1.0], dtype=torch.float64)  # constant g: each step is lr
        before = theta.item()
        optimizer.step()
        scheduler.step()
        moves.append(before - theta.item())
    assert moves == pytest.approx([0.1, 0.05, 0.025], rel=1e-6)

    with pytest.raises(KeyError, match="lr"):
        torch.optim.lr_scheduler.StepLR(SeedAdam([theta]), step_size=1)


def test_bug7_grad_none_is_skipped() -> None:
    """A parameter without a gradient is left alone (no error, no state, no move)."""
    used = torch.tensor([1.0], requires_grad=True)
    unused = torch.tensor([5.0], requires_grad=True)
    optimizer = Adam([used, unused], lr=LR)
    used.grad = torch.tensor([1.0])
    optimizer.step()
    assert unused.item() == 5.0
    assert unused not in optimizer.state
    assert used.item() != 1.0

    seed_opt = SeedAdam([used, unused])
    with pytest.raises(AttributeError):
        seed_opt.step()


@pytest.mark.parametrize("betas", [(1.0, 0.999), (0.9, 1.0)])
def test_bug7_beta_one_rejected(betas: tuple[float, float]) -> None:
    """beta = 1 is refused at construction; the seed accepts it and returns NaN."""
    theta = torch.tensor([1.0], requires_grad=True)
    with pytest.raises(ValueError, match=r"beta.*1\.0.*0 <= beta < 1"):
        Adam([theta], betas=betas)

    seed_opt = SeedAdam([theta], betas=betas)
    theta.grad = torch.tensor([1.0])
    seed_opt.step()
    assert math.isnan(theta.item())


def test_docs_table_names_these_tests() -> None:
    """docs/algorithms.md maps each seed bug to a test; every name there is a test here."""
    docs = (Path(__file__).parents[1] / "docs" / "algorithms.md").read_text()
    table = docs[docs.index("## The seed's seven Adam bugs") :]
    named = set(re.findall(r"`(test_bug\d_\w+)`", table))
    defined = {name for name in globals() if name.startswith("test_bug")}
    assert named == defined
    assert {name[len("test_bug")] for name in named} == set("1234567")
