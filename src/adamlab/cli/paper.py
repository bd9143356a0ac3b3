"""``adamlab paper NAME --out DIR``: reproduce a paper's result into a folder.

Papers:
    amsgrad: Reddi, Kale & Kumar (2018), Theorem 1 and Figure 1: Adam converges to the worst
        point of a 1-D online problem, AMSGrad to the best. Writes ``amsgrad.png``,
        ``results.json`` and ``README.md``.
    adam: Kingma & Ba (2015), sections 6.1, 6.2 and 6.4 on scikit-learn's digits (or MNIST
        IDX files with ``--mnist DIR``). Writes three figures, ``results.json`` and
        ``summary.md``.

To add a paper, write its computation in :mod:`adamlab.tasks` and add one :class:`Paper` to
:data:`PAPERS`: a help line, a function adding its options to the parser, and a handler.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from adamlab.cli.errors import UsageError

if TYPE_CHECKING:
    from adamlab.tasks.logging import TrainingLogger


@dataclass(frozen=True)
class Paper:
    """One ``adamlab paper`` target.

    Attributes:
        help: one line for ``adamlab paper --help``.
        description: the target's own ``--help`` text.
        add_arguments: adds the target's options (``--out`` is added for every paper).
        run: the handler, ``(args) -> exit code``.
    """

    help: str
    description: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``paper`` subcommand and one sub-subcommand per entry of :data:`PAPERS`."""
    parser = subparsers.add_parser(
        "paper",
        help="reproduce a paper's result (amsgrad: Reddi et al. 2018; adam: Kingma & Ba 2015)",
        description="Reproduce a paper's result into a folder: figures, results.json, README.md.",
    )
    targets = parser.add_subparsers(dest="paper", metavar="PAPER", required=True)
    for name, paper in PAPERS.items():
        target = targets.add_parser(name, help=paper.help, description=paper.description)
        target.add_argument("--out", required=True, type=Path, metavar="DIR", help="output folder")
        paper.add_arguments(target)
        target.set_defaults(handler=paper.run)


def output_folder(out: Path) -> Path:
    """Create ``out`` if needed; a path that exists and is not a folder is a usage error."""
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} exists and is not a folder")
    out.mkdir(parents=True, exist_ok=True)
    return out


# -- paper amsgrad ------------------------------------------------------------------------


def _amsgrad_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--steps",
        type=int,
        default=2_000_000,
        metavar="N",
        help="horizon of the synthetic and stochastic problems (default 2000000)",
    )
    parser.add_argument(
        "--theorem1-steps",
        type=int,
        default=300_000,
        metavar="N",
        help="horizon of Theorem 1's problem (default 300000)",
    )
    parser.add_argument(
        "--seeds", type=int, default=8, metavar="S", help="stochastic runs (default 8)"
    )
    parser.add_argument("--seed", type=int, default=0, help="first stochastic seed (default 0)")
    parser.add_argument(
        "--no-compile",
        action="store_true",
        help="run the update loop eagerly instead of through torch.compile (slower)",
    )
    parser.add_argument(
        "--dpi", type=int, default=120, metavar="N", help="resolution of the PNG (default 120)"
    )


