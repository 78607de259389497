"""scikit-learn estimators around rnnkit models, with Keras 3's names and arguments.

``SKLearnRegressor``, ``SKLearnClassifier`` and ``SKLearnTransformer`` take what
``keras.wrappers`` takes — ``model``, ``warm_start``, ``model_kwargs``,
``fit_kwargs`` — and follow scikit-learn's conventions: ``__init__`` only stores
its arguments, ``fit`` validates the data and returns ``self``, and what fitting
learns ends in ``_`` (``model_``, ``history_``, ``classes_``, ``n_features_in_``).
They clone, take ``set_params``, and run in ``GridSearchCV``,
``cross_val_score`` and ``Pipeline``.

Where they differ from Keras' wrappers:

* 3-D inputs ``(samples, timesteps, features)`` are accepted, so recurrent
  models work in ``GridSearchCV`` and ``cross_val_score`` (Keras' wrappers reject
  them in ``check_array``). Splitters index the first axis only, so
  ``TimeSeriesSplit`` on windowed series works unchanged. ``n_features_in_`` is
  scikit-learn's ``X.shape[1]``: the timesteps, for 3-D inputs. Transformers
  such as ``StandardScaler`` take 2-D inputs only; scale 3-D windows before.
* A model instance is deep-copied before each fit (its weights included, so
  every fit starts from the same weights; pass a function for fresh ones).
  Keras clones it with ``clone_model``, whose copy is not compiled.
* ``warm_start=True`` continues training ``model_`` on the next ``fit``.
* ``history_`` is the ``History.history`` dict; ``predict`` runs silently.
* The classifier also has ``predict_proba`` (the model's outputs, one column
  per class).
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.base import ClassifierMixin
from sklearn.base import RegressorMixin
from sklearn.base import TransformerMixin
from sklearn.preprocessing import LabelEncoder
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import check_is_fitted

try:
    from sklearn.utils.validation import validate_data
except ImportError as error:  # pragma: no cover - scikit-learn < 1.6
    raise ImportError(
        "rnnkit.wrappers needs scikit-learn 1.6 or newer (validate_data, estimator tags). "
        "Upgrade it with `pip install -U scikit-learn`."
    ) from error

from rnnkit._validation import check_bool
from rnnkit.errors import RnnkitTypeError
from rnnkit.errors import RnnkitValueError

__all__ = ["SKLearnClassifier", "SKLearnRegressor", "SKLearnTransformer"]


class _SKLBase(BaseEstimator):
    """What the three wrappers share: building, fitting and calling the model."""

    model_: Any  # set by fit
    history_: dict[str, list[float]]

    def __init__(
        self,
        model: Any,
        warm_start: bool = False,
        model_kwargs: dict[str, Any] | None = None,
        fit_kwargs: dict[str, Any] | None = None,
    ):
        self.model = model
        self.warm_start = warm_start
        self.model_kwargs = model_kwargs
        self.fit_kwargs = fit_kwargs

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = True  # weights start at random; training is stochastic
        tags.input_tags.three_d_array = True
        return tags

    # --------------------------------------------------------------- fitting
    def fit(self, X: Any, y: Any, **kwargs: Any):
        """Build (or copy) the model and train it on ``X``, ``y``.

        Args:
            X: Inputs ``(samples, features)`` or ``(samples, timesteps, features)``.
            y: Targets ``(samples,)`` or ``(samples, outputs)``.
            **kwargs: Passed to the model's ``fit``; they win over ``fit_kwargs``.

        Returns:
            The fitted estimator.
        """
        caller = f"{type(self).__name__}.fit()"
        X, y = self._validate_xy(X, y)
        target = self._encode_target(y, reset=True)
        check_bool("warm_start", self.warm_start, caller=caller)
        if self.warm_start and hasattr(self, "model_"):
            model = self.model_
        else:
            model = self._build_model(X, target, caller)
        options = {**_as_dict(self.fit_kwargs, "fit_kwargs", caller), **kwargs}
        history = model.fit(_writable(X), _writable(target), **options)
        self.model_ = model
        self.history_ = dict(getattr(history, "history", None) or {})
        return self

    def _validate_xy(self, X: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
        return validate_data(
            self, X, y, allow_nd=True, dtype=np.float32, multi_output=True, y_numeric=True
        )

    def _build_model(self, X: np.ndarray, y: np.ndarray, caller: str) -> Any:
        if _is_model(self.model):
            model = copy.deepcopy(self.model)
        elif callable(self.model):
            kwargs = _as_dict(self.model_kwargs, "model_kwargs", caller)
            model = self.model(X=X, y=y, **kwargs)
        else:
            raise RnnkitTypeError(
                f"{caller}: `model` must be a compiled rnnkit model or a function "
                f"model(X, y, **model_kwargs) returning one. Received: {self.model!r}."
            )
        if not _is_model(model):
            raise RnnkitTypeError(
                f"{caller}: the `model` function must return a compiled rnnkit model such "
                f"as a Sequential. It returned: {type(model).__name__}."
            )
        if not getattr(model, "compiled", False):
            raise RnnkitValueError(
                f"{caller}: the model is not compiled. Call model.compile(optimizer=..., "
                "loss=...) before handing it to the wrapper (or in the `model` function)."
            )
        return model

    # ------------------------------------------------------------ predicting
    def _model_outputs(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "model_")
        X = validate_data(self, X, allow_nd=True, dtype=np.float32, reset=False)
        return np.asarray(self.model_.predict(_writable(X), verbose=0))

    def _encode_target(self, y: np.ndarray, *, reset: bool) -> np.ndarray:
        """Regressors and transformers: the targets as float32, 1-D ones as a column."""
        if reset:
            self.target_ndim_ = y.ndim
        y = np.asarray(y, dtype=np.float32)
        return y.reshape(-1, 1) if y.ndim == 1 else y

    def _decode_output(self, outputs: np.ndarray) -> np.ndarray:
        if self.target_ndim_ == 1 and outputs.ndim == 2 and outputs.shape[1] == 1:
            return outputs[:, 0]
        return outputs


class SKLearnRegressor(RegressorMixin, _SKLBase):
    """A scikit-learn regressor around an rnnkit model (``keras.wrappers.SKLearnRegressor``).

    Args:
        model: A compiled model (deep-copied before each fit), or a function
            ``model(X, y, **model_kwargs)`` returning a compiled model; ``y`` is
            ``(samples, outputs)``, a 1-D target as one column.
        warm_start: Continue training the fitted ``model_`` on the next ``fit``
            instead of starting from ``model`` again. Defaults to `False`.
        model_kwargs: Keyword arguments for the ``model`` function; tune them in
            ``GridSearchCV`` as ``{"model_kwargs": [...]}``. Defaults to `None`.
        fit_kwargs: Keyword arguments for the model's ``fit`` (``epochs``,
            ``batch_size``, ``verbose``, ...). Defaults to `None`.

    Attributes:
        model_: The trained model.
        history_: The losses and metrics of each epoch (``History.history``).
        n_features_in_: ``X.shape[1]`` seen in ``fit`` (timesteps for 3-D inputs).

    ``score`` is the coefficient of determination R² of ``predict``.

    Example:
        >>> import numpy as np
        >>> from rnnkit.layers import Dense, LSTM
        >>> from rnnkit.models import Sequential
        >>> def build(X, y, units=4):
        ...     model = Sequential([LSTM(units), Dense(y.shape[1])])
        ...     model.compile(optimizer="adam", loss="mse")
        ...     return model
        >>> X, y = np.ones((8, 5, 2)), np.ones(8)
        >>> reg = SKLearnRegressor(build, model_kwargs={"units": 2}, fit_kwargs={"verbose": 0})
        >>> reg.fit(X, y).predict(X).shape
        (8,)
    """

    def predict(self, X: Any) -> np.ndarray:
        """Predict targets (float64), shaped like the ``y`` given to ``fit``."""
        return self._decode_output(self._model_outputs(X)).astype(np.float64)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.regressor_tags.poor_score = True
        tags.target_tags.multi_output = True
        return tags


class SKLearnClassifier(ClassifierMixin, _SKLBase):
    """A scikit-learn classifier around an rnnkit model (``keras.wrappers.SKLearnClassifier``).

    The labels are one-hot encoded for training (one column per class, two for
    binary labels, as Keras' wrapper does), so the model should end in
    ``Dense(len(classes), activation="softmax")`` and be compiled with
    ``categorical_crossentropy``.

    Args:
        model: A compiled model (deep-copied before each fit), or a function
            ``model(X, y, **model_kwargs)`` returning a compiled model; ``y`` is
            the one-hot ``(samples, classes)`` matrix.
        warm_start: Continue training the fitted ``model_`` on the next ``fit``.
            Defaults to `False`.
        model_kwargs: Keyword arguments for the ``model`` function. Defaults to `None`.
        fit_kwargs: Keyword arguments for the model's ``fit``. Defaults to `None`.

    Attributes:
        model_: The trained model.
        history_: The losses and metrics of each epoch.
        classes_: The class labels, sorted; column ``i`` of ``predict_proba`` is
            ``classes_[i]``.
        n_features_in_: ``X.shape[1]`` seen in ``fit``.

    ``score`` is the accuracy of ``predict``.

    Example:
        >>> import numpy as np
        >>> from rnnkit.layers import Dense
        >>> from rnnkit.models import Sequential
        >>> def build(X, y):
        ...     model = Sequential([Dense(y.shape[1], activation="softmax")])
        ...     model.compile(optimizer="adam", loss="categorical_crossentropy")
        ...     return model
        >>> X, labels = np.eye(3)[[0, 1, 2, 0]], np.array(["a", "b", "c", "a"])
        >>> clf = SKLearnClassifier(build, fit_kwargs={"verbose": 0}).fit(X, labels)
        >>> clf.classes_.tolist(), clf.predict_proba(X).shape
        (['a', 'b', 'c'], (4, 3))
    """

    def _validate_xy(self, X: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
        return validate_data(self, X, y, allow_nd=True, dtype=np.float32)

    def _encode_target(self, y: np.ndarray, *, reset: bool) -> np.ndarray:
        """Labels -> one-hot float32 ``(samples, classes)``."""
        kind = type_of_target(y, input_name="y")
        if kind == "unknown":
            raise RnnkitValueError(
                f"{type(self).__name__}.fit(): Unknown label type for y: pass one class "
                f"label (a number or a string) per sample. Received: {_preview(y)}."
            )
        if kind not in ("binary", "multiclass"):
            raise RnnkitValueError(
                f"{type(self).__name__}.fit(): y must hold class labels (binary or "
                f"multiclass), one per sample. Received a {kind!r} target; use "
                "SKLearnRegressor for numbers."
            )
        if reset:
            self._labels = LabelEncoder().fit(y)
            self.classes_ = self._labels.classes_
            if len(self.classes_) < 2:
                raise RnnkitValueError(
                    f"{type(self).__name__}.fit(): y has only one class "
                    f"({self.classes_.tolist()[0]!r}); a classifier needs at least two."
                )
        codes = self._labels.transform(y)
        return np.eye(len(self.classes_), dtype=np.float32)[codes]

    def predict_proba(self, X: Any) -> np.ndarray:
        """The model's outputs ``(samples, classes)``, columns in ``classes_`` order."""
        outputs = self._model_outputs(X)
        outputs = outputs.reshape(outputs.shape[0], -1)
        if outputs.shape[1] != len(self.classes_):
            raise RnnkitValueError(
                f"{type(self).__name__}.predict_proba(): the model returns "
                f"{outputs.shape[1]} column(s), but there are {len(self.classes_)} classes. "
                "End the model with Dense(len(classes), activation='softmax')."
            )
        return outputs

    def decision_function(self, X: Any) -> np.ndarray:
        """Scores in scikit-learn's shape: ``(samples,)`` for two classes, else per class.

        For two classes the score is ``p(classes_[1]) - p(classes_[0])`` (positive
        means ``classes_[1]``); for more, the probabilities. Keras' wrapper returns
        the raw outputs, which breaks scikit-learn's binary contract.
        """
        proba = self.predict_proba(X)
        return proba[:, 1] - proba[:, 0] if proba.shape[1] == 2 else proba

    def predict(self, X: Any) -> np.ndarray:
        """The most probable class of each sample."""
        proba = self.predict_proba(X)  # first: it raises NotFittedError before fit
        return self.classes_[np.argmax(proba, axis=1)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.poor_score = True
        tags.classifier_tags.multi_class = True
        return tags


class SKLearnTransformer(TransformerMixin, _SKLBase):
    """A scikit-learn transformer whose ``transform`` is the model's ``predict``.

    For embeddings or learned features in a ``Pipeline``
    (``keras.wrappers.SKLearnTransformer``). The arguments are the regressor's.

    Example:
        >>> import numpy as np
        >>> from rnnkit.layers import Dense
        >>> from rnnkit.models import Sequential
        >>> def build(X, y):
        ...     model = Sequential([Dense(2)])
        ...     model.compile(optimizer="adam", loss="mse")
        ...     return model
        >>> X = np.ones((6, 3))
        >>> SKLearnTransformer(build, fit_kwargs={"verbose": 0}).fit(X, X[:, :2]).transform(X).shape
        (6, 2)
    """

    def transform(self, X: Any) -> np.ndarray:
        """The model's outputs for ``X`` (float32)."""
        return self._model_outputs(X)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags


def _is_model(value: Any) -> bool:
    """Whether ``value`` is a model instance (has fit/predict/compile), not a builder."""
    return all(callable(getattr(value, name, None)) for name in ("fit", "predict", "compile"))


def _writable(array: np.ndarray) -> np.ndarray:
    """``array``, copied if read-only (a memory map): torch warns on read-only arrays."""
    return array if array.flags.writeable else array.copy()


def _preview(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _as_dict(value: Any, name: str, caller: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise RnnkitTypeError(
            f"{caller}: `{name}` must be a dict of keyword arguments or None. Received: {value!r}."
        )
    return dict(value)
