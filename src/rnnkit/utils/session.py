"""Session helpers."""

from __future__ import annotations

import gc

from rnnkit.layers.base import reset_name_counters


def clear_session() -> None:
    """Reset automatic layer names and free memory, like ``keras.backend.clear_session``.

    Example:
        >>> from rnnkit.layers import Dense
        >>> clear_session(); Dense(1).name
        'dense'
    """
    reset_name_counters()
    gc.collect()
