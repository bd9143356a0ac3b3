"""The experiment spec: what to run, validated and frozen before anything runs.

A spec comes from a TOML file, from CLI flags, or from Python; :func:`load_spec` and
:func:`spec_from_dict` check every field and raise ``ValueError`` naming the field, its value
and what is allowed, so a typo costs one line of output, not a half-finished run.

Example TOML (the default experiment is :func:`default_spec`)::

    steps = 60000
    seed = 0
    dtype = "float64"
    functions = ["seed"]                  # suite names and/or function names
    targets = [1e-1, 1e-2, 1e-3, 1e-4, 1e-5, 1e-6, 1e-7, 1e-8]

    [[starts]]
    name = "domain"                       # uniform in each function's standard domain
    n = 100

    [[starts]]
    name = "seed"                         # uniform in [-1, 1]^2, the seed notebook's box
    n = 100

    [[optimizers]]
    name = "adam"                         # registry name, or "package.module:Class"
    lr = 1e-3
"""

from __future__ import annotations

import difflib
import hashlib
import json
import math
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from adamlab import functions as functions_module
from adamlab.optim.schedules import get_schedule

#: Named start boxes, (low, high) per coordinate for 2-D functions.
NAMED_BOXES: dict[str, tuple[float, float]] = {"seed": (-1.0, 1.0)}
#: Start distributions: the function's standard domain, a named box, or explicit points.
START_KINDS = ("domain", *NAMED_BOXES, "box", "points")
DTYPES = ("float32", "float64")
DEFAULT_TARGETS: tuple[float, ...] = tuple(10.0**-k for k in range(1, 9))
SCHEMA_VERSION = 1


@dataclass(frozen=True)
class OptimizerSpec:
    """One optimizer of the experiment.

    Attributes:
        name: a registry name (``adamlab.optim.OPTIMIZERS``) or ``package.module:Class`` for any
            ``torch.optim.Optimizer`` subclass.
        label: the name shown in tables and figures (default: ``name``, or ``name@lr``).
        kwargs: constructor arguments (lr, betas, ...), JSON-compatible values.
        lrs: learning rates to run side by side as extra batch rows (overrides ``kwargs["lr"]``);
            empty means the one lr in ``kwargs`` (or the class default).
        schedule: learning-rate schedule name (see ``adamlab.optim.schedules``), "constant" default.
    """

    name: str
    label: str
    kwargs: tuple[tuple[str, Any], ...] = ()
    lrs: tuple[float, ...] = ()
    schedule: str = "constant"

    @property
    def kwargs_dict(self) -> dict[str, Any]:
        return {key: (tuple(v) if isinstance(v, list) else v) for key, v in self.kwargs}

    @property
    def is_registry(self) -> bool:
        return ":" not in self.name


@dataclass(frozen=True)
class StartSpec:
    """One set of starting points, drawn once and shared by every optimizer.

    Attributes:
        name: ``"domain"`` (uniform in the function's standard domain), a named box
            (``"seed"`` = [-1, 1]^d), ``"box"`` (uniform in ``box``) or ``"points"`` (``points``).
        n: number of starts (ignored for ``"points"``).
        box: (low, high) for ``"box"``.
        points: explicit starting points for ``"points"``.
        label: name used in records (default: ``name``).
    """

    name: str
    n: int = 100
    box: tuple[float, float] | None = None
    points: tuple[tuple[float, ...], ...] = ()
    label: str = ""

    @property
    def key(self) -> str:
        return self.label or self.name


