"""``keras.preprocessing`` aliases: ``sequence.pad_sequences`` and time-series windows."""

from rnnkit.preprocessing import sequence

__all__ = ["sequence"]
