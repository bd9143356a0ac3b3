"""DistributedDataParallel with adamlab's Adam equals one process on the full batch.

Two gloo processes (loopback only: a FileStore in tmp_path) each train a small float64 MLP
on half of a scikit-learn digits batch; DDP averages the gradients, so after every step the
parameters must match one process training on the whole batch, up to summation order.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

pytest.importorskip("sklearn")

WORKER = r"""
import sys
import torch
import torch.distributed as dist
from sklearn.datasets import load_digits
from adamlab.optim import Adam

torch.set_num_threads(1)
torch.set_default_dtype(torch.float64)
rank, world, store, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
digits = load_digits()
x = torch.tensor(digits.data[:128] / 16.0)
y = torch.tensor(digits.target[:128])
torch.manual_seed(0)
model = torch.nn.Sequential(torch.nn.Linear(64, 32), torch.nn.Tanh(), torch.nn.Linear(32, 10))
if world > 1:
    dist.init_process_group("gloo", init_method=f"file://{store}", rank=rank, world_size=world)
    model = torch.nn.parallel.DistributedDataParallel(model)
    share = len(x) // world
    x, y = x[rank * share : (rank + 1) * share], y[rank * share : (rank + 1) * share]
optimizer = Adam(model.parameters(), lr=1e-2)
for _ in range(30):
    optimizer.zero_grad()
    torch.nn.functional.cross_entropy(model(x), y).backward()
    optimizer.step()
if rank == 0:
    torch.save([p.detach() for p in model.parameters()], out)
if world > 1:
    dist.barrier()
    dist.destroy_process_group()
"""


def _launch(script: Path, rank: int, world: int, store: Path, out: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    command = [sys.executable, str(script), str(rank), str(world), str(store), str(out)]
    return subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True)


@pytest.mark.slow  # three Python processes importing torch: ~45 s on two shared cores
def test_ddp_two_processes_equal_one_process_on_the_full_batch(tmp_path: Path) -> None:
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    store = tmp_path / "store"
    processes = [_launch(script, r, 2, store, tmp_path / "ddp.pt") for r in range(2)]
    processes.append(_launch(script, 0, 1, store, tmp_path / "single.pt"))
    for process in processes:
        _, err = process.communicate(timeout=180)
        assert process.returncode == 0, err
    ddp = torch.load(tmp_path / "ddp.pt", weights_only=True)
    single = torch.load(tmp_path / "single.pt", weights_only=True)
    assert len(ddp) == len(single) == 4
    for a, b in zip(ddp, single, strict=True):
        assert a.dtype == torch.float64
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)
        assert not torch.equal(a, torch.zeros_like(a))
