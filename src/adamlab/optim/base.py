"""The bridge from a pure update rule (:mod:`adamlab.functional`) to ``torch.optim.Optimizer``.

A subclass names its rule and how its state maps to torch's; this base class does the
bookkeeping torch users rely on: param groups, lazily created per-parameter state under
torch's key names, the closure, skipping parameters without a gradient, never touching
``p.grad``, and hyperparameters read from ``group[...]`` at every step (so LR schedulers work).
"""

from __future__ import annotations

import copy
import functools
import inspect
from collections.abc import Callable, Iterable, Mapping
from typing import Any, ClassVar, NamedTuple

import torch
from torch import Tensor

from adamlab.optim import fused, validation

#: An update rule: ``(theta, grad, state, **hyperparameters) -> (theta, state)``.
UpdateRule = Callable[..., tuple[Tensor, Any]]
#: Key of the format marker that :meth:`FunctionalOptimizer.state_dict` adds at the top level.
#: torch.optim ignores unknown top-level keys, and a dict without it (torch's) is format 1.
FORMAT_KEY = "adamlab_format_version"
FORMAT_VERSION = 1
#: A state initialiser: ``(theta, **options) -> state``.
InitRule = Callable[..., Any]


class FunctionalOptimizer(torch.optim.Optimizer):
    """A ``torch.optim.Optimizer`` whose step calls one pure update rule per parameter.

    Subclasses set:
        init_rule / update_rule: the functional pair from :mod:`adamlab.functional`.
        state_keys: state field (paper symbol) -> torch.optim state key, e.g.
            ``{"m": "exp_avg"}``. Fields that are None are not stored, as in torch.
    and implement :meth:`validate` (and :meth:`init_options` where the state has options).
    """

    init_rule: ClassVar[InitRule]
    update_rule: ClassVar[UpdateRule]
    state_type: ClassVar[Callable[..., Any]]
    state_keys: ClassVar[Mapping[str, str]]

    def __init__(self, params: Iterable[Any], defaults: dict[str, Any]) -> None:
        self.validate(defaults)
        super().__init__(params, defaults)

    # -- what a subclass says -------------------------------------------------------------

    @classmethod
    def validate(cls, hyperparameters: Mapping[str, Any]) -> None:
        """Raise ValueError naming the argument, its value and the valid range."""
        raise NotImplementedError

    @classmethod
    def init_options(cls, group: Mapping[str, Any]) -> dict[str, Any]:
        """Keyword arguments of :attr:`init_rule` taken from a param group (default: none)."""
        return {}

    @classmethod
    def rule_hyperparameters(cls, group: Mapping[str, Any]) -> dict[str, Any]:
        """Keyword arguments of :attr:`update_rule`, read from a param group by name.

        Each keyword-only argument of the rule takes the group's value of the same name;
        ``beta1`` / ``beta2`` come from the group's ``betas`` pair (torch's layout). A key the
        group lacks (a state dict saved by an older torch) takes the rule's own default.
        Read at every step, so LR schedulers that write ``group["lr"]`` take effect.
        """
        kwargs: dict[str, Any] = {}
        for name, parameter in _keyword_parameters(cls.update_rule).items():
            if name in ("beta1", "beta2"):
                kwargs[name] = float(group["betas"][0 if name == "beta1" else 1])
            elif name in group:
                value = group[name]
                kwargs[name] = bool(value) if isinstance(parameter.default, bool) else value
            else:
                kwargs[name] = parameter.default
        return kwargs

    # -- torch.optim.Optimizer ------------------------------------------------------------

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        params = param_group["params"]
        params = [params] if isinstance(params, Tensor) else list(params)
        already = [p for group in getattr(self, "param_groups", []) for p in group["params"]]
        validation.check_no_duplicate_parameters(
            already + [p for p in params if isinstance(p, Tensor)]
        )
        validation.check_floating_point([p for p in params if isinstance(p, Tensor)])
        self.validate({**self.defaults, **param_group})
        super().add_param_group({**param_group, "params": params})

    @torch.no_grad()
    def step(self, closure: Callable[[], float] | None = None) -> float | None:  # type: ignore[override]
        """Take one optimisation step for every parameter that has a gradient.

        Args:
            closure: re-evaluates the model and returns the loss (run with grad enabled).

        Returns:
            The closure's loss, or None.
        """
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            hyperparameters = self.rule_hyperparameters(group)
            if group.get("fused"):
                self._fused_group_step(group, hyperparameters)
                continue
            for param in group["params"]:
                if param.grad is None:
                    continue
                if param.grad.is_sparse:
                    raise RuntimeError(f"{type(self).__name__} does not support sparse gradients")
                state = self._read_state(param, group)
                theta, new_state = type(self).update_rule(
                    param.detach(), param.grad, state, **hyperparameters
                )
                param.copy_(theta)
                self._write_state(param, new_state)
        return loss

    def state_dict(self) -> dict[str, Any]:
        """torch's state dict plus a format marker (which torch.optim ignores when loading)."""
        state = super().state_dict()
        state[FORMAT_KEY] = FORMAT_VERSION
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Load a state dict saved by adamlab or by the torch twin, after validating it.

        Raises ``ValueError`` naming the first mismatch: format version, number of groups or
        parameters, or a state tensor whose shape or dtype does not fit its parameter (torch
        would silently cast a float32 buffer onto a float64 parameter). The dict is deep-copied
        first, so the loaded optimizer shares no tensor with it.
        """
        _check_state_dict(self, state_dict)
        super().load_state_dict(copy.deepcopy(state_dict))

    def _fused_group_step(self, group: Mapping[str, Any], hyperparameters: dict[str, Any]) -> None:
        """The ``fused=True`` path: the same rule, compiled over the group, applied in place.

        State is created (by :attr:`init_rule`) and stored before the step, so that the compiled
        function can write every state tensor in place; see :mod:`adamlab.optim.fused`.
        """
        params, detached, grads, states = [], [], [], []
        for param in group["params"]:
            if param.grad is None:
                continue
            if param.grad.is_sparse:
                raise RuntimeError(f"{type(self).__name__} does not support sparse gradients")
            stored = self.state[param]
            state = self._read_state(param, group)
            # the compiled step writes into the stored tensors: store any field just created
            # (first step) or converted (a Python step count from an old state dict)
            if any(stored.get(key) is not getattr(state, f) for f, key in self.state_keys.items()):
                self._write_state(param, state)
            params.append(param)
            detached.append(param.detach())
            grads.append(param.grad)
            states.append(state)
        if not params:
            return
        new_states = fused.fused_step(
            type(self).update_rule, hyperparameters, detached, grads, states
        )
        for param, state, new_state in zip(params, states, new_states, strict=True):
            if new_state is not state:  # the step created a field (e.g. a momentum buffer)
                self._write_state(param, new_state)

    # -- state in torch's layout ----------------------------------------------------------

    def _read_state(self, param: Tensor, group: Mapping[str, Any]) -> Any:
        stored = self.state[param]
        if not stored:
            return type(self).init_rule(param.detach(), **self.init_options(group))
        fields = {}
        for field, key in self.state_keys.items():
            value = stored.get(key)
            if field == "step" and value is not None and not isinstance(value, Tensor):
                # state dicts from older torch versions keep the step as a Python number
                value = torch.tensor(float(value), dtype=torch.float32)
            fields[field] = value
        return self.state_type(**fields)

    def _write_state(self, param: Tensor, state: NamedTuple) -> None:
        stored = self.state[param]
        for field, key in self.state_keys.items():
            value = getattr(state, field)
            if value is not None:
                stored[key] = value


@functools.cache
def _keyword_parameters(rule: UpdateRule) -> dict[str, inspect.Parameter]:
    """The keyword-only hyperparameters of an update rule (everything after ``*``)."""
    return {
        name: parameter
        for name, parameter in inspect.signature(rule).parameters.items()
        if parameter.kind is inspect.Parameter.KEYWORD_ONLY
    }


def _check_state_dict(optimizer: FunctionalOptimizer, state_dict: Any) -> None:
    """Raise ValueError unless ``state_dict`` fits ``optimizer``'s parameters."""
    name = type(optimizer).__name__
    if not isinstance(state_dict, Mapping) or not {"state", "param_groups"} <= set(state_dict):
        raise ValueError(
            f"{name}: not an optimizer state dict (expected 'state' and 'param_groups')"
        )
    version = state_dict.get(FORMAT_KEY, FORMAT_VERSION)
    if version != FORMAT_VERSION:
        raise ValueError(
            f"{name}: unsupported state dict format version {version!r} "
            f"(this adamlab reads version {FORMAT_VERSION})"
        )
    groups, saved_groups = optimizer.param_groups, state_dict["param_groups"]
    if len(groups) != len(saved_groups):
        raise ValueError(
            f"{name}: state dict has {len(saved_groups)} parameter groups, "
            f"the optimizer {len(groups)}"
        )
    for index, (group, saved) in enumerate(zip(groups, saved_groups, strict=True)):
        if len(group["params"]) != len(saved["params"]):
            raise ValueError(
                f"{name}: parameter group {index} has {len(saved['params'])} parameters in the "
                f"state dict, {len(group['params'])} in the optimizer"
            )
        for param, saved_id in zip(group["params"], saved["params"], strict=True):
            stored = state_dict["state"].get(saved_id)
            if stored:
                _check_param_state(optimizer, param, group, stored, f"{name}: parameter {saved_id}")


def _check_param_state(
    optimizer: FunctionalOptimizer,
    param: Tensor,
    group: Mapping[str, Any],
    stored: Mapping[str, Any],
    where: str,
) -> None:
    """Each state tensor must have the shape of the fresh state; buffers the parameter's dtype."""
    fresh = type(optimizer).init_rule(param.detach(), **optimizer.init_options(group))
    for field, key in optimizer.state_keys.items():
        expected, value = getattr(fresh, field, None), stored.get(key)
        if not isinstance(expected, Tensor) or not isinstance(value, Tensor):
            continue
        if value.shape != expected.shape:
            raise ValueError(
                f"{where}: state {key!r} has shape {tuple(value.shape)}, "
                f"expected {tuple(expected.shape)} (the parameter's is {tuple(param.shape)})"
            )
        is_buffer = expected.dtype == param.dtype and expected.shape == param.shape
        if is_buffer and value.dtype != param.dtype:
            raise ValueError(
                f"{where}: state {key!r} has dtype {value.dtype}, the parameter {param.dtype}"
            )
