"""Keras files in and out, with no Keras at run time (issue #13, parts 1 and 2).

Keras 3 (a test-only dependency, on its PyTorch backend) builds and saves small
models holding every layer rnnkit has; rnnkit loads each ``.keras``, ``.h5`` and
``.weights.h5`` file and predicts as Keras does. rnnkit then writes ``.keras``,
``.h5`` and ``.weights.h5`` files that Keras loads and predicts with identically.
Hostile files (truncated, forged shapes, links to other files, FIFOs) are named
errors. The Keras files are written once per module.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")
h5py = pytest.importorskip("h5py")

from rnnkit import layers as rl  # noqa: E402
from rnnkit.errors import CheckpointError  # noqa: E402
from rnnkit.errors import RnnkitValueError  # noqa: E402
from rnnkit.models import Sequential  # noqa: E402
from rnnkit.models import load_model  # noqa: E402
from rnnkit.models.keras_files import sniff_model_file  # noqa: E402
from rnnkit.models.keras_files import supported_layers  # noqa: E402

pytestmark = pytest.mark.skipif(
    keras.backend.backend() != "torch", reason="the Keras oracle needs KERAS_BACKEND=torch"
)

TOLERANCE = 1e-5
SUFFIXES = (".keras", ".h5", ".weights.h5")


def _builders():
    """Keras models with every layer rnnkit has, each with the input it predicts on."""
    kl = keras.layers
    rng = np.random.default_rng(7)
    padded = rng.normal(size=(4, 6, 2)).astype("float32")
    padded[0, 4:] = 0.0  # Masking skips these steps
    padded[2, 1:3] = 0.0
    sequences = rng.normal(size=(4, 6, 3)).astype("float32")
    builders = {
        "stacked": (
            lambda: keras.Sequential(
                [
                    keras.Input((6, 3)),
                    kl.SimpleRNN(4, activation="relu", return_sequences=True),
                    kl.LSTM(4, return_sequences=True),
                    kl.GRU(3, reset_after=True),
                    kl.Dense(2, activation="sigmoid"),
                ]
            ),
            sequences,
        ),
        "masked": (
            lambda: keras.Sequential(
                [
                    keras.Input((6, 2)),
                    kl.Masking(0.0),
                    kl.GRU(4, reset_after=False, return_sequences=True),
                    kl.TimeDistributed(kl.Dense(2)),
                    kl.Flatten(),
                    kl.Dropout(0.3),
                    kl.RepeatVector(2),
                    kl.SimpleRNN(2, return_sequences=True),
                    kl.Reshape((4,)),
                    kl.Activation("tanh"),
                    kl.Dense(1),
                ]
            ),
            padded,
        ),
        "no_bias": (
            lambda: keras.Sequential(
                [
                    keras.Input((6, 3)),
                    kl.GRU(3, use_bias=False, go_backwards=True, return_sequences=True),
                    kl.LSTM(2, unit_forget_bias=False, kernel_regularizer="l2"),
                    kl.Dense(1, use_bias=False),
                ]
            ),
            sequences,
        ),
        "nested": (
            lambda: keras.Sequential(
                [
                    keras.Input((6, 3)),
                    kl.GRU(3, return_sequences=True),
                    keras.Sequential([kl.Dense(4, activation="relu"), kl.Dense(2)]),
                    kl.Flatten(),
                    kl.Dense(1),
                ]
            ),
            sequences,
        ),
    }
    for mode in ("concat", "sum", "mul", "ave"):
        builders[f"bidirectional_{mode}"] = (
            lambda mode=mode: keras.Sequential(
                [keras.Input((6, 3)), kl.Bidirectional(kl.LSTM(3), merge_mode=mode), kl.Dense(1)]
            ),
            sequences,
        )
    if "Embedding" in supported_layers():
        tokens = rng.integers(0, 9, size=(4, 6)).astype("float32")
        tokens[1, 3:] = 0
        builders["embedding"] = (
            lambda: keras.Sequential(
                [keras.Input((6,)), kl.Embedding(9, 3, mask_zero=True), kl.GRU(2), kl.Dense(1)]
            ),
            tokens,
        )
    return builders


BUILDERS = _builders()
COMPILED = ("stacked", "masked")


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    """``{name: (folder, x, keras_prediction)}``: each model saved by Keras in every format."""
    root = tmp_path_factory.mktemp("keras_files")
    keras.utils.set_random_seed(3)
    out = {}
    for name, (build, x) in BUILDERS.items():
        model = build()
        if name in COMPILED:
            model.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse", metrics=["mae"])
        folder = root / name
        folder.mkdir()
        model.save(folder / "model.keras")
        model.save(folder / "model.h5")
        model.save_weights(folder / "model.weights.h5")
        out[name] = (folder, x, np.asarray(model.predict(x, verbose=0)))
    return out


def _max_error(model, x, expected) -> float:
    return float(np.abs(np.asarray(model.predict(x, verbose=0)) - expected).max())


# ----------------------------------------------------------------- Keras files in
@pytest.mark.parametrize("suffix", [".keras", ".h5"])
@pytest.mark.parametrize("name", list(BUILDERS))
def test_load_model_predicts_as_keras(written, name, suffix):
    folder, x, expected = written[name]
    path = folder / f"model{suffix}"
    assert sniff_model_file(path) == ("keras" if suffix == ".keras" else "hdf5")
    model = load_model(path)
    assert isinstance(model, Sequential)
    assert _max_error(model, x, expected) < TOLERANCE


@pytest.mark.parametrize("suffix", SUFFIXES)
def test_load_weights_from_every_keras_file(written, suffix):
    folder, x, expected = written["masked"]
    model = load_model(folder / "model.keras")
    for layer in model.layers:  # scramble, so only the file can restore the outputs
        layer.set_weights([np.zeros_like(w) + 0.1 for w in layer.get_weights()])
    assert _max_error(model, x, expected) > 1e-3
    model.load_weights(folder / f"model{suffix}")
    assert _max_error(model, x, expected) < TOLERANCE


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_compile_settings_are_read(written, suffix):
    folder, _, _ = written["stacked"]
    model = load_model(folder / f"model{suffix}")
    assert model.compiled
    assert type(model.optimizer).__name__ == "Adam"
    assert float(model.optimizer.learning_rate) == pytest.approx(0.01)
    assert model._compile_config["loss"] == "mse"
    assert model._compile_config["metrics"] == ["mae"]
    assert not load_model(folder / f"model{suffix}", compile=False).compiled


def test_loading_never_imports_keras(written):
    """In a fresh process where ``import keras`` fails, every file still loads."""
    cases = [
        (str(folder / f"model{suffix}"), x.tolist(), expected.tolist())
        for folder, x, expected in written.values()
        for suffix in (".keras", ".h5")
    ]
    script = (
        "import json, sys\n"
        "import numpy as np\n"
        "sys.modules['keras'] = None  # any import of keras now raises\n"
        "from rnnkit.models import load_model\n"
        "worst = 0.0\n"
        "for path, x, expected in json.loads(sys.stdin.read()):\n"
        "    model = load_model(path)\n"
        "    model.load_weights(path)\n"
        "    got = model.predict(np.asarray(x, dtype='float32'), verbose=0)\n"
        "    worst = max(worst, float(np.abs(got - np.asarray(expected)).max()))\n"
        "assert not any(name.startswith('keras') for name in sys.modules if sys.modules[name])\n"
        "print(worst)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2] / "src")}
    result = subprocess.run(
        [sys.executable, "-c", script],
        input=json.dumps(cases),
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert float(result.stdout.strip()) < TOLERANCE


@pytest.mark.parametrize("shape_on", ["input_layer", "first_layer"])
def test_keras_2_legacy_h5_config_loads(written, tmp_path, shape_on):
    """A tf.keras 2 style config (batch_input_shape on the InputLayer or, from older
    versions, on the first layer; plain dtypes; implementation; time_major) loads; the
    weights layout is the same as Keras 3's legacy one."""
    folder, x, expected = written["stacked"]
    path = tmp_path / "keras2.h5"
    shutil.copy(folder / "model.h5", path)
    with h5py.File(path, "r+") as file:
        config = json.loads(file.attrs["model_config"])
        layers = config["config"]["layers"]
        batch_shape = layers[0]["config"].pop("batch_shape")
        layers[0]["config"]["batch_input_shape"] = batch_shape
        if shape_on == "first_layer":
            del layers[0]
            layers[0]["config"]["batch_input_shape"] = batch_shape
            del config["config"]["build_input_shape"]  # the layer's shape is all there is
        for layer in layers:
            layer.pop("module", None)
            layer["config"]["dtype"] = "float32"
            if layer["class_name"] in ("LSTM", "GRU"):
                layer["config"].update(implementation=2, time_major=False)
            for key, value in layer["config"].items():
                if key.endswith("_initializer"):
                    layer["config"][key] = {
                        "class_name": value["class_name"],
                        "config": {"seed": None} if "seed" in value["config"] else {},
                    }
        file.attrs["model_config"] = json.dumps(config)
        del file.attrs["training_config"]
    model = load_model(path)
    assert not model.compiled
    assert _max_error(model, x, expected) < TOLERANCE


