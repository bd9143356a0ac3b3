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
from torch.utils._python_dispatch import TorchDispatchMode

from adamlab.compiled_call import CompiledFunction, DirectCall, scalars_once, tensor_signature


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


def test_for_signature_of_gives_the_direct_call_of_that_signature_only() -> None:
    compiled = CompiledFunction(lambda x: (x * 2 + 1,), pure=True, dynamic=False)
    x = torch.arange(3.0)
    assert compiled.for_signature_of(x) is compiled  # not called yet
    compiled(x)
    bound = compiled.for_signature_of(torch.zeros(3))
    assert isinstance(bound, DirectCall)
    (y,) = bound(torch.full((3,), 5.0))
    assert torch.equal(y, torch.full((3,), 11.0))
    # another shape, stride or dtype: not that graph's signature
    for other in (torch.zeros(4), torch.zeros(6)[::2], torch.zeros(3, dtype=torch.float64)):
        assert compiled.for_signature_of(other) is compiled
    # a signature whose graph is not called directly
    returns_argument = CompiledFunction(lambda x: (x,), pure=True, dynamic=False)
    returns_argument(x)
    assert returns_argument.for_signature_of(x) is returns_argument


class _Row(tuple):  # a tuple type that is not a named tuple
    __slots__ = ()


def test_the_rebuilt_result_has_the_first_results_structure_with_the_new_outputs() -> None:
    from adamlab.compiled_call import _leaves, _rebuilder

    kept = object()
    result = (0, [1, Pair(2, None)], (3,), (), _Row((4, kept)), "label")
    # leaves 0, 1, 2, 4 and 5 come from the graph (in another order), the others stay
    outputs = iter([3, 0, 4, None, 1, 2, None, None])
    assert len(_leaves(result)) == 8
    rebuilt = _rebuilder(result, outputs)(["a", "b", "c", "d", "e"])
    assert rebuilt == ("d", ["a", Pair("e", None)], ("b",), (), _Row(("c", kept)), "label")
    assert type(rebuilt[1]) is list and type(rebuilt[1][1]) is Pair
    assert type(rebuilt[4]) is _Row and rebuilt[4][1] is kept


def test_a_function_of_variable_arguments_keeps_going_through_torch_compile() -> None:
    compiled = CompiledFunction(lambda *xs: (xs[0] * 2 + xs[1],), pure=True, dynamic=False)
    x, y = torch.arange(3.0), torch.ones(3)
    for _ in range(2):
        (z,) = compiled(x, y)
        assert torch.equal(z, x * 2 + y)
    assert compiled.direct_calls == 0


def test_direct_false_sends_every_call_through_torch_compile(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    compiled = CompiledFunction(lambda x: (x * 2 + 1,), pure=True, dynamic=False, direct=False)
    x = torch.arange(3.0)
    for _ in range(3):
        (y,) = compiled(x)
        assert torch.equal(y, x * 2 + 1)
    assert compiled.direct_calls == 0
    assert compiled.for_signature_of(x) is compiled
    monkeypatch.setattr(compiled, "_compiled", _refuse)
    with pytest.raises(AssertionError):
        compiled(x)


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


def _one_adam_step_per_column(theta: Tensor, g: Tensor, m: Tensor, v: Tensor, step: Tensor):
    from adamlab.functional import adam_update
    from adamlab.functional.adam import AdamState

    lr = torch.full((theta.shape[0], 1), 1e-2, dtype=theta.dtype)
    columns = [
        adam_update(theta[:, i : i + 1], g[:, i : i + 1], AdamState(step, m[:, i : i + 1],
                    v[:, i : i + 1]), lr=lr)
        for i in range(theta.shape[1])
    ]  # fmt: skip
    return torch.cat([new for new, _ in columns], dim=1), columns[0][1].step


class _CountingHoisted(TorchDispatchMode):
    """Counts the calls of the operator that hoists a scalar (``functional._scalars.once``)."""

    calls = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):  # type: ignore[no-untyped-def]
        if func is torch.ops.adamlab.materialize.default:
            self.calls += 1
        return func(*args, **(kwargs or {}))


