"""Tests for ``adamlab paper adam`` and the uncorrected Adam it needs (paper, section 6.4)."""

from __future__ import annotations

import torch

from adamlab.functional import adam_init, adam_update


def test_adam_without_bias_correction_follows_the_uncorrected_equations() -> None:
    """bias_correction=False is theta -= alpha m_t / (sqrt(v_t) + eps), written out in floats."""
    grads = [0.5, -1.5, 2.0, 0.25]
    lr, beta1, beta2, eps = 0.1, 0.9, 0.9999, 1e-8
    theta_t = torch.tensor([1.0], dtype=torch.float64)
    state = adam_init(theta_t)
    theta, m, v = 1.0, 0.0, 0.0
    for g in grads:
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        theta = theta - lr * m / (v**0.5 + eps)
        grad = torch.tensor([g], dtype=torch.float64)
        theta_t, state = adam_update(
            theta_t, grad, state, lr=lr, beta1=beta1, beta2=beta2, eps=eps, bias_correction=False
        )
        assert abs(theta_t.item() - theta) < 1e-12
    # the first uncorrected step is (1 - beta1) / sqrt(1 - beta2) = 10 times alpha
    first, _ = adam_update(
        torch.zeros(1), torch.ones(1), adam_init(torch.zeros(1)), lr=0.1, bias_correction=False
    )
    assert abs(first.item() - (-0.1 * 0.1 / 0.001**0.5)) < 1e-5


def test_adam_bias_correction_default_is_unchanged() -> None:
    """The default (bias_correction=True) stays bit-identical to torch.optim.Adam."""
    torch.manual_seed(0)
    param = torch.randn(5, requires_grad=True)
    twin = param.detach().clone().requires_grad_(True)
    opt = torch.optim.Adam([twin], lr=1e-2, foreach=False)
    theta, state = param.detach(), adam_init(param.detach())
    for _ in range(5):
        grad = torch.randn(5)
        twin.grad = grad.clone()
        opt.step()
        theta, state = adam_update(theta, grad, state, lr=1e-2, bias_correction=True)
        assert torch.equal(theta, twin.detach())