def test_unsupported_layer_is_one_line_naming_it(tmp_path):
    model = keras.Sequential(
        [keras.Input((6, 3)), keras.layers.Conv1D(2, 3, name="conv"), keras.layers.GRU(2)]
    )
    for suffix in (".keras", ".h5"):
        path = tmp_path / f"conv{suffix}"
        model.save(path)
        with pytest.raises(CheckpointError) as info:
            load_model(path)
        message = str(info.value)
        assert "\n" not in message
        assert str(path) in message
        assert "layer 'conv' is a Keras Conv1D layer, which rnnkit does not have" in message
        assert f"rnnkit reads these Keras layers: {', '.join(supported_layers())}." in message


def test_functional_model_is_refused_with_the_fix(tmp_path):
    inputs = keras.Input((6, 3))
    model = keras.Model(inputs, keras.layers.Dense(1)(keras.layers.GRU(2)(inputs)))
    model.save(tmp_path / "functional.keras")
    with pytest.raises(CheckpointError, match=r"this file holds a Functional model. Rebuild"):
        load_model(tmp_path / "functional.keras")


def test_loss_object_needs_compile_false(tmp_path, written):
    _, x, _ = written["stacked"]
    model = keras.Sequential([keras.Input((6, 3)), keras.layers.GRU(2)])
    model.compile(optimizer="sgd", loss=keras.losses.Huber())
    model.save(tmp_path / "huber.keras")
    with pytest.raises(CheckpointError, match=r"has a Huber object. Pass compile=False"):
        load_model(tmp_path / "huber.keras")
    loaded = load_model(tmp_path / "huber.keras", compile=False)
    assert _max_error(loaded, x, model.predict(x, verbose=0)) < TOLERANCE


