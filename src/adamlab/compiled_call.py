"""A ``torch.compile``-d function whose later calls skip dynamo and run the compiled graph.

Every call of a ``torch.compile``-d function passes through dynamo: it evaluates the guards of
the cached graphs (one check per tensor argument and per constant the trace depended on), then
runs the graph through a frame wrapper. On the small tensors of the fast optimizer path and
of the benchmark engine that costs as much as the work itself (docs/performance.md). Here the
first call of a function goes through ``torch.compile`` as usual, with a backend that wraps
inductor's and keeps the compiled graph (:func:`compile_and_capture`); later calls run the
graph directly (:class:`DirectCall`), with the inputs picked out of the arguments where
dynamo's trace read them, and the outputs put back into the structure the function returns.

What stands in for dynamo's guards is the caller's promise, checked where it is cheap:

* the caller keys each :class:`DirectCall` by everything the graph depends on in its
  arguments (:func:`tensor_signature` gives dtype, device, shape and strides of every tensor,
  and the structure around them), and calls it only with arguments of that key;
* the function's closure and the globals it reads stay the same for the life of the call
  (the fast optimizer path and the engine build one function per configuration; tensors
  *inside* the closure may change value, they are read at every call);
* a graph is used only if every one of its inputs comes from the arguments or the closure,
  and the function's result holds exactly the graph's outputs, in order (checked for a pure
  function on values, by a second run of the graph on the first call's inputs).
Anything else keeps going through ``torch.compile``, guards and all.
"""

from __future__ import annotations

import functools
import inspect
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, NamedTuple, cast

import torch
from torch import Tensor
from torch.utils import _pytree as pytree


class Captured(NamedTuple):
    """One graph that inductor compiled, with dynamo's names of its inputs."""

    run: Callable[..., Any]
    #: per graph input, the Python expression (dynamo's "source") it was read from, in terms of
    #: ``L``, the function's arguments and closure variables by name
    sources: tuple[str, ...]
    #: per graph input, the value it was traced with (a fake tensor with its symbolic sizes)
    examples: tuple[Any, ...]
    #: how many values the graph returns
    outputs: int


def compile_and_capture(
    function: Callable[..., Any],
    *,
    inductor_config: Mapping[str, Any] | None = None,
    **options: Any,
) -> tuple[Callable[..., Any], list[Captured]]:
    """``torch.compile(function, **options)`` with inductor, and the list its graphs go into.

    ``inductor_config``: settings of ``torch._inductor.config`` for these graphs only (what
    ``torch.compile``'s ``options`` does for its own inductor backend).
    """
    captured: list[Captured] = []
    patches = dict(inductor_config or {})

    def inductor_keeping_the_graph(graph_module: torch.fx.GraphModule, example_inputs: Any) -> Any:
        # imported here, when compiling: importing inductor warns (a TorchScript helper)
        from torch._inductor.compile_fx import compile_fx

        # read before compiling: dynamo drops this metadata once its backend has returned
        sources, examples = [], []
        for node in graph_module.graph.find_nodes(op="placeholder"):
            name = getattr(getattr(node.meta.get("grapharg"), "source", None), "name", None)
            sources.append(str(name() if callable(name) else name))
            examples.append(node.meta.get("example_value"))
        (returned,) = graph_module.graph.find_nodes(op="output")[0].args
        run = cast(
            Callable[..., Any], compile_fx(graph_module, example_inputs, config_patches=patches)
        )
        captured.append(Captured(run, tuple(sources), tuple(examples), len(returned)))
        return run

    return torch.compile(function, backend=inductor_keeping_the_graph, **options), captured


def scalars_once(*, hoist: bool = True) -> Any:
    """An inductor graph pass: compute the graph's scalars once per call, apart from its loops.

    Code that applies one update rule to several tensors in one graph (the engine stepping a
    batch column by column, K steps per call: ``adamlab.bench.engine``) computes the rule's
    per-step scalars (t + 1, the bias corrections ``1 - beta^t``) once per tensor and step.
    Left to itself, inductor inlines each such 0-dim expression into every loop that reads
    it. The pass:

    1. merges repeats: a pure 0-dim operation on the same inputs as an earlier one is
       replaced by it (a value the graph returns is never replaced: two results would share
       a buffer; its repeats merge into it);
    2. with ``hoist``, gathers every 0-dim value that depends only on 0-dim inputs and that a
       larger operation reads into one ``cat`` per dtype, placed before anything else, and
       has the larger operations read their value from it. On CPU inductor computes a ``cat``
       into a buffer of its own (``ConcatKernel``), so every scalar of the call is computed
       once, ahead of the loops over the rows, whatever the number of scalars; hoisting each
       through an operator of its own (``functional._scalars.once``) costs two calls per
       scalar.

    Only where each value is computed changes: the operations, their order and their inputs
    stay the same, so the results are bit-identical.
    Use: ``inductor_config={"post_grad_custom_post_pass": scalars_once()}``.
    """
    return _scalars_once_pass()(hoist)