@dataclass(frozen=True)
class ExperimentSpec:
    """A whole experiment; frozen, hashable into a fingerprint, echoed at the start of a run.

    Besides what to run, four fields say how the engine runs it:
        chunk: iterations per compiled call. 1 (the default) suits small batches and short
            runs; from about 1,000 starts per function, 4 steps faster (one function
            or several), for longer compiling (docs/performance.md). Early stopping is
            checked every 100 chunks, so it may end a unit at another step.
        compile: ``torch.compile`` the step (False: run it eagerly, e.g. to debug).
        threads: torch's intra-op threads while the units run.
        early_stop: end a unit once every row has reached the last target or diverged.
    """

    optimizers: tuple[OptimizerSpec, ...]
    functions: tuple[str, ...]
    starts: tuple[StartSpec, ...]
    steps: int = 60_000
    seed: int = 0
    dtype: str = "float64"
    targets: tuple[float, ...] = DEFAULT_TARGETS
    dims: tuple[tuple[str, int], ...] = ()
    curve_points: int = 60
    trace_rows: int = 8
    trace_points: int = 200
    chunk: int = 1
    compile: bool = True
    threads: int = 1
    early_stop: bool = True

    def to_dict(self) -> dict[str, Any]:
        return json.loads(json.dumps(asdict(self)))

    def fingerprint(self) -> str:
        """SHA-256 of the canonical JSON form; equal specs give equal fingerprints."""
        text = json.dumps(self.to_dict(), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()

    def dim_of(self, function: str) -> int | None:
        return dict(self.dims).get(function)

    def describe(self) -> str:
        """A few human lines: what will run."""
        lines = [
            f"experiment {self.fingerprint()[:12]}: {len(self.optimizers)} optimizers x "
            f"{len(self.functions)} functions x {sum(_n_starts(s) for s in self.starts)} starts "
            f"x {self.steps} steps, {self.dtype}, seed {self.seed}",
        ]
        for opt in self.optimizers:
            args = ", ".join(f"{k}={v}" for k, v in opt.kwargs)
            lr_text = f" lrs={list(opt.lrs)}" if opt.lrs else ""
            sched = "" if opt.schedule == "constant" else f" schedule={opt.schedule}"
            lines.append(f"  optimizer {opt.label}: {opt.name}({args}){lr_text}{sched}")
        lines.append(f"  functions: {', '.join(self.functions)}")
        for s in self.starts:
            lines.append(f"  starts {s.key}: {s.name}, n={_n_starts(s)}")
        lines.append(f"  targets f - f* <= {', '.join(f'{t:g}' for t in self.targets)}")
        return "\n".join(lines)


def _n_starts(start: StartSpec) -> int:
    return len(start.points) if start.name == "points" else start.n


# -- parsing and validation -----------------------------------------------------------------


def _fail(field_name: str, value: Any, expected: str) -> ValueError:
    return ValueError(f"invalid {field_name}: {value!r} (expected {expected})")


def _suggest(name: str, known: Sequence[str]) -> str:
    close = difflib.get_close_matches(name, known, n=3, cutoff=0.5)
    return f"; did you mean {', '.join(close)}?" if close else ""


def _positive_int(data: Mapping[str, Any], key: str, default: int, upper: int = 10**9) -> int:
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= upper:
        raise _fail(key, value, f"an integer from 1 to {upper}")
    return value


def _resolve_functions(items: Any) -> tuple[str, ...]:
    if isinstance(items, str):
        items = [items]
    if not isinstance(items, list | tuple) or not items:
        raise _fail("functions", items, "a non-empty list of function or suite names")
    names: list[str] = []
    known = [*functions_module.FUNCTIONS, *functions_module.SUITES]
    for item in items:
        if not isinstance(item, str):
            raise _fail("functions", item, "a function or suite name")
        if item in functions_module.SUITES:
            names.extend(functions_module.SUITES[item])
        elif item in functions_module.FUNCTIONS:
            names.append(item)
        else:
            raise ValueError(
                f"unknown function or suite {item!r}{_suggest(item, known)} "
                f"(see `adamlab functions`)"
            )
    return tuple(dict.fromkeys(names))


def default_label(name: str) -> str:
    """An optimizer's label when the spec gives none: the registry name, or the class name in
    lower case for ``package.module:Class``.

    >>> default_label("adam"), default_label("mypkg.opt:SignSGD")
    ('adam', 'signsgd')
    """
    return name.rsplit(":", 1)[-1].lower() if ":" in name else name


def _parse_optimizer(raw: Any, index: int) -> OptimizerSpec:
    from adamlab.optim import OPTIMIZERS

    if isinstance(raw, str):
        raw = {"name": raw}
    if not isinstance(raw, Mapping) or not isinstance(raw.get("name"), str):
        raise _fail(f"optimizers[{index}]", raw, 'a table with a "name"')
    raw = dict(raw)
    name = raw.pop("name")
    label = raw.pop("label", None)
    schedule = raw.pop("schedule", "constant")
    if not isinstance(schedule, str):
        raise _fail(f"optimizers[{index}].schedule", schedule, "a schedule name")
    get_schedule(schedule)  # an unknown name fails here, with the closest names suggested
    lrs = raw.pop("lrs", ())
    if ":" not in name and name not in OPTIMIZERS:
        raise ValueError(
            f"unknown optimizer {name!r}{_suggest(name, list(OPTIMIZERS))} "
            f"(known: {', '.join(OPTIMIZERS)}; or give package.module:Class)"
        )
    if not isinstance(lrs, list | tuple) or not all(
        isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) and v >= 0
        for v in lrs
    ):
        raise _fail(f"optimizers[{index}].lrs", lrs, "a list of finite learning rates >= 0")
    for key, value in raw.items():
        _check_hyperparameter(f"optimizers[{index}].{key}", value)
    kwargs = tuple(sorted((k, _freeze(v)) for k, v in raw.items()))
    if label is None:
        label = default_label(name)
    if not isinstance(label, str) or not label or any(c in label for c in "/\\ "):
        raise _fail(f"optimizers[{index}].label", label, "a non-empty name without / or spaces")
    return OptimizerSpec(
        name=name, label=label, kwargs=kwargs, lrs=tuple(float(v) for v in lrs), schedule=schedule
    )


