"""``rnnkit.keras``: tf.keras paths resolve to the rnnkit objects, unknown ones say
so, and a tutorial-style tf.keras + keras-tuner script runs with only its import
lines changed."""

from __future__ import annotations

import math
import re
import subprocess
import sys
import textwrap

import pytest

import rnnkit
import rnnkit as tf
import rnnkit.tuner
from rnnkit import keras
from rnnkit.errors import RnnkitError

# tf.keras paths used in RNN tutorials -> the rnnkit object they must be
TUTORIAL_PATHS = {
    "keras.Sequential": rnnkit.models.Sequential,
    "keras.Input": rnnkit.layers.Input,
    "keras.models.Sequential": rnnkit.models.Sequential,
    "keras.models.load_model": rnnkit.models.load_model,
    "keras.layers.SimpleRNN": rnnkit.layers.SimpleRNN,
    "keras.layers.LSTM": rnnkit.layers.LSTM,
    "keras.layers.GRU": rnnkit.layers.GRU,
    "keras.layers.Dense": rnnkit.layers.Dense,
    "keras.layers.Dropout": rnnkit.layers.Dropout,
    "keras.layers.Embedding": rnnkit.layers.Embedding,
    "keras.layers.Masking": rnnkit.layers.Masking,
    "keras.layers.Bidirectional": rnnkit.layers.Bidirectional,
    "keras.layers.TimeDistributed": rnnkit.layers.TimeDistributed,
    "keras.layers.RepeatVector": rnnkit.layers.RepeatVector,
    "keras.layers.Input": rnnkit.layers.Input,
    "keras.layers.InputLayer": rnnkit.layers.InputLayer,
    "keras.layers.LSTMCell": rnnkit.layers.LSTMCell,
    "keras.layers.RNN": rnnkit.layers.RNN,
    "keras.callbacks.EarlyStopping": rnnkit.callbacks.EarlyStopping,
    "keras.callbacks.ModelCheckpoint": rnnkit.callbacks.ModelCheckpoint,
    "keras.callbacks.ReduceLROnPlateau": rnnkit.callbacks.ReduceLROnPlateau,
    "keras.callbacks.LearningRateScheduler": rnnkit.callbacks.LearningRateScheduler,
    "keras.callbacks.CSVLogger": rnnkit.callbacks.CSVLogger,
    "keras.callbacks.Callback": rnnkit.callbacks.Callback,
    "keras.optimizers.Adam": rnnkit.optimizers.Adam,
    "keras.optimizers.RMSprop": rnnkit.optimizers.RMSprop,
    "keras.optimizers.SGD": rnnkit.optimizers.SGD,
    "keras.optimizers.schedules.ExponentialDecay": rnnkit.optimizers.schedules.ExponentialDecay,
    "keras.losses.MeanSquaredError": rnnkit.losses.MeanSquaredError,
    "keras.losses.SparseCategoricalCrossentropy": rnnkit.losses.SparseCategoricalCrossentropy,
    "keras.losses.Huber": rnnkit.losses.Huber,
    "keras.metrics.RootMeanSquaredError": rnnkit.metrics.RootMeanSquaredError,
    "keras.metrics.MeanAbsoluteError": rnnkit.metrics.MeanAbsoluteError,
    "keras.activations.tanh": rnnkit.activations.tanh,
    "keras.activations.relu": rnnkit.activations.relu,
    "keras.initializers.GlorotUniform": rnnkit.initializers.GlorotUniform,
    "keras.initializers.Orthogonal": rnnkit.initializers.Orthogonal,
    "keras.regularizers.l2": rnnkit.regularizers.L2,
    "keras.regularizers.L1L2": rnnkit.regularizers.L1L2,
    "keras.constraints.MaxNorm": rnnkit.constraints.MaxNorm,
    "keras.utils.to_categorical": rnnkit.utils.to_categorical,
    "keras.utils.pad_sequences": rnnkit.utils.pad_sequences,
    "keras.utils.set_random_seed": rnnkit.utils.set_random_seed,
    "keras.preprocessing.sequence.pad_sequences": rnnkit.utils.pad_sequences,
    "keras.backend.clear_session": rnnkit.utils.clear_session,
    "keras.saving.load_model": rnnkit.models.load_model,
    "keras.saving.register_keras_serializable": rnnkit.layers.registry.register_keras_serializable,
}


