"""Reproduce the protocols of Kingma & Ba (2015), sections 6.1, 6.2 and 6.4, on real digits.

The paper trains on MNIST; no download is possible here, so the default data set is
scikit-learn's bundled 8x8 digits (1437 train / 360 test images, a fixed stratified split,
see :mod:`adamlab.tasks.data`); ``load_mnist`` reads the real MNIST IDX files from a folder
instead. What is reproduced is the protocol and the qualitative claim, not the paper's numbers.

Experiments (minibatch 128 everywhere, as in the paper; a minibatch order per seed):

* 6.1 ``logreg``: multiclass logistic regression on standardised pixels, training cost
  cross-entropy + (lambda / 2) |W|^2 (lambda = ``l2``; the paper does not state its value),
  step size alpha_t = alpha / sqrt(t) for every optimizer (t counts minibatch steps; the paper
  states the decay for Adam and uses it for the comparison). Adam vs SGD with Nesterov momentum
  0.9 vs AdaGrad. Claim: Adam converges like SGD-Nesterov, both faster than AdaGrad.
* 6.2 ``mlp``: a 64-1000-1000-10 ReLU network with dropout (0.5 on both hidden layers; the
  paper gives no rate), constant learning rate. Adam, AdaGrad, RMSProp, SGD-Nesterov (0.9).
  Claim: Adam reaches the lowest training cost. AdaDelta and the SFO comparison are left out.
* 6.4 ``vae``: a VAE with softplus hidden layers (encoder and decoder one hidden layer each),
  Bernoulli likelihood on pixels in [0, 1], on the paper's grid beta1 in {0, 0.9},
  beta2 in {0.99, 0.999, 0.9999}, log10 alpha in {-5, ..., -1}, with and without bias
  correction (``adam_update(..., bias_correction=False)``). The loss is the negative ELBO per
  image on the training set, read at an early and a final step count (the paper reads 10 and
  100 MNIST epochs, i.e. ~4.7e3 and ~4.7e4 steps; here the step counts are ``vae_early`` and
  ``vae_steps``, with the same 1:10 ratio). Claim: without bias correction, training is unstable
  when beta2 is close to 1.

Learning rates: the paper searched a dense grid; here each optimizer gets a small grid (stated in
``results.json`` and ``summary.md``) and the learning rate with the lowest mean final training
cost (over the seeds for 6.1, seed 0 for 6.2) is re-run with every seed, on the same horizon as
plotted. A chosen learning rate at an end of its grid is flagged "at the edge of the grid" in the
log, ``summary.md`` and ``results.json`` (``chosen_lr_at_edge_of_grid``): the search did not
bracket it. Training cost ("training cost" of the paper's figures) is the full training-set
objective evaluated after every epoch; for the MLP it is evaluated without dropout.

Every optimizer is adamlab's own: the 6.1 / 6.2 runs use the :mod:`adamlab.optim` classes, the
6.4 grid calls :func:`adamlab.functional.adam_update` directly on a batch of runs (one row per
learning rate and seed, stacked on a leading axis, the learning rate a ``[R, 1, 1]`` tensor), so
the 60 settings x seeds cost 12 batched trainings.

Reference:
    D. P. Kingma and J. Ba. Adam: A Method for Stochastic Optimization. ICLR 2015.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import ScalarFormatter
from torch import Tensor, nn

from adamlab.functional.adam import AdamState, adam_init, adam_update
from adamlab.optim import SGD, Adagrad, Adam, RMSprop
from adamlab.optim.schedules import make_scheduler
from adamlab.tasks.data import Dataset, standardise
from adamlab.tasks.logging import TrainingLogger

PAPER = "D. P. Kingma and J. Ba. Adam: A Method for Stochastic Optimization. ICLR 2015"
BATCH = 128

#: The optimizers of 6.1 / 6.2: a label and how to build each from (params, lr).
OPTIMIZERS: dict[str, tuple[str, Callable[[Any, float], torch.optim.Optimizer]]] = {
    "adam": ("Adam", lambda p, lr: Adam(p, lr=lr)),
    "sgd_nesterov": (
        "SGD-Nesterov",
        lambda p, lr: SGD(p, lr=lr, momentum=0.9, nesterov=True),
    ),
    "adagrad": ("AdaGrad", lambda p, lr: Adagrad(p, lr=lr)),
    "rmsprop": ("RMSProp", lambda p, lr: RMSprop(p, lr=lr)),
}
COLOURS = {
    "adam": "tab:red",
    "sgd_nesterov": "tab:blue",
    "adagrad": "tab:green",
    "rmsprop": "tab:purple",
}

LOGREG_GRID: dict[str, tuple[float, ...]] = {
    "adam": (3e-3, 1e-2, 3e-2, 1e-1, 3e-1, 1.0),
    "sgd_nesterov": (1e-2, 3e-2, 1e-1, 3e-1, 1.0, 3.0),
    "adagrad": (1e-2, 3e-2, 1e-1, 3e-1, 1.0, 3.0),
}
#: Adam's and RMSProp's MLP grids reach 3e-2: with the top at 3e-3 both chose 3e-3, so the
#: tuning was not bracketed. With 1e-2 and 3e-2 added both still choose 3e-3, now interior
#: (``adamlab paper adam --out DIR`` on digits: seed-0 final cost 0.00317 for Adam, 0.00392
#: for RMSProp at 3e-3; 0.22 and 0.065 at 1e-2). Every 6.1 choice was already interior.
MLP_GRID: dict[str, tuple[float, ...]] = {
    "adam": (3e-4, 1e-3, 3e-3, 1e-2, 3e-2),
    "adagrad": (3e-3, 1e-2, 3e-2),
    "rmsprop": (3e-4, 1e-3, 3e-3, 1e-2, 3e-2),
    "sgd_nesterov": (1e-2, 3e-2, 1e-1),
}
VAE_BETA1 = (0.0, 0.9)
VAE_BETA2 = (0.99, 0.999, 0.9999)
VAE_LOG10_LR = (-5, -4, -3, -2, -1)
#: The default logger: it drops every value (``--tensorboard`` passes a TensorBoardLogger).
NO_LOGGER = TrainingLogger()


@dataclass(frozen=True)
class AdamPaperConfig:
    """Settings of one reproduction; every field is echoed into ``results.json``.

    Attributes:
        seeds: runs per setting (seed 0, 1, ...): model initialisation and minibatch order.
        logreg_epochs, mlp_epochs: passes over the training set in 6.1 and 6.2.
        l2: lambda of the logistic regression's (lambda / 2) |W|^2.
        dropout: dropout rate on the MLP's hidden layers.
        hidden: width of the MLP's two hidden layers (the paper: 1000).
        vae_hidden, vae_latent: the VAE's softplus layer width and latent size. The paper's
            500 and 50 cost ~0.19 s per batched step on 2 shared cores (~40 min for the grid),
            so the default is scaled down to 100 and 20; pass 500 and 50 to run the paper's.
        vae_steps, vae_early: minibatch steps of the 6.4 runs and the early read-out.
        logreg_grid, mlp_grid: learning-rate grid per optimizer.
        vae_log10_lr: log10 alpha values of the 6.4 grid.
        sections: which of "6.1", "6.2", "6.4" to run.
    """

    seeds: int = 3
    logreg_epochs: int = 40
    mlp_epochs: int = 10
    l2: float = 1e-3
    dropout: float = 0.5
    hidden: int = 1000
    vae_hidden: int = 100
    vae_latent: int = 20
    vae_steps: int = 300
    vae_early: int = 30
    logreg_grid: dict[str, tuple[float, ...]] = field(default_factory=lambda: dict(LOGREG_GRID))
    mlp_grid: dict[str, tuple[float, ...]] = field(default_factory=lambda: dict(MLP_GRID))
    vae_log10_lr: tuple[int, ...] = VAE_LOG10_LR
    sections: tuple[str, ...] = ("6.1", "6.2", "6.4")

    def __post_init__(self) -> None:
        for name in ("seeds", "logreg_epochs", "mlp_epochs", "hidden", "vae_hidden"):
            if getattr(self, name) < 1:
                raise ValueError(f"Invalid {name}: {getattr(self, name)} (expected >= 1)")
        if self.vae_latent < 1:
            raise ValueError(f"Invalid vae_latent: {self.vae_latent} (expected >= 1)")
        if not 1 <= self.vae_early <= self.vae_steps:
            raise ValueError(
                f"Invalid vae_early: {self.vae_early} (expected 1 <= vae_early <= "
                f"vae_steps={self.vae_steps})"
            )
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"Invalid dropout: {self.dropout} (expected 0 <= dropout < 1)")
        if not self.l2 >= 0.0:
            raise ValueError(f"Invalid l2: {self.l2} (expected >= 0)")
        unknown = set(self.sections) - {"6.1", "6.2", "6.4"}
        if unknown or not self.sections:
            raise ValueError(f"Invalid sections: {self.sections} (expected some of 6.1 6.2 6.4)")

    @classmethod
    def quick(cls, **changes: Any) -> AdamPaperConfig:
        """A seconds-long run for tests and smoke checks: tiny horizons, grids and models."""
        settings: dict[str, Any] = {
            "seeds": 2,
            "logreg_epochs": 3,
            "mlp_epochs": 2,
            "hidden": 64,
            "vae_hidden": 32,
            "vae_latent": 8,
            "vae_steps": 20,
            "vae_early": 2,
            "logreg_grid": {k: v[1:4:2] for k, v in LOGREG_GRID.items()},
            "mlp_grid": {k: v[1:3] for k, v in MLP_GRID.items()},
            "vae_log10_lr": (-4, -1),
        }
        return cls(**{**settings, **changes})


# -- 6.1 and 6.2: classifiers trained with the adamlab.optim classes ----------------------


@dataclass(frozen=True)
class Run:
    """One training run: its training cost after each epoch (index 0: before training).

    Attributes:
        optimizer: key of :data:`OPTIMIZERS`.
        lr: alpha (for 6.1 the initial value of alpha / sqrt(t)).
        seed: initialisation and minibatch-order seed.
        cost: training cost after 0, 1, ..., E epochs (NaN once it diverged).
        test_accuracy: fraction of test images classified right at the end.
    """

    optimizer: str
    lr: float
    seed: int
    cost: list[float]
    test_accuracy: float

    @property
    def final(self) -> float:
        """The final training cost, +inf for a diverged run (so it never wins a grid)."""
        value = self.cost[-1]
        return value if math.isfinite(value) else math.inf


def _logreg_model(data: Dataset, hidden: int, dropout: float) -> nn.Module:
    return nn.Linear(data.n_features, data.n_classes)


def _mlp_model(data: Dataset, hidden: int, dropout: float) -> nn.Module:
    return nn.Sequential(
        nn.Linear(data.n_features, hidden),
        nn.ReLU(),
        nn.Dropout(dropout),
        nn.Linear(hidden, hidden),
        nn.ReLU(),
        nn.Dropout(dropout),
        nn.Linear(hidden, data.n_classes),
    )


def train_classifier(
    data: Dataset,
    optimizer: str,
    lr: float,
    seed: int,
    epochs: int,
    *,
    section: str,
    config: AdamPaperConfig,
    logger: TrainingLogger = NO_LOGGER,
) -> Run:
    """Train the model of ``section`` ("6.1" or "6.2") with one optimizer and learning rate.

    The training cost is mean cross-entropy over the whole training set (plus the L2 term for
    6.1), computed in eval mode (no dropout) after every epoch. ``logger`` receives, for the
    run ``<section>/<optimizer>/lr=<lr>/seed=<seed>``, the training cost per epoch
    (``<section>/training_cost``), each minibatch's loss per step (``<section>/minibatch_loss``)
    and the final test accuracy (``<section>/test_accuracy``).
    """
    run = f"{section}/{optimizer}/lr={lr:g}/seed={seed}"
    torch.manual_seed(seed)
    build = _logreg_model if section == "6.1" else _mlp_model
    model = build(data, config.hidden, config.dropout)
    opt = OPTIMIZERS[optimizer][1](model.parameters(), lr)
    # 6.1: alpha_t = alpha / sqrt(t), one scheduler step per minibatch
    scheduler = make_scheduler(opt, "inverse_sqrt") if section == "6.1" else None
    l2 = config.l2 if section == "6.1" else 0.0
    x, y = torch.from_numpy(data.x_train), torch.from_numpy(data.y_train)
    rng = np.random.default_rng(seed)

    def objective(logits: Tensor, target: Tensor) -> Tensor:
        loss = nn.functional.cross_entropy(logits, target)
        if l2:
            # (lambda / 2) |W|^2 on the weights (not the bias)
            weight = next(iter(model.parameters()))
            loss = loss + 0.5 * l2 * weight.square().sum()
        return loss

    def training_cost() -> float:
        model.eval()
        with torch.no_grad():
            value = float(objective(model(x), y))
        model.train()
        return value

    cost = [training_cost()]
    logger.scalar(run, f"{section}/training_cost", cost[0], 0)
    step = 0
    for epoch in range(1, epochs + 1):
        order = torch.from_numpy(rng.permutation(len(x)))
        for start in range(0, len(x), BATCH):
            batch = order[start : start + BATCH]
            opt.zero_grad(set_to_none=True)
            loss = objective(model(x[batch]), y[batch])
            loss.backward()
            opt.step()
            if scheduler is not None:
                scheduler.step()
            step += 1
            logger.scalar(run, f"{section}/minibatch_loss", loss.detach(), step)
        cost.append(training_cost())
        logger.scalar(run, f"{section}/training_cost", cost[-1], epoch)
        if not math.isfinite(cost[-1]):
            cost.extend([math.nan] * (epochs + 1 - len(cost)))
            break
    model.eval()
    with torch.no_grad():
        predicted = model(torch.from_numpy(data.x_test)).argmax(dim=1).numpy()
    accuracy = float(np.mean(predicted == data.y_test))
    logger.scalar(run, f"{section}/test_accuracy", accuracy, epochs)
    logger.end_run(run)
    return Run(optimizer, lr, seed, cost, accuracy)


@dataclass(frozen=True)
class Comparison:
    """A 6.1 or 6.2 result: the grid searched, the learning rate kept, the runs at it."""

    section: str
    epochs: int
    grid: dict[str, dict[str, float]]  # optimizer -> {lr: mean final cost over grid seeds}
    chosen_lr: dict[str, float]
    runs: dict[str, list[Run]]  # optimizer -> one run per seed at the chosen lr

    def final_costs(self, optimizer: str) -> np.ndarray:
        """Final training cost of each seed's run."""
        return np.array([run.final for run in self.runs[optimizer]])

    def chosen_at_edge(self) -> dict[str, str]:
        """Optimizers whose chosen lr is an end of their grid: name -> "lowest" / "highest".

        Such a choice is not bracketed: a learning rate beyond the grid may be better.
        """
        edges = {}
        for name, lr in self.chosen_lr.items():
            edge = grid_edge(lr, [float(k) for k in self.grid[name]])
            if edge is not None:
                edges[name] = edge
        return edges

    def to_dict(self) -> dict[str, Any]:
        return {
            "section": self.section,
            "epochs": self.epochs,
            "grid_mean_final_cost": self.grid,
            "chosen_lr": self.chosen_lr,
            "chosen_lr_at_edge_of_grid": self.chosen_at_edge(),
            "runs": {k: [asdict(r) for r in v] for k, v in self.runs.items()},
        }


