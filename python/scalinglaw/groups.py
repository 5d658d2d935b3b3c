"""Groups of runs fitted apart (corpora, datasets, architectures), and reported side by side.

Each group is fitted exactly as it would be alone: ``fit_groups(...)["web"]`` equals ``fit`` of the web
runs, bit for bit. The groups come from a column, ``group=``: of a file (``read_csv(path, group=...)``
splits it) or of a DataFrame; or already split, as a mapping from each name to its ``Runs``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from typing import Any

from .fit import FitOptions, FitResult, fit
from .frames import groups_from_data
from .frontier import GOPHER_FLOPS
from .io import Runs, read_csv
from .summary import format_groups, format_groups_html, group_record, pandas, report

__all__ = ["GroupFits", "fit_groups"]


class GroupFits(Mapping[str, FitResult]):
    """The fit of each group, by name, in order of first appearance; ``column`` names the column the
    groups are values of. ``summary()`` and the notebook display put them side by side."""

    def __init__(self, column: str, fits: Mapping[str, FitResult]) -> None:
        self.column = column
        self.fits = dict(fits)

    def __getitem__(self, name: str) -> FitResult:
        return self.fits[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.fits)

    def __len__(self) -> int:
        return len(self.fits)

    def to_dict(self, budgets: Any = ()) -> dict[str, Any]:
        """The document ``scalinglaw fit --group`` writes as JSON: each group's, by name."""
        plans = [GOPHER_FLOPS, *budgets]
        return group_record(
            self.column,
            {name: report(f, f.data, plans, sensitivity=f.sensitivity()) for name, f in self.fits.items()},
        )

    def summary(self, budgets: Any = ()) -> str:
        """What ``scalinglaw fit --group COLUMN`` prints (with ``--budget`` for each of `budgets`): the
        groups side by side, then each group's summary."""
        return format_groups(self.to_dict(budgets))

    def _repr_html_(self) -> str:
        return format_groups_html(self.to_dict())

    def to_frame(self) -> Any:
        """One row per group (index: its name): runs, E, A, B, alpha, beta, objective, status. Needs
        pandas (a ValueError says how to install it)."""
        rows = {
            name: {"n_runs": f.n_runs, **f.params, "objective": f.objective, "status": f.status}
            for name, f in self.fits.items()
        }
        frame = pandas().DataFrame.from_dict(rows, orient="index")
        frame.index.name = self.column
        return frame

    def __repr__(self) -> str:
        fits = ", ".join(
            f"{name!r}: alpha={f.alpha:.4g}, beta={f.beta:.4g}, {f.n_runs} runs"
            for name, f in self.fits.items()
        )
        return f"GroupFits({self.column!r}; {fits})"


def fit_groups(
    data: Any,
    *,
    group: str | None = None,
    N: Any = None,
    D: Any = None,
    C: Any = None,
    loss: Any = None,
    nan_policy: str = "raise",
    delta: float | None = None,
    starts: Any = None,
    threads: int | None = None,
    max_iterations: int | None = None,
    options: FitOptions | None = None,
) -> GroupFits:
    """Fit each group of runs apart.

    Parameters
    ----------
    data
        A file (a path, ``"-"``, a file object: read by ``read_csv``, whose ``n=``, ``d=``, ``c=``,
        ``loss=`` are ``N``, ``D``, ``C``, ``loss`` here), a pandas DataFrame or mapping of columns (as
        ``fit(data=...)``), or the groups already split: a mapping from each name to its ``Runs``.
    group
        The column whose values name the groups (not with groups already split).
    N, D, C, loss, nan_policy
        The columns, as for ``fit(data=...)`` (``nan_policy`` for a DataFrame or mapping).
    delta, starts, threads, max_iterations, options
        The solver's, as for ``fit``: the same for every group.

    Returns
    -------
    GroupFits
        The fit of each group; a ValueError that stops one names the group.
    """
    if isinstance(data, Mapping) and data and all(isinstance(runs, Runs) for runs in data.values()):
        if group is not None or any(name is not None for name in (N, D, C, loss)):
            raise ValueError("data holds groups already split: leave out group=, N=, D=, C=, loss=")
        split: Mapping[str, Runs] = data
        column = next(iter(data.values())).columns.get("group", "group")
    else:
        if group is None:
            raise ValueError("group= must name the column whose values are the groups")
        column = group
        if isinstance(data, (str, os.PathLike)) or callable(getattr(data, "read", None)):
            for name, value in (("N", N), ("D", D), ("C", C), ("loss", loss)):
                if value is not None and not isinstance(value, str):
                    raise ValueError(f"{name}= must be a column name (a string), got {value!r}")
            split = read_csv(data, n=N, d=D, c=C, loss=loss, group=group)
        else:
            split = groups_from_data(data, group=group, N=N, D=D, C=C, loss=loss, nan_policy=nan_policy)
    fits = {}
    for name, runs in split.items():
        try:
            fits[name] = fit(
                data=runs,
                delta=delta,
                starts=starts,
                threads=threads,
                max_iterations=max_iterations,
                options=options,
            )
        except ValueError as error:
            raise ValueError(f"group {name!r} of column {column!r}: {error}") from None
    return GroupFits(column, fits)
