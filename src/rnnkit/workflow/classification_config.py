"""Settings of a sequence-classification run: `ClassificationConfig`."""

from __future__ import annotations

import math
from dataclasses import dataclass
from dataclasses import fields
from dataclasses import replace
from typing import Any

import numpy as np

from rnnkit._validation import check_bool
from rnnkit._validation import check_non_negative_int
from rnnkit._validation import check_one_of
from rnnkit._validation import check_positive_int
from rnnkit._validation import suggest
from rnnkit.data.labelled import LabelledSequences
from rnnkit.errors import RnnkitTypeError
from rnnkit.errors import RnnkitValueError
from rnnkit.workflow.classifier_model import CLASSIFIER_KINDS

__all__ = [
    "AUTO_MAX_EPOCHS",
    "AUTO_MIN_EPOCHS",
    "DEFAULT_TEST_FRACTION",
    "ClassificationConfig",
    "check_open_unit",
    "resolve_config",
]

#: Most epochs of the adaptive budget (`epochs=None`): training goes on while the
#: validation loss improves, and stops `patience` epochs after its best, or here.
AUTO_MAX_EPOCHS = 200
#: Fewest epochs of the adaptive budget (the fixed default before it adapted): a slow
#: start or an early bump in the validation loss does not end the training.
AUTO_MIN_EPOCHS = 30
#: Share of the sequences held out for the test when there is no split column.
DEFAULT_TEST_FRACTION = 0.2