def _run_amsgrad(args: argparse.Namespace) -> int:
    # imported here so that `adamlab --help` does not pay for matplotlib and the task
    from adamlab.tasks import amsgrad_paper

    if args.dpi < 10:
        raise UsageError(f"invalid --dpi {args.dpi} (expected an integer >= 10)")
    try:
        config = amsgrad_paper.ReproductionConfig(
            steps=args.steps,
            theorem1_steps=args.theorem1_steps,
            seeds=args.seeds,
            seed=args.seed,
            compile=not args.no_compile,
        )
    except ValueError as error:
        raise UsageError(str(error)) from None
    out = output_folder(args.out)
    settings = " ".join(f"{key}={value}" for key, value in asdict(config).items())
    print(f"paper amsgrad: out={out} {settings}", flush=True)

    result = amsgrad_paper.reproduce(config)
    paragraph = amsgrad_paper.summary(result)

    figure_path = out / "amsgrad.png"
    amsgrad_paper.figure(result).savefig(figure_path, dpi=args.dpi)
    results_path = out / "results.json"
    results_path.write_text(json.dumps(result.to_dict(), indent=1) + "\n")
    readme_path = out / "README.md"
    readme_path.write_text(
        "# AMSGrad counterexample (Reddi, Kale & Kumar 2018)\n\n"
        f"{paragraph}\n\n"
        "![Adam vs AMSGrad](amsgrad.png)\n\n"
        f"Files: `amsgrad.png` (top: iterate x_t, bottom: average regret R_t / t), "
        f"`results.json` (settings, outcomes, every run's curves).\n\n"
        f"Re-run: `adamlab paper amsgrad --out {out} --steps {config.steps} "
        f"--theorem1-steps {config.theorem1_steps} --seeds {config.seeds} "
        f"--seed {config.seed}`\n"
    )
    print(paragraph)
    for path in (figure_path, results_path, readme_path):
        print(f"wrote {path}")
    return 0


# -- paper adam ---------------------------------------------------------------------------


def _adam_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--seeds",
        type=int,
        default=None,
        metavar="S",
        help="seeds per setting (default 3; 2 with --quick)",
    )
    parser.add_argument(
        "--epochs",
        type=int,
        default=None,
        metavar="E",
        help="epochs of 6.1 and 6.2 (default 40 for 6.1, 10 for 6.2)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="seconds-long smoke run: tiny models, horizons and grids (not a reproduction)",
    )
    parser.add_argument(
        "--mnist",
        type=Path,
        default=None,
        metavar="DIR",
        help="read MNIST IDX files (train-images-idx3-ubyte[.gz], ...) from DIR instead of "
        "scikit-learn's digits; nothing is downloaded",
    )
    parser.add_argument(
        "--sections",
        nargs="+",
        choices=("6.1", "6.2", "6.4"),
        default=["6.1", "6.2", "6.4"],
        help="which experiments to run (default all)",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        metavar="N",
        help="torch CPU threads (default 1: fastest for these small models on shared cores)",
    )
    parser.add_argument(
        "--dpi", type=int, default=120, metavar="N", help="resolution of the PNGs (default 120)"
    )
    parser.add_argument(
        "--tensorboard",
        type=Path,
        default=None,
        metavar="DIR",
        help="also write every training run's curves as TensorBoard event files under DIR "
        '(needs pip install "adamlab[tensorboard]")',
    )


def _tensorboard_logger(logdir: Path) -> TrainingLogger:
    """A TensorBoard logger for ``--tensorboard DIR``; a usage error without TensorBoard."""
    from adamlab.tasks.logging import TensorBoardLogger

    if logdir.exists() and not logdir.is_dir():
        raise UsageError(f"--tensorboard {logdir} exists and is not a folder")
    try:
        return TensorBoardLogger(logdir)
    except ImportError:
        raise UsageError(
            "--tensorboard needs TensorBoard, which is not installed: "
            'pip install "adamlab[tensorboard]"'
        ) from None


