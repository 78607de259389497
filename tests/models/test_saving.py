"""``model.save`` / ``rnnkit.models.load_model``: round trip, atomic writes, corrupt files.

A saved model is a zip of JSON config, safetensors weights and a SHA-256 manifest,
written through a temporary file and ``os.replace``. Loading must either give back
the same model or raise :class:`~rnnkit.errors.CheckpointError` with a one-line
message; it never executes code (tests/test_no_pickle.py).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

from rnnkit import optimizers
from rnnkit.errors import CheckpointError
from rnnkit.layers import GRU
from rnnkit.layers import LSTM
from rnnkit.layers import Dense
from rnnkit.layers import Dropout
from rnnkit.layers import Input
from rnnkit.layers import SimpleRNN
from rnnkit.models import Sequential
from rnnkit.models import load_model
from rnnkit.models import saving

STEPS, FEATURES = 6, 3


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    """Tiny tensors on a shared machine: one intra-op thread is much faster."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def make_model():
    return Sequential(
        [
            Input((STEPS, FEATURES)),
            SimpleRNN(5, activation="relu", return_sequences=True),
            LSTM(4, return_sequences=True, go_backwards=True, dropout=0.2, seed=3),
            Dropout(0.1),
            GRU(3, reset_after=False, unroll=True),
            Dense(2, activation="tanh"),
        ]
    )


def make_data():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((20, STEPS, FEATURES)).astype(np.float32)
    y = rng.standard_normal((20, 2)).astype(np.float32)
    return x, y


@pytest.fixture
def data():
    return make_data()


@pytest.fixture(scope="module")
def _trained_once(tmp_path_factory):
    """Train once per module; return the model and the bytes of its saved file."""
    torch.manual_seed(0)
    model = make_model()
    model.compile(
        optimizer=optimizers.Adam(learning_rate=0.005, beta_1=0.8), loss="mae", metrics=["mse"]
    )
    model.fit(*make_data(), batch_size=8, epochs=1, verbose=0)
    path = tmp_path_factory.mktemp("trained") / "model.keras"
    model.save(path)
    return model, path.read_bytes()


@pytest.fixture
def trained(_trained_once):
    """The trained model (shared: tests must not change its weights)."""
    return _trained_once[0]


@pytest.fixture
def saved(_trained_once, tmp_path):
    path = tmp_path / "model.keras"
    path.write_bytes(_trained_once[1])
    return path


def listing(folder):
    return sorted(p.name for p in Path(folder).iterdir())


def rewrite_zip(path, members):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, payload in members.items():
            archive.writestr(name, payload)
    path.write_bytes(buffer.getvalue())


def read_zip(path):
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def manifest_for(members):
    digests = {n: hashlib.sha256(b).hexdigest() for n, b in members.items() if n != "manifest.json"}
    return json.dumps({"files": digests}).encode()


