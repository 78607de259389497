"""``keras.preprocessing.sequence.pad_sequences``."""

from rnnkit.utils.sequences import pad_sequences

__all__ = ["pad_sequences"]
