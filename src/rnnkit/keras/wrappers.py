"""``keras.wrappers``: scikit-learn estimators around a model (re-exports rnnkit.wrappers)."""

from rnnkit.keras._missing import module_getattr
from rnnkit.wrappers import SKLearnClassifier as SKLearnClassifier
from rnnkit.wrappers import SKLearnRegressor as SKLearnRegressor
from rnnkit.wrappers import SKLearnTransformer as SKLearnTransformer

__all__ = ["SKLearnClassifier", "SKLearnRegressor", "SKLearnTransformer"]

__getattr__ = module_getattr("keras.wrappers", __all__)