def test_mixed_precision_policy_is_named(tmp_path):
    model = keras.Sequential([keras.Input((6, 3)), keras.layers.GRU(2, dtype="mixed_float16")])
    model.save(tmp_path / "mixed.keras")
    with pytest.raises(CheckpointError, match=r"Received: dtype='mixed_float16'"):
        load_model(tmp_path / "mixed.keras")


def test_setting_that_changes_behaviour_is_named(written, tmp_path):
    folder, _, _ = written["stacked"]
    path = tmp_path / "time_major.h5"
    shutil.copy(folder / "model.h5", path)
    with h5py.File(path, "r+") as file:
        config = json.loads(file.attrs["model_config"])
        config["config"]["layers"][2]["config"]["time_major"] = True
        file.attrs["model_config"] = json.dumps(config)
    with pytest.raises(CheckpointError, match=r"Keras setting time_major=True changes behaviour"):
        load_model(path)


# ---------------------------------------------------------------- Keras files out
def _rnnkit_native_model():
    model = Sequential(
        [
            rl.GRU(3, input_shape=(6, 3), return_sequences=True, reset_after=False),
            rl.Bidirectional(rl.SimpleRNN(2), merge_mode="sum"),
            rl.Dense(1),
        ]
    )
    model.compile(optimizer="rmsprop", loss="mae")
    return model


