"""Calling a compiled graph without dynamo (``adamlab.compiled_call``).

The oracle is the same function run by ``torch.compile`` itself: a direct call must return
what the compiled function returns, bit for bit (it runs the same graph), take its inputs
from where the trace read them (arguments, closure tensors that change value), and give way
to ``torch.compile`` wherever the graph cannot stand in for the function.
"""

from __future__ import annotations

from typing import NamedTuple

import pytest
import torch
from torch import Tensor

from adamlab.compiled_call import CompiledFunction, tensor_signature


class Pair(NamedTuple):
    a: Tensor
    b: Tensor | None


def _refuse(*args: object) -> object:
    raise AssertionError("a call went through torch.compile instead of the graph")


def _assert_identical(x: object, y: object) -> None:
    if isinstance(x, Tensor):
        assert isinstance(y, Tensor) and x.dtype == y.dtype and torch.equal(x, y)
    elif isinstance(x, tuple | list):
        assert type(x) is type(y) and len(x) == len(y)  # type: ignore[arg-type]
        for u, v in zip(x, y, strict=True):  # type: ignore[call-overload]
            _assert_identical(u, v)
    else:
        assert x == y


def test_later_calls_run_the_graph_and_return_what_torch_compile_returns(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    scale = torch.tensor([2.0, 3.0])  # a closure tensor: read at every call

    def step(x: Tensor, state: Pair, t: Tensor) -> tuple[Tensor, Pair, Tensor, Tensor, None, int]:
        y = torch.sin(x) * scale + state.a
        # two outputs always equal in value (as the engine's step counters): matched by order
        return y, Pair(y * 2, None), t + 1, t + 1.0, None, 7

    generator = torch.Generator().manual_seed(0)
    compiled = CompiledFunction(step, pure=True, dynamic=False)
    reference = torch.compile(step, dynamic=False)
    x, state, t = torch.randn(2, generator=generator), Pair(torch.zeros(2), None), torch.zeros(())
    for call in range(5):
        expected = reference(x, state, t)
        got = compiled(x, state, t)
        _assert_identical(got, expected)
        if call == 0:
            assert compiled.direct_calls == 1
            monkeypatch.setattr(compiled, "_compiled", _refuse)
        x, state, t = got[0], got[1], got[2]
        scale.mul_(0.5)  # the graph must see the new values


def test_other_arguments_get_their_own_graph() -> None:
    compiled = CompiledFunction(lambda x: (x * 2 + 1,), pure=True, dynamic=False)
    for x in (torch.ones(3), torch.ones(3), torch.ones(4), torch.ones(3, dtype=torch.float64)):
        (y,) = compiled(x)
        assert torch.equal(y, x * 2 + 1)
    assert compiled.direct_calls == 3


def test_a_function_that_returns_an_argument_keeps_going_through_torch_compile() -> None:
    compiled = CompiledFunction(lambda x, y: (x, y + 1), pure=True, dynamic=False)
    x, y = torch.ones(2), torch.zeros(2)
    for _ in range(3):
        a, b = compiled(x, y)
        assert a is x and torch.equal(b, y + 1)
    assert compiled.direct_calls == 0


def test_an_in_place_function_without_outputs_is_called_directly() -> None:
    def add_into(buffer: Tensor, value: Tensor) -> None:
        buffer.add_(value * 3)

    compiled = CompiledFunction(add_into, pure=False, dynamic=False)
    buffer, value = torch.zeros(4), torch.arange(4.0)
    for _ in range(3):
        compiled(buffer, value)
    assert compiled.direct_calls == 1
    assert torch.equal(buffer, 9 * torch.arange(4.0))


def test_an_in_place_function_that_returns_a_tensor_is_not_called_directly() -> None:
    def scaled_copy(buffer: Tensor) -> Tensor:
        buffer.mul_(2)
        return buffer + 1

    compiled = CompiledFunction(scaled_copy, pure=False, dynamic=False)
    buffer = torch.ones(2)
    for _ in range(3):
        out = compiled(buffer)
    assert compiled.direct_calls == 0
    assert torch.equal(buffer, torch.full((2,), 8.0)) and torch.equal(out, buffer + 1)


@pytest.mark.parametrize(
    "other",
    [
        (torch.ones(3, dtype=torch.float64), None),
        (torch.ones(4), None),
        (torch.ones(6)[::2], None),
        (torch.ones(3), torch.ones(1)),
        [torch.ones(3), None],
        (torch.ones(3).requires_grad_(), None),
    ],
)
def test_the_signature_tells_apart_what_a_graph_depends_on(other: object) -> None:
    base = (torch.ones(3), None)
    assert tensor_signature(base) == tensor_signature((torch.zeros(3), None))
    assert tensor_signature(base) != tensor_signature(other)
