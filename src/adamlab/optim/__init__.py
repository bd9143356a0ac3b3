"""torch.optim-compatible optimizers whose math lives in :mod:`adamlab.functional`.

Each class takes the same arguments, defaults and state keys as its torch.optim twin, so it
drops in wherever that twin goes; :data:`OPTIMIZERS` lists them all for tests, CLI and reports.
"""

from adamlab.optim.adagrad import Adagrad
from adamlab.optim.adam import Adam, AdamW
from adamlab.optim.base import FunctionalOptimizer
from adamlab.optim.registry import OPTIMIZERS, OptimizerEntry, get_optimizer
from adamlab.optim.rmsprop import RMSprop
from adamlab.optim.sgd import SGD

__all__ = [
    "OPTIMIZERS",
    "SGD",
    "Adagrad",
    "Adam",
    "AdamW",
    "FunctionalOptimizer",
    "OptimizerEntry",
    "RMSprop",
    "get_optimizer",
]