@pytest.mark.parametrize("name", ["native", *BUILDERS])
def test_keras_loads_what_rnnkit_writes(written, tmp_path, name):
    if name == "native":
        model, x = _rnnkit_native_model(), BUILDERS["stacked"][1]
    else:
        folder, x, _ = written[name]
        model = load_model(folder / "model.keras")
    expected = model.predict(x, verbose=0)
    model.save(tmp_path / "out.keras", format="keras")
    model.save(tmp_path / "out.h5")
    model.save_weights(tmp_path / "out.weights.h5")
    assert sniff_model_file(tmp_path / "out.keras") == "keras"
    assert sniff_model_file(tmp_path / "out.h5") == "hdf5"
    for suffix in (".keras", ".h5"):
        restored = keras.saving.load_model(tmp_path / f"out{suffix}")
        assert _max_error(restored, x, expected) < TOLERANCE
        assert bool(restored.compiled) == bool(model.compiled)
        for layer in restored.layers:
            layer.set_weights([np.zeros_like(w) for w in layer.get_weights()])
        restored.load_weights(tmp_path / "out.weights.h5")
        assert _max_error(restored, x, expected) < TOLERANCE
    again = load_model(tmp_path / "out.h5")  # and rnnkit reads its own Keras files back
    assert _max_error(again, x, expected) < TOLERANCE


def test_rnnkit_format_stays_the_default(tmp_path):
    model = _rnnkit_native_model()
    model.save(tmp_path / "m.keras")
    assert sniff_model_file(tmp_path / "m.keras") == "rnnkit"
    model.save(tmp_path / "n.keras", format="rnnkit")
    assert sniff_model_file(tmp_path / "n.keras") == "rnnkit"
    model.save_weights(tmp_path / "w.weights.safetensors")
    assert sniff_model_file(tmp_path / "w.weights.safetensors") == "other"
    model.save(tmp_path / "m.hdf5")
    assert sniff_model_file(tmp_path / "m.hdf5") == "hdf5"


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda m, d: m.save_weights(d / "w.h5"),
            "Keras weights files are named '*.weights.h5'. Received: '{d}/w.h5'; use "
            "'{d}/w.weights.h5' for Keras HDF5 or '{d}/w.weights.safetensors'",
        ),
        (
            lambda m, d: m.save(d / "m.h5", format="rnnkit"),
            "promises an HDF5 file, but format='rnnkit' writes rnnkit's zip",
        ),
        (
            lambda m, d: m.save(d / "m.zip", format="keras"),
            "format='keras' writes a Keras 3 zip, which Keras opens only under a name "
            "ending in '.keras'. Received: '{d}/m.zip'.",
        ),
        (lambda m, d: m.save(d / "m.keras", format="h5"), "use a name ending in '.h5'"),
        (lambda m, d: m.save(d / "m.keras", format="tf"), "unknown format 'tf'"),
    ],
)
def test_names_that_contradict_the_format_are_refused(tmp_path, call, message):
    with pytest.raises(RnnkitValueError) as info:
        call(_rnnkit_native_model(), tmp_path)
    assert message.format(d=tmp_path) in str(info.value)
    assert list(tmp_path.iterdir()) == []


def test_custom_layer_cannot_go_into_a_keras_file(tmp_path):
    model = Sequential([rl.RNN(rl.GRUCell(2), input_shape=(4, 1))])
    with pytest.raises(RnnkitValueError, match=r"is an rnnkit RNN, which Keras files cannot hold"):
        model.save(tmp_path / "m.keras", format="keras")


