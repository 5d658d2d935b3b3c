"""The warning tree: every warning derives from ScalingLawWarning, is importable where it was, and
points at the line of the user's code that caused it, however deep in the package it was raised."""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import scalinglaw
from scalinglaw import warnings as tree

# The modules themselves (scalinglaw.fit and scalinglaw.bootstrap are also functions of the package).
fit, bootstrap, io, isoflop = (
    importlib.import_module(f"scalinglaw.{name}") for name in ("fit", "bootstrap", "io", "isoflop")
)

RUNS = scalinglaw.load_chinchilla(epoch_exclusion=True)


def _parabola_sweep() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Three IsoFLOP budgets on exact parabolas; the middle one has only two model sizes."""
    n, d, loss = [], [], []
    for budget, offsets in ((1e19, (-1.0, 0.0, 1.0)), (1e20, (-0.5, 0.5)), (1e21, (-1.0, 0.0, 1.0))):
        for offset in offsets:
            size = 0.1 * np.sqrt(budget) * np.exp(offset)
            n.append(size)
            d.append(budget / (6 * size))
            loss.append(2.0 + 0.05 * offset**2)
    return np.array(n), np.array(d), np.array(loss)


def _skipping_csv(tmp_path: Path) -> Any:
    path = tmp_path / "runs.csv"
    rows = ["1e8,2e11,3.1", "3e8,6e10,2.9", "1e9,,2.8", "1e9,2e10,2.8", "3e9,7e9,2.85", "1e10,2e9,3.0"]
    path.write_text("N,D,loss\n" + "\n".join(rows) + "\n")
    return scalinglaw.read_csv(path, on_bad_row="skip")


def _csv(tmp_path: Path, header: str, rows: list[tuple[float, ...]]) -> Any:
    path = tmp_path / "runs.csv"
    path.write_text(
        header + "\n" + "".join(",".join(repr(float(value)) for value in row) + "\n" for row in rows)
    )
    return scalinglaw.read_csv(path)


def _corpora_csv(tmp_path: Path) -> Any:
    """Runs of the same model sizes on three corpora, in one file without group=."""
    path = tmp_path / "runs.csv"
    rows = [
        f"{corpus},{n!r},{20 * n!r},{2 + k / 10 + 400 / n**0.3!r}"
        for k, corpus in enumerate(("web", "code", "books"))
        for n in (1e8, 3e8, 1e9, 3e9)
    ]
    path.write_text("corpus,N,D,loss\n" + "\n".join(rows) + "\n")
    return scalinglaw.read_csv(path)


CASES: dict[str, tuple[type[Warning], Callable[[Path], Any]]] = {
    "fit that stops early": (
        scalinglaw.ConvergenceWarning,
        lambda _: scalinglaw.fit(*RUNS, starts=[[0, 0, 0, 0, 0]], max_iterations=2),
    ),
    "fit on a boundary": (
        scalinglaw.IllConditionedWarning,
        lambda _: scalinglaw.fit(
            np.geomspace(1e8, 1e10, 12),
            np.tile([1e10, 3e10, 1e11], 4),
            1.5 + 1e-4 * np.geomspace(1e8, 1e10, 12) ** 0.2 + 300 / np.tile([1e10, 3e10, 1e11], 4) ** 0.3,
            starts=[[6.0, 7.0, 0.5, -0.2, 0.3], [0.0, 7.0, 0.4, 0.3, 0.3]],
        ),
    ),
    "bootstrap whose refits stop early": (
        scalinglaw.BootstrapWarning,
        lambda _: scalinglaw.bootstrap(
            *RUNS, n_resamples=2, seed=0, starts=[[0, 0, 0, 0, 0]], max_iterations=2
        ),
    ),
    "csv with a bad row": (scalinglaw.SkippedRowsWarning, _skipping_csv),
    "sizes in billions": (
        scalinglaw.UnitsWarning,
        lambda tmp: _csv(tmp, "N,D,loss", [(n / 1e9, d, loss) for n, d, loss in zip(*RUNS)]),
    ),
    "a FLOPs column at twice 6ND": (
        scalinglaw.FlopsMismatchWarning,
        lambda tmp: _csv(tmp, "N,D,flops,loss", [(n, d, 12 * n * d, loss) for n, d, loss in zip(*RUNS)]),
    ),
    "checkpoints of one run": (
        scalinglaw.RepeatedRunsWarning,
        lambda tmp: _csv(tmp, "N,D,loss", [(1e9, 2e9 * k, 3 - 0.1 * k) for k in range(1, 7)]),
    ),
    "runs of three corpora pooled": (scalinglaw.PooledGroupsWarning, _corpora_csv),
    "runs far from every budget": (
        scalinglaw.BudgetGroupingWarning,
        lambda _: scalinglaw.group_by_budget([1e19, 1e20, 1e26], [1e19, 1e20]),
    ),
    "budget without a parabola": (
        scalinglaw.IsoflopWarning,
        lambda _: scalinglaw.approach2(*_parabola_sweep(), budgets=[1e19, 1e20, 1e21]),
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_warning_points_at_the_callers_line(case: str, tmp_path: Path) -> None:
    category, call = CASES[case]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        call(tmp_path)
    ours = [w for w in caught if issubclass(w.category, category)]
    assert ours, f"{case}: no {category.__name__}"
    for w in ours:
        assert w.filename == __file__, f"{case}: {category.__name__} points at {w.filename}:{w.lineno}"


def test_the_tree_is_one_family_importable_from_its_old_homes():
    family = [
        tree.ConvergenceWarning,
        tree.IllConditionedWarning,
        tree.BootstrapWarning,
        tree.SkippedRowsWarning,
        tree.BudgetGroupingWarning,
        tree.IsoflopWarning,
        tree.UnitsWarning,
        tree.FlopsMismatchWarning,
        tree.RepeatedRunsWarning,
        tree.PooledGroupsWarning,
    ]
    assert all(issubclass(w, tree.ScalingLawWarning) for w in family)
    assert issubclass(tree.ScalingLawWarning, UserWarning)
    assert set(tree.ScalingLawWarning.__subclasses__()) == set(family)
    assert all(getattr(scalinglaw, w.__name__) is w for w in [tree.ScalingLawWarning, *family])
    assert fit.ScalingLawWarning is fit.ConvergenceWarning.__base__ is tree.ScalingLawWarning
    assert fit.IllConditionedWarning is tree.IllConditionedWarning
    assert bootstrap.BootstrapWarning is tree.BootstrapWarning
    assert io.SkippedRowsWarning is tree.SkippedRowsWarning
    assert io.UnitsWarning is tree.UnitsWarning and io.FlopsMismatchWarning is tree.FlopsMismatchWarning
    assert io.PooledGroupsWarning is tree.PooledGroupsWarning
    assert isoflop.BudgetGroupingWarning is tree.BudgetGroupingWarning
    assert isoflop.IsoflopWarning is tree.IsoflopWarning