def grid_edge(lr: float, grid: Sequence[float]) -> str | None:
    """Which end of ``grid`` the learning rate ``lr`` sits at: "lowest", "highest" or None.

    A grid of one value gives "only value". Values are compared with a relative tolerance
    of 1e-9, since grids travel through JSON and ``f"{lr:g}"`` keys.

    >>> grid_edge(3e-3, (3e-4, 1e-3, 3e-3)), grid_edge(1e-3, (3e-4, 1e-3, 3e-3))
    ('highest', None)
    """
    low, high = min(grid), max(grid)
    if math.isclose(low, high, rel_tol=1e-9):
        return "only value"
    if math.isclose(lr, high, rel_tol=1e-9):
        return "highest"
    if math.isclose(lr, low, rel_tol=1e-9):
        return "lowest"
    return None


def compare(
    data: Dataset,
    section: str,
    grid: dict[str, tuple[float, ...]],
    epochs: int,
    config: AdamPaperConfig,
    *,
    grid_seeds: Sequence[int],
    log: Callable[[str], None] = print,
    logger: TrainingLogger = NO_LOGGER,
) -> Comparison:
    """Grid-search each optimizer's learning rate, then run every seed at the best one.

    The grid is run with ``grid_seeds``; the lr with the lowest mean final training cost is
    kept, and the seeds not already run at it are added. Runs are reused, never repeated.
    ``logger`` receives every run's curves (see :func:`train_classifier`).
    """
    seeds = range(config.seeds)
    searched: dict[str, dict[str, float]] = {}
    chosen: dict[str, float] = {}
    kept: dict[str, list[Run]] = {}
    for name, lrs in grid.items():
        started = time.perf_counter()
        by_lr: dict[float, list[Run]] = {}
        for lr in lrs:
            by_lr[lr] = [
                train_classifier(
                    data, name, lr, s, epochs, section=section, config=config, logger=logger
                )
                for s in grid_seeds
            ]
        means = {lr: float(np.mean([run.final for run in runs])) for lr, runs in by_lr.items()}
        best = min(lrs, key=lambda lr: means[lr])
        done = {run.seed for run in by_lr[best]}
        extra = [
            train_classifier(
                data, name, best, s, epochs, section=section, config=config, logger=logger
            )
            for s in seeds
            if s not in done
        ]
        kept[name] = sorted(by_lr[best] + extra, key=lambda run: run.seed)[: config.seeds]
        searched[name] = {f"{lr:g}": value for lr, value in means.items()}
        chosen[name] = best
        edge = grid_edge(best, lrs)
        log(
            f"  {section} {OPTIMIZERS[name][0]}: lr {best:g} of {', '.join(f'{v:g}' for v in lrs)}"
            + (f" (at the edge of the grid: {edge})" if edge else "")
            + f" (final cost {means[best]:.4g}; {time.perf_counter() - started:.1f} s)"
        )
    return Comparison(section, epochs, searched, chosen, kept)


