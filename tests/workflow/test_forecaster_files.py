"""Forecaster folders on disk: crash-safe saving, and loading that trusts nothing (T18).

`Forecaster.save` stages the network as `model-next.keras`, commits `forecaster.json`
(which names the network's SHA-256) atomically, then renames the network onto
`model.keras`; a SIGKILL at any moment must leave a folder that loads as the old or
the new forecaster. `Forecaster.load` and `rnnkit predict` must answer every hostile
`forecaster.json` with a one-line `CheckpointError` naming the file.
"""

from __future__ import annotations

import copy
import json
import os
import random
import re
import signal
import sys
import time

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from rnnkit.cli.app import app
from rnnkit.data.scaling import make_window_scaler
from rnnkit.errors import CheckpointError
from rnnkit.errors import RnnkitValueError
from rnnkit.layers import Dense
from rnnkit.layers import SimpleRNN
from rnnkit.models import Sequential
from rnnkit.workflow import forecaster as forecaster_module
from rnnkit.workflow.forecaster import MAX_SPEC_BYTES
from rnnkit.workflow.forecaster import MODEL_FILE
from rnnkit.workflow.forecaster import NEXT_MODEL_FILE
from rnnkit.workflow.forecaster import SPEC_FILE
from rnnkit.workflow.forecaster import Forecaster

WINDOW, HORIZON = 6, 2


def make_forecaster(version: int = 0, *, scaling: str = "global") -> Forecaster:
    """A small forecaster whose weights and spec both carry ``version``."""
    model = Sequential([SimpleRNN(3, input_shape=(WINDOW, 2)), Dense(HORIZON)])
    model.compile(optimizer="adam", loss="mse")
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.fill_(float(version))
    x = np.random.default_rng(0).normal(10.0, 2.0, size=(20, WINDOW, 2))
    y = np.random.default_rng(1).normal(10.0, 2.0, size=(20, HORIZON, 1))
    scaler = make_window_scaler(scaling, targets=[0]).fit(x, y)
    spec = {
        "kind": "rnn",
        "targets": ["y"],
        "features": ["y", "x"],
        "window": WINDOW,
        "horizon": HORIZON,
        "time_column": None,
        "frequency": None,
        "scaling": scaling,
        "metrics": {"version": version},
    }
    return Forecaster(model, scaler, spec)


def loaded_version(folder) -> int:
    """Load the folder; check the network and the spec are one saved version; return it."""
    loaded = Forecaster.load(folder)
    version = loaded.spec["metrics"]["version"]
    values = {float(v) for w in loaded.model.get_weights() for v in np.unique(w)}
    assert values == {float(version)}, f"network of another version than forecaster.json {values}"
    return version


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    folder = make_forecaster(3).save(tmp_path_factory.mktemp("saved") / "model")
    return folder, json.loads((folder / SPEC_FILE).read_text())


def test_saved_folder_names_the_network_checksum_and_loads(saved):
    folder, document = saved
    assert sorted(p.name for p in folder.iterdir()) == [SPEC_FILE, MODEL_FILE]
    assert document["format_version"] == 2 and len(document["model_sha256"]) == 64
    assert loaded_version(folder) == 3


def test_version_1_folder_without_a_checksum_still_loads(saved, tmp_path):
    folder, document = saved
    old = {k: v for k, v in document.items() if k != "model_sha256"} | {"format_version": 1}
    (tmp_path / MODEL_FILE).write_bytes((folder / MODEL_FILE).read_bytes())
    (tmp_path / SPEC_FILE).write_text(json.dumps(old))
    assert loaded_version(tmp_path) == 3


def _write(tmp_path, saved, document):
    folder, _ = saved
    (tmp_path / MODEL_FILE).write_bytes((folder / MODEL_FILE).read_bytes())
    text = document if isinstance(document, (str, bytes)) else json.dumps(document)
    (tmp_path / SPEC_FILE).write_bytes(text.encode() if isinstance(text, str) else text)
    return tmp_path


def _edit(document, path, value):
    edited = copy.deepcopy(document)
    target = edited
    for key in path[:-1]:
        target = target[key]
    if value is ...:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return edited


def _deep(levels):
    value = 0
    for _ in range(levels):
        value = [value]
    return value


