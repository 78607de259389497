"""A saved network beside its JSON description, written so that a kill never mixes them.

A folder holds ``model.keras`` and a JSON file (``forecaster.json`` or
``classifier.json``) that records the network's SHA-256. Saving writes the network to
``model-next.keras``, then the JSON (atomically, naming that checksum), then renames
``model-next.keras`` onto ``model.keras``. A kill at any moment leaves a folder whose
JSON names a network that is on disk: :func:`find_model_file` picks it.
"""

from __future__ import annotations

from pathlib import Path

from rnnkit._files import sha256_file
from rnnkit.errors import CheckpointError

MODEL_FILE = "model.keras"
NEXT_MODEL_FILE = "model-next.keras"  # the network being saved, before the JSON names it


def check_saved_folder(folder: Path, caller: str, *, spec_name: str = "forecaster.json") -> None:
    """Raise unless `folder` is a folder holding `spec_name` (a saved forecaster by default).

    Light on purpose (no torch, no pandas): `rnnkit predict` calls it before importing
    the workflow, so a wrong folder answers at once.

    Raises:
        CheckpointError: `folder` is not a folder, or has no `spec_name`.

    Example:
        >>> check_saved_folder(Path("no-such-folder"), "example()")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        rnnkit.errors.CheckpointError: example(): 'no-such-folder' is not a folder. ...
    """
    if not folder.is_dir():
        raise CheckpointError(
            f"{caller}: {str(folder)!r} is not a folder. Pass the folder a fit, tune or "
            f"compare run wrote (it holds {spec_name} and {MODEL_FILE})."
        )
    if not (folder / spec_name).exists():
        raise CheckpointError(
            f"{caller}: {str(folder)!r} has no {spec_name}; it is not a saved forecaster. "
            "Pass the folder a fit, tune or compare run wrote."
        )


def find_model_file(
    folder: Path, expected: str | None, caller: str, *, spec_name: str = "forecaster.json"
) -> Path:
    """`model.keras`, or `model-next.keras` when a save stopped before renaming it.

    Args:
        folder: The saved folder.
        expected: The SHA-256 the JSON file records, or ``None`` for folders saved
            before checksums were recorded (``model.keras`` is then taken as it is).
        caller: The public call, for messages.
        spec_name: The JSON file's name, for messages.

    Raises:
        CheckpointError: no network with the recorded checksum is in the folder.
    """
    path = folder / MODEL_FILE
    if expected is None:
        return path
    if path.is_file() and sha256_file(path) == expected:
        return path
    staged = folder / NEXT_MODEL_FILE
    if staged.is_file() and sha256_file(staged) == expected:
        return staged  # the save was killed between the JSON and the rename
    if not path.exists():
        raise CheckpointError(f"{caller}: {path} is missing. Save it again.")
    raise CheckpointError(
        f"{caller}: {path} is not the network {spec_name} was saved with (SHA-256 "
        "mismatch: damaged, or replaced after saving). Save it again."
    )