# -- 6.4: a VAE grid on batched rows, stepped by adam_update -----------------------------


def _init_vae(seed: int, d: int, hidden: int, latent: int) -> list[Tensor]:
    """The VAE's parameters for one seed, nn.Linear's uniform(+-1/sqrt(fan_in)) initialisation.

    Order: encoder W1 [d, H], b1, W_mu [H, L], b_mu, W_logvar [H, L], b_logvar,
    decoder W3 [L, H], b3, W4 [H, d], b4.
    """
    generator = torch.Generator().manual_seed(seed)
    shapes = [(d, hidden), (hidden, latent), (hidden, latent), (latent, hidden), (hidden, d)]
    params: list[Tensor] = []
    for fan_in, fan_out in shapes:
        bound = 1.0 / math.sqrt(fan_in)
        for shape in ((fan_in, fan_out), (1, fan_out)):
            params.append((torch.rand(shape, generator=generator) * 2 - 1) * bound)
    return params


def vae_loss(params: Sequence[Tensor], x: Tensor, noise: Tensor) -> Tensor:
    """Negative ELBO per image, for each row: ``[R]`` from params ``[R, ...]``, x ``[R, B, d]``.

    -ELBO = BCE(x, decoder(z)) summed over pixels + KL(N(mu, sigma^2) || N(0, I)),
    z = mu + sigma * noise (the reparameterisation trick), averaged over the B images.
    """
    w1, b1, w_mu, b_mu, w_lv, b_lv, w3, b3, w4, b4 = params
    # encoder: h = softplus(x W1 + b1)                    [R, B, H]
    h = nn.functional.softplus(torch.baddbmm(b1, x, w1))
    mu = torch.baddbmm(b_mu, h, w_mu)  # [R, B, L]
    logvar = torch.baddbmm(b_lv, h, w_lv)  # [R, B, L]
    z = mu + torch.exp(0.5 * logvar) * noise
    # decoder: logits = softplus(z W3 + b3) W4 + b4       [R, B, d]
    logits = torch.baddbmm(b4, nn.functional.softplus(torch.baddbmm(b3, z, w3)), w4)
    reconstruction = nn.functional.binary_cross_entropy_with_logits(
        logits, x, reduction="none"
    ).sum(-1)
    # KL = -1/2 sum(1 + log sigma^2 - mu^2 - sigma^2)
    kl = -0.5 * (1 + logvar - mu.square() - logvar.exp()).sum(-1)
    return (reconstruction + kl).mean(-1)