def _freeze(value: Any) -> Any:
    return tuple(_freeze(v) for v in value) if isinstance(value, list | tuple) else value


def _check_hyperparameter(where: str, value: Any) -> None:
    if isinstance(value, float) and not math.isfinite(value):
        raise _fail(where, value, "a finite number")
    if isinstance(value, list | tuple):
        for i, item in enumerate(value):
            _check_hyperparameter(f"{where}[{i}]", item)
    elif not isinstance(value, bool | int | float | str):
        raise _fail(where, value, "a number, boolean, string or list of them")


def _parse_start(raw: Any, index: int) -> StartSpec:
    if isinstance(raw, str):
        raw = {"name": raw}
    if not isinstance(raw, Mapping):
        raise _fail(f"starts[{index}]", raw, 'a table with a "name"')
    name = raw.get("name", "domain")
    if name not in START_KINDS:
        raise ValueError(
            f"unknown start distribution {name!r}{_suggest(str(name), START_KINDS)} "
            f"(known: {', '.join(START_KINDS)})"
        )
    n = _positive_int(raw, "n", 100, upper=10_000_000)
    box = raw.get("box")
    if name == "box":
        if (
            not isinstance(box, list | tuple)
            or len(box) != 2
            or not all(isinstance(b, int | float) and math.isfinite(b) for b in box)
            or not box[0] < box[1]
        ):
            raise _fail(f"starts[{index}].box", box, "[low, high] with low < high")
        box = (float(box[0]), float(box[1]))
    points: tuple[tuple[float, ...], ...] = ()
    if name == "points":
        raw_points = raw.get("points")
        if not isinstance(raw_points, list | tuple) or not raw_points:
            raise _fail(f"starts[{index}].points", raw_points, "a non-empty list of points")
        try:
            points = tuple(tuple(float(c) for c in p) for p in raw_points)
        except (TypeError, ValueError):
            raise _fail(f"starts[{index}].points", raw_points, "a list of points") from None
        if len({len(p) for p in points}) != 1 or not all(
            math.isfinite(c) for p in points for c in p
        ):
            raise _fail(f"starts[{index}].points", raw_points, "finite points of one dimension")
    label = raw.get("label", "")
    if not isinstance(label, str):
        raise _fail(f"starts[{index}].label", label, "a string")
    return StartSpec(name=name, n=n, box=box, points=points, label=label)


_TOP_LEVEL_KEYS = {
    "optimizers",
    "functions",
    "starts",
    "steps",
    "seed",
    "dtype",
    "targets",
    "dims",
    "curve_points",
    "trace_rows",
    "trace_points",
    "chunk",
    "compile",
    "threads",
    "early_stop",
}


