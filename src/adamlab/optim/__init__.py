"""torch.optim-compatible optimizers whose math lives in :mod:`adamlab.functional`.

Each class takes the same arguments, defaults and state keys as its torch.optim twin, so it
drops in wherever that twin goes; :data:`OPTIMIZERS` lists them all for tests, CLI and reports.
"""

from adamlab.optim.adabelief import AdaBelief
from adamlab.optim.adagrad import Adagrad
from adamlab.optim.adam import Adam, AdamW
from adamlab.optim.adam_atan2 import AdamAtan2
from adamlab.optim.adamax import Adamax
from adamlab.optim.base import FunctionalOptimizer
from adamlab.optim.lion import Lion
from adamlab.optim.nadam import NAdam
from adamlab.optim.radam import RAdam
from adamlab.optim.registry import OPTIMIZERS, OptimizerEntry, get_optimizer
from adamlab.optim.rmsprop import RMSprop
from adamlab.optim.sgd import SGD

__all__ = [
    "OPTIMIZERS",
    "SGD",
    "AdaBelief",
    "Adagrad",
    "Adam",
    "AdamAtan2",
    "AdamW",
    "Adamax",
    "FunctionalOptimizer",
    "Lion",
    "NAdam",
    "OptimizerEntry",
    "RAdam",
    "RMSprop",
    "get_optimizer",
]