@dataclass(frozen=True)
class VaeCell:
    """One 6.4 setting: the training loss of each seed at the early and the final step."""

    beta1: float
    beta2: float
    log10_lr: int
    bias_correction: bool
    early: list[float]
    final: list[float]


def train_vae_grid(
    x_train: np.ndarray,
    beta1: float,
    beta2: float,
    bias_correction: bool,
    config: AdamPaperConfig,
    logger: TrainingLogger = NO_LOGGER,
) -> list[VaeCell]:
    """Train one VAE per (log10 alpha, seed) at once with ``adam_update`` on stacked rows.

    ``logger`` receives, for each row's run
    ``6.4/beta1=<b1>/beta2=<b2>/bias_correction=<on|off>/log10_lr=<p>/seed=<s>``, the minibatch
    loss per step (``6.4/minibatch_neg_elbo``) and the training-set loss at the early and the
    final read-out (``6.4/neg_elbo``, the values of the returned cells).
    """
    lrs = [10.0**p for p in config.vae_log10_lr]
    seeds = list(range(config.seeds))
    rows = [(lr, s) for lr in lrs for s in seeds]
    runs = [
        f"6.4/beta1={beta1:g}/beta2={beta2:g}/bias_correction={'on' if bias_correction else 'off'}"
        f"/log10_lr={p}/seed={s}"
        for p in config.vae_log10_lr
        for s in seeds
    ]
    d, n = x_train.shape[1], len(x_train)
    per_seed = [_init_vae(s, d, config.vae_hidden, config.vae_latent) for s in seeds]
    params = [torch.stack([per_seed[s][i] for _, s in rows]) for i in range(len(per_seed[0]))]
    states: list[AdamState] = [adam_init(p) for p in params]
    lr = torch.tensor([lr for lr, _ in rows]).view(-1, 1, 1)
    x = torch.from_numpy(x_train)
    generator = torch.Generator().manual_seed(12345)
    # the same minibatch order for every row of a seed
    orders = [np.random.default_rng(s) for s in seeds]
    eval_noise = torch.randn((len(rows), n, config.vae_latent), generator=generator)
    batches_per_epoch = n // BATCH
    order = np.zeros((len(seeds), n), dtype=np.int64)
    readings: dict[int, Tensor] = {}

    def evaluate() -> Tensor:
        with torch.no_grad():
            loss = vae_loss(params, x.expand(len(rows), -1, -1), eval_noise)
        return torch.where(torch.isfinite(loss), loss, torch.full_like(loss, math.nan))

    for step in range(config.vae_steps):
        k = step % batches_per_epoch
        if k == 0:
            order = np.stack([rng.permutation(n) for rng in orders])
        index = torch.from_numpy(order[[s for _, s in rows], k * BATCH : (k + 1) * BATCH])
        batch = x[index]  # [R, B, d]
        noise = torch.randn((len(rows), BATCH, config.vae_latent), generator=generator)
        leaves = [p.detach().requires_grad_(True) for p in params]
        losses = vae_loss(leaves, batch, noise)  # [R]
        # rows are independent, so the gradient of the sum is each row's own gradient
        grads = torch.autograd.grad(losses.sum(), leaves)
        logger.scalars(runs, "6.4/minibatch_neg_elbo", losses.detach(), step + 1)
        for i, (p, g) in enumerate(zip(params, grads, strict=True)):
            params[i], states[i] = adam_update(
                p,
                g,
                states[i],
                lr=lr,
                beta1=beta1,
                beta2=beta2,
                bias_correction=bias_correction,
            )
        if step + 1 in (config.vae_early, config.vae_steps):
            readings[step + 1] = evaluate()
            logger.scalars(runs, "6.4/neg_elbo", readings[step + 1], step + 1)
    for run in runs:
        logger.end_run(run)
    early, final = readings[config.vae_early], readings[config.vae_steps]
    cells = []
    for j, log10_lr in enumerate(config.vae_log10_lr):
        picked = [i for i, (_, s) in enumerate(rows) if rows[i][0] == lrs[j] and s in seeds]
        cells.append(
            VaeCell(
                beta1,
                beta2,
                log10_lr,
                bias_correction,
                [float(early[i]) for i in picked],
                [float(final[i]) for i in picked],
            )
        )
    return cells


