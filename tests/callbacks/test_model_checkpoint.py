import re

import pytest

from rnnkit.callbacks.checkpoint import ModelCheckpoint


def names(folder):
    return sorted(p.name for p in folder.rglob("*") if p.is_file())


def test_checkpoint_saves_every_epoch_with_1_based_epoch(model, fit, tmp_path):
    checkpoint = ModelCheckpoint(tmp_path / "m-{epoch:02d}.keras")
    fit([checkpoint], model, [{"loss": 0.5, "val_loss": 0.4}] * 3)
    assert names(tmp_path) == ["m-01.keras", "m-02.keras", "m-03.keras"]
    assert model.saved == [("model", str(tmp_path / f"m-0{i}.keras")) for i in (1, 2, 3)]


def test_checkpoint_formats_log_keys(model, fit, tmp_path):
    checkpoint = ModelCheckpoint(str(tmp_path / "{epoch}-{loss:.3f}-{val_loss:.2f}.rnnkit"))
    fit([checkpoint], model, [{"loss": 0.12345, "val_loss": 0.456}])
    assert names(tmp_path) == ["1-0.123-0.46.rnnkit"]


def test_checkpoint_save_best_only_min(model, fit, tmp_path):
    checkpoint = ModelCheckpoint(tmp_path / "{epoch:02d}-{val_loss:.2f}.keras", save_best_only=True)
    values = [0.5, 0.7, 0.4, 0.4, 0.3]
    fit([checkpoint], model, [{"val_loss": v} for v in values])
    assert names(tmp_path) == ["01-0.50.keras", "03-0.40.keras", "05-0.30.keras"]
    assert checkpoint.best == 0.3


def test_checkpoint_save_best_only_max_auto(model, fit, tmp_path):
    checkpoint = ModelCheckpoint(
        tmp_path / "{epoch}.keras", monitor="val_accuracy", save_best_only=True
    )
    fit([checkpoint], model, [{"val_accuracy": v} for v in (0.5, 0.4, 0.6)])
    assert names(tmp_path) == ["1.keras", "3.keras"]


def test_checkpoint_single_path_overwritten_by_better(model, fit, tmp_path):
    path = tmp_path / "best.keras"
    checkpoint = ModelCheckpoint(path, save_best_only=True)
    fit([checkpoint], model, [{"val_loss": v} for v in (0.5, 0.7, 0.4)])
    assert [p for _, p in model.saved] == [str(path), str(path)]


def test_checkpoint_initial_value_threshold(model, fit, tmp_path):
    checkpoint = ModelCheckpoint(
        tmp_path / "{epoch}.keras", save_best_only=True, initial_value_threshold=0.3
    )
    fit([checkpoint], model, [{"val_loss": v} for v in (0.5, 0.4, 0.2)])
    assert names(tmp_path) == ["3.keras"]


def test_checkpoint_best_survives_a_second_fit(model, fit, tmp_path):
    checkpoint = ModelCheckpoint(tmp_path / "{epoch}.keras", save_best_only=True)
    fit([checkpoint], model, [{"val_loss": 0.2}])
    fit([checkpoint], model, [{"val_loss": 0.3}, {"val_loss": 0.1}])
    assert len(model.saved) == 2
    assert checkpoint.best == 0.1


def test_checkpoint_weights_only_uses_save_weights(model, fit, tmp_path):
    checkpoint = ModelCheckpoint(tmp_path / "w{epoch}.weights.safetensors", save_weights_only=True)
    fit([checkpoint], model, [{"val_loss": 1.0}] * 2)
    assert model.saved == [
        ("weights", str(tmp_path / "w1.weights.safetensors")),
        ("weights", str(tmp_path / "w2.weights.safetensors")),
    ]


def test_checkpoint_save_freq_batches(model, fit, tmp_path):
    checkpoint = ModelCheckpoint(tmp_path / "{epoch}-{batch}.keras", save_freq=3)
    fit([checkpoint], model, [{"loss": 1.0}] * 3, steps=2)
    # 6 batches in all: saved after the 3rd (epoch 2, batch 1) and the 6th (epoch 3, batch 2)
    assert names(tmp_path) == ["2-1.keras", "3-2.keras"]