def test_merging_repeated_scalars_computes_each_once_and_changes_no_bit():
    """The rule applied per column computes its hoisted bias corrections once per column (two
    per column); with repeats merged the compiled step computes two in all, and every result
    is bit-identical to the step compiled without the pass and to the step run eagerly."""
    from adamlab.functional._scalars import hoisted_scalars

    args = _per_column_args()
    with hoisted_scalars():
        merged = CompiledFunction(
            _one_adam_step_per_column,
            pure=True,
            inductor_config={"post_grad_custom_post_pass": scalars_once(hoist=False)},
        )
        plain = CompiledFunction(_one_adam_step_per_column, pure=True)
        results = {}
        for name, function in (("merged", merged), ("plain", plain)):
            function(*args)  # compiles
            with _CountingHoisted() as counting:
                results[name] = function(*args)
            results[name + " calls"] = counting.calls
    assert results["plain calls"] == 2 * 3
    assert results["merged calls"] == 2
    _assert_identical(results["merged"], results["plain"])
    _assert_identical(results["merged"], _one_adam_step_per_column(*args))


def _per_column_args() -> tuple[Tensor, ...]:
    generator = torch.Generator().manual_seed(3)
    return (*(torch.randn(64, 3, dtype=torch.float64, generator=generator) for _ in range(3)),
            torch.rand(64, 3, dtype=torch.float64, generator=generator),
            torch.tensor(9.0, dtype=torch.float64))  # fmt: skip


def test_hoisting_computes_every_scalar_ahead_of_the_loops_and_changes_no_bit():
    """Hoisted, the graph computes its scalars (per step: t + 1, the bias corrections) before
    any operation on the rows, gathered into one tensor that the row operations read through
    ``select``; the results are bit-identical to the step compiled without the pass and to the
    step run eagerly."""
    graphs: list[list[tuple[str, object, int | None]]] = []

    class Recording(type(scalars_once())):  # type: ignore[misc]
        def __call__(self, graph: torch.fx.Graph) -> None:
            super().__call__(graph)
            graphs.append([(n.op, n.target, _dims(n)) for n in graph.nodes])
            self.nodes = list(graph.nodes)

    recording = Recording(True)
    hoisted = CompiledFunction(
        _one_adam_step_per_column,
        pure=True,
        # the pass runs when inductor compiles, not when its cache already has the graph
        inductor_config={"post_grad_custom_post_pass": recording, "fx_graph_cache": False},
    )
    plain = CompiledFunction(_one_adam_step_per_column, pure=True)
    args = _per_column_args()
    for _ in range(2):  # compiled, then called directly
        _assert_identical(hoisted(*args), plain(*args))
        _assert_identical(hoisted(*args), _one_adam_step_per_column(*args))
    (graph,) = graphs
    pows = [i for i, (_, target, _) in enumerate(graph) if "pow" in str(target)]
    first_row_op = next(
        i for i, (op, _, dims) in enumerate(graph) if op == "call_function" and dims
    )
    assert len(pows) == 3 and max(pows) < first_row_op  # 1 - 0.9^t, 1 - 0.999^t, its sqrt
    # the scalars gathered: a cat of 1-element views of 0-dim values
    (gathered,) = [
        node
        for node in recording.nodes
        if node.target is torch.ops.aten.cat.default
        and all(_dims(source.args[0]) == 0 for source in node.all_input_nodes)
    ]
    gathering = set(gathered.all_input_nodes)
    for node in recording.nodes:
        if node.op == "call_function" and _dims(node) and node not in gathering:
            for source in node.all_input_nodes:
                if source.op == "call_function" and _dims(source) == 0:
                    assert source.target is torch.ops.aten.select.int
                    assert source.args[0] is gathered


def _dims(node: torch.fx.Node) -> int | None:
    value = node.meta.get("val")
    return value.dim() if isinstance(value, Tensor) else None


def _same_scalar_twice(t: Tensor) -> tuple[Tensor, Tensor]:
    return (t + 1) * 2, (t + 1) * 2


def test_merging_repeated_scalars_keeps_returned_values_apart():
    """Two results computed alike stay two tensors: merged, they would share one buffer and a
    caller writing into one would change the other."""
    merged = CompiledFunction(
        _same_scalar_twice,
        pure=True,
        inductor_config={"post_grad_custom_post_pass": scalars_once()},
    )
    for _ in range(2):  # compiled, then called directly
        first, second = merged(torch.tensor(3.0))
        assert first.item() == second.item() == 8.0
        assert first.data_ptr() != second.data_ptr()