# -- the whole reproduction ---------------------------------------------------------------


@dataclass(frozen=True)
class AdamPaperResult:
    """Everything one reproduction produced; plots and the summary only read this."""

    config: AdamPaperConfig
    data: str
    n_train: int
    logreg: Comparison | None
    mlp: Comparison | None
    vae: list[VaeCell]
    seconds: dict[str, float]

    def to_dict(self) -> dict[str, Any]:
        return {
            "paper": PAPER,
            "config": asdict(self.config),
            "data": self.data,
            "n_train": self.n_train,
            "seconds": self.seconds,
            "6.1": self.logreg.to_dict() if self.logreg else None,
            "6.2": self.mlp.to_dict() if self.mlp else None,
            "6.4": [asdict(cell) for cell in self.vae],
            "claims": assess(self),
        }


def reproduce(
    data: Dataset,
    config: AdamPaperConfig,
    *,
    log: Callable[[str], None] = print,
    logger: TrainingLogger = NO_LOGGER,
) -> AdamPaperResult:
    """Run the sections of ``config`` on ``data`` (pixels in [0, 1], as the loaders give).

    ``logger`` receives every training run's curves (see :mod:`adamlab.tasks.logging`).
    """
    seconds: dict[str, float] = {}
    features = standardise(data)
    logreg = mlp = None
    if "6.1" in config.sections:
        started = time.perf_counter()
        log(f"6.1 logistic regression, {config.logreg_epochs} epochs, {config.seeds} seeds")
        logreg = compare(
            features,
            "6.1",
            config.logreg_grid,
            config.logreg_epochs,
            config,
            grid_seeds=range(config.seeds),
            log=log,
            logger=logger,
        )
        seconds["6.1"] = time.perf_counter() - started
    if "6.2" in config.sections:
        started = time.perf_counter()
        log(f"6.2 MLP {config.hidden}-{config.hidden}, {config.mlp_epochs} epochs")
        mlp = compare(
            features,
            "6.2",
            config.mlp_grid,
            config.mlp_epochs,
            config,
            grid_seeds=[0],
            log=log,
            logger=logger,
        )
        seconds["6.2"] = time.perf_counter() - started
    cells: list[VaeCell] = []
    if "6.4" in config.sections:
        started = time.perf_counter()
        log(f"6.4 VAE {config.vae_hidden}/{config.vae_latent}, {config.vae_steps} steps")
        for beta1 in VAE_BETA1:
            for beta2 in VAE_BETA2:
                for corrected in (True, False):
                    cells += train_vae_grid(
                        data.x_train, beta1, beta2, corrected, config, logger=logger
                    )
        seconds["6.4"] = time.perf_counter() - started
        log(f"  6.4 grid: {seconds['6.4']:.1f} s")
    return AdamPaperResult(config, data.name, len(data.x_train), logreg, mlp, cells, seconds)