def spec_from_dict(data: Mapping[str, Any]) -> ExperimentSpec:
    """Validate a plain mapping (parsed TOML or JSON) into an :class:`ExperimentSpec`."""
    unknown = set(data) - _TOP_LEVEL_KEYS
    if unknown:
        key = sorted(unknown)[0]
        raise ValueError(
            f"unknown spec key {key!r}{_suggest(key, sorted(_TOP_LEVEL_KEYS))} "
            f"(known: {', '.join(sorted(_TOP_LEVEL_KEYS))})"
        )
    raw_optimizers = data.get("optimizers")
    if not isinstance(raw_optimizers, list | tuple) or not raw_optimizers:
        raise _fail("optimizers", raw_optimizers, "a non-empty list of optimizer tables")
    optimizers = tuple(_parse_optimizer(raw, i) for i, raw in enumerate(raw_optimizers))
    labels = [o.label for o in optimizers]
    if len(set(labels)) != len(labels):
        dup = next(label for label in labels if labels.count(label) > 1)
        raise _fail("optimizers", dup, "distinct labels (add label = ... to tell them apart)")
    function_names = _resolve_functions(data.get("functions", ["seed"]))
    raw_starts = data.get("starts", [{"name": "domain", "n": 100}])
    if not isinstance(raw_starts, list | tuple) or not raw_starts:
        raise _fail("starts", raw_starts, "a non-empty list of start tables")
    starts = tuple(_parse_start(raw, i) for i, raw in enumerate(raw_starts))
    keys = [s.key for s in starts]
    if len(set(keys)) != len(keys):
        raise _fail("starts", keys, "distinct start-set names (add label = ...)")
    dtype = data.get("dtype", "float64")
    if dtype not in DTYPES:
        raise _fail("dtype", dtype, " or ".join(DTYPES))
    targets = data.get("targets", list(DEFAULT_TARGETS))
    if (
        not isinstance(targets, list | tuple)
        or not targets
        or not all(isinstance(t, int | float) and math.isfinite(t) and t > 0 for t in targets)
    ):
        raise _fail("targets", targets, "a non-empty list of positive finite numbers")
    targets = tuple(sorted((float(t) for t in targets), reverse=True))
    raw_dims = data.get("dims", {})
    if not isinstance(raw_dims, Mapping):
        raise _fail("dims", raw_dims, "a table function = dimension")
    dims = []
    for fname, dim in raw_dims.items():
        if fname not in function_names:
            raise _fail(f"dims.{fname}", dim, "a dimension for one of the spec's functions")
        functions_module.get(fname, int(dim))  # raises a clear error for a bad dimension
        dims.append((fname, int(dim)))
    for flag in ("compile", "early_stop"):
        if not isinstance(data.get(flag, True), bool):
            raise _fail(flag, data.get(flag), "true or false")
    spec = ExperimentSpec(
        optimizers=optimizers,
        functions=function_names,
        starts=starts,
        steps=_positive_int(data, "steps", 60_000, upper=100_000_000),
        seed=_non_negative_int(data, "seed", 0),
        dtype=dtype,
        targets=targets,
        dims=tuple(sorted(dims)),
        curve_points=_positive_int(data, "curve_points", 60, upper=10_000),
        trace_rows=_non_negative_int(data, "trace_rows", 8),
        trace_points=_positive_int(data, "trace_points", 200, upper=100_000),
        chunk=_positive_int(data, "chunk", 1, upper=1000),
        compile=bool(data.get("compile", True)),
        threads=_positive_int(data, "threads", 1, upper=1024),
        early_stop=bool(data.get("early_stop", True)),
    )
    _check_points_dims(spec)
    return spec


def _non_negative_int(data: Mapping[str, Any], key: str, default: int) -> int:
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise _fail(key, value, "an integer >= 0")
    return value


def _check_points_dims(spec: ExperimentSpec) -> None:
    for start in spec.starts:
        if start.name in ("points", "seed"):
            for fname in spec.functions:
                dim = spec.dim_of(fname) or functions_module.get(fname).dim
                if start.name == "points" and len(start.points[0]) != dim:
                    raise _fail(
                        f"starts.{start.key}.points", start.points[0], f"{dim}-D points for {fname}"
                    )


def load_spec(path: str | Path, overrides: Mapping[str, Any] | None = None) -> ExperimentSpec:
    """Read a TOML spec file; ``overrides`` (e.g. from CLI flags) replace top-level keys."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValueError(f"config file not found: {path}") from None
    except tomllib.TOMLDecodeError as error:
        raise ValueError(f"invalid TOML in {path}: {error}") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ValueError(f"cannot read config file {path}: {error}") from None
    return spec_from_dict({**data, **(overrides or {})})


def default_spec_dict() -> dict[str, Any]:
    """The seed notebook's experiment, done right (see :func:`default_spec`)."""
    return {
        "optimizers": [
            {"name": "adam", "lr": 1e-3},
            {"name": "sgd", "lr": 1e-3},
            {"name": "adagrad"},
            {"name": "rmsprop"},
        ],
        "functions": ["seed"],
        "starts": [{"name": "domain", "n": 100}, {"name": "seed", "n": 100}],
        "steps": 60_000,
        "seed": 0,
        "dtype": "float64",
        "targets": list(DEFAULT_TARGETS),
    }


def default_spec() -> ExperimentSpec:
    """Adam and SGD at lr 1e-3, AdaGrad and RMSprop at torch's defaults (lr 1e-2), the seed's
    six functions, 60,000 steps, 100 starts from each standard domain and 100 from [-1, 1]^2."""
    return spec_from_dict(default_spec_dict())
