"""The fast path (``fused=True``): the same functional rule, compiled and applied in place.

No second copy of the math lives here. :func:`fused_step` takes the parameters of one param
group, calls the group's update rule (e.g. :func:`adamlab.functional.adam_update`) on each of
them inside one ``torch.compile``-d function, and writes the results back with ``copy_`` into the
parameter and into the state tensors that ``self.state`` holds. Inductor then turns each
parameter's update into one loop that reads theta, g, m, v and writes theta, m, v in place: no
parameter-sized temporaries, one pass over memory, as torch's own fused kernel.

How one step reaches the compiled code:

* a chunk's tensors travel as one flat list ``[lr, theta_0, g_0, state fields of 0..., theta_1,
  ...]`` (1-D views of contiguous tensors; 0-dim float64 ones as 1-element views, viewed
  back inside the graph, see :func:`_flat`), described by a :class:`_Signature`: the rule, its
  constant hyperparameters, which state fields each parameter has, and each tensor's dtype,
  device and layout (:func:`_layout`: sizes are dynamic, so chunks whose sizes differ but are
  equal where equal share a signature);
* the first step of a signature runs through ``torch.compile`` (dynamo traces the rule,
  inductor compiles it); a backend that wraps inductor's keeps the compiled graph and where
  each of its inputs comes from in the flat list (:mod:`adamlab.compiled_call`);
* every later step of the signature calls that compiled graph directly
  (:class:`~adamlab.compiled_call.DirectCall`), without dynamo's per-call work (its guards
  on every tensor, the frame wrapper), which outweighed the step itself on small tensors
  (docs/performance.md). The signature is what those guards checked, so the graph only ever
  sees inputs of the kind it was compiled for. A signature whose graph cannot be called that
  way (a step that creates a state field, e.g. SGD's first momentum buffer, or a graph that
  fixed a size) keeps going through ``torch.compile``, guards and all.

What keeps the compiled graph cheap:

* a group's parameters are cut into chunks of at most :data:`MAX_TENSORS_PER_GRAPH`, of at most
  two different lengths, so a model with many parameters compiles a few graphs, not one per
  parameter;
* per-tensor scalars such as ``lr / (1 - beta1^t)`` are computed once per call, not once per
  element (:func:`adamlab.functional._scalars.hoisted_scalars`), in chunks of large tensors
  (:data:`HOIST_FROM_ELEMENTS`);
* the learning rate is a 0-dim float64 tensor *input* read from ``group["lr"]`` at every step
  (LR schedulers work without recompiling); the step counter is a state tensor and the bias
  corrections are computed from it inside the graph (see ``functional._scalars``);
* the other hyperparameters (betas, eps, weight decay, flags) are constants of the graph: a
  change of one of them compiles a new graph, once.
"""

from __future__ import annotations

import math
import re
import types
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

import torch
from torch import Tensor

from adamlab.compiled_call import Captured, DirectCall, compile_and_capture, direct_call
from adamlab.functional._scalars import hoisted_scalars

#: The most parameters one compiled graph updates. Larger graphs cut the per-call overhead
#: (the Python wrapper is paid once per chunk) but compile for longer.
MAX_TENSORS_PER_GRAPH = 32

#: From this many elements per parameter (on average over a chunk) the compiled step computes
#: its scalars once per tensor (:func:`hoisted_scalars`): that costs two operator calls per
#: tensor (~16 us), inlining them costs ~5 ns per element (measured with one float32 tensor,
#: `Adam(fused=True).step()`: 56 against 72 us per step at 1e3 elements, 104 against 76 us at
#: 1e4). The results are the same bits either way (tests/test_fused.py).
HOIST_FROM_ELEMENTS = 4096


#: A graph input as dynamo names it: one tensor of the flat list, or the size of one of its
#: dimensions (a dynamic shape).
_INPUT_NAME = re.compile(r"L\['flat'\]\[(\d+)\](?:\.size\(\)\[(\d+)\])?")


class _Signature(NamedTuple):
    """Everything the compiled graph of one chunk depends on."""

    rule: Callable[..., Any]
    constants: tuple[tuple[str, Any], ...]
    state_type: type
    #: per parameter, which state fields are tensors (the others are None)
    presence: tuple[tuple[bool, ...], ...]
    #: positions in the flat list of the 0-dim tensors passed in as 1-element views (see
    #: :func:`_flat`)
    scalars: tuple[int, ...]
    #: per tensor of the flat list: what the graph may rely on (see :func:`_layout`)
    tensors: tuple[tuple[Any, ...], ...]
    #: whether the step's scalars are computed once per tensor (see :data:`HOIST_FROM_ELEMENTS`)
    hoist: bool


