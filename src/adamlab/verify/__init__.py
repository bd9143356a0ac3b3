"""Proof by oracle: adamlab's optimizers against their torch.optim twins, step for step.

Where torch has no twin (AdaBelief, Lion, Adam-atan2), against the paper's equations written
out independently in :mod:`adamlab.verify.references` (the :data:`PAPER` path).

:func:`run_oracle` steps an adamlab optimizer and its twin side by side from identical copies
of a problem's parameters and reports the largest deviation over every parameter and state
tensor; :func:`oracle_matrix` enumerates the registry's optimizers x oracle cases x dtypes x
problems. ``tests/test_oracle.py`` and ``adamlab verify`` both run it.

:func:`compare` does the same for any two classes (a researcher's own optimizer against
``torch.optim.Adam``, say): ``adamlab verify --optimizer my.mod:MyOpt --reference
torch.optim:Adam``.
"""

from adamlab.verify.compare import Side, compare, compare_side_by_side, resolve
from adamlab.verify.oracle import (
    ADAMLAB_FUSED,
    DEFAULT_STEPS,
    DTYPES,
    FOREACH,
    FUSED,
    ORACLE_PATHS,
    PAPER,
    SCOPES,
    SINGLE_TENSOR,
    TORCH_PATHS,
    Comparison,
    OracleCase,
    OracleResult,
    TorchPath,
    clone_params,
    deviation,
    format_options,
    make_reference,
    oracle_matrix,
    paper_reference,
    resynchronise,
    run_oracle,
    step_side_by_side,
    supports,
    take_step,
)
from adamlab.verify.problems import PROBLEMS, OracleProblem

__all__ = [
    "ADAMLAB_FUSED",
    "DEFAULT_STEPS",
    "DTYPES",
    "FOREACH",
    "FUSED",
    "ORACLE_PATHS",
    "PAPER",
    "PROBLEMS",
    "SCOPES",
    "SINGLE_TENSOR",
    "TORCH_PATHS",
    "Comparison",
    "OracleCase",
    "OracleProblem",
    "OracleResult",
    "Side",
    "TorchPath",
    "clone_params",
    "compare",
    "compare_side_by_side",
    "deviation",
    "format_options",
    "make_reference",
    "oracle_matrix",
    "paper_reference",
    "resolve",
    "resynchronise",
    "run_oracle",
    "step_side_by_side",
    "supports",
    "take_step",
]