@functools.cache
def _scalars_once_pass() -> type:
    # imported here, when compiling: importing inductor's pass interface takes ~1 s
    from torch._inductor.custom_graph_pass import CustomGraphPass, get_hash_for_files

    class ScalarsOnce(CustomGraphPass):
        def __init__(self, hoist: bool) -> None:
            self.hoist = hoist

        def __call__(self, graph: torch.fx.Graph) -> None:
            _merge_repeated_scalars(graph)
            if self.hoist:
                _hoist_scalars(graph)

        def uuid(self) -> Any:
            # inductor's cache of compiled graphs keys on this: a change to this file renews it
            return (get_hash_for_files((__file__,)), self.hoist)

    return ScalarsOnce


def _is_scalar(node: torch.fx.Node) -> bool:
    value = node.meta.get("val")
    return isinstance(value, Tensor) and value.dim() == 0


def _is_pure_scalar_op(node: torch.fx.Node) -> bool:
    return node.op == "call_function" and _is_scalar(node) and not node.is_impure(True)


def _merge_repeated_scalars(graph: torch.fx.Graph) -> None:
    first: dict[Any, torch.fx.Node] = {}
    returned = set(graph.output_node().all_input_nodes)
    for node in list(graph.nodes):
        if not _is_pure_scalar_op(node):
            continue
        # arguments refer to earlier nodes, already merged: equal keys, equal values
        key = (node.target, node.args, tuple(sorted(node.kwargs.items())))
        try:
            kept = first.setdefault(key, node)
        except TypeError:  # an argument that cannot be part of a key
            continue
        if kept is not node and node not in returned:
            node.replace_all_uses_with(kept)
            graph.erase_node(node)


#: nodes that read no other node: the graph's inputs and its constants
_LEAVES = ("placeholder", "get_attr")


def _hoist_scalars(graph: torch.fx.Graph) -> None:
    """Step 2 of :func:`scalars_once`."""
    # the scalar part of the graph, in graph order: pure 0-dim operations on 0-dim inputs and
    # constants (a dict as an ordered set)
    scalar: dict[torch.fx.Node, None] = {}
    for node in graph.nodes:
        if _is_pure_scalar_op(node) and all(
            source in scalar or (source.op in _LEAVES and _is_scalar(source))
            for source in node.all_input_nodes
        ):
            scalar[node] = None
    # the values the rest of the graph reads (what the output alone reads stays as it is)
    read = [
        node
        for node in scalar
        if any(user.op == "call_function" and user not in scalar for user in node.users)
    ]
    if not read:
        return
    # the scalar part moves ahead of the rest (its inputs come first: placeholders, constants)
    rest = next(node for node in graph.nodes if node.op not in _LEAVES and node not in scalar)
    for node in list(graph.nodes):
        if node.op == "get_attr" and _is_scalar(node) and any(u in scalar for u in node.users):
            rest.prepend(node)
    for node in scalar:
        rest.prepend(node)
    groups: dict[tuple[torch.dtype, torch.device], list[torch.fx.Node]] = {}
    for node in read:
        value = node.meta["val"]
        groups.setdefault((value.dtype, value.device), []).append(node)
    for nodes in groups.values():
        values = [node.meta["val"] for node in nodes]
        with graph.inserting_before(rest):
            # stack, as inductor takes it after decompositions: a cat of 1-element views
            ones = [graph.call_function(torch.ops.aten.unsqueeze.default, (n, 0)) for n in nodes]
            stacked = graph.call_function(torch.ops.aten.cat.default, (ones,))
            elements = [
                graph.call_function(torch.ops.aten.select.int, (stacked, 0, i))
                for i in range(len(nodes))
            ]
        with values[0].fake_mode:
            for one, value in zip(ones, values, strict=True):
                one.meta["val"] = value.unsqueeze(0)
            stacked.meta["val"] = torch.stack(values)
        for node, element, value in zip(nodes, elements, values, strict=True):
            element.meta["val"] = value
            for user in list(node.users):
                if user.op == "call_function" and user not in scalar and user not in ones:
                    user.replace_input_with(node, element)


