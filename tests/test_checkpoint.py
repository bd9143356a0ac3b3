"""Optimizer checkpoints: save mid-training, load into a new optimizer, continue identically.

A checkpoint is ``torch.save(optimizer.state_dict())`` read back with
``torch.load(..., weights_only=True)`` (no pickle of arbitrary objects). ``load_state_dict``
refuses a dict that does not fit (group/parameter count, shape, dtype, format version) with a
ValueError naming the mismatch, and deep-copies what it loads.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import torch
from torch import Tensor

from adamlab.optim import OPTIMIZERS
from adamlab.optim.base import FORMAT_KEY, FORMAT_VERSION
from adamlab.verify import PROBLEMS, clone_params, take_step

MLP = PROBLEMS["mlp"]
STEPS = 20
#: Optimizers whose state holds a float32 scalar beside float64 buffers (NAdam's
#: ``mu_product``). torch.optim's ``load_state_dict`` casts it to the parameter's dtype, and
#: adamlab loads the same way so state dicts move both ways (tests/test_optim_contract.py), so
#: after a resume the product is carried in float64: the trajectory then differs from the
#: uninterrupted one in the last bit, exactly as torch.optim.NAdam's does.
CAST_ON_LOAD = {"nadam"}


def _tensors(state_dict: dict[str, Any]) -> list[Tensor]:
    return [v for s in state_dict["state"].values() for v in s.values() if isinstance(v, Tensor)]


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_checkpoint_resume_gives_the_uninterrupted_trajectory(name: str, tmp_path: Path) -> None:
    entry = OPTIMIZERS[name]
    start = MLP.make_params(torch.float64)

    straight = clone_params(start)
    optimizer = entry.make(straight)
    for _ in range(2 * STEPS):
        take_step(optimizer, straight, MLP)

    first = clone_params(start)
    optimizer = entry.make(first)
    for _ in range(STEPS):
        take_step(optimizer, first, MLP)
    torch.save({"params": first, "optimizer": optimizer.state_dict()}, tmp_path / "ckpt.pt")
    del optimizer, first

    checkpoint = torch.load(tmp_path / "ckpt.pt", weights_only=True)
    resumed = clone_params(checkpoint["params"])
    optimizer = entry.make(resumed)
    optimizer.load_state_dict(checkpoint["optimizer"])
    for _ in range(STEPS):
        take_step(optimizer, resumed, MLP)

    tolerance = 1e-13 if name in CAST_ON_LOAD else 0.0
    for a, b in zip(resumed, straight, strict=True):
        torch.testing.assert_close(a, b, rtol=tolerance, atol=0)


def _trained(name: str = "adam", dtype: torch.dtype = torch.float64) -> tuple[Any, list[Tensor]]:
    params = clone_params(MLP.make_params(dtype))
    optimizer = OPTIMIZERS[name].make(params)
    for _ in range(3):
        take_step(optimizer, params, MLP)
    return optimizer, params


def test_loaded_state_shares_no_storage_with_the_source() -> None:
    source, params = _trained()
    saved = source.state_dict()
    target = OPTIMIZERS["adam"].make(clone_params(params))
    target.load_state_dict(saved)
    source_ptrs = {t.untyped_storage().data_ptr() for t in _tensors(source.state_dict())}
    target_tensors = _tensors(target.state_dict())
    assert target_tensors
    assert not source_ptrs & {t.untyped_storage().data_ptr() for t in target_tensors}
    # and the values are those saved
    for a, b in zip(_tensors(saved), target_tensors, strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_state_dict_carries_a_format_version_torch_ignores() -> None:
    source, params = _trained()
    saved = source.state_dict()
    assert saved[FORMAT_KEY] == FORMAT_VERSION
    twin = torch.optim.Adam(clone_params(params), foreach=False)
    twin.load_state_dict(saved)  # torch reads ours
    assert len(twin.state) == len(source.state)


def _mutate(change: str, saved: dict[str, Any]) -> dict[str, Any]:
    saved = copy.deepcopy(saved)
    first_id = saved["param_groups"][0]["params"][0]
    if change == "count":
        saved["param_groups"][0]["params"] = saved["param_groups"][0]["params"][:-1]
    elif change == "groups":
        saved["param_groups"] = saved["param_groups"] * 2
    elif change == "shape":
        saved["state"][first_id]["exp_avg"] = saved["state"][first_id]["exp_avg"][:1]
    elif change == "dtype":
        state = saved["state"][first_id]
        state["exp_avg_sq"] = state["exp_avg_sq"].float()
    elif change == "version":
        saved[FORMAT_KEY] = 99
    elif change == "not a dict":
        return {"params": []}
    return saved


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("count", "parameter group 0 has"),
        ("groups", "parameter groups"),
        ("shape", "has shape"),
        ("dtype", "has dtype torch.float32, the parameter torch.float64"),
        ("version", "unsupported state dict format version 99"),
        ("not a dict", "not an optimizer state dict"),
    ],
)
def test_load_state_dict_refuses_what_does_not_fit(change: str, message: str) -> None:
    source, params = _trained()
    target = OPTIMIZERS["adam"].make(clone_params(params))
    with pytest.raises(ValueError, match=message):
        target.load_state_dict(_mutate(change, source.state_dict()))
    assert not target.state  # nothing half-loaded
