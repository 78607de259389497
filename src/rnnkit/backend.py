"""``keras.backend`` names that tutorials use.

Example:
    >>> from rnnkit import backend
    >>> backend.clear_session()
"""

from rnnkit.utils.session import clear_session

__all__ = ["clear_session"]