HOSTILE = [
    (("scaler", "__class__"), "os.system", "unknown key '__class__' for the 'global' scaler"),
    (("scaler", "method"), "Global", "unknown scaler kind str 'Global'; expected one of"),
    (("scaler", "method"), "Global", "Did you mean 'global'?"),
    (("scaler", "method"), ["global"], "unknown scaler kind a JSON array of 1"),
    (("scaler", "mean_"), ..., "the 'global' scaler has no 'mean_'"),
    (("scaler", "mean_"), [1.0], "'mean_' must be 2 finite numbers, got a JSON array of 1"),
    (("scaler", "mean_"), [1.0, "2"], "'mean_' must be 2 finite numbers"),
    (("scaler", "mean_"), [1.0, 10**400], "'mean_' must be 2 finite numbers"),
    (("scaler", "scale_"), [1.0, 0.0], "'scale_' must be 2 finite positive numbers"),
    (("scaler", "n_features_in_"), "2", "'n_features_in_' must be a positive integer"),
    (("scaler", "n_features_in_"), 3, "'n_features_in_' is 3, but the spec has 2 features"),
    (("scaler", "targets_"), [5], "'targets_' must be distinct feature indices below 2"),
    (("scaler", "targets_"), [True], "'targets_' must be distinct feature indices"),
    (("scaler", "target_scale_"), [[1.0]] * 3, "'target_scale_' must be 1 to 2 rows of 1"),
    (("scaler", "target_scale_"), "x", "'target_scale_' must be 1 to 2 rows"),
    (("scaler",), [], "scaler: expected a JSON object, got a JSON array of 0"),
    (("spec", "windw"), 6, "unknown key 'windw' in 'spec'"),
    (("spec", "windw"), 6, "Did you mean 'window'?"),
    (("spec", "window"), "6", "spec 'window' must be a positive integer, got str '6'"),
    (("spec", "window"), 0, "spec 'window' must be a positive integer"),
    (("spec", "window"), ..., "'spec' has no 'window'"),
    (("spec", "horizon"), 1.5, "spec 'horizon' must be a positive integer, got float"),
    (("spec", "targets"), "y", "spec 'targets' must be a non-empty list of distinct column"),
    (("spec", "targets"), ["z"], "spec target 'z' is not among the features"),
    (("spec", "features"), ["y", "y"], "spec 'features' must be a non-empty list of distinct"),
    (("spec", "features"), [{"a": 1}], "spec 'features' must be a non-empty list"),
    (("spec", "frequency"), "fortnightly", "spec 'frequency' 'fortnightly' is not a pandas"),
    (("spec", "missing"), "interpolat", "Did you mean 'interpolate'?"),
    (("spec", "scaling"), "diff", "the scaler kind 'global' is not the spec's scaling 'diff'"),
    (("spec", "time_column"), 3, "spec 'time_column' must be a column name, a list of part"),
    (("spec", "time_column"), [], "spec 'time_column' must be a column name, a list of part"),
    (("spec", "encoded"), {"c": "c_a"}, "spec 'encoded' must be an object of column"),
    (("spec", "config"), [], "spec 'config' must be a JSON object"),
    (("spec", "metrics"), {"x": _deep(40)}, "spec 'metrics' over 100,000 values or 32 levels"),
    (("spec", "name"), "n" * 10_001, "spec 'name' must be a string, got str"),
    (("spec",), "lstm", "'spec' must be a JSON object, got str 'lstm'"),
    (("spec",), ..., "missing 'spec'"),
    (("format_version",), 3, "format_version 3 is newer than this rnnkit reads (2). Upgrade"),
    (("format_version",), "2", "'format_version' must be 1 or 2, got str '2'"),
    (("format_version",), True, "'format_version' must be 1 or 2"),
    (("model_sha256",), "abc", "'model_sha256' must be 64 lowercase hex digits"),
    (("model_sha256",), ..., "missing 'model_sha256'"),
    (("__class__",), "Forecaster", "unknown key '__class__'. Expected one of 'base', 'format'"),
]