def _resolve(root, path: str):
    obj = root
    for part in path.split(".")[1:]:
        obj = getattr(obj, part)
    return obj


@pytest.mark.parametrize("path", sorted(TUTORIAL_PATHS))
def test_tf_keras_paths_resolve_to_the_rnnkit_objects(path):
    assert _resolve(keras, path) is TUTORIAL_PATHS[path]
    assert _resolve(tf.keras, path) is TUTORIAL_PATHS[path]  # import rnnkit as tf


def test_from_imports_work_as_with_tf_keras():
    from rnnkit.keras.callbacks import EarlyStopping
    from rnnkit.keras.layers import LSTM
    from rnnkit.keras.optimizers.schedules import CosineDecay
    from rnnkit.keras.preprocessing.sequence import pad_sequences

    assert LSTM is rnnkit.layers.LSTM and EarlyStopping is rnnkit.callbacks.EarlyStopping
    assert CosineDecay is rnnkit.optimizers.schedules.CosineDecay
    assert pad_sequences([[1, 2], [3]]).tolist() == [[1, 2], [0, 3]]


def test_every_listed_name_resolves():
    modules = [
        keras,
        *(getattr(keras, name) for name in keras.__all__ if not name[0].isupper()),
        keras.optimizers.schedules,
        keras.preprocessing.sequence,
    ]
    for module in modules:
        if not hasattr(module, "__all__"):
            continue  # a function such as load_model
        for name in module.__all__:
            assert getattr(module, name) is not None, f"{module.__name__}.{name}"


@pytest.mark.parametrize(
    ("root", "path", "hint"),
    [
        (keras, "keras.layers.Conv1D", ""),
        (keras, "keras.Model", "rnnkit builds Sequential models"),
        (tf.keras, "keras.layers.Lstm", "Did you mean 'LSTM'?"),
        (keras, "keras.callbacks.TensorBoard", ""),
        (keras, "keras.optimizers.Lion", ""),
        (keras, "keras.optimizers.schedules.CosineDecayRestarts", ""),
        (keras, "keras.preprocessing.text", ""),
        (keras, "keras.ops", ""),
    ],
)
def test_unimplemented_paths_say_rnnkit_does_not_implement_them(root, path, hint):
    with pytest.raises(AttributeError) as caught:
        _resolve(root, path)
    assert isinstance(caught.value, RnnkitError)
    message = str(caught.value)
    name = path.rsplit(".", 1)[1]
    assert f"has no attribute {name!r}: rnnkit does not implement {path}." in message
    assert hint in message
    assert "\n" not in message


def test_introspection_of_missing_dunders_stays_a_plain_attribute_error():
    assert not hasattr(keras.layers, "__wrapped__")
    with pytest.raises(AttributeError) as caught:
        keras.layers.__wrapped__  # noqa: B018
    assert not isinstance(caught.value, RnnkitError)