@dataclass
class ClassificationConfig:
    """Everything `fit_sequence_classifier` needs.

    Attributes:
        data: A CSV/Parquet path, a long-format DataFrame or a `LabelledSequences`.
            Defaults to `None` (must be set before a run).
        id_column: Column naming the sequence of each row. Defaults to `None`
            (required unless `data` is a `LabelledSequences`).
        time_column: Column ordering the steps of a sequence. Defaults to `None`
            (required like `id_column`).
        label_column: Column holding each sequence's label. Defaults to `None`
            (required like `id_column`).
        feature_columns: Numeric feature columns. Defaults to `None` (every
            other column; a text column among them is an error naming it).
        split_column: Column giving each sequence's part: `train`, `val` (or
            `validation`) or `test`, in any case. Defaults to `None` (split at
            random by `test_fraction` and `val_fraction`). Without `val` rows the
            validation part is carved from the `train` sequences by `val_fraction`.
        kind: Recurrent layer: `"lstm"`, `"gru"` or `"rnn"` (SimpleRNN).
            Defaults to `"lstm"`.
        units: Units of the recurrent layer. Defaults to `32`.
        bidirectional: Wrap the recurrent layer in `Bidirectional`. Defaults to `False`.
        epochs: Most training epochs. Defaults to `None`: the adaptive budget,
            at least `AUTO_MIN_EPOCHS` (30), then on while the validation loss
            improves, up to `AUTO_MAX_EPOCHS` (200).
            Either way training stops `patience` epochs after the best validation
            loss and keeps that epoch's weights.
        patience: Epochs without a better validation loss before training stops
            (0: never stop early). Defaults to `10`.
        batch_size: Sequences per batch. Defaults to `32`.
        learning_rate: Adam's learning rate. Defaults to `1e-3`.
        test_fraction: Share of the sequences held out for the test, in (0, 1).
            Defaults to `None` (`DEFAULT_TEST_FRACTION`, 0.2); not allowed with
            `split_column`, which names the test sequences itself.
        val_fraction: Share of the training sequences held out for validation
            (early stopping, the epoch-cap check), in (0, 1). Defaults to `0.15`.
        stratify: Hold out the same share of every class. Defaults to `True`.
        seed: Seed of the split, the weights and the shuffling. Defaults to `0`.
        threads: Torch CPU threads while training (`None`: leave torch's
            setting). Defaults to `1`.
        verbose: `fit`'s verbosity (0 silent, 1 progress bar, 2 one line per
            epoch). Defaults to `0`.
    """

    data: Any = None
    id_column: str | None = None
    time_column: str | None = None
    label_column: str | None = None
    feature_columns: list[str] | None = None
    split_column: str | None = None
    kind: str = "lstm"
    units: int = 32
    bidirectional: bool = False
    epochs: int | None = None
    patience: int = 10
    batch_size: int = 32
    learning_rate: float = 1e-3
    test_fraction: float | None = None
    val_fraction: float = 0.15
    stratify: bool = True
    seed: int = 0
    threads: int | None = 1
    verbose: int = 0

    def validate(self, caller: str = "ClassificationConfig") -> ClassificationConfig:
        """Check every field; return `self`.

        Raises:
            ValueError: a value out of range or an unknown kind (with a "did you mean").
            TypeError: a value of the wrong type.

        Example:
            >>> ClassificationConfig(kind="lstn").validate()  # doctest: +ELLIPSIS
            Traceback (most recent call last):
            ...
            rnnkit.errors.RnnkitValueError: ClassificationConfig: unknown kind 'lstn'. ...
        """
        check_one_of("kind", self.kind, CLASSIFIER_KINDS, caller=caller)
        for name in ("units", "batch_size"):
            setattr(self, name, check_positive_int(name, getattr(self, name), caller=caller))
        if self.epochs is not None:
            self.epochs = check_positive_int("epochs", self.epochs, caller=caller)
        self.patience = check_non_negative_int("patience", self.patience, caller=caller)
        if self.threads is not None:
            self.threads = check_positive_int("threads", self.threads, caller=caller)
        self.bidirectional = check_bool("bidirectional", self.bidirectional, caller=caller)
        self.stratify = check_bool("stratify", self.stratify, caller=caller)
        if isinstance(self.seed, bool) or not isinstance(self.seed, (int, np.integer)):
            raise RnnkitTypeError(f"{caller}: `seed` must be an integer. Received: {self.seed!r}.")
        if isinstance(self.verbose, bool) or self.verbose not in (0, 1, 2):
            raise RnnkitValueError(
                f"{caller}: `verbose` must be 0, 1 or 2. Received: verbose={self.verbose!r}."
            )
        self.learning_rate = check_open_unit("learning_rate", self.learning_rate, caller, 1e9)
        self._check_split(caller)
        if self.data is None:
            raise RnnkitValueError(
                f"{caller}: `data` is not set. Pass a CSV path, a DataFrame or a LabelledSequences."
            )
        if not isinstance(self.data, LabelledSequences):
            for name in ("id_column", "time_column", "label_column"):
                if not isinstance(getattr(self, name), str):
                    raise RnnkitValueError(
                        f"{caller}: `{name}` is required to read a long-format table. "
                        f"Received: {name}={getattr(self, name)!r}."
                    )
        return self

    def _check_split(self, caller: str) -> None:
        self.val_fraction = check_open_unit("val_fraction", self.val_fraction, caller, 1.0)
        if self.split_column is not None:
            if not isinstance(self.split_column, str):
                raise RnnkitTypeError(
                    f"{caller}: `split_column` must be a column name or None. "
                    f"Received: {self.split_column!r}."
                )
            if self.test_fraction is not None:
                raise RnnkitValueError(
                    f"{caller}: `test_fraction` and `split_column` both choose the test "
                    "sequences; pass one of them. Received: "
                    f"test_fraction={self.test_fraction!r}, split_column={self.split_column!r}."
                )
            return
        if self.test_fraction is None:
            return
        fraction = self.test_fraction
        if not isinstance(fraction, bool) and isinstance(fraction, (int, float)) and fraction == 0:
            raise RnnkitValueError(
                f"{caller}: `test_fraction` must be in (0, 1): every run is scored on held-out "
                "sequences. To use the train/test split your data already has, pass "
                "split_column='<column>' (rnnkit classify --split-column <column>). "
                f"Received: test_fraction={fraction!r}."
            )
        self.test_fraction = check_open_unit("test_fraction", fraction, caller, 1.0)


def check_open_unit(name: str, value: Any, caller: str, upper: float) -> float:
    """Return `value` as a float in (0, upper) (`upper=1.0`: a share; else any positive)."""
    bounds = "(0, 1)" if upper == 1.0 else "> 0"
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating)):
        raise RnnkitTypeError(
            f"{caller}: `{name}` must be a number {bounds}. Received: {name}={value!r}."
        )
    if math.isnan(value) or not 0.0 < float(value) < upper:
        raise RnnkitValueError(f"{caller}: `{name}` must be {bounds}. Received: {name}={value!r}.")
    return float(value)


def resolve_config(
    config: ClassificationConfig | None, overrides: dict[str, Any], caller: str
) -> ClassificationConfig:
    """`config` (or the defaults) with `overrides` applied, validated."""
    if config is not None and not isinstance(config, ClassificationConfig):
        raise RnnkitTypeError(
            f"{caller}: `config` must be a ClassificationConfig or None. "
            f"Received: {type(config).__name__}."
        )
    known = [f.name for f in fields(ClassificationConfig)]
    for key in overrides:
        if key not in known:
            raise RnnkitTypeError(
                f"{caller}: unknown setting {key!r}.{suggest(key, known)} Settings: "
                f"{', '.join(known)}."
            )
    config = replace(config or ClassificationConfig(), **overrides)
    return config.validate(caller)