# -- the paper's claims, measured ---------------------------------------------------------


def _mean_std(values: np.ndarray) -> dict[str, float]:
    return {"mean": float(np.mean(values)), "std": float(np.std(values))}


def _epochs_to_reach(runs: Sequence[Run], target: float) -> float | None:
    """First epoch at which the seed-mean training cost is <= target (None: never)."""
    curve = np.mean([run.cost for run in runs], axis=0)
    hits = np.flatnonzero(curve <= target)
    return int(hits[0]) if len(hits) else None


def _claim_61(c: Comparison) -> dict[str, Any]:
    adam, sgd, ada = (c.final_costs(k) for k in ("adam", "sgd_nesterov", "adagrad"))
    target = float(np.mean(ada))
    reach = {k: _epochs_to_reach(c.runs[k], target) for k in ("adam", "sgd_nesterov", "adagrad")}
    ratio = float(np.mean(adam) / np.mean(sgd))
    similar = 2 / 3 <= ratio <= 1.5
    faster = bool(np.mean(adam) < target and np.mean(sgd) < target)
    return {
        "claim": "6.1: Adam converges like SGD-Nesterov, and both faster than AdaGrad",
        "holds": bool(similar and faster),
        "final_cost": {"adam": _mean_std(adam), "sgd_nesterov": _mean_std(sgd)}
        | {"adagrad": _mean_std(ada)},
        "adam_over_sgd_nesterov_final_cost": ratio,
        "adagrad_over_adam_final_cost": float(target / np.mean(adam)),
        "epochs_to_reach_adagrad_final_cost": reach,
        "criterion": "Adam/SGD-N final-cost ratio in [2/3, 3/2] and both below AdaGrad's",
    }


def _claim_62(c: Comparison) -> dict[str, Any]:
    finals = {k: c.final_costs(k) for k in c.runs}
    others = {k: v for k, v in finals.items() if k != "adam"}
    best_other = min(others, key=lambda k: float(np.mean(others[k])))
    adam = finals["adam"]
    return {
        "claim": "6.2: Adam reaches the lowest training cost of the four optimizers",
        "holds": bool(np.mean(adam) < np.mean(others[best_other])),
        "final_cost": {k: _mean_std(v) for k, v in finals.items()},
        "runner_up": best_other,
        "runner_up_over_adam_final_cost": float(np.mean(others[best_other]) / np.mean(adam)),
        "seeds_separated": bool(np.max(adam) < np.min(others[best_other])),
        "criterion": "Adam's seed-mean final training cost below every other optimizer's",
    }


def _cell_value(cell: VaeCell, when: str) -> float:
    """Seed-mean loss of a cell; +inf when any seed diverged (NaN)."""
    values = np.array(cell.early if when == "early" else cell.final)
    return float(np.mean(values)) if np.all(np.isfinite(values)) else math.inf


def _claim_64(cells: Sequence[VaeCell]) -> dict[str, Any]:
    by_key = {(c.beta1, c.beta2, c.log10_lr, c.bias_correction): c for c in cells}
    per_beta2: dict[str, Any] = {}
    for beta2 in VAE_BETA2:
        entry: dict[str, Any] = {}
        for when in ("early", "final"):
            worse, ratios = 0, []
            total = 0
            best = {True: math.inf, False: math.inf}
            for (b1, b2, p, bc), cell in by_key.items():
                if b2 != beta2:
                    continue
                best[bc] = min(best[bc], _cell_value(cell, when))
                if bc:
                    continue
                with_bc = _cell_value(by_key[(b1, b2, p, True)], when)
                without = _cell_value(cell, when)
                total += 1
                ratio = without / with_bc if math.isfinite(with_bc) else math.nan
                ratios.append(ratio)
                worse += int(not math.isfinite(without) or without > 1.1 * with_bc)
            finite = [r for r in ratios if math.isfinite(r)]
            entry[when] = {
                "settings_worse_without_bc": worse,
                "settings": total,
                "worst_ratio_without_over_with": max(finite) if finite else None,
                "best_loss_with_bc": best[True],
                "best_loss_without_bc": best[False],
            }
        per_beta2[f"{beta2:g}"] = entry
    near, far = per_beta2[f"{VAE_BETA2[-1]:g}"], per_beta2[f"{VAE_BETA2[0]:g}"]
    holds = (
        near["early"]["settings_worse_without_bc"] > far["early"]["settings_worse_without_bc"]
        and near["early"]["best_loss_without_bc"] > near["early"]["best_loss_with_bc"]
    )
    return {
        "claim": "6.4: without bias correction, training is unstable when beta2 is near 1",
        "holds": bool(holds),
        "per_beta2": per_beta2,
        "criterion": (
            "a setting (beta1, alpha) is 'worse without bias correction' when its seed-mean "
            "loss is > 1.1x the corrected one or diverged; the claim holds when at beta2 = "
            "0.9999 more settings are worse at the early read-out than at beta2 = 0.99 and the "
            "best loss over the grid is worse without correction"
        ),
    }


def assess(result: AdamPaperResult) -> list[dict[str, Any]]:
    """For each of the paper's claims that was run: whether it holds here, with the numbers."""
    claims = []
    if result.logreg is not None:
        claims.append(_claim_61(result.logreg))
    if result.mlp is not None:
        claims.append(_claim_62(result.mlp))
    if result.vae:
        claims.append(_claim_64(result.vae))
    return claims


# -- figures: they draw, the CLI saves ----------------------------------------------------


