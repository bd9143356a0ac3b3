"""Proof by oracle: adamlab's optimizers against their torch.optim twins, step for step.

:func:`run_oracle` steps an adamlab optimizer and its twin side by side from identical copies
of a problem's parameters and reports the largest deviation over every parameter and state
tensor; :func:`oracle_matrix` enumerates the registry's optimizers x oracle cases x dtypes x
problems. ``tests/test_oracle.py`` and ``adamlab verify`` both run it.
"""

from adamlab.verify.oracle import (
    ADAMLAB_FUSED,
    DEFAULT_STEPS,
    DTYPES,
    FOREACH,
    FUSED,
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
    run_oracle,
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
    "PROBLEMS",
    "SCOPES",
    "SINGLE_TENSOR",
    "TORCH_PATHS",
    "Comparison",
    "OracleCase",
    "OracleProblem",
    "OracleResult",
    "TorchPath",
    "clone_params",
    "deviation",
    "format_options",
    "make_reference",
    "oracle_matrix",
    "run_oracle",
    "supports",
    "take_step",
]