# ------------------------------------------------------------- round trip
def test_round_trip_predictions_and_config(trained, saved, data):
    x, _ = data
    loaded = load_model(saved)
    assert type(loaded) is Sequential
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), trained.predict(x, verbose=0))
    assert loaded.get_config() == trained.get_config()
    for a, b in zip(loaded.get_weights(), trained.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert [type(layer) for layer in loaded.layers] == [type(layer) for layer in trained.layers]
    assert loaded.layers[1].go_backwards is True
    assert loaded.layers[3].reset_after is False


def test_round_trip_restores_compile(trained, saved, data):
    loaded = load_model(saved)
    assert loaded.compiled
    assert type(loaded.optimizer) is optimizers.Adam
    assert loaded.optimizer.get_config() == trained.optimizer.get_config()
    assert loaded.metrics_names == trained.metrics_names == ["loss", "mse"]
    np.testing.assert_allclose(
        loaded.evaluate(*data, verbose=0), trained.evaluate(*data, verbose=0), rtol=1e-6
    )
    history = loaded.fit(*data, epochs=1, verbose=0)  # no compile() needed
    assert np.isfinite(history.history["loss"][0])


def test_load_without_compile(saved, data):
    loaded = load_model(saved, compile=False)
    assert not loaded.compiled
    assert loaded.predict(data[0], verbose=0).shape == (20, 2)


def test_uncompiled_model_round_trip(tmp_path, data):
    model = make_model()
    model.build((None, STEPS, FEATURES))
    model.save(tmp_path / "m.keras")
    loaded = load_model(tmp_path / "m.keras")
    assert not loaded.compiled
    np.testing.assert_array_equal(
        loaded.predict(data[0], verbose=0), model.predict(data[0], verbose=0)
    )


def test_save_unbuilt_model_fails_cleanly(tmp_path):
    with pytest.raises(ValueError, match="the model is not built"):
        Sequential([LSTM(3), Dense(1)]).save(tmp_path / "m.keras")
    assert listing(tmp_path) == []


def test_custom_activation_cannot_be_saved(tmp_path):
    model = Sequential([LSTM(3, activation=lambda t: t * 2, input_shape=(4, 2)), Dense(1)])
    with pytest.raises(TypeError, match="custom callable"):
        model.save(tmp_path / "m.keras")
    assert listing(tmp_path) == []


def test_overwrite_false_keeps_existing(saved, trained):
    before = saved.read_bytes()
    with pytest.raises(ValueError, match=re.escape("exists. Pass overwrite=True")):
        trained.save(saved, overwrite=False)
    assert saved.read_bytes() == before


def test_save_weights_load_weights_round_trip(trained, tmp_path, data):
    path = tmp_path / "w.weights.safetensors"
    trained.save_weights(path)
    torch.manual_seed(99)
    fresh = make_model()
    fresh.build((None, STEPS, FEATURES))
    fresh.load_weights(path)
    np.testing.assert_array_equal(
        fresh.predict(data[0], verbose=0), trained.predict(data[0], verbose=0)
    )


# ------------------------------------------------------------ atomic write
def test_no_temporary_file_left(saved):
    assert listing(saved.parent) == ["model.keras"]


@pytest.mark.parametrize("failing", ["fsync", "replace", "serialize"])
def test_failed_write_leaves_existing_file_intact(saved, monkeypatch, failing):
    before = saved.read_bytes()
    other = load_model(saved)
    with torch.no_grad():
        for p in other.parameters():
            p.add_(1.0)  # a different model, so a partial write would show

    def boom(*args, **kwargs):
        raise OSError("simulated failure: disk full")

    if failing == "serialize":
        monkeypatch.setattr(saving, "save_safetensors_bytes", boom)
    else:
        monkeypatch.setattr(saving.os, failing, boom)
    with pytest.raises(OSError, match="simulated failure"):
        other.save(saved)
    monkeypatch.undo()
    assert saved.read_bytes() == before
    assert listing(saved.parent) == ["model.keras"]  # the temporary file was removed
    load_model(saved)  # still a valid model


def test_failed_first_write_leaves_nothing(trained, tmp_path, monkeypatch):
    def boom(*args, **kwargs):
        raise OSError("simulated failure")

    monkeypatch.setattr(saving.os, "replace", boom)
    with pytest.raises(OSError):
        trained.save(tmp_path / "new.keras")
    monkeypatch.undo()
    assert listing(tmp_path) == []


# ------------------------------------------------------- corrupt files
def test_missing_file(tmp_path):
    with pytest.raises(CheckpointError, match="no file at"):
        load_model(tmp_path / "nope.keras")


def test_empty_file(tmp_path):
    path = tmp_path / "empty.keras"
    path.write_bytes(b"")
    with pytest.raises(CheckpointError, match=r"is empty \(truncated write\?\)") as e:
        load_model(path)
    assert "\n" not in str(e.value)


@pytest.mark.parametrize("keep", [0.5, 0.9, 0.99])
def test_truncated_file(saved, keep):
    data = saved.read_bytes()
    saved.write_bytes(data[: int(len(data) * keep)])
    with pytest.raises(CheckpointError, match="truncated") as e:
        load_model(saved)
    assert "\n" not in str(e.value)


@pytest.mark.parametrize(
    "payload", [b"P", b"garbage" * 100, os.urandom(4096), b"PK\x03\x04" + b"\0" * 40]
)
def test_garbage_file(tmp_path, payload):
    path = tmp_path / "garbage.keras"
    path.write_bytes(payload)
    with pytest.raises(CheckpointError, match="truncated or foreign") as e:
        load_model(path)
    assert "\n" not in str(e.value)


def test_tampered_weights_give_checksum_mismatch(saved):
    """A valid zip whose weights changed after saving (zip CRC recomputed)."""
    members = read_zip(saved)
    weights = bytearray(members["model.safetensors"])
    weights[-3] ^= 0x40
    members["model.safetensors"] = bytes(weights)
    rewrite_zip(saved, members)
    with pytest.raises(CheckpointError, match=re.escape("checksum mismatch for model.safetensors")):
        load_model(saved)


def test_tampered_config_gives_checksum_mismatch(saved):
    members = read_zip(saved)
    members["config.json"] = members["config.json"].replace(b'"units": 4', b'"units": 5')
    rewrite_zip(saved, members)
    with pytest.raises(CheckpointError, match=re.escape("checksum mismatch for config.json")):
        load_model(saved)


def test_flipped_bytes_never_load_a_different_model(tmp_path, data):
    """Flip one byte at many places (every byte of the first local header and of the
    central directory at the end, and a spread in between): each load either fails
    with CheckpointError or gives back exactly the saved model (a flip in zip
    metadata such as a timestamp can be harmless)."""
    x = data[0][:4]
    saved = tmp_path / "small.keras"
    Sequential([Input((STEPS, FEATURES)), GRU(2), Dense(1)]).save(saved)
    original = saved.read_bytes()
    expected = load_model(saved).predict(x, verbose=0)
    size = len(original)
    positions = sorted(
        {*range(40), *range(size - 260, size), *range(40, size - 260, max(1, size // 60))}
    )
    failures = 0
    for position in positions:
        corrupt = bytearray(original)
        corrupt[position] ^= 0x01
        saved.write_bytes(bytes(corrupt))
        try:
            model = load_model(saved, compile=False)
        except CheckpointError as exc:
            assert "\n" not in str(exc)
            failures += 1
        else:
            np.testing.assert_array_equal(model.predict(x, verbose=0), expected)
    assert failures > 0.8 * len(positions) * 0.5


def test_missing_member(saved):
    members = read_zip(saved)
    del members["manifest.json"]
    rewrite_zip(saved, members)
    with pytest.raises(
        CheckpointError, match=r"not an rnnkit model file \(missing \['manifest.json'\]\)"
    ):
        load_model(saved)


@pytest.mark.parametrize("manifest", [b"{not json", b"[]", b'{"files": []}', b"\xff\xfe"])
def test_corrupt_manifest_is_a_checkpoint_error(saved, manifest):
    members = read_zip(saved)
    members["manifest.json"] = manifest
    rewrite_zip(saved, members)
    with pytest.raises(CheckpointError):
        load_model(saved)


def test_corrupt_config_with_matching_digest_is_a_checkpoint_error(saved):
    members = read_zip(saved)
    members["config.json"] = b'{"format": "rnnkit-model", "model": '
    members["manifest.json"] = manifest_for(members)
    rewrite_zip(saved, members)
    with pytest.raises(CheckpointError):
        load_model(saved)


def test_manifest_must_cover_the_weights(saved):
    """A manifest that lists no files must not switch the integrity check off."""
    members = read_zip(saved)
    weights = bytearray(members["model.safetensors"])
    weights[-3] ^= 0x40
    members["model.safetensors"] = bytes(weights)
    members["manifest.json"] = json.dumps({"files": {}}).encode()
    rewrite_zip(saved, members)
    with pytest.raises(CheckpointError):
        load_model(saved)


def test_foreign_zip(tmp_path):
    path = tmp_path / "foreign.keras"
    rewrite_zip(path, {"config.json": b"{}", "model.weights.h5": b"\x89HDF"})
    with pytest.raises(CheckpointError, match="not an rnnkit model file"):
        load_model(path)


def test_unknown_layer_class_in_file(saved):
    members = read_zip(saved)
    members["config.json"] = members["config.json"].replace(b'"Dense"', b'"os.system"')
    members["manifest.json"] = manifest_for(members)
    rewrite_zip(saved, members)
    with pytest.raises(CheckpointError, match=re.escape("unknown layer class 'os.system'")):
        load_model(saved)


def test_load_weights_corrupt_file(trained, tmp_path):
    path = tmp_path / "w.weights.safetensors"
    trained.save_weights(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="not valid safetensors data"):
        trained.load_weights(path)
    path.write_bytes(b"")
    with pytest.raises(CheckpointError, match="is empty"):
        trained.load_weights(path)


def test_load_weights_shape_mismatch(trained, tmp_path):
    path = tmp_path / "w.weights.safetensors"
    trained.save_weights(path)
    other = Sequential([Input((STEPS, FEATURES)), SimpleRNN(6), Dense(2)])
    other.build((None, STEPS, FEATURES))
    with pytest.raises(CheckpointError, match="do not fit this model"):
        other.load_weights(path)
