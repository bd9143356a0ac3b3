"""The benchmark engine: experiment specs, starting points, batched runner, records, metrics.

>>> from adamlab.bench import default_spec
>>> default_spec().steps
60000

:func:`run` runs an experiment from Python and returns its records (:class:`RunRecords`).
"""

from adamlab.bench.api import RunRecords, run
from adamlab.bench.engine import UnitResult, run_unit
from adamlab.bench.spec import ExperimentSpec, default_spec, load_spec, spec_from_dict

__all__ = [
    "ExperimentSpec",
    "RunRecords",
    "UnitResult",
    "default_spec",
    "load_spec",
    "run",
    "run_unit",
    "spec_from_dict",
]