# ------------------------------------------------------------------ hostile files
def _refused(path, match, loader=load_model):
    with pytest.raises(CheckpointError, match=match) as info:
        loader(path)
    message = str(info.value)
    assert "\n" not in message
    assert str(path) in message


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_truncated_file(written, tmp_path, suffix):
    data = (written["stacked"][0] / f"model{suffix}").read_bytes()
    path = tmp_path / f"cut{suffix}"
    path.write_bytes(data[: len(data) // 2])
    _refused(path, "truncated")


def _weights_copy(written, tmp_path) -> Path:
    path = tmp_path / "w.weights.h5"
    shutil.copy(written["stacked"][0] / "model.weights.h5", path)
    return path


def _load_weights_into_stacked(written):
    model = load_model(written["stacked"][0] / "model.keras")
    return lambda path: model.load_weights(path)


def test_wrong_dataset_shape(written, tmp_path):
    path = _weights_copy(written, tmp_path)
    with h5py.File(path, "r+") as file:
        del file["layers/dense/vars/0"]
        file["layers/dense/vars/0"] = np.zeros((3, 3), dtype="float32")
    _refused(
        path,
        r"weight 'layers/dense/vars/0' has shape \(3, 3\), layer 'dense\w*' needs \(3, 2\)",
        _load_weights_into_stacked(written),
    )


def test_huge_declared_shape_with_no_data(written, tmp_path):
    path = _weights_copy(written, tmp_path)
    with h5py.File(path, "r+") as file:
        del file["layers/dense/vars/0"]
        file.create_dataset("layers/dense/vars/0", shape=(200_000, 100_000), dtype="float32")
    assert path.stat().st_size < 100_000
    _refused(path, r"declares shape \(200000, 100000\)", _load_weights_into_stacked(written))


def test_config_declaring_a_huge_layer_fails_before_allocating(written, tmp_path):
    path = tmp_path / "huge.keras"
    with zipfile.ZipFile(written["stacked"][0] / "model.keras") as source:
        members = {name: source.read(name) for name in source.namelist()}
    config = json.loads(members["config.json"])
    config["config"]["layers"][3]["config"]["units"] = 40_000  # GRU: 4.8e9 weights
    members["config.json"] = json.dumps(config).encode()
    with zipfile.ZipFile(path, "w") as target:
        for name, data in members.items():
            target.writestr(name, data)
    _refused(path, r"has shape \(4, 9\), layer 'gru\w*' needs \(4, 120000\)")


@pytest.mark.parametrize("kind", ["external_link", "soft_link", "external_storage", "int_dtype"])
def test_links_external_data_and_non_float_weights_are_refused(written, tmp_path, kind):
    path = _weights_copy(written, tmp_path)
    (tmp_path / "raw.bin").write_bytes(bytes(24))
    with h5py.File(path, "r+") as file:
        del file["layers/dense/vars/0"]
        group = file["layers/dense/vars"]
        if kind == "external_link":
            group["0"] = h5py.ExternalLink(str(tmp_path / "other.h5"), "/data")
        elif kind == "soft_link":
            group["0"] = h5py.SoftLink("/layers/dense/vars/1")
        elif kind == "external_storage":
            group.create_dataset(
                "0", shape=(3, 2), dtype="float32", external=[(str(tmp_path / "raw.bin"), 0, 24)]
            )
        else:
            group["0"] = np.zeros((3, 2), dtype="int64")
    match = {
        "external_link": "is a ExternalLink",
        "soft_link": "is a SoftLink",
        "external_storage": "virtual or external dataset",
        "int_dtype": "has dtype int64; weights must be float16, float32 or float64",
    }[kind]
    _refused(path, match, _load_weights_into_stacked(written))


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_fifo_is_refused_without_reading(tmp_path):
    for name in ("m.h5", "m.weights.h5"):
        path = tmp_path / name
        os.mkfifo(path)
        _refused(path, "not a regular file")
    model = _rnnkit_native_model()
    with pytest.raises(CheckpointError, match="not a regular file"):
        model.load_weights(tmp_path / "m.weights.h5")


def test_extra_zip_member_is_refused(written, tmp_path):
    path = tmp_path / "extra.keras"
    shutil.copy(written["stacked"][0] / "model.keras", path)
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr("assets/evil.bin", b"x")
    _refused(path, r"is not a Keras file rnnkit reads: it holds \['assets/evil.bin'")


def _rewrite_keras_zip(source: Path, target: Path, compression=zipfile.ZIP_STORED, **changes):
    with zipfile.ZipFile(source) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    members.update(changes)
    with zipfile.ZipFile(target, "w", compression=compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)


def test_deeply_nested_config_is_refused(written, tmp_path):
    path = tmp_path / "deep.keras"
    deep = b"[" * 5000 + b"]" * 5000
    _rewrite_keras_zip(written["stacked"][0] / "model.keras", path, **{"config.json": deep})
    _refused(path, "config.json in .* is corrupt .nested deeper than")


def test_weights_member_inflating_like_a_zip_bomb_is_refused(written, tmp_path):
    path = tmp_path / "bomb.keras"
    zeros = bytes(40 * 2**20)  # deflates about 1000x, over the 100x limit
    _rewrite_keras_zip(
        written["stacked"][0] / "model.keras",
        path,
        compression=zipfile.ZIP_DEFLATED,
        **{"model.weights.h5": zeros},
    )
    assert path.stat().st_size < 2**20
    _refused(path, r"member model.weights.h5 of .* is refused: it inflates .* \(a zip bomb\?\)")
