"""Progress bars (issue 18): fed by the core's counter, on stderr only when asked or on a terminal,
off with --quiet; results bit-identical with and without; Ctrl-C and a failing callback still stop the
work."""

from __future__ import annotations

import io
import sys
import time

import numpy as np
import pytest
import scalinglaw
from scalinglaw import _core, progress
from scalinglaw.cli import main


class Terminal(io.StringIO):
    """A captured stderr that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def test_a_fit_with_progress_writes_a_bar_and_the_same_result(chinchilla_240, capsys):
    shown = scalinglaw.fit(*chinchilla_240, progress=True)
    err = capsys.readouterr().err
    assert "fit:" in err and "/4500 [" in err and "starts/s" in err
    silent = scalinglaw.fit(*chinchilla_240, progress=False)
    assert capsys.readouterr().err == ""
    assert shown.objective == silent.objective == pytest.approx(1.01827401780e-3, rel=1e-11)
    np.testing.assert_array_equal(shown.starts.params, silent.starts.params)
    assert shown.params == silent.params


def test_a_bootstrap_with_progress_writes_a_bar_and_the_same_result(chinchilla_240, fit_240, capsys):
    kwargs = dict(n_resamples=40, seed=5, estimate=fit_240)
    shown = scalinglaw.bootstrap(*chinchilla_240, progress=True, **kwargs)
    err = capsys.readouterr().err
    assert "bootstrap:" in err and "/40 [" in err and "resamples/s" in err
    silent = scalinglaw.bootstrap(*chinchilla_240, progress=False, **kwargs)
    assert capsys.readouterr().err == ""
    for key in shown.samples:
        np.testing.assert_array_equal(shown.samples[key], silent.samples[key])


def test_the_default_writes_nothing_when_stderr_is_not_a_terminal(chinchilla_240, capsys, monkeypatch):
    monkeypatch.setattr(progress, "DELAY", 0.0)  # even work that counts as long
    scalinglaw.fit(*chinchilla_240)
    scalinglaw.bootstrap(*chinchilla_240, n_resamples=10, seed=1)
    assert capsys.readouterr().err == ""


def test_the_default_shows_a_bar_on_a_terminal_and_quiet_turns_it_off(chinchilla_240, monkeypatch):
    monkeypatch.setattr(progress, "DELAY", 0.0)
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    scalinglaw.fit(*chinchilla_240)
    assert "/4500 [" in terminal.getvalue()
    terminal.truncate(0)
    terminal.seek(0)
    with progress.quiet():
        scalinglaw.fit(*chinchilla_240)
        assert terminal.getvalue() == ""
        scalinglaw.fit(*chinchilla_240, progress=True)  # an explicit True still shows one
    assert "/4500 [" in terminal.getvalue()


def test_command_quiet_writes_nothing_on_a_terminal(monkeypatch, capsys):
    monkeypatch.setattr(progress, "DELAY", 0.0)
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    assert main(["fit", "--bootstrap", "20"]) == 0
    assert "bootstrap" in terminal.getvalue() and "fit" in terminal.getvalue()
    terminal.truncate(0)
    terminal.seek(0)
    assert main(["fit", "--bootstrap", "20", "--quiet"]) == 0
    assert main(["--quiet", "fit", "--bootstrap", "20"]) == 0
    assert terminal.getvalue() == ""
    assert "Bootstrap: 20 resamples" in capsys.readouterr().out


def test_a_backtest_shows_its_splits(chinchilla_240, capsys):
    scalinglaw.backtest(*chinchilla_240, splits=["compute:0.5", "largest"], n_resamples=20, progress=True)
    err = capsys.readouterr().err
    assert "backtest:" in err and "/2 [" in err and "splits" in err


def test_the_core_reports_a_rising_count(chinchilla_240):
    seen: list[int] = []
    raw = _core.fit_chinchilla(*chinchilla_240, _core.default_starts(), _core.FitOptions(), seen.append)
    assert raw.status.name == "converged"
    assert seen == sorted(seen) and all(0 <= k <= 4500 for k in seen)
    assert len(seen) >= 1  # the fit takes well over one 50 ms poll


def test_a_failing_callback_stops_the_work(chinchilla_240):
    def fail(done: int) -> None:
        raise RuntimeError(f"stop at {done}")

    start = time.perf_counter()
    with pytest.raises(RuntimeError, match="stop at"):
        _core.fit_chinchilla(
            *chinchilla_240, np.repeat(_core.default_starts(), 4, axis=0), _core.FitOptions(), fail
        )
    assert time.perf_counter() - start < 5


@pytest.mark.parametrize("value", ["yes", 1, 0.5])
def test_progress_must_be_none_or_a_bool(chinchilla_240, value):
    with pytest.raises(ValueError, match="progress must be None"):
        scalinglaw.fit(*chinchilla_240, progress=value)
    with pytest.raises(ValueError, match="progress must be None"):
        scalinglaw.bootstrap(*chinchilla_240, n_resamples=2, seed=0, progress=value)
