"""One Figure 4 per group of runs fitted apart: ``figure4.png`` becomes ``figure4-web.png``,
``figure4-code.png``, ... (the group's name made safe for a file name)."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from typing import Any

from .plot import save_figure4

__all__ = ["group_paths", "save_group_figures"]


def group_paths(path: str | os.PathLike[str], names: Iterable[str]) -> dict[str, str]:
    """Each group's file: `path` with ``-NAME`` before its extension; names that come out the same
    once made safe (letters, digits, ``.``, ``_``, ``-``) are told apart by their position."""
    stem, extension = os.path.splitext(os.fspath(path))
    paths: dict[str, str] = {}
    for k, name in enumerate(names, start=1):
        safe = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "group"
        candidate = f"{stem}-{safe}{extension}"
        if candidate in paths.values():
            candidate = f"{stem}-{safe}-{k}{extension}"
        paths[name] = candidate
    return paths


def save_group_figures(
    path: str | os.PathLike[str], figures: Mapping[str, tuple[Any, Any, dict[str, Any]]]
) -> dict[str, str]:
    """Write each group's Figure 4 (`figures`: name -> (fit, runs, options of ``save_figure4``)) to
    its file of ``group_paths``; returns name -> file."""
    paths = group_paths(path, figures)
    for name, (result, runs, options) in figures.items():
        save_figure4(paths[name], result, runs, **options)
    return paths