def draw_costs(ax: Axes, comparison: Comparison) -> None:
    """Training cost vs epochs, log-y: seed mean as a line, min..max over seeds as a band."""
    for name, runs in comparison.runs.items():
        costs = np.array([run.cost for run in runs])
        epochs = np.arange(costs.shape[1])
        label = f"{OPTIMIZERS[name][0]} (lr {comparison.chosen_lr[name]:g})"
        ax.plot(epochs, costs.mean(axis=0), color=COLOURS[name], label=label, linewidth=1.6)
        ax.fill_between(
            epochs, costs.min(axis=0), costs.max(axis=0), color=COLOURS[name], alpha=0.2
        )
    ax.set(yscale="log", xlabel="iterations over entire data set (epochs)", ylabel="training cost")
    ax.set_xlim(0, comparison.epochs)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8, frameon=False)


def draw_grid(ax: Axes, comparison: Comparison) -> None:
    """Final training cost against the learning rate for each optimizer's grid (log-log)."""
    for name, means in comparison.grid.items():
        lrs = [float(k) for k in means]
        values = [v if math.isfinite(v) else np.nan for v in means.values()]
        ax.plot(lrs, values, "o-", color=COLOURS[name], label=OPTIMIZERS[name][0])
        chosen = comparison.chosen_lr[name]
        ax.plot([chosen], [means[f"{chosen:g}"]], "*", color=COLOURS[name], markersize=12)
    ax.set(
        xscale="log",
        yscale="log",
        xlabel="learning rate alpha",
        ylabel="final training cost (grid seeds' mean)",
    )
    ax.set_title("learning-rate grid (star: chosen)", fontsize=9)
    ax.grid(True, which="both", alpha=0.3)


def comparison_figure(comparison: Comparison, title: str) -> Figure:
    """The paper's training-cost plot with, beside it, the learning-rate grid it came from."""
    fig = Figure(figsize=(11, 4.2), layout="constrained")
    left, right = fig.subplots(1, 2, width_ratios=(1.6, 1))
    draw_costs(left, comparison)
    draw_grid(right, comparison)
    seeds = len(next(iter(comparison.runs.values())))
    fig.suptitle(f"{title} ({seeds} seeds: mean, band min..max)")
    return fig


def vae_figure(cells: Sequence[VaeCell], config: AdamPaperConfig) -> Figure:
    """The layout of the paper's Figure 4: loss vs log10 alpha, one column per beta2.

    Rows: the early and the final read-out. Red: with bias correction, green: without;
    solid beta1 = 0.9, dashed beta1 = 0. A diverged setting (any seed NaN) is drawn as an x at
    the top of the panel.
    """
    fig = Figure(figsize=(13, 7), layout="constrained")
    axes = fig.subplots(2, len(VAE_BETA2), sharey="row", squeeze=False)
    finite = [v for c in cells for v in c.early + c.final if math.isfinite(v)]
    # a loss above 10x the median has blown up (seen: 1e32); it is drawn as an x like NaN
    cap = 10 * float(np.median(finite)) if finite else math.inf
    finite = [v for v in finite if v <= cap]
    top = float(np.max(finite)) if finite else 1.0
    bottom = float(np.min(finite)) if finite else 0.1
    for row, when in enumerate(("early", "final")):
        steps = config.vae_early if when == "early" else config.vae_steps
        for column, beta2 in enumerate(VAE_BETA2):
            ax = axes[row][column]
            for beta1 in VAE_BETA1:
                for corrected in (True, False):
                    chosen = [
                        c
                        for c in cells
                        if (c.beta1, c.beta2, c.bias_correction) == (beta1, beta2, corrected)
                    ]
                    chosen.sort(key=lambda c: c.log10_lr)
                    xs = np.array([c.log10_lr for c in chosen], dtype=float)
                    values = [np.array(c.early if when == "early" else c.final) for c in chosen]
                    ok = np.array([bool(np.all(v <= cap)) for v in values])
                    mean = np.array(
                        [v.mean() if k else np.nan for v, k in zip(values, ok, strict=True)]
                    )
                    low = np.array(
                        [v.min() if k else np.nan for v, k in zip(values, ok, strict=True)]
                    )
                    high = np.array(
                        [v.max() if k else np.nan for v, k in zip(values, ok, strict=True)]
                    )
                    colour = "tab:red" if corrected else "tab:green"
                    style = "-" if beta1 else "--"
                    ax.errorbar(
                        xs,
                        mean,
                        yerr=[mean - low, high - mean],
                        color=colour,
                        linestyle=style,
                        marker="o",
                        markersize=3,
                        capsize=2,
                    )
                    if not ok.all():
                        ax.plot(xs[~ok], np.full((~ok).sum(), top * 1.15), "x", color=colour, ms=9)
            ax.set_yscale("log")
            ax.yaxis.set_major_formatter(ScalarFormatter())
            ax.yaxis.set_minor_formatter(ScalarFormatter())
            ax.set_ylim(bottom * 0.9, top * 1.3)
            ax.set_title(f"beta2 = {beta2:g}, after {steps} steps", fontsize=10)
            ax.set_xticks(list(config.vae_log10_lr))
            ax.grid(True, which="both", alpha=0.3)
            if row == 1:
                ax.set_xlabel("log10(alpha)")
            if column == 0:
                ax.set_ylabel("training loss (-ELBO per image)")
    from matplotlib.lines import Line2D

    handles = [
        Line2D([], [], color="tab:red", label="bias correction"),
        Line2D([], [], color="tab:green", label="no bias correction"),
        Line2D([], [], color="black", linestyle="-", label="beta1 = 0.9"),
        Line2D([], [], color="black", linestyle="--", label="beta1 = 0"),
        Line2D(
            [],
            [],
            color="black",
            marker="x",
            linestyle="",
            label="diverged (NaN or > 10x median loss)",
        ),
    ]
    fig.legend(handles=handles, loc="outside lower center", ncol=5, frameon=False)
    fig.suptitle(
        f"Section 6.4: bias correction in Adam, VAE {config.vae_hidden} softplus / "
        f"{config.vae_latent}-d latent (mean over {config.seeds} seeds, bars min..max)"
    )
    return fig