class _Compiled(NamedTuple):
    """What one signature runs: the graph called directly, or else torch.compile's function."""

    graph: DirectCall | None
    function: Callable[[list[Tensor]], list[tuple[Tensor | None, ...]]]


_COMPILED: dict[_Signature, _Compiled] = {}


def _step_over_flat_list(
    rule: Callable[..., tuple[Tensor, Any]],
    constants: Mapping[str, Any],
    state_type: Callable[..., Any],
    presence: Sequence[Sequence[bool]],
    scalars: Sequence[int],
) -> Callable[[list[Tensor]], list[tuple[Tensor | None, ...]]]:
    """A function that applies ``rule`` in place to every parameter of a flat list.

    It returns, per parameter, the state fields that the rule created (None before the step, a
    tensor after it, e.g. SGD's momentum buffer on the first step): those cannot be written in
    place, so the caller stores them.
    """

    def step(flat: list[Tensor]) -> list[tuple[Tensor | None, ...]]:
        flat = list(flat)
        for position in scalars:
            flat[position] = flat[position].view(())
        lr, position, created = flat[0], 1, []
        for present in presence:
            theta, grad = flat[position], flat[position + 1]
            position += 2
            fields = []
            for has in present:
                fields.append(flat[position] if has else None)
                position += has
            state = state_type(*fields)
            new_theta, new_state = rule(theta, grad, state, lr=lr, **constants)
            theta.copy_(new_theta)
            for old, new in zip(state, new_state, strict=True):
                if old is not None and new is not None:
                    old.copy_(new)
            created.append(
                tuple(
                    new if old is None else None for old, new in zip(state, new_state, strict=True)
                )
            )
        return created

    return step


def _sizes_stay_open(graph: Captured, layout: Sequence[tuple[Any, ...]]) -> bool:
    """Whether the graph left open every size that :func:`_layout` leaves open.

    Dynamo may fix a size it was asked to keep dynamic (if the traced code depended on its
    value); such a graph is only valid for that size, so it cannot serve the whole layout.
    """
    for source, example in zip(graph.sources, graph.examples, strict=True):
        match = _INPUT_NAME.fullmatch(source)
        if match is None:
            return False
        index, dim = int(match[1]), match[2]
        if (
            dim is None
            and len(layout[index]) == 3
            and not isinstance(example.shape[0], torch.SymInt)
        ):
            return False
    return True


def _compile(signature: _Signature, flat: list[Tensor]) -> tuple[_Compiled, list[Any]]:
    """Compile ``signature``'s step and run it once on ``flat``: (what later steps run, result)."""
    step = _step_over_flat_list(
        signature.rule,
        dict(signature.constants),
        signature.state_type,
        signature.presence,
        signature.scalars,
    )
    # a fresh code object per signature: dynamo keeps its graphs (and their guards) on the
    # code object, so no signature can ever run another one's graph or use up its recompile
    # limit
    fresh = types.FunctionType(
        step.__code__.replace(), step.__globals__, "step", None, step.__closure__
    )
    function, captured = compile_and_capture(fresh, dynamic=True, fullgraph=True)
    # floats of the closure (betas, eps) become constants of the graph, not inputs
    with hoisted_scalars(signature.hoist), torch._dynamo.config.patch(specialize_float=True):
        created = function(flat)
    graph = None
    if len(captured) == 1 and _sizes_stay_open(captured[0], signature.tensors):
        # the step writes into its arguments: a direct call only where it creates no field
        graph = direct_call(fresh, captured, [flat], created, pure=False)
    return _Compiled(graph, function), created


def _flat(tensor: Any) -> Any:
    """A 1-D view of a contiguous tensor, and a 0-dim float64 tensor as a 1-element view (other
    tensors unchanged).

    A 0-dim float64 tensor goes into the graph as a 1-element view, and the graph views it
    back (:func:`_step_over_flat_list`): with torch 2.13, a compiled function's write
    (``copy_``) into a 0-dim float64 CPU tensor *argument* is silently lost (float32, float16,
    bfloat16 and int64 ones keep theirs, as do 1-element ones), which froze the step counter
    of a float64 state and every 0-dim float64 parameter (``tests/test_fused.py``).
    """
    if tensor is None or tensor.dim() == 1 or not tensor.is_contiguous():
        return tensor
    if tensor.dim() == 0 and tensor.dtype != torch.float64:
        return tensor
    return tensor.view(-1)


