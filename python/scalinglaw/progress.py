"""Progress bars on stderr for long work: fits, bootstraps, backtests.

The C++ core counts the starts (or resamples) it has finished; while it works, the thread waiting for
it hands that count to ``bar``'s callback every 50 ms, which moves a tqdm bar. ``progress=None`` (the
default of every function taking it) shows a bar only when stderr is a terminal and only once the work
has lasted 2 s, so quick calls and logs stay clean; ``True`` shows one at once wherever stderr goes;
``False`` never. ``quiet()`` turns the default off for a block (the command's ``--quiet``). The bar
never touches the computation: results are bit-identical with and without it.
"""

from __future__ import annotations

import contextvars
import sys
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from typing import TypeVar

T = TypeVar("T")

#: Seconds of work before the default (progress=None) shows a bar on a terminal.
DELAY = 2.0

_enabled: contextvars.ContextVar[bool] = contextvars.ContextVar("scalinglaw_progress", default=True)


def checked(progress: object) -> bool | None:
    """``progress`` if it is None, True or False; else a ValueError."""
    if progress is not None and not isinstance(progress, bool):
        raise ValueError(f"progress must be None (automatic), True or False, got {progress!r}")
    return progress


@contextmanager
def quiet() -> Iterator[None]:
    """Within the block, ``progress=None`` shows no bar (an explicit ``progress=True`` still does)."""
    token = _enabled.set(False)
    try:
        yield
    finally:
        _enabled.reset(token)


def _terminal() -> bool:
    isatty = getattr(sys.stderr, "isatty", None)
    try:
        return bool(isatty()) if callable(isatty) else False
    except ValueError:  # a closed stream
        return False


@contextmanager
def bar(progress: bool | None, total: int, what: str, unit: str) -> Iterator[Callable[[int], None] | None]:
    """A bar of ``total`` units for the block, or None when ``progress`` says none; the block passes the
    callback (done -> None) to the core, or calls it itself. On success the bar is completed (a fit
    solves starts that coincide once, so its count may stop short) and removed from the terminal."""
    show = checked(progress)
    if show is None:
        show = _enabled.get() and _terminal()
    if not show:
        yield None
        return
    from tqdm import tqdm  # type: ignore[import-untyped]

    with tqdm(
        total=total,
        desc=what,
        unit=f" {unit}",
        file=sys.stderr,
        delay=DELAY if progress is None else 0.0,
        leave=False,
        dynamic_ncols=True,
    ) as shown:

        def update(done: int) -> None:
            if done > shown.n:
                shown.update(done - shown.n)

        yield update
        update(total)


def each(progress: bool | None, items: Collection[T], what: str, unit: str) -> Iterator[T]:
    """The items, with a bar of those done (as ``bar``) for work done in Python item by item."""
    with bar(progress, len(items), what, unit) as report:
        for done, item in enumerate(items):
            yield item
            if report is not None:
                report(done + 1)
