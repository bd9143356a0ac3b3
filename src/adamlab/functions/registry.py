"""The registry of test functions and named suites.

``FUNCTIONS`` maps each registry name to a :class:`FunctionFactory`; ``get(name, dim)`` builds
the :class:`~adamlab.functions.base.TestFunction`. ``SUITES`` names groups of functions
(``"seed"``: the seed project's six; ``"all"``: every registered function). Tests, the CLI and
the benchmark enumerate these dictionaries, so registering a function here is all it takes to
have it tested, listed and plotted.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from adamlab.functions import classic2d, nd
from adamlab.functions.base import TestFunction


@dataclass(frozen=True)
class FunctionFactory:
    """Builds one registered test function, validating the requested dimension.

    Attributes:
        name: the registry name.
        build: the builder; takes ``dim`` when ``n_dimensional``, nothing otherwise.
        n_dimensional: whether the function is defined for every d >= 2 (else only d = 2).
    """

    name: str
    build: Callable[..., TestFunction]
    n_dimensional: bool = False

    @property
    def valid_dims(self) -> str:
        """The accepted values of ``dim``, in words."""
        return "None or any integer >= 2" if self.n_dimensional else "None or 2"

    def __call__(self, dim: int | None = None) -> TestFunction:
        """Build the function in ``dim`` dimensions (None: the default, 2)."""
        if dim is not None and (isinstance(dim, bool) or not isinstance(dim, int)):
            raise ValueError(f"{self.name}: invalid dim {dim!r} (expected {self.valid_dims})")
        if self.n_dimensional:
            d = 2 if dim is None else dim
            if d < 2:
                raise ValueError(f"{self.name}: invalid dim {d} (expected {self.valid_dims})")
            return self.build(d)
        if dim not in (None, 2):
            raise ValueError(
                f"{self.name} is defined in 2 dimensions only: invalid dim {dim} "
                f"(expected {self.valid_dims})"
            )
        return self.build()


def _registry(*entries: FunctionFactory) -> dict[str, FunctionFactory]:
    return {entry.name: entry for entry in entries}


#: Every registered test function, by registry name.
FUNCTIONS: dict[str, FunctionFactory] = _registry(
    FunctionFactory("rosenbrock", nd.rosenbrock, n_dimensional=True),
    FunctionFactory("bukin_n6", classic2d.bukin_n6),
    FunctionFactory("bohachevsky1", classic2d.bohachevsky1),
    FunctionFactory("bohachevsky2", classic2d.bohachevsky2),
    FunctionFactory("bohachevsky3", classic2d.bohachevsky3),
    FunctionFactory("booth", classic2d.booth),
    FunctionFactory("three_hump_camel", classic2d.three_hump_camel),
    FunctionFactory("six_hump_camel", classic2d.six_hump_camel),
    FunctionFactory("easom", classic2d.easom),
    FunctionFactory("beale", classic2d.beale),
    FunctionFactory("himmelblau", classic2d.himmelblau),
    FunctionFactory("rastrigin", nd.rastrigin, n_dimensional=True),
    FunctionFactory("ackley", nd.ackley, n_dimensional=True),
    FunctionFactory("styblinski_tang", nd.styblinski_tang, n_dimensional=True),
    FunctionFactory("goldstein_price", classic2d.goldstein_price),
    FunctionFactory("levy_n13", classic2d.levy_n13),
    FunctionFactory("matyas", classic2d.matyas),
    FunctionFactory("mccormick", classic2d.mccormick),
)

#: Named groups of registry names. ``"seed"`` is the seed project's experiment, in its order
#: (its diagram shows the THREE-hump camel, which is the one used here).
SUITES: dict[str, tuple[str, ...]] = {
    "seed": ("rosenbrock", "bukin_n6", "bohachevsky1", "booth", "three_hump_camel", "easom"),
    "all": tuple(FUNCTIONS),
    "nd": tuple(name for name, entry in FUNCTIONS.items() if entry.n_dimensional),
    "smooth": tuple(name for name in FUNCTIONS if name not in ("bukin_n6", "ackley")),
}


def _unknown(kind: str, name: str, known: Iterable[str]) -> ValueError:
    known = list(known)
    close = difflib.get_close_matches(name, known, n=3)
    hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    return ValueError(f"unknown {kind} {name!r}{hint} (known: {', '.join(known)})")


def get(name: str, dim: int | None = None) -> TestFunction:
    """Build the registered test function ``name`` in ``dim`` dimensions.

    Args:
        name: a key of :data:`FUNCTIONS`, e.g. ``"rosenbrock"``.
        dim: the dimension d. None means the default, 2. The N-dimensional functions
            (``rosenbrock``, ``rastrigin``, ``ackley``, ``styblinski_tang``) accept any d >= 2;
            the others only 2.

    Returns:
        The :class:`TestFunction`.

    Raises:
        ValueError: for an unknown name (naming the closest registered ones) or a dimension
            the function does not support.

    >>> f = get("rosenbrock", dim=3)
    >>> f.dim, f.f_star, f.minimizers.tolist()
    (3, 0.0, [[1.0, 1.0, 1.0]])
    >>> get("rosenbrok")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: unknown test function 'rosenbrok'; did you mean 'rosenbrock'? ...
    """
    factory = FUNCTIONS.get(name)
    if factory is None:
        raise _unknown("test function", name, FUNCTIONS)
    return factory(dim)


def resolve_suite_or_names(
    names: str | Iterable[str], dim: int | None = None
) -> list[TestFunction]:
    """Build the functions named by suite names and/or function names, without duplicates.

    Args:
        names: one name or several; each is a key of :data:`SUITES` or of :data:`FUNCTIONS`
            (a suite name wins where both exist).
        dim: the dimension for the N-dimensional functions. Two-dimensional functions pulled in
            through a suite stay 2-D; naming a 2-D function explicitly with ``dim`` other than
            None or 2 is an error, as in :func:`get`.

    Returns:
        The functions in first-mention order.

    >>> [f.name for f in resolve_suite_or_names(["booth", "seed"])][:3]
    ['booth', 'rosenbrock', 'bukin_n6']
    """
    if isinstance(names, str):
        names = [names]
    ordered: dict[str, bool] = {}  # registry name -> named explicitly
    for item in names:
        if item in SUITES:
            for member in SUITES[item]:
                ordered.setdefault(member, False)
        elif item in FUNCTIONS:
            ordered[item] = True
        else:
            raise _unknown("suite or test function", item, [*SUITES, *FUNCTIONS])
    functions = []
    for name, explicit in ordered.items():
        factory = FUNCTIONS[name]
        functions.append(factory(dim if explicit or factory.n_dimensional else None))
    return functions