def test_checkpoint_creates_missing_folders(model, fit, tmp_path):
    checkpoint = ModelCheckpoint(tmp_path / "a" / "b" / "{epoch}.keras")
    fit([checkpoint], model, [{"val_loss": 1.0}])
    assert (tmp_path / "a" / "b" / "1.keras").exists()


def test_checkpoint_refuses_existing_folder(model, fit, tmp_path):
    (tmp_path / "1.keras").mkdir()
    with pytest.raises(ValueError, match="is an existing folder"):
        fit([ModelCheckpoint(tmp_path / "{epoch}.keras")], model, [{"val_loss": 1.0}])


def test_checkpoint_missing_format_key(model, fit, tmp_path):
    checkpoint = ModelCheckpoint(tmp_path / "{epoch}-{val_acc:.2f}.keras")
    with pytest.raises(
        ValueError, match=re.escape("no value for {val_acc}. Available fields: loss")
    ):
        fit([checkpoint], model, [{"loss": 1.0}])


def test_checkpoint_missing_monitor_warns_and_saves(model, fit, tmp_path):
    checkpoint = ModelCheckpoint(tmp_path / "{epoch}.keras", save_best_only=True)
    with pytest.warns(UserWarning, match="Available keys: 'loss'") as record:
        fit([checkpoint], model, [{"loss": 1.0}] * 2)
    assert len(record) == 1
    assert names(tmp_path) == ["1.keras", "2.keras"]


def test_checkpoint_verbose_messages(model, fit, tmp_path, capsys):
    path = tmp_path / "best.keras"
    checkpoint = ModelCheckpoint(path, save_best_only=True, verbose=1)
    fit([checkpoint], model, [{"val_loss": v} for v in (0.5, 0.7)])
    assert capsys.readouterr().out == (
        f"Epoch 1: val_loss improved from None to 0.50000, saving model to {path}\n"
        f"Epoch 1: finished saving model to {path}\n"
        "Epoch 2: val_loss did not improve from 0.50000\n"
    )


def test_checkpoint_verbose_every_epoch(model, fit, tmp_path, capsys):
    path = tmp_path / "m.keras"
    fit([ModelCheckpoint(path, verbose=1)], model, [{"val_loss": 1.0}])
    assert capsys.readouterr().out == (
        f"Epoch 1: saving model to {path}\nEpoch 1: finished saving model to {path}\n"
    )


@pytest.mark.parametrize(
    ("filepath", "kwargs", "message"),
    [
        (
            "ckpt.weights.h5",
            {"save_weights_only": True},
            "rnnkit saves weights as safetensors, not HDF5, so the file name must end in "
            "'.safetensors'; use 'ckpt.weights.safetensors'",
        ),
        ("ckpt.pt", {"save_weights_only": True}, "must end in '.safetensors'"),
        ("ckpt.keras", {"save_weights_only": True}, "Received: filepath='ckpt.keras'"),
        ("model.h5", {}, "rnnkit does not write legacy HDF5 models"),
        ("model.weights.safetensors", {}, "pass save_weights_only=True"),
        ("model", {}, "must end in '.keras' or '.rnnkit'"),
        ("m.keras", {"save_freq": "batch"}, "Received: save_freq='batch'"),
        ("m.keras", {"save_freq": 0}, "Received: save_freq=0"),
        ("m.keras", {"save_best_only": 1}, "save_best_only"),
        ("m.keras", {"mode": "best"}, "unknown mode 'best'"),
    ],
)
def test_checkpoint_rejects_bad_arguments(filepath, kwargs, message):
    with pytest.raises(ValueError if "save_best_only" not in kwargs else TypeError) as info:
        ModelCheckpoint(filepath, **kwargs)
    assert message in str(info.value)


def test_checkpoint_rejects_non_path():
    with pytest.raises(TypeError, match=re.escape("Received: filepath=3")):
        ModelCheckpoint(3)
