import copy
import json
import os
import re
import time
import warnings

import numpy as np
import pytest
import tuner_fakes as f
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from rnnkit._files import sha256_bytes
from rnnkit.errors import CheckpointError
from rnnkit.tuner._checkpoint import MANIFEST
from rnnkit.tuner._checkpoint import MAX_MANIFEST_BYTES
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


# ------------------------------------------------ T9, T18: damaged and hostile folders
def _two_checkpoints(folder):
    save_checkpoint(folder, _model(1.0, 2), epoch=0, value=0.9)
    save_checkpoint(folder, _model(2.0, 4), epoch=1, value=0.8)
    return json.loads((folder / MANIFEST).read_text())


@pytest.mark.parametrize("part", ["weights", "optimizer"])
def test_truncated_current_file_falls_back_to_previous_with_warning_t9(tmp_path, part):
    manifest = _two_checkpoints(tmp_path)
    current = tmp_path / manifest["current"][part]["file"]
    data = current.read_bytes()
    current.write_bytes(data[: len(data) // 2])
    fresh = f.FakeModel(0.5)
    with pytest.warns(UserWarning, match=rf"{re.escape(current.name)} is truncated: "):
        entry = load_checkpoint(tmp_path, fresh)
    assert entry["epoch"] == 0 and entry["optimizer_loaded"]
    assert (fresh.progress, fresh.optimizer.iterations) == (1.0, 2)


def test_manifest_without_sizes_from_older_versions_still_loads(tmp_path):
    manifest = _two_checkpoints(tmp_path)
    for entry in (manifest["current"], manifest["previous"]):
        del entry["weights"]["size"], entry["optimizer"]["size"]
    (tmp_path / MANIFEST).write_text(json.dumps(manifest))
    fresh = f.FakeModel(0.5)
    assert load_checkpoint(tmp_path, fresh)["epoch"] == 1 and fresh.progress == 2.0


def _edit(manifest, path, value):
    """A copy of ``manifest`` with the item at ``path`` (keys) set, or deleted if ``...``."""
    edited = copy.deepcopy(manifest)
    target = edited
    for key in path[:-1]:
        target = target[key]
    if value is ...:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return edited


def _deep(levels):
    skeleton = 0
    for _ in range(levels):
        skeleton = [skeleton]
    return skeleton


HOSTILE = [
    (("current", "weights", "file"), "../../x", "plain file name"),
    (("current", "weights", "file"), "/etc/passwd", "plain file name"),
    (("current", "weights", "file"), "sub/w.safetensors", "plain file name"),
    (("current", "weights", "file"), "..", "plain file name"),
    (("current", "weights", "file"), ".hidden", "plain file name"),
    (("current", "weights", "file"), "checkpoint.json", "plain file name"),
    (("current", "weights", "file"), 7, "'file' must be a string, got int '7'"),
    (("current", "weights", "sha256"), ..., "missing 'sha256'"),
    (("current", "weights", "sha256"), "abc", "'sha256' must be 64 lowercase hex"),
    (("current", "weights", "size"), -1, "'size' must be a non-negative integer"),
    (("current", "weights", "extra"), 1, "unknown key 'extra'"),
    (("current", "epoch"), "3", "'epoch' must be a non-negative integer, got str '3'"),
    (("current", "epoch"), True, "'epoch' must be a non-negative integer"),
    (("current", "value"), None, "'value' must be a number, got null"),
    (("current", "weights"), ..., "it has no 'weights'"),
    (("current", "weights"), ["w"], "expected an object, got a JSON array of 1"),
    (("current",), "x", "current: expected an object or null"),
    (("previous", "weights", "file"), "../../x", "previous: weights: 'file' must be a plain"),
    (("current", "optimizer", "skeleton"), _deep(40), "nested over 32 levels"),
    (("current", "optimizer", "skeleton"), {"__tensor__": 5}, "tensor reference must be"),
    (("current", "optimizer", "skeleton"), {"__tensor__": "a", "x": 1}, "tensor reference"),
    (("current", "optimizer", "skeleton"), ..., "optimizer: missing 'skeleton'"),
    (("current", "optimizer_error"), [], "'optimizer_error' must be a string"),
    (("format",), "rnnkit.tuner.checkpoint/2", "unknown format"),
    (("rogue",), 1, "unknown key 'rogue'"),
]


@pytest.mark.parametrize(("path", "value", "message"), HOSTILE)
def test_hostile_manifest_is_a_named_error_naming_the_file_t18(tmp_path, path, value, message):
    manifest = _two_checkpoints(tmp_path)
    (tmp_path / MANIFEST).write_text(json.dumps(_edit(manifest, path, value)))
    with pytest.raises(CheckpointError, match=re.escape(message)) as caught:
        load_checkpoint(tmp_path, f.FakeModel(0.5))
    assert str(tmp_path / MANIFEST) in str(caught.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[]", "expected a JSON object, got a JSON array of 0"),
        ("null", "expected a JSON object, got null"),
        ('"checkpoint"', "expected a JSON object, got str"),
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
        ('{"format": "rnnkit.tuner.checkpoint/1", "current": 1' + "0" * 5000 + "}", "not JSON"),
        ("\udcff", "not JSON"),
    ],
)
def test_manifest_that_is_not_an_object_is_a_named_error(tmp_path, text, message):
    (tmp_path / MANIFEST).write_bytes(text.encode("utf-8", "surrogateescape"))
    with pytest.raises(CheckpointError, match=re.escape(message)) as caught:
        load_checkpoint(tmp_path, f.FakeModel(0.5))
    assert str(tmp_path / MANIFEST) in str(caught.value)


def test_manifest_naming_a_file_outside_the_folder_reads_nothing_there(tmp_path):
    trial = tmp_path / "trial"
    manifest = _two_checkpoints(trial)
    outside = tmp_path / "outside.weights.safetensors"
    outside.write_bytes((trial / manifest["current"]["weights"]["file"]).read_bytes())
    manifest["current"]["weights"]["file"] = "../outside.weights.safetensors"
    (trial / MANIFEST).write_text(json.dumps(manifest))
    fresh = f.FakeModel(0.5)
    with pytest.raises(CheckpointError, match="plain file name inside the trial folder"):
        load_checkpoint(trial, fresh)
    assert fresh.progress == 0.0


def test_symlinked_or_fifo_checkpoint_file_is_refused_and_the_previous_one_used(tmp_path):
    manifest = _two_checkpoints(tmp_path)
    current = tmp_path / manifest["current"]["weights"]["file"]
    target = tmp_path.parent / f"{tmp_path.name}-elsewhere"
    current.rename(target)
    current.symlink_to(target)
    with pytest.warns(UserWarning, match="is a symbolic link"):
        assert load_checkpoint(tmp_path, f.FakeModel(0.5))["epoch"] == 0
    if hasattr(os, "mkfifo"):
        current.unlink()
        os.mkfifo(current)
        started = time.monotonic()
        with pytest.warns(UserWarning, match="not a regular file"):
            assert load_checkpoint(tmp_path, f.FakeModel(0.5))["epoch"] == 0
        assert time.monotonic() - started < 20


def test_oversized_manifest_is_refused_before_reading(tmp_path):
    with open(tmp_path / MANIFEST, "wb") as handle:
        handle.truncate(MAX_MANIFEST_BYTES + 1)  # sparse: nothing is written
    with pytest.raises(CheckpointError, match="over the 16,777,216-byte limit"):
        load_checkpoint(tmp_path, f.FakeModel(0.5))


def test_optimizer_file_that_is_not_safetensors_makes_the_entry_unusable(tmp_path):
    manifest = _two_checkpoints(tmp_path)
    payload = b"\x80\x04not safetensors at all"
    (tmp_path / manifest["current"]["optimizer"]["file"]).write_bytes(payload)
    manifest["current"]["optimizer"].update(sha256=sha256_bytes(payload), size=len(payload))
    (tmp_path / MANIFEST).write_text(json.dumps(manifest))
    fresh = f.FakeModel(0.5)
    with pytest.warns(UserWarning, match="is not valid safetensors data"):
        entry = load_checkpoint(tmp_path, fresh)
    assert entry["epoch"] == 0 and fresh.optimizer.iterations == 2
    weights_only = f.FakeModel(0.5)  # without the optimizer, the current weights are fine
    assert load_checkpoint(tmp_path, weights_only, with_optimizer=False)["epoch"] == 1


def test_skeleton_naming_a_missing_tensor_is_a_named_error(tmp_path):
    save_checkpoint(tmp_path, _model(1.0, 2), epoch=0, value=0.9)
    manifest = json.loads((tmp_path / MANIFEST).read_text())
    manifest["current"]["optimizer"]["skeleton"]["momentum"]["__tensor__"] = "/nope"
    (tmp_path / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(CheckpointError, match=r"names tensor '/nope', which its safetensors"):
        load_checkpoint(tmp_path, f.FakeModel(0.5))


def test_a_new_save_replaces_an_unreadable_manifest(tmp_path):
    (tmp_path / MANIFEST).write_text("[]")
    save_checkpoint(tmp_path, _model(1.0, 2), epoch=0, value=0.9)
    manifest = json.loads((tmp_path / MANIFEST).read_text())
    assert manifest["current"]["epoch"] == 0 and manifest["previous"] is None


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=8,
)


def _paths(value, prefix=()):
    """Every key path inside a JSON document."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield (*prefix, key)
            yield from _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield (*prefix, index)
            yield from _paths(item, (*prefix, index))


@pytest.fixture(scope="module")
def fuzz_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fuzz")
    return folder, _two_checkpoints(folder)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_fuzzed_manifest_loads_or_is_a_checkpoint_error_t18(fuzz_folder, data):
    folder, manifest = fuzz_folder  # loading never writes, so one folder serves every example
    path = data.draw(st.sampled_from(sorted(_paths(manifest), key=str)))
    edited = _edit(manifest, path, data.draw(JSON | st.just(...)))
    (folder / MANIFEST).write_text(json.dumps(edited))
    fresh = f.FakeModel(0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a fallback to the previous checkpoint warns
        try:
            entry = load_checkpoint(folder, fresh)
        except CheckpointError as exc:
            assert "\n" not in str(exc)
            return
    assert fresh.progress in (1.0, 2.0)  # the weights of one saved entry, whole
    assert entry["epoch"] == edited["current" if fresh.progress == 2.0 else "previous"]["epoch"]


def test_a_save_removes_only_its_own_stale_files(tmp_path):
    """A killed save's leftovers go; a file the module never writes stays (a hostile trial
    id could point a save at any folder)."""
    stale = [
        "weights-00007-0123abcd.weights.safetensors",
        ".tmp-weights-00007-0123abcd.weights.safetensors",
        ".tmp-0123456789ab-.tmp-weights-00007-0123abcd.weights.safetensors",
        "optimizer-00007-0123abcd.safetensors",
        ".tmp-0123456789ab-checkpoint.json",
    ]
    strangers = ["notes.txt", "weights.safetensors", ".bashrc", "model.keras"]
    for name in stale + strangers:
        (tmp_path / name).write_text("x")
    save_checkpoint(tmp_path, _model(1.0, 2), epoch=0, value=0.9)
    left = {p.name for p in tmp_path.iterdir()}
    assert set(strangers) <= left
    assert not left & set(stale)
    assert len(left) == len(strangers) + 3  # the manifest, weights and optimizer state