@pytest.mark.parametrize(("path", "value", "message"), HOSTILE)
def test_hostile_forecaster_json_is_a_named_error_t18(saved, tmp_path, path, value, message):
    folder = _write(tmp_path, saved, _edit(saved[1], path, value))
    with pytest.raises(CheckpointError, match=re.escape(message)) as caught:
        Forecaster.load(folder)
    text = str(caught.value)
    assert text.startswith(f"Forecaster.load(): {folder / SPEC_FILE} is invalid: ")
    assert text.endswith("Save the forecaster again with Forecaster.save() (fit, tune or compare).")
    assert "\n" not in text


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("[]", "is not an rnnkit forecaster file"),
        ('{"format": "rnnkit-classifier"}', "is not an rnnkit forecaster file"),
        ("[" * 100_000 + "]" * 100_000, "is not valid JSON (nested too deeply)"),
        ('{"format": "rnnkit-forecaster", "x": 1' + "0" * 5000 + "}", "is not valid JSON"),
        (b"\xff\xfe{}", "is not valid JSON"),
        ("", "is not valid JSON"),
    ],
)
def test_forecaster_json_that_is_not_a_forecaster_is_a_named_error(
    saved, tmp_path, content, message
):
    folder = _write(tmp_path, saved, content)
    with pytest.raises(CheckpointError, match=re.escape(message)) as caught:
        Forecaster.load(folder)
    assert str(folder / SPEC_FILE) in str(caught.value)


def test_fifo_or_huge_forecaster_json_is_refused_within_seconds(saved, tmp_path):
    folder = _write(tmp_path, saved, "{}")
    (folder / SPEC_FILE).unlink()
    with open(folder / SPEC_FILE, "wb") as handle:
        handle.truncate(MAX_SPEC_BYTES + 1)  # sparse: no data written
    with pytest.raises(CheckpointError, match="over the 16,777,216-byte limit"):
        Forecaster.load(folder)
    if hasattr(os, "mkfifo"):
        (folder / SPEC_FILE).unlink()
        os.mkfifo(folder / SPEC_FILE)
        started = time.monotonic()
        with pytest.raises(CheckpointError, match="not a regular file"):
            Forecaster.load(folder)
        assert time.monotonic() - started < 20


def test_network_replaced_after_saving_is_refused(saved, tmp_path):
    folder = _write(tmp_path, saved, saved[1])
    make_forecaster(5).model.save(str(folder / MODEL_FILE))
    with pytest.raises(CheckpointError, match=r"is not the network forecaster\.json was saved"):
        Forecaster.load(folder)


def test_network_that_does_not_fit_the_spec_is_refused(saved, tmp_path):
    folder = _write(tmp_path, saved, _edit(saved[1], ("spec", "window"), WINDOW + 1))
    with pytest.raises(CheckpointError, match=r"reads windows of shape \(6, 2\), but .* \(7, 2\)"):
        Forecaster.load(folder)
    one_step = _edit(_edit(saved[1], ("spec", "horizon"), 1), ("scaler", "target_scale_"), [[1.0]])
    folder = _write(tmp_path, saved, one_step)
    with pytest.raises(CheckpointError, match=r"outputs shape \(2,\), but .* = 1 values"):
        Forecaster.load(folder)


def test_rnnkit_predict_reports_a_hostile_forecaster_json_in_one_line(saved, tmp_path):
    folder = _write(tmp_path, saved, _edit(saved[1], ("scaler", "__class__"), "os.system"))
    csv = tmp_path / "data.csv"
    csv.write_text("y,x\n" + "".join(f"{i},{i % 3}\n" for i in range(10)))
    result = CliRunner().invoke(app, ["predict", str(folder), str(csv)])
    assert result.exit_code == 1
    assert "internal error" not in result.output
    assert "unknown key '__class__' for the 'global' scaler" in result.output
    assert str(folder / SPEC_FILE) in result.output


def test_save_refuses_a_spec_that_would_not_load_and_writes_nothing(tmp_path):
    forecaster = make_forecaster(1)
    forecaster.spec["windows"] = 6
    with pytest.raises(RnnkitValueError, match=r"unknown key 'windows' in 'spec'.*'window'\?"):
        forecaster.save(tmp_path / "model")
    assert not (tmp_path / "model").exists()


@pytest.mark.parametrize("scaling", ["window", "diff"])
def test_every_scaler_kind_round_trips(tmp_path, scaling):
    original = make_forecaster(1, scaling=scaling)
    loaded = Forecaster.load(original.save(tmp_path / "model"))
    x = np.random.default_rng(2).normal(10.0, 2.0, size=(4, WINDOW, 2))
    np.testing.assert_allclose(loaded.predict_windows(x), original.predict_windows(x))


