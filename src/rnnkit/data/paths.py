"""The first check on a data file's path: it exists and is not a folder.

Kept apart from the readers (which load pandas) so that a command line given a
wrong path says so at once, before anything heavy is imported.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rnnkit.errors import DataError
from rnnkit.errors import RnnkitTypeError

__all__ = ["check_data_path"]


def check_data_path(path: Any, *, caller: str) -> Path:
    """`path` as a `Path`, if it names an existing file.

    Args:
        path: A string or path-like object.
        caller: Name used in error messages, e.g. `"read_table()"`.

    Returns:
        The path.

    Raises:
        DataError: the path does not exist, or is a folder.
        RnnkitTypeError: `path` is not a string or path.

    Example:
        >>> check_data_path("no-such-file.csv", caller="example()")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        rnnkit.errors.DataError: example(): file 'no-such-file.csv' does not exist (looked for ...
    """
    if not isinstance(path, (str, Path)) and not hasattr(path, "__fspath__"):
        raise RnnkitTypeError(
            f"{caller}: `path` must be a string or Path. Received: {type(path).__name__}."
        )
    path = Path(path)
    if not path.exists():
        raise DataError(
            f"{caller}: file {str(path)!r} does not exist (looked for {path.resolve()}). "
            "Check the path."
        )
    if path.is_dir():
        raise DataError(
            f"{caller}: {str(path)!r} is a folder, not a file. Pass a CSV or Parquet file."
        )
    return path
