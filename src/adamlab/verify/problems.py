"""The problems the oracle steps both optimizers on: a small MLP regression and Rosenbrock.

A problem makes a fresh list of leaf tensors (the parameters, deterministic for a given dtype),
computes a scalar loss from such a list, and computes the loss with its gradient by hand. The
oracle calls ``make_params`` once and clones the result for each side, so adamlab and torch
start from bit-identical copies; each side then gets the gradient of its own parameters.

Why gradients by hand: each oracle step runs the problem twice, and autograd's per-call cost
was about four times that of the dozen tensor operations of the hand-written backward pass on
these tiny problems. The tests pin ``value_and_grad`` to autograd on ``loss``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import torch
from torch import Tensor


@dataclass(frozen=True)
class OracleProblem:
    """A deterministic objective over a list of parameter tensors.

    Attributes:
        name: registry name (``"mlp"``, ``"rosenbrock"``).
        summary: one line for listings.
        make_params: ``dtype -> [leaf tensors]``; the same values on every call.
        loss: ``[tensors] -> 0-dim loss``, differentiable by autograd; may ignore some tensors.
        value_and_grad: ``[tensors] -> (loss, [gradient or None])``, the same loss and its
            gradient computed without autograd; None for a frozen or unused tensor, whose
            ``grad`` autograd would leave as None too.
    """

    name: str
    summary: str
    make_params: Callable[[torch.dtype], list[Tensor]]
    loss: Callable[[list[Tensor]], Tensor]
    value_and_grad: Callable[[list[Tensor]], tuple[Tensor, list[Tensor | None]]]


# -- (a) a small MLP regression -----------------------------------------------------------------

#: Layer widths of the MLP: 3 inputs -> 6 tanh units -> 1 linear output, on 16 samples.
_MLP_IN, _MLP_HIDDEN, _MLP_BATCH = 3, 6, 16


@cache
def _mlp_data(dtype: torch.dtype, seed: int) -> tuple[Tensor, Tensor]:
    """The regression data: x [16, 3] standard normal, y = sin(x1 + x2 + x3) [16, 1] (cached)."""
    generator = torch.Generator().manual_seed(seed + 1)
    x = torch.randn(_MLP_BATCH, _MLP_IN, generator=generator, dtype=torch.float64)
    y = torch.sin(x.sum(dim=1, keepdim=True))  # a smooth target the MLP can fit: [16, 1]
    return x.to(dtype), y.to(dtype)


def make_mlp_params(dtype: torch.dtype, seed: int = 0) -> list[Tensor]:
    """The MLP's tensors: three trainable shapes, one frozen tensor, one the loss never uses.

    Returns, in order: W1 [3, 6], b1 [6], W2 [6, 1] (trainable), ``scale`` [6] (frozen:
    ``requires_grad=False``, multiplies the hidden units), ``unused`` [2, 2] (trainable but
    absent from the forward pass, so its grad stays None).

    >>> [tuple(p.shape) for p in make_mlp_params(torch.float64)]
    [(3, 6), (6,), (6, 1), (6,), (2, 2)]
    """
    generator = torch.Generator().manual_seed(seed)

    def draw(*shape: int, scale: float) -> Tensor:
        # drawn in float64 and rounded once, so float32 runs start at the same points
        return (scale * torch.randn(*shape, generator=generator, dtype=torch.float64)).to(dtype)

    w1 = draw(_MLP_IN, _MLP_HIDDEN, scale=0.5)
    b1 = draw(_MLP_HIDDEN, scale=0.1)
    w2 = draw(_MLP_HIDDEN, 1, scale=0.5)
    scale = 1.0 + draw(_MLP_HIDDEN, scale=0.1)
    unused = draw(2, 2, scale=1.0)
    for tensor in (w1, b1, w2, unused):
        tensor.requires_grad_(True)
    return [w1, b1, w2, scale, unused]


def mlp_loss(params: list[Tensor], seed: int = 0) -> Tensor:
    """Mean squared error of the MLP ``(tanh(x W1 + b1) * scale) W2`` against sin(sum x)."""
    w1, b1, w2, scale, _unused = params
    x, y = _mlp_data(w1.dtype, seed)
    hidden = torch.tanh(torch.addmm(b1, x, w1)) * scale  # [16, 6]
    prediction = hidden @ w2  # [16, 1]
    return ((prediction - y) ** 2).mean()


@torch.no_grad()
def mlp_value_and_grad(params: list[Tensor], seed: int = 0) -> tuple[Tensor, list[Tensor | None]]:
    """:func:`mlp_loss` and its gradient by backpropagation written out.

    >>> params = make_mlp_params(torch.float64)
    >>> loss, grads = mlp_value_and_grad(params)
    >>> [None if g is None else tuple(g.shape) for g in grads]
    [(3, 6), (6,), (6, 1), None, None]
    """
    w1, b1, w2, scale, _unused = params
    x, y = _mlp_data(w1.dtype, seed)
    h = torch.tanh(torch.addmm(b1, x, w1))  # [16, 6]
    hidden = h * scale  # [16, 6]
    residual = hidden @ w2 - y  # [16, 1]
    loss = (residual * residual).mean()
    # dL/dprediction = 2 r / n
    d_prediction = residual * (2.0 / residual.numel())  # [16, 1]
    grad_w2 = hidden.T @ d_prediction  # [6, 1]
    # back through "* scale" and tanh' = 1 - h^2
    d_z = (d_prediction @ w2.T) * scale * (1 - h * h)  # [16, 6]
    grad_w1 = x.T @ d_z  # [3, 6]
    grad_b1 = d_z.sum(dim=0)  # [6]
    return loss, [grad_w1, grad_b1, grad_w2, None, None]


# -- (b) Rosenbrock -----------------------------------------------------------------------------

#: The classic start of Rosenbrock's banana valley.
ROSENBROCK_START = (-1.2, 1.0)


def make_rosenbrock_params(dtype: torch.dtype) -> list[Tensor]:
    """One tensor [2] at (-1.2, 1).

    >>> make_rosenbrock_params(torch.float64)[0].tolist()
    [-1.2, 1.0]
    """
    return [torch.tensor(ROSENBROCK_START, dtype=dtype, requires_grad=True)]


def rosenbrock_loss(params: list[Tensor]) -> Tensor:
    """f(x, y) = (1 - x)^2 + 100 (y - x^2)^2, minimum 0 at (1, 1).

    >>> float(rosenbrock_loss([torch.tensor([1.0, 1.0])]))
    0.0
    """
    (point,) = params
    x, y = point[0], point[1]
    return (1 - x) ** 2 + 100 * (y - x**2) ** 2


@torch.no_grad()
def rosenbrock_value_and_grad(params: list[Tensor]) -> tuple[Tensor, list[Tensor | None]]:
    """f and its gradient (-2 (1 - x) - 400 x (y - x^2), 200 (y - x^2)).

    >>> loss, (grad,) = rosenbrock_value_and_grad(make_rosenbrock_params(torch.float64))
    >>> round(float(loss), 2), [round(g, 1) for g in grad.tolist()]
    (24.2, [-215.6, -88.0])
    """
    (point,) = params
    x, y = point[0], point[1]
    a = 1 - x
    b = y - x * x
    loss = a * a + 100 * b * b
    grad = torch.stack([-2 * a - 400 * x * b, 200 * b])
    return loss, [grad]


#: Every oracle problem, by name.
PROBLEMS: dict[str, OracleProblem] = {
    "mlp": OracleProblem(
        name="mlp",
        summary="MLP 3-6-1 (tanh), MSE on 16 seeded samples; a frozen and an unused tensor",
        make_params=make_mlp_params,
        loss=mlp_loss,
        value_and_grad=mlp_value_and_grad,
    ),
    "rosenbrock": OracleProblem(
        name="rosenbrock",
        summary="Rosenbrock (1 - x)^2 + 100 (y - x^2)^2 from (-1.2, 1)",
        make_params=make_rosenbrock_params,
        loss=rosenbrock_loss,
        value_and_grad=rosenbrock_value_and_grad,
    ),
}