# A script as a tf.keras user writes it: three stacks, EarlyStopping, validation_split,
# predict, and a keras-tuner search. Only its import lines are changed to run it.
TUTORIAL_SCRIPT = textwrap.dedent(
    """
    import numpy as np
    import tensorflow as tf
    from tensorflow.keras.models import Sequential
    from tensorflow.keras.layers import SimpleRNN, LSTM, GRU, Dense, Dropout
    import keras_tuner as kt

    tf.keras.utils.set_random_seed(42)
    t = np.arange(160, dtype="float32")
    series = np.sin(t / 6.0) + 0.1 * np.cos(t / 2.0)
    window = 8
    X = np.stack([series[i : i + window] for i in range(len(series) - window)])[..., None]
    y = series[window:]
    X_train, X_test, y_train, y_test = X[:120], X[120:], y[:120], y[120:]

    def stack(layer):
        model = Sequential([
            layer(16, return_sequences=True, input_shape=(window, 1)),
            Dropout(0.2),
            layer(8),
            Dropout(0.2),
            Dense(1),
        ])
        model.compile(optimizer=tf.keras.optimizers.Adam(learning_rate=0.01), loss="mse")
        return model

    early_stop = tf.keras.callbacks.EarlyStopping(monitor='val_loss', patience=5)
    for layer in (SimpleRNN, LSTM, GRU):
        model = stack(layer)
        history = model.fit(X_train, y_train, epochs=2, batch_size=16,
                            validation_split=0.2, callbacks=[early_stop], verbose=0)
        pred = model.predict(X_test, verbose=0)
        mse = float(np.mean((pred[:, 0] - y_test) ** 2))
        print(f"{layer.__name__} epochs={len(history.history['loss'])} "
              f"val_loss={history.history['val_loss'][-1]:.4f} test_mse={mse:.4f} "
              f"shape={pred.shape[0]}x{pred.shape[1]}")

    def build_model(hp):
        model = Sequential()
        model.add(LSTM(units=hp.Int('units', min_value=4, max_value=16, step=4),
                       activation=hp.Choice('activation', ['tanh', 'relu']),
                       input_shape=(window, 1)))
        model.add(Dropout(hp.Float('dropout', 0.0, 0.3, step=0.1)))
        model.add(Dense(1))
        model.compile(optimizer='adam', loss='mse')
        return model

    tuner = kt.RandomSearch(build_model, objective='val_loss', max_trials=2,
                            executions_per_trial=1, directory='tuning',
                            project_name='rnn', seed=1)
    tuner.search(X_train, y_train, epochs=2, validation_split=0.2,
                 callbacks=[early_stop], verbose=0)
    best_hp = tuner.get_best_hyperparameters(num_trials=1)[0]
    print("best", best_hp.get('units'), best_hp.get('activation'), best_hp.get('dropout'))
    best = tuner.get_best_models(num_models=1)[0]
    print("tuned shape", best.predict(X_test, verbose=0).shape)
    """
)

IMPORT_CHANGES = {
    "import tensorflow as tf": "import rnnkit as tf",
    "from tensorflow.keras.": "from rnnkit.keras.",
    "import keras_tuner as kt": "import rnnkit.tuner as kt",
}


def _change_imports(source: str) -> str:
    lines = []
    for line in source.splitlines():
        if line.startswith(("import ", "from ")):
            for old, new in IMPORT_CHANGES.items():
                line = line.replace(old, new)
        lines.append(line)
    return "\n".join(lines) + "\n"


def test_a_tutorial_style_script_runs_with_only_its_imports_changed(tmp_path):
    script = _change_imports(TUTORIAL_SCRIPT)
    changed = [
        (a, b)
        for a, b in zip(TUTORIAL_SCRIPT.splitlines(), script.splitlines(), strict=True)
        if a != b
    ]
    assert len(changed) == 4 and all(a.startswith(("import", "from")) for a, _ in changed)
    (tmp_path / "tutorial.py").write_text(script)
    run = subprocess.run(
        [sys.executable, "tutorial.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    lines = run.stdout.splitlines()
    stacks = [line for line in lines if re.match(r"(SimpleRNN|LSTM|GRU) epochs=", line)]
    assert [line.split()[0] for line in stacks] == ["SimpleRNN", "LSTM", "GRU"]
    for line in stacks:
        fields = dict(item.split("=") for item in line.split()[1:])
        assert fields["epochs"] == "2"
        assert fields["shape"] == "32x1"
        for key in ("val_loss", "test_mse"):
            value = float(fields[key])
            assert math.isfinite(value) and 0 <= value < 5, line
    best = next(line for line in lines if line.startswith("best "))
    units, activation, dropout = best.split()[1:]
    assert int(units) in (4, 8, 12, 16) and activation in ("tanh", "relu")
    assert 0.0 <= float(dropout) <= 0.3
    assert "tuned shape (32, 1)" in lines
