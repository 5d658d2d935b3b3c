"""The command's output files: checked against the input and each other before any work, and written
atomically, so that no output destroys the runs, another output, or (by failing) a previous file."""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Callable, Sequence
from typing import Any


def check_outputs(outputs: Sequence[tuple[str, str | None]], source: str) -> None:
    """Refuse, as a ValueError naming the option, outputs ((option, path or None), ...) that cannot be
    written or would overwrite the input file `source` or each other: compared as the files they name
    (through symlinks and hard links), not as text."""
    asked = [(option, path) for option, path in outputs if path is not None]
    for option, path in asked:
        if not path:
            raise ValueError(f"{option}: the path is empty")
    given = _identity(source)
    seen: dict[tuple[Any, ...], str] = {}
    for option, path in asked:
        identity = _output_identity(option, path)
        if identity == given:
            raise ValueError(f"{option} {quoted(path)} is the input file: writing it would destroy the runs")
        if identity in seen:
            raise ValueError(f"{seen[identity]} and {option} name the same file {quoted(path)}")
        seen[identity] = option


def quoted(path: str) -> str:
    """`path` for a one-line message: quoted, a very long one cut short."""
    return repr(path) if len(path) <= 200 else repr(path[:150]) + f"... ({len(path)} characters)"


def _identity(path: str) -> tuple[Any, ...] | None:
    """The file `path` names, as (device, inode); None if it names none."""
    try:
        found = os.stat(path)
    except (OSError, ValueError):
        return None
    return ("file", found.st_dev, found.st_ino)


def _output_identity(option: str, path: str) -> tuple[Any, ...]:
    """The file an output will be written to: (device, inode) of an existing one, else its resolved path;
    any reason it cannot be written (a directory, a missing or unwritable folder, a name too long, a
    symlink loop) is a ValueError naming the option."""
    try:
        found = os.stat(path)
    except FileNotFoundError:
        folder = os.path.dirname(os.path.realpath(path))
        if not os.path.isdir(folder):
            raise ValueError(f"{option}: no such directory: {folder}") from None
        if not os.access(folder, os.W_OK):
            raise ValueError(
                f"{option}: cannot write {quoted(path)}: permission denied in {folder}"
            ) from None
        return ("new", os.path.normcase(os.path.realpath(path)))
    except (OSError, ValueError) as error:  # ENAMETOOLONG, ELOOP, ENOTDIR, EACCES; a NUL byte
        reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
        raise ValueError(f"{option}: cannot write {quoted(path)}: {reason}") from None
    if stat.S_ISDIR(found.st_mode):
        raise ValueError(f"{option}: {quoted(path)} is a directory")
    if not os.access(path, os.W_OK):  # a file its owner protected is not replaced behind their back
        raise ValueError(f"{option}: cannot write {quoted(path)}: permission denied")
    return ("file", found.st_dev, found.st_ino)


def write_output(option: str, path: str, save: Callable[[str], object]) -> str:
    """Write one output with save(name), atomically: into a temporary file beside it, renamed over it
    only once complete, so that a failure never leaves a truncated file (or destroys the previous one).
    What is not a file of ours -- a device, a pipe, a path under /dev or /proc (/dev/stdout, even when
    the shell sent stdout to a file) -- is written in place. Returns "" or the one-line reason it failed."""
    target = os.path.realpath(path)  # through a symlink: the symlink stays, its target is replaced
    try:
        if os.path.abspath(path).startswith(("/dev/", "/proc/")) or (
            os.path.exists(path) and not os.path.isfile(path)
        ):
            save(path)
            return ""
        folder, name = os.path.split(target)
        extension = os.path.splitext(name)[1]
        handle, temporary = tempfile.mkstemp(
            dir=folder, prefix=".scalinglaw-", suffix=extension if len(extension) <= 16 else ""
        )
        os.close(handle)
        try:
            save(temporary)
            os.chmod(temporary, _new_file_mode(target))
            os.replace(temporary, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise
    except (OSError, ValueError) as error:
        reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
        return f"{option}: could not write {quoted(path)}: {reason}"
    return ""


def _new_file_mode(target: str) -> int:
    """The permissions `target` has, or those a newly created file gets (0o666 less the umask)."""
    try:
        return stat.S_IMODE(os.stat(target).st_mode)
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask
