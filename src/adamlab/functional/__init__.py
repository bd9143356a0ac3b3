"""The math of adamlab: each optimizer's update rule, once, as a pure function.

Every rule has the shape of optax's pure transformations, in torch::

    state = <name>_init(theta, ...)                       # t = 0, moments at 0
    theta, state = <name>_update(theta, grad, state, lr=..., ...)

The update returns new tensors and modifies none of its inputs; the state is a small
``NamedTuple`` whose fields carry the paper's symbols (``m``, ``v``, ``step`` for t). The
``torch.optim`` classes in :mod:`adamlab.optim` and the batched benchmark engine both call
these functions, so there is exactly one copy of each update rule.
"""

from adamlab.functional.adagrad import AdagradState, adagrad_init, adagrad_update
from adamlab.functional.adam import AdamState, adam_init, adam_update
from adamlab.functional.rmsprop import RMSpropState, rmsprop_init, rmsprop_update
from adamlab.functional.sgd import SGDState, sgd_init, sgd_update

__all__ = [
    "AdagradState",
    "AdamState",
    "RMSpropState",
    "SGDState",
    "adagrad_init",
    "adagrad_update",
    "adam_init",
    "adam_update",
    "rmsprop_init",
    "rmsprop_update",
    "sgd_init",
    "sgd_update",
]
