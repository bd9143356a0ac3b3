"""The fast path (``fused=True``): the same functional rule, compiled and applied in place.

No second copy of the math lives here. :func:`fused_step` takes the parameters of one param
group, calls the group's update rule (e.g. :func:`adamlab.functional.adam_update`) on each of
them inside one ``torch.compile``-d function, and writes the results back with ``copy_`` into the
parameter and into the state tensors that ``self.state`` holds. Inductor then turns each
parameter's update into one loop that reads theta, g, m, v and writes theta, m, v in place: no
parameter-sized temporaries, one pass over memory, as torch's own fused kernel.

What keeps the compiled graph from being rebuilt:

* tensors are passed flattened to 1-D and compiled with dynamic shapes, so one graph serves
  every parameter size;
* a group's parameters are cut into chunks of at most :data:`MAX_TENSORS_PER_GRAPH`, of at most
  two different lengths, so a model with many parameters compiles one or two graphs, not one
  per parameter;
* per-tensor scalars such as ``lr / (1 - beta1^t)`` are computed once per call, not once per
  element (:func:`adamlab.functional._scalars.hoisted_scalars`);
* the learning rate is a 0-dim float64 tensor *input* read from ``group["lr"]`` at every step
  (LR schedulers work without recompiling); the step counter is a state tensor and the bias
  corrections are computed from it inside the graph (see ``functional._scalars``);
* the other hyperparameters (betas, eps, weight decay, flags) are constants of the graph: a
  change of one of them compiles a new graph, once.

Each (rule, constant hyperparameters) pair gets its own copy of the compiled function's code
object, so dynamo's per-code-object recompile limit and guard list are per pair.
"""

from __future__ import annotations

import math
import types
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

import torch
from torch import Tensor

from adamlab.functional._scalars import hoisted_scalars

#: The most parameters one compiled graph updates. Larger graphs cut the per-call overhead
#: (dynamo's guards and the Python wrapper are paid once per chunk) but compile for longer.
MAX_TENSORS_PER_GRAPH = 32

_COMPILED: dict[tuple[Any, ...], Callable[..., Any]] = {}


def _apply_in_place(
    rule: Callable[..., tuple[Tensor, Any]],
    hyperparameters: Mapping[str, Any],
    thetas: Sequence[Tensor],
    grads: Sequence[Tensor],
    states: Sequence[NamedTuple],
    lr: Tensor,
) -> list[tuple[Tensor | None, ...]]:
    """Update every parameter in place with ``rule``; return state fields the rule created.

    A field that was None before the step and is a tensor after it (e.g. SGD's momentum buffer
    on the first step) cannot be written in place, so it is returned for the caller to store.
    """
    created = []
    for theta, grad, state in zip(thetas, grads, states, strict=True):
        new_theta, new_state = rule(theta, grad, state, lr=lr, **hyperparameters)
        theta.copy_(new_theta)
        for old, new in zip(state, new_state, strict=True):
            if old is not None and new is not None:
                old.copy_(new)
        created.append(
            tuple(new if old is None else None for old, new in zip(state, new_state, strict=True))
        )
    return created


def _compiled(rule: Callable[..., Any], hyperparameters: Mapping[str, Any]) -> Callable[..., Any]:
    """The compiled :func:`_apply_in_place` for ``rule`` with constant ``hyperparameters``."""
    key = (rule, tuple(sorted(hyperparameters.items())))
    compiled = _COMPILED.get(key)
    if compiled is None:
        # a fresh code object per key: dynamo keeps its graphs (and their guards) on the code
        # object, so no key can ever run another key's graph or use up its recompile limit
        code = _apply_in_place.__code__.replace()
        function = types.FunctionType(code, _apply_in_place.__globals__, "_apply_in_place")
        compiled = torch.compile(function, dynamic=True, fullgraph=True)
        _COMPILED[key] = compiled
    return compiled


def _flat(tensor: Any) -> Any:
    """A 1-D view of a contiguous tensor (0-dim tensors and non-contiguous ones unchanged)."""
    if tensor is None or tensor.dim() == 0 or not tensor.is_contiguous():
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
    constants = {name: value for name, value in hyperparameters.items() if name != "lr"}
    lr = hyperparameters["lr"]
    lr_tensor = (
        lr.detach().to(torch.float64).reshape(())
        if isinstance(lr, Tensor)
        else torch.tensor(float(lr), dtype=torch.float64)
    )
    compiled = _compiled(rule, constants)
    results: list[NamedTuple] = []
    start = 0
    for size in chunk_sizes(len(params)):
        stop = start + size
        chunk_states = states[start:stop]
        flat_states = [type(s)(*(_flat(field) for field in s)) for s in chunk_states]
        flat_params = [_flat(p) for p in params[start:stop]]
        flat_grads = [
            g.reshape(p.shape) for g, p in zip(grads[start:stop], flat_params, strict=True)
        ]
        with hoisted_scalars():
            created = compiled(rule, constants, flat_params, flat_grads, flat_states, lr_tensor)
        for param, state, new_fields in zip(params[start:stop], chunk_states, created, strict=True):
            fields = [
                old if new is None else new.view_as(param) if new.dim() else new
                for old, new in zip(state, new_fields, strict=True)
            ]
            results.append(type(state)(*fields))
        start = stop
    return results