# -- summary ------------------------------------------------------------------------------


def _fmt(stats: dict[str, float]) -> str:
    return f"{stats['mean']:.4g} ± {stats['std']:.2g}"


def summary_markdown(result: AdamPaperResult, figures: dict[str, str]) -> str:
    """``summary.md``: settings, grids, chosen learning rates, and each claim with numbers."""
    c = result.config
    lines = [
        "# Adam (Kingma & Ba 2015), sections 6.1, 6.2, 6.4, reproduced",
        "",
        f"Data: {result.data} ({result.n_train} training images), minibatch {BATCH}, "
        f"{c.seeds} seeds (mean ± std over seeds). Paper: {PAPER}.",
        "Training cost = objective on the whole training set after each epoch.",
        "",
    ]
    for claim in assess(result):
        verdict = "**holds**" if claim["holds"] else "**does not hold**"
        lines += [f"## {claim['claim']}: {verdict}", ""]
        if claim["claim"].startswith("6.1") and result.logreg:
            lines += _comparison_lines(result.logreg, claim)
            lines += [
                "- Adam / SGD-Nesterov final cost: "
                f"{claim['adam_over_sgd_nesterov_final_cost']:.3f}; "
                f"AdaGrad / Adam: {claim['adagrad_over_adam_final_cost']:.3f}",
                "- epochs for the seed-mean cost to reach AdaGrad's final cost: "
                + ", ".join(
                    f"{k} {v}" for k, v in claim["epochs_to_reach_adagrad_final_cost"].items()
                ),
                f"- alpha_t = alpha / sqrt(t) for all three; L2 lambda = {c.l2:g}; "
                f"{c.logreg_epochs} epochs.",
            ]
        elif claim["claim"].startswith("6.2") and result.mlp:
            lines += _comparison_lines(result.mlp, claim)
            lines += [
                f"- runner-up {claim['runner_up']}: its final cost / Adam's = "
                f"{claim['runner_up_over_adam_final_cost']:.3f}; every Adam seed below every "
                f"runner-up seed: {claim['seeds_separated']}",
                f"- 64-{c.hidden}-{c.hidden}-10 ReLU, dropout {c.dropout:g} on hidden layers, "
                f"constant lr, {c.mlp_epochs} epochs; lr grid run with seed 0.",
            ]
        else:
            lines += [
                f"VAE: {c.vae_hidden} softplus hidden units, {c.vae_latent}-d latent (paper: 500 "
                f"and 50), read after {c.vae_early} and {c.vae_steps} steps (paper: 10 and 100 "
                "MNIST epochs). Grid beta1 in {0, 0.9}, beta2 in {0.99, 0.999, 0.9999}, log10 "
                f"alpha in {list(c.vae_log10_lr)}.",
                "",
                "| beta2 | read-out | settings worse w/o BC | worst ratio w/o / with | "
                "best loss with BC | best loss w/o BC |",
                "|---|---|---|---|---|---|",
            ]
            for beta2, entry in claim["per_beta2"].items():
                for when, e in entry.items():
                    worst = e["worst_ratio_without_over_with"]
                    lines.append(
                        f"| {beta2} | {when} | {e['settings_worse_without_bc']}/{e['settings']}"
                        f" | {'n/a' if worst is None else f'{worst:.3g}'} | "
                        f"{e['best_loss_with_bc']:.4g} | {e['best_loss_without_bc']:.4g} |"
                    )
        lines += ["", f"Criterion: {claim['criterion']}.", ""]
    for name, path in figures.items():
        lines += [f"![{name}]({path})", ""]
    timing = ", ".join(f"{k}: {v:.0f} s" for k, v in result.seconds.items())
    lines += [f"Wall time: {timing}.", ""]
    return "\n".join(lines)


def _comparison_lines(comparison: Comparison, claim: dict[str, Any]) -> list[str]:
    """The table of grids, chosen lrs and results; a chosen lr at an end of its grid is flagged."""
    lines = ["| optimizer | lr grid | chosen lr | final training cost | test accuracy |"]
    lines.append("|---|---|---|---|---|")
    edges = comparison.chosen_at_edge()
    for name, runs in comparison.runs.items():
        accuracy = np.array([run.test_accuracy for run in runs])
        chosen = f"{comparison.chosen_lr[name]:g}"
        if name in edges:
            chosen += f" (at the edge of the grid: {edges[name]})"
        lines.append(
            f"| {OPTIMIZERS[name][0]} | {', '.join(comparison.grid[name])} | "
            f"{chosen} | {_fmt(claim['final_cost'][name])} | "
            f"{accuracy.mean():.3f} ± {accuracy.std():.2g} |"
        )
    lines.append("")
    if edges:
        names = ", ".join(OPTIMIZERS[name][0] for name in edges)
        lines += [
            f"Not bracketed: the chosen lr of {names} is at the edge of its grid, so a learning "
            "rate beyond the grid may do better; extend the grid.",
            "",
        ]
    return lines


def with_sections(config: AdamPaperConfig, sections: Sequence[str]) -> AdamPaperConfig:
    """``config`` restricted to ``sections``."""
    return replace(config, sections=tuple(sections))
