import json

import numpy as np
import pytest
import tuner_fakes as f

from rnnkit.errors import CheckpointError
from rnnkit.tuner._checkpoint import MANIFEST
from rnnkit.tuner._checkpoint import flatten_state
from rnnkit.tuner._checkpoint import load_checkpoint
from rnnkit.tuner._checkpoint import save_checkpoint
from rnnkit.tuner._checkpoint import unflatten_state


def _model(progress, iterations):
    model = f.FakeModel(0.5)
    model.progress = progress
    model.optimizer.iterations = iterations
    model.optimizer.momentum[:] = iterations
    return model


def test_checkpoint_round_trip_with_optimizer_state(tmp_path):
    save_checkpoint(tmp_path, _model(3.0, 6), epoch=2, value=0.7)
    fresh = f.FakeModel(0.5)
    entry = load_checkpoint(tmp_path, fresh)
    assert (fresh.progress, fresh.optimizer.iterations) == (3.0, 6)
    assert np.array_equal(fresh.optimizer.momentum, np.full(3, 6.0))
    assert entry["epoch"] == 2 and entry["optimizer_loaded"]


def test_only_current_and_previous_files_are_kept(tmp_path):
    for epoch in range(4):
        save_checkpoint(tmp_path, _model(float(epoch), epoch), epoch=epoch, value=1.0 / (epoch + 1))
    files = sorted(p.name for p in tmp_path.iterdir())
    assert len(files) == 5 and MANIFEST in files
    manifest = json.loads((tmp_path / MANIFEST).read_text())
    assert manifest["current"]["epoch"] == 3 and manifest["previous"]["epoch"] == 2


def test_flipped_byte_falls_back_to_previous_with_warning(tmp_path):
    save_checkpoint(tmp_path, _model(1.0, 2), epoch=0, value=0.9)
    save_checkpoint(tmp_path, _model(2.0, 4), epoch=1, value=0.8)
    current = tmp_path / json.loads((tmp_path / MANIFEST).read_text())["current"]["weights"]["file"]
    data = bytearray(current.read_bytes())
    data[-1] ^= 0xFF
    current.write_bytes(bytes(data))
    fresh = f.FakeModel(0.5)
    with pytest.warns(UserWarning, match="checksum mismatch"):
        entry = load_checkpoint(tmp_path, fresh)
    assert entry["epoch"] == 0 and fresh.progress == 1.0


def test_no_usable_checkpoint_is_a_named_error(tmp_path):
    with pytest.raises(CheckpointError, match=r"missing checkpoint\.json"):
        load_checkpoint(tmp_path, f.FakeModel(0.5))
    save_checkpoint(tmp_path, _model(1.0, 2), epoch=0, value=0.9)
    weights = tmp_path / json.loads((tmp_path / MANIFEST).read_text())["current"]["weights"]["file"]
    weights.write_bytes(b"")
    with pytest.raises(CheckpointError, match="empty"):
        load_checkpoint(tmp_path, f.FakeModel(0.5))
    (tmp_path / MANIFEST).write_text("{not json")
    with pytest.raises(CheckpointError, match="corrupt"):
        load_checkpoint(tmp_path, f.FakeModel(0.5))


def test_optimizer_state_flattening_round_trip():
    torch = pytest.importorskip("torch")
    state = {
        "state": {0: {"step": torch.tensor(3.0), "exp_avg": torch.ones(2)}},
        "param_groups": [{"lr": 0.1, "params": [0], "betas": (0.9, 0.999)}],
    }
    tensors, skeleton = flatten_state(state)
    json.dumps(skeleton)
    again = unflatten_state(tensors, skeleton, int_keys=True)
    assert torch.equal(again["state"][0]["exp_avg"], torch.ones(2))
    assert again["param_groups"][0]["betas"] == [0.9, 0.999]
