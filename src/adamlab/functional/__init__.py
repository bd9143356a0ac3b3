"""The math of adamlab: each optimizer's update rule, once, as a pure function.

Every rule has the shape of optax's pure transformations, in torch::

    state = <name>_init(theta, ...)                       # t = 0, moments at 0
    theta, state = <name>_update(theta, grad, state, lr=..., ...)

The update returns new tensors and modifies none of its inputs; the state is a small
``NamedTuple`` whose fields carry the paper's symbols (``m``, ``v``, ``step`` for t). The
``torch.optim`` classes in :mod:`adamlab.optim` and the batched benchmark engine both call
these functions, so there is exactly one copy of each update rule.
"""

from adamlab.functional.adabelief import AdaBeliefState, adabelief_init, adabelief_update
from adamlab.functional.adagrad import AdagradState, adagrad_init, adagrad_update
from adamlab.functional.adam import AdamState, adam_init, adam_update
from adamlab.functional.adam_atan2 import AdamAtan2State, adam_atan2_init, adam_atan2_update
from adamlab.functional.adamax import AdamaxState, adamax_init, adamax_update
from adamlab.functional.lion import LionState, lion_init, lion_update
from adamlab.functional.nadam import NAdamState, nadam_init, nadam_update
from adamlab.functional.radam import RAdamState, radam_init, radam_update
from adamlab.functional.rmsprop import RMSpropState, rmsprop_init, rmsprop_update
from adamlab.functional.sgd import SGDState, sgd_init, sgd_update

__all__ = [
    "AdaBeliefState",
    "AdagradState",
    "AdamAtan2State",
    "AdamState",
    "AdamaxState",
    "LionState",
    "NAdamState",
    "RAdamState",
    "RMSpropState",
    "SGDState",
    "adabelief_init",
    "adabelief_update",
    "adagrad_init",
    "adagrad_update",
    "adam_atan2_init",
    "adam_atan2_update",
    "adam_init",
    "adam_update",
    "adamax_init",
    "adamax_update",
    "lion_init",
    "lion_update",
    "nadam_init",
    "nadam_update",
    "radam_init",
    "radam_update",
    "rmsprop_init",
    "rmsprop_update",
    "sgd_init",
    "sgd_update",
]