def tensor_signature(args: Any) -> Any:
    """What a graph depends on in ``args``: their structure (tuples, lists, named tuples,
    dicts), and per tensor its dtype, device, shape, strides and ``requires_grad`` (other
    values as they are). Hashable; cheaper than a pytree spec to build and to hash."""
    if isinstance(args, Tensor):
        return (args.dtype, args.device, args.shape, args.stride(), args.requires_grad)
    if isinstance(args, tuple | list):
        return (type(args), *(tensor_signature(item) for item in args))
    if isinstance(args, dict):
        return (dict, *((key, tensor_signature(value)) for key, value in args.items()))
    return args


class DirectCall:
    """Runs a captured graph as ``function(*args)`` would, without dynamo (see module doc)."""

    def __init__(
        self,
        function: Callable[..., Any],
        captured: Captured,
        result: Any,
        outputs: Sequence[int | None],
    ) -> None:
        self._run = captured.run
        # dynamo's sources are Python expressions over L, the frame's names (that is how its
        # guards read them): L['x'] becomes the argument's position, or the closure
        # variable's value, in one generated function of the arguments
        positions = {name: i for i, name in enumerate(inspect.signature(function).parameters)}
        closure = function.__closure__ or ()
        values = {
            f"_{name}": cell.cell_contents
            for name, cell in zip(function.__code__.co_freevars, closure, strict=True)
        }

        def local(match: re.Match[str]) -> str:
            name = match[1]
            return f"args[{positions[name]}]" if name in positions else f"_{name}"

        sources = ", ".join(_FRAME_NAME.sub(local, source) for source in captured.sources)
        self._inputs = cast(
            Callable[[Sequence[Any]], list[Any]], eval(f"lambda args: [{sources}]", values)
        )
        self._any_output = any(index is not None for index in outputs)
        # kept only where it is what every call returns (no tensor in it)
        self._result = None if self._any_output else result
        self._rebuild = _rebuilder(result, iter(outputs))

    def __call__(self, *args: Any) -> Any:
        graph_outputs = self._run(*self._inputs(args))
        if not self._any_output:
            return self._result  # no tensor in it: the first call's result, as it was
        return self._rebuild(graph_outputs)


def direct_call(
    function: Callable[..., Any],
    captured: Sequence[Captured],
    args: Sequence[Any],
    result: Any,
    *,
    pure: bool,
) -> DirectCall | None:
    """A :class:`DirectCall` for the graph the first call ``function(*args) -> result`` ran.

    Args:
        function: the function as written (not the compiled one).
        captured: the graphs compiled during that call (one, or the call cannot be replayed).
        args: the call's arguments.
        result: what the compiled function returned.
        pure: the function does not modify its arguments, so its graph may run a second time
            on them to match its outputs to ``result`` by value. An impure function qualifies
            only if it returns no tensor.

    Returns:
        The direct call, or None where the graph cannot stand in for the function.
    """
    if len(captured) != 1 or any(
        parameter.kind not in (parameter.POSITIONAL_ONLY, parameter.POSITIONAL_OR_KEYWORD)
        for parameter in inspect.signature(function).parameters.values()
    ):
        return None  # several graphs, or arguments not all by position (*args, keywords)
    graph = captured[0]
    leaves = _leaves(result)
    tensors = [i for i, leaf in enumerate(leaves) if isinstance(leaf, Tensor)]
    if any(
        isinstance(x, Tensor)
        for i, leaf in enumerate(leaves)
        if i not in tensors
        for x in pytree.tree_leaves(leaf)
    ):
        return None  # a tensor inside a structure other than tuples and lists
    if len(tensors) != graph.outputs:
        return None
    candidate = DirectCall(function, graph, result, [None] * len(leaves))
    try:
        inputs = candidate._inputs(args)
    except Exception:  # a source that is not an argument or a closure variable
        return None
    if any(not isinstance(x, Tensor | int | float | bool) for x in inputs):
        return None
    if not tensors:
        return candidate
    argument_tensors = {id(x) for x in pytree.tree_leaves(list(args)) if isinstance(x, Tensor)}
    if not pure or any(id(leaves[i]) in argument_tensors for i in tensors):
        return None
    # dynamo returns the tensors of the result in the order it meets them (that of _leaves); the
    # replay checks that on values, so a graph is never trusted on the order alone
    replayed = graph.run(*inputs)
    if not all(_same(out, leaves[i]) for out, i in zip(replayed, tensors, strict=True)):
        return None
    outputs: list[int | None] = [None] * len(leaves)
    for position, i in enumerate(tensors):
        outputs[i] = position
    return DirectCall(function, graph, result, outputs)


