"""The sequence classifier's network and its preprocessing.

`build_sequence_classifier` makes ``Masking -> LSTM | GRU | SimpleRNN ->
Dense(softmax)``; a `SequenceClassifier` holds the trained network with what
feeds it: the feature columns, the `rnnkit.data.StandardScaler` statistics of
the training steps and the padded length.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from typing import Any

import numpy as np

from rnnkit._validation import check_one_of
from rnnkit._validation import check_positive_int
from rnnkit.data.scaling import StandardScaler
from rnnkit.layers.core import Input
from rnnkit.layers.core import Masking
from rnnkit.layers.dense import Dense
from rnnkit.layers.recurrent import GRU
from rnnkit.layers.recurrent import LSTM
from rnnkit.layers.recurrent import SimpleRNN
from rnnkit.layers.wrappers import Bidirectional
from rnnkit.models.sequential import Sequential
from rnnkit.optimizers import Adam
from rnnkit.utils.sequences import pad_sequences

__all__ = [
    "CLASSIFIER_KINDS",
    "LAYERS",
    "PAD_VALUE",
    "SequenceClassifier",
    "build_sequence_classifier",
    "fit_feature_scaler",
    "standard_scaler",
]

#: Recurrent layer of each classifier kind.
LAYERS = {"rnn": SimpleRNN, "lstm": LSTM, "gru": GRU}
CLASSIFIER_KINDS = tuple(LAYERS)
#: Value of the padded steps (after standardisation), masked by the `Masking` layer.
#: Far outside any standardised feature, so a real step is never taken for padding.
PAD_VALUE = -1e9


def build_sequence_classifier(
    *,
    maxlen: int,
    features: int,
    classes: int,
    kind: str = "lstm",
    units: int = 32,
    bidirectional: bool = False,
    learning_rate: float = 1e-3,
) -> Sequential:
    """Build and compile `Masking -> recurrent layer -> Dense(softmax)`.

    The `Masking` layer masks steps whose features all equal `PAD_VALUE`.

    Args:
        maxlen: Timesteps of the padded input.
        features: Features per timestep.
        classes: Number of classes (softmax outputs).
        kind: `"lstm"`, `"gru"` or `"rnn"`. Defaults to `"lstm"`.
        units: Units of the recurrent layer. Defaults to `32`.
        bidirectional: Wrap the recurrent layer in `Bidirectional`. Defaults to `False`.
        learning_rate: Adam's learning rate. Defaults to `1e-3`.

    Returns:
        A `Sequential` compiled with Adam, `"sparse_categorical_crossentropy"`
        and `["accuracy"]`.

    Example:
        >>> model = build_sequence_classifier(maxlen=20, features=4, classes=3, units=8)
        >>> [type(layer).__name__ for layer in model.layers], model.count_params()
        (['Masking', 'LSTM', 'Dense'], 443)
    """
    caller = "build_sequence_classifier()"
    check_one_of("kind", kind, CLASSIFIER_KINDS, caller=caller)
    for name, value in (("maxlen", maxlen), ("features", features), ("classes", classes)):
        check_positive_int(name, value, caller=caller)
    model = Sequential(name=f"{kind}_classifier")
    model.add(Input((int(maxlen), int(features))))
    model.add(Masking(PAD_VALUE))
    layer = LAYERS[kind](check_positive_int("units", units, caller=caller))
    model.add(Bidirectional(layer) if bidirectional else layer)
    model.add(Dense(int(classes), activation="softmax"))
    model.compile(
        optimizer=Adam(learning_rate=learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


@dataclass
class SequenceClassifier:
    """A trained network plus the preprocessing that feeds it.

    Attributes:
        model: The compiled `Sequential`.
        class_names: Original label of each class index.
        feature_columns: Feature columns, in the order the network reads them.
        id_column: Name of the id column.
        time_column: Name of the time column.
        label_column: Name of the label column (not needed for prediction).
        means: Per-feature means of the training steps.
        stds: Per-feature standard deviations of the training steps (1 where
            a feature was constant).
        maxlen: Padded length: the longest training sequence. Longer sequences
            keep their first `maxlen` steps.
        kind: `"lstm"`, `"gru"` or `"rnn"`.
        scores: What the run that trained it measured, as `save_classifier`
            stores it (accuracies, confusion matrix, lengths, training);
            empty when unknown.
    """

    model: Any
    class_names: list[Any]
    feature_columns: list[str]
    id_column: str
    time_column: str
    label_column: str
    means: np.ndarray
    stds: np.ndarray
    maxlen: int
    kind: str = "lstm"
    scores: dict[str, Any] = field(default_factory=dict)

    @property
    def scaler(self) -> StandardScaler:
        """The feature scaler: a fitted `rnnkit.data.StandardScaler` with `means` and `stds`."""
        return standard_scaler(self.means, self.stds)

    def transform(self, sequences: Sequence[np.ndarray]) -> np.ndarray:
        """Standardise and pad (at the end, with `PAD_VALUE`) to `(n, maxlen, features)`."""
        arrays = [np.asarray(s, dtype=np.float64) for s in sequences]
        if not arrays:
            return np.zeros((0, self.maxlen, len(self.feature_columns)), dtype=np.float32)
        steps = self.scaler.transform(np.concatenate(arrays))
        scaled = np.split(steps, np.cumsum([len(a) for a in arrays])[:-1])
        return pad_sequences(
            scaled,
            maxlen=self.maxlen,
            dtype="float32",
            padding="post",
            truncating="post",
            value=PAD_VALUE,
        )

    def predict_proba(self, sequences: Sequence[np.ndarray]) -> np.ndarray:
        """Class probabilities `(n, classes)` of raw (unscaled) sequences."""
        if not len(sequences):
            return np.zeros((0, len(self.class_names)), dtype=np.float32)
        return np.asarray(self.model.predict(self.transform(sequences), verbose=0))


def fit_feature_scaler(sequences: Sequence[np.ndarray]) -> StandardScaler:
    """Fit a `StandardScaler` on every step of the (training) sequences.

    Example:
        >>> scaler = fit_feature_scaler([np.array([[0.0], [2.0]]), np.array([[4.0]])])
        >>> scaler.mean_.tolist(), scaler.scale_.round(4).tolist()
        ([2.0], [1.633])
    """
    return StandardScaler().fit(
        np.concatenate([np.asarray(s, dtype=np.float64) for s in sequences])
    )


def standard_scaler(means: Any, stds: Any) -> StandardScaler:
    """A fitted `StandardScaler` with the given statistics (as a saved classifier stores them)."""
    scaler = StandardScaler()
    scaler.mean_ = np.asarray(means, dtype=np.float64).reshape(-1)
    scaler.scale_ = np.asarray(stds, dtype=np.float64).reshape(-1)
    scaler.var_ = scaler.scale_**2
    scaler.n_features_in_ = len(scaler.mean_)
    scaler.n_samples_seen_ = 0
    return scaler
