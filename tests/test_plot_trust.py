"""The backtest and residual figures: what they draw, and refusals of what they cannot."""

import numpy as np
import pytest
from scalinglaw.backtest import backtest
from scalinglaw.goodness import goodness_of_fit
from scalinglaw.plot_trust import backtest_figure, residual_figure


@pytest.fixture(scope="module")
def small_backtest(chinchilla_240):
    return backtest(
        *chinchilla_240, splits=["compute:0.5", "largest"], budgets=[5.76e23, 1e25], n_resamples=30
    )


def test_backtest_figure_draws_every_held_out_run_and_plan(small_backtest, tmp_path):
    figure = backtest_figure(small_backtest)
    held, drift = figure.axes[:2]
    labels = [text.get_text() for text in held.get_legend().get_texts()]
    assert [label.split(" ")[0] for label in labels] == ["compute:0.5", "largest"]
    drawn = sum(len(line.get_xdata()) for line in held.lines if line.get_marker() == "o")
    assert drawn == sum(split.n_heldout for split in small_backtest.splits)
    assert [tick.get_text() for tick in drift.get_xticklabels()] == ["compute:0.5", "largest"]
    squares = [line for line in drift.lines if line.get_marker() == "s"]
    assert len(squares) == 2  # one series per budget
    assert np.allclose(squares[0].get_ydata(), [split.plans[0].drift for split in small_backtest.splits])
    figure.savefig(tmp_path / "backtest.png")
    assert (tmp_path / "backtest.png").stat().st_size > 10_000


def test_residual_figure_rings_the_outliers(chinchilla_all, fit_240, tmp_path):
    found = goodness_of_fit(fit_240, *chinchilla_all)
    figure = residual_figure(found, *chinchilla_all)
    assert len(figure.axes) == 4
    ringed = figure.axes[0].collections[1].get_offsets()
    assert len(ringed) == found.outliers.size > 0
    figure.savefig(tmp_path / "residuals.svg")


def test_bad_arguments(fit_240, chinchilla_240):
    with pytest.raises(ValueError, match="must be a BacktestResult"):
        backtest_figure(fit_240)
    found = goodness_of_fit(fit_240, *chinchilla_240)
    with pytest.raises(ValueError, match="must be a GoodnessOfFit"):
        residual_figure(fit_240, *chinchilla_240)
    n, d, loss = chinchilla_240
    with pytest.raises(ValueError, match="the runs the goodness of fit was computed on"):
        residual_figure(found, n[:10], d[:10], loss[:10])
    empty = backtest(*chinchilla_240, splits=["compute:0.01"], n_resamples=5)
    with pytest.raises(ValueError, match="no split to draw"):
        backtest_figure(empty)
