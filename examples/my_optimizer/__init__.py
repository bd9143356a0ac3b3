"""Optimizers of one's own, to benchmark and verify with adamlab.

``signsgd.SignSGD`` (sign descent with momentum) and ``plain_adam.PlainAdam`` (Adam written
from the paper). With ``examples/`` on ``PYTHONPATH`` they are ``my_optimizer.signsgd:SignSGD``
and ``my_optimizer.plain_adam:PlainAdam``; see docs/bring-your-own-optimizer.md.
"""