#: a name of the frame in a dynamo source: ``L['x']``
_FRAME_NAME = re.compile(r"L\['([A-Za-z_][A-Za-z0-9_]*)'\]")


def _leaves(value: Any) -> list[Any]:
    """The leaves of ``value`` through tuples and lists (named tuples included), in order."""
    if isinstance(value, tuple | list):
        return [leaf for item in value for leaf in _leaves(item)]
    return [value]


def _rebuilder(value: Any, outputs: Iterator[int | None]) -> Callable[[Sequence[Any]], Any]:
    """A function of the graph's outputs that builds a result shaped like ``value``.

    ``outputs`` gives, leaf by leaf in the order of :func:`_leaves`, the graph output that
    replaces the leaf (None: the leaf stays as it is). The function is one Python expression,
    generated once (a call of the engine's step rebuilds about a dozen values: built from
    nested closures, that took about a microsecond of a call costing tens).
    """
    names: dict[str, Any] = {}

    def named(thing: Any) -> str:
        name = f"_{len(names)}"
        names[name] = thing
        return name

    def expression(value: Any) -> str:
        if isinstance(value, tuple | list):
            items = "".join(f"{expression(item)}, " for item in value)
            if type(value) is list:
                return f"[{items}]"
            if type(value) is tuple:
                return f"({items})"
            if hasattr(value, "_fields"):  # a named tuple
                return f"{named(type(value))}({items})"
            return f"{named(type(value))}(({items}))"
        index = next(outputs)
        return named(value) if index is None else f"o[{index}]"

    return cast(Callable[[Sequence[Any]], Any], eval("lambda o: " + expression(value), names))


def _same(a: Any, b: Tensor) -> bool:
    return (
        isinstance(a, Tensor)
        and a.dtype == b.dtype
        and a.shape == b.shape
        and bool(torch.equal(a, b) or (a.is_floating_point() and torch.allclose(a, b, 0, 0, True)))
    )


class CompiledFunction:
    """``torch.compile(function, **options)``, run directly after the first call of each kind.

    The first call with each :func:`tensor_signature` of the arguments goes through
    ``torch.compile``; if that call compiled one graph that can stand in for the function
    (:func:`direct_call`), later calls with the same signature run it directly.

    Args:
        function: the function; its closure and the globals it reads must not change.
        pure: it does not modify its arguments (see :func:`direct_call`).
        inductor_config: settings of ``torch._inductor.config`` for its graphs.
        direct: False: every call goes through ``torch.compile``, guards and all (to compare
            the direct calls with).
        options: ``torch.compile``'s keyword arguments.
    """

    def __init__(
        self,
        function: Callable[..., Any],
        *,
        pure: bool,
        inductor_config: Mapping[str, Any] | None = None,
        direct: bool = True,
        **options: Any,
    ) -> None:
        self._function = function
        self._pure = pure
        self._direct_calls_on = direct
        self._compiled, self._captured = compile_and_capture(
            function, inductor_config=inductor_config, **options
        )
        self._direct: dict[Any, DirectCall | None] = {}

    def __call__(self, *args: Any) -> Any:
        if not self._direct_calls_on:
            return self._compiled(*args)
        key = tensor_signature(args)
        try:
            direct = self._direct.get(key)
        except TypeError:  # an argument that cannot be part of a key: no direct call
            return self._compiled(*args)
        if direct is not None:
            return direct(*args)
        if key in self._direct:  # a signature whose graph cannot be called directly
            return self._compiled(*args)
        self._captured.clear()
        result = self._compiled(*args)
        self._direct[key] = direct_call(
            self._function, self._captured, args, result, pure=self._pure
        )
        return result

    def for_signature_of(self, *args: Any) -> Callable[..., Any]:
        """What a call with ``args`` runs: the :class:`DirectCall` of their signature, or this
        function where that signature has none (not called yet, or not callable directly).

        For a caller whose later calls all have the signature of ``args``, such as a loop that
        feeds a call's outputs into the next one (a graph returns tensors of the same shapes
        and strides every time): it then skips :func:`tensor_signature` on every call, a few
        microseconds where a call of the engine's step costs tens.
        """
        try:
            direct = self._direct.get(tensor_signature(args))
        except TypeError:
            return self
        return self if direct is None else direct

    @property
    def direct_calls(self) -> int:
        """How many argument signatures run their graph directly."""
        return sum(direct is not None for direct in self._direct.values())