def chunk_sizes(count: int, limit: int = MAX_TENSORS_PER_GRAPH) -> list[int]:
    """Cut ``count`` tensors into the fewest chunks of at most ``limit``, of at most two sizes.

    >>> chunk_sizes(100), chunk_sizes(3)
    ([25, 25, 25, 25], [3])
    """
    if count == 0:
        return []
    chunks = math.ceil(count / limit)
    small, extra = divmod(count, chunks)
    return [small + 1] * extra + [small] * (chunks - extra)


def _layout(flat: Sequence[Tensor]) -> tuple[tuple[Any, ...], ...]:
    """Per tensor, what a graph compiled with dynamic shapes relies on.

    A 1-D contiguous tensor of 2 or more elements is described by its dtype, device and the
    number of its size among the chunk's distinct sizes (0 for the first size seen, 1 for the
    next...): dynamo gives each distinct size one symbol and guards on which sizes are equal,
    nothing else, so every chunk with the same description can run the same graph. Other
    tensors (0-dim, 1 element, strided) are described exactly: dtype, device, shape, strides.
    """
    sizes: dict[int, int] = {}
    layout: list[tuple[Any, ...]] = []
    for tensor in flat:
        if tensor.dim() == 1 and tensor.shape[0] > 1 and tensor.stride(0) == 1:
            layout.append(
                (tensor.dtype, tensor.device, sizes.setdefault(tensor.shape[0], len(sizes)))
            )
        else:
            layout.append((tensor.dtype, tensor.device, tensor.shape, tensor.stride()))
    return tuple(layout)


def _run_chunk(
    rule: Callable[..., tuple[Tensor, Any]],
    constants: tuple[tuple[str, Any], ...],
    params: Sequence[Tensor],
    grads: Sequence[Tensor],
    states: Sequence[NamedTuple],
    lr: Tensor,
) -> list[tuple[Tensor | None, ...]] | None:
    """One step of one chunk; the fields the step created, per parameter (None: none)."""
    flat = [lr]
    presence: list[tuple[bool, ...]] = []
    scalars: list[int] = []

    def append(tensor: Tensor, passed: Tensor) -> None:
        if passed.dim() > tensor.dim():  # a 0-dim one as 1 element (see _flat)
            scalars.append(len(flat))
        flat.append(passed)

    for param, grad, state in zip(params, grads, states, strict=True):
        theta = _flat(param)
        append(param, theta)
        append(grad, grad if grad.shape == theta.shape else grad.reshape(theta.shape))
        for field in state:
            if field is not None:
                append(field, _flat(field))
        presence.append(tuple(field is not None for field in state))
    signature = _Signature(
        rule,
        constants,
        type(states[0]),
        tuple(presence),
        tuple(scalars),
        _layout(flat),
        sum(param.numel() for param in params) >= HOIST_FROM_ELEMENTS * len(params),
    )
    compiled = _COMPILED.get(signature)
    if compiled is None:
        compiled, created = _compile(signature, flat)
        _COMPILED[signature] = compiled
        return created
    if compiled.graph is not None:
        compiled.graph(flat)
        return None  # a graph called directly creates no field (see _compile)
    with hoisted_scalars(signature.hoist):
        return compiled.function(flat)


def fused_step(
    rule: Callable[..., tuple[Tensor, Any]],
    hyperparameters: Mapping[str, Any],
    params: Sequence[Tensor],
    grads: Sequence[Tensor],
    states: Sequence[NamedTuple],
) -> list[NamedTuple]:
    """One compiled, in-place step of ``rule`` for ``params`` (all with a gradient).

    Args:
        rule: the functional update rule.
        hyperparameters: its keyword arguments; ``lr`` becomes a tensor input of the graph,
            the others are constants of it.
        params: the parameters (detached); updated in place.
        grads: their gradients, never modified.
        states: their states; every tensor field is updated in place.

    Returns:
        The states after the step: ``states`` with any field the rule created filled in.
    """
    constants = tuple(sorted((k, v) for k, v in hyperparameters.items() if k != "lr"))
    lr = hyperparameters["lr"]
    lr_tensor = (
        lr.detach().to(torch.float64).reshape(())
        if isinstance(lr, Tensor)
        else torch.scalar_tensor(float(lr), dtype=torch.float64)
    )
    results: list[NamedTuple] = list(states)
    start = 0
    for size in chunk_sizes(len(params)):
        stop = start + size
        created = _run_chunk(
            rule, constants, params[start:stop], grads[start:stop], states[start:stop], lr_tensor
        )
        for index, new_fields in enumerate(created or ()):
            if any(new is not None for new in new_fields):
                param, state = params[start + index], states[start + index]
                fields = [
                    old if new is None else new.view_as(param) if new.dim() else new
                    for old, new in zip(state, new_fields, strict=True)
                ]
                results[start + index] = state._make(fields)
        start = stop
    return results