def test_kill_before_the_rename_loads_the_new_version(tmp_path, monkeypatch):
    folder = make_forecaster(1).save(tmp_path / "model")

    def killed(*args, **kwargs):
        raise KeyboardInterrupt  # stands for SIGKILL between forecaster.json and the rename

    monkeypatch.setattr(forecaster_module, "replace_atomically", killed)
    with pytest.raises(KeyboardInterrupt):
        make_forecaster(2).save(folder)
    assert (folder / NEXT_MODEL_FILE).exists()
    assert loaded_version(folder) == 2


def test_kill_before_forecaster_json_is_replaced_loads_the_old_version(tmp_path, monkeypatch):
    folder = make_forecaster(1).save(tmp_path / "model")

    def killed(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(forecaster_module, "atomic_write", killed)
    with pytest.raises(KeyboardInterrupt):
        make_forecaster(2).save(folder)
    assert loaded_version(folder) == 1
    monkeypatch.undo()
    make_forecaster(3).save(folder)  # the next save clears the stale staged network
    assert sorted(p.name for p in folder.iterdir()) == [SPEC_FILE, MODEL_FILE]
    assert loaded_version(folder) == 3


def _fork(body) -> int:
    pid = os.fork()
    if pid == 0:  # child: never return into pytest
        code = 1
        try:
            body()
            code = 0
        finally:
            os._exit(code)
    return pid


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs fork")
def test_sigkill_while_saving_always_leaves_a_loadable_folder(tmp_path):
    """A child saves versions in a loop and is killed 20 times at random moments."""
    torch.set_num_threads(1)
    folder = make_forecaster(0).save(tmp_path / "model")
    forecasters = [make_forecaster(v) for v in range(1, 6)]  # built once, before forking
    rng = random.Random(11)
    last = 0
    for _ in range(20):
        read, write = os.pipe()

        def save_forever(first=last + 1, write=write, read=read):
            os.close(read)
            version = first
            while True:
                forecaster = forecasters[(version - 1) % len(forecasters)]
                forecaster.spec["metrics"]["version"] = version
                with torch.no_grad():
                    for parameter in forecaster.model.parameters():
                        parameter.fill_(float(version))
                forecaster.save(folder)
                os.write(write, b".")  # one whole save done
                version += 1

        pid = _fork(save_forever)
        os.close(write)
        assert os.read(read, 1) == b"."  # the child completed a save: kill it in a later one
        time.sleep(rng.uniform(0.0, 0.05))
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        os.close(read)
        version = loaded_version(folder)
        assert version > last
        last = version


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("spec", "time_column"), ["year", "month", "day", "hour"]),  # part columns
        (("spec", "time_column"), "when"),
        (("spec", "frequency"), "15min"),
        (("spec", "season"), None),
        (("spec", "encoded"), {"city": ["city_a", "city_b"]}),
        (("spec", "metrics"), {"MAE": float("nan"), "kind": "rnn"}),
        (("scaler", "target_scale_"), [[1.0], [2.0]]),  # one row per horizon step
    ],
)
def test_every_valid_variant_loads(saved, tmp_path, path, value):
    document = _edit(saved[1], path, value)
    loaded = Forecaster.load(_write(tmp_path, saved, document))
    assert json.dumps(loaded.spec) == json.dumps(document["spec"])  # NaN included


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
def fuzz_folder(saved, tmp_path_factory):
    folder = tmp_path_factory.mktemp("fuzz")
    (folder / MODEL_FILE).write_bytes((saved[0] / MODEL_FILE).read_bytes())
    return folder


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_fuzzed_forecaster_json_loads_or_is_a_checkpoint_error_t18(saved, fuzz_folder, data):
    document = saved[1]
    path = data.draw(st.sampled_from(sorted(_paths(document), key=str)))
    edited = _edit(document, path, data.draw(JSON | st.just(...)))
    (fuzz_folder / SPEC_FILE).write_text(json.dumps(edited))
    try:
        loaded = Forecaster.load(fuzz_folder)
    except CheckpointError as exc:
        assert "\n" not in str(exc) and str(fuzz_folder / SPEC_FILE) in str(exc)
        return
    x = np.random.default_rng(3).normal(10.0, 2.0, size=(2, WINDOW, 2))
    assert loaded.predict_windows(x).shape == (2, HORIZON, 1)  # what loads, works