def _run_adam(args: argparse.Namespace) -> int:
    import torch

    from adamlab.tasks import adam_paper, data
    from adamlab.tasks.logging import TrainingLogger

    if args.dpi < 10:
        raise UsageError(f"invalid --dpi {args.dpi} (expected an integer >= 10)")
    if args.threads < 1:
        raise UsageError(f"invalid --threads {args.threads} (expected an integer >= 1)")
    changes: dict[str, object] = {"sections": tuple(args.sections)}
    if args.seeds is not None:
        changes["seeds"] = args.seeds
    if args.epochs is not None:
        changes |= {"logreg_epochs": args.epochs, "mlp_epochs": args.epochs}
    try:
        if args.quick:
            config = adam_paper.AdamPaperConfig.quick(**changes)
        else:
            config = adam_paper.AdamPaperConfig(**changes)  # type: ignore[arg-type]
    except ValueError as error:
        raise UsageError(str(error)) from None
    try:
        dataset = data.load_mnist(args.mnist) if args.mnist else data.load_digits()
    except (OSError, ValueError) as error:
        raise UsageError(str(error)) from None
    logger = TrainingLogger() if args.tensorboard is None else _tensorboard_logger(args.tensorboard)
    out = output_folder(args.out)
    torch.set_num_threads(args.threads)
    settings = " ".join(f"{key}={value}" for key, value in asdict(config).items())
    board = "" if args.tensorboard is None else f" tensorboard={args.tensorboard}"
    print(
        f"paper adam: out={out} data={dataset.name} threads={args.threads}{board} {settings}",
        flush=True,
    )

    with logger:
        result = adam_paper.reproduce(dataset, config, logger=logger)
    figures: dict[str, str] = {}
    if result.logreg is not None:
        figures["6.1 logistic regression"] = "adam_6_1_logreg.png"
        title = f"Section 6.1: L2 logistic regression on {dataset.name}, alpha_t = alpha/sqrt(t)"
        adam_paper.comparison_figure(result.logreg, title).savefig(
            out / figures["6.1 logistic regression"], dpi=args.dpi
        )
    if result.mlp is not None:
        figures["6.2 MLP with dropout"] = "adam_6_2_mlp.png"
        title = (
            f"Section 6.2: 64-{config.hidden}-{config.hidden}-10 ReLU MLP, dropout "
            f"{config.dropout:g}, on {dataset.name}"
        )
        adam_paper.comparison_figure(result.mlp, title).savefig(
            out / figures["6.2 MLP with dropout"], dpi=args.dpi
        )
    if result.vae:
        figures["6.4 bias correction"] = "adam_6_4_vae.png"
        adam_paper.vae_figure(result.vae, config).savefig(
            out / figures["6.4 bias correction"], dpi=args.dpi
        )
    results_path = out / "results.json"
    results_path.write_text(json.dumps(result.to_dict(), indent=1) + "\n")
    summary_path = out / "summary.md"
    summary_path.write_text(adam_paper.summary_markdown(result, figures))
    for claim in adam_paper.assess(result):
        print(f"{claim['claim']}: {'holds' if claim['holds'] else 'does not hold'}")
    for path in [*(out / name for name in figures.values()), results_path, summary_path]:
        print(f"wrote {path}")
    if args.tensorboard is not None:
        logdir = args.tensorboard
        print(f"wrote TensorBoard runs to {logdir}/ (view: tensorboard --logdir {logdir})")
    return 0


#: Every ``adamlab paper`` target, by name.
PAPERS: dict[str, Paper] = {
    "amsgrad": Paper(
        help="Reddi et al. 2018: Adam goes to the worst point of a 1-D problem, AMSGrad does not",
        description=(
            "Reproduce Theorem 1 (C = 3) and Figure 1 (online and stochastic) of Reddi, Kale & "
            "Kumar, On the Convergence of Adam and Beyond (ICLR 2018), with adamlab's "
            "adam_update: writes amsgrad.png, results.json and README.md."
        ),
        add_arguments=_amsgrad_arguments,
        run=_run_amsgrad,
    ),
    "adam": Paper(
        help="Kingma & Ba 2015: sections 6.1, 6.2, 6.4 on digits (logreg, MLP, VAE)",
        description=(
            "Reproduce the protocols of Kingma & Ba, Adam: A Method for Stochastic Optimization "
            "(ICLR 2015), sections 6.1 (logistic regression), 6.2 (MLP with dropout) and 6.4 "
            "(bias correction on a VAE) on scikit-learn's digits or local MNIST IDX files: "
            "writes adam_6_*.png, results.json and summary.md."
        ),
        add_arguments=_adam_arguments,
        run=_run_adam,
    ),
}
