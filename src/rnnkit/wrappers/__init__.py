"""scikit-learn wrappers for rnnkit models (``rnnkit.wrappers`` ≈ ``keras.wrappers``).

Needs scikit-learn (``pip install scikit-learn``).
"""

from rnnkit.wrappers.sklearn_wrapper import SKLearnClassifier
from rnnkit.wrappers.sklearn_wrapper import SKLearnRegressor
from rnnkit.wrappers.sklearn_wrapper import SKLearnTransformer

__all__ = ["SKLearnClassifier", "SKLearnRegressor", "SKLearnTransformer"]
