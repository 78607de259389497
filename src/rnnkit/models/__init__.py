"""Models: ``Sequential`` and loading (``rnnkit.models`` ≈ ``keras.models``)."""

from rnnkit.models.saving import load_model
from rnnkit.models.sequential import Sequential

__all__ = ["Sequential", "load_model"]
