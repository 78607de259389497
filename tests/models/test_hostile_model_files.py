"""Hostile model and weights files: each one loads or raises a named CheckpointError.

Every case here broke ``load_model``/``load_weights`` before they treated files as
hostile: a 3 KB file asking for GRU(units=8000) allocated and initialised gigabytes,
a zip bomb was inflated into memory, a FIFO blocked forever, and odd but valid JSON
ended in KeyError, TypeError or RecursionError. Now each fails at once with a
one-line :class:`~rnnkit.errors.CheckpointError` that names the file and the problem.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import re
import stat
import subprocess
import sys
import threading
import time
import zipfile

import numpy as np
import pytest
import torch
from safetensors.torch import save as save_safetensors_bytes

from rnnkit import constraints
from rnnkit import initializers
from rnnkit import regularizers
from rnnkit.errors import CheckpointError
from rnnkit.errors import RnnkitError
from rnnkit.errors import RnnkitTypeError
from rnnkit.errors import RnnkitValueError
from rnnkit.layers import GRU
from rnnkit.layers import Dense
from rnnkit.layers import Input
from rnnkit.models import Sequential
from rnnkit.models import load_model
from rnnkit.models import model_archive
from rnnkit.models import saving

STEPS, FEATURES, UNITS = 5, 2, 8
FAST = 20.0  # seconds: "within seconds", generous for a loaded CI machine


def small_model() -> Sequential:
    torch.manual_seed(0)
    model = Sequential([Input((STEPS, FEATURES)), GRU(UNITS, name="gru"), Dense(1, name="dense")])
    model.compile(optimizer="adam", loss="mse")
    return model


@pytest.fixture(scope="module")
def original(tmp_path_factory):
    """The members of a valid saved model, and its predictions on fixed inputs."""
    model = small_model()
    path = tmp_path_factory.mktemp("valid") / "model.keras"
    model.save(path)
    x = np.linspace(-1, 1, 3 * STEPS * FEATURES, dtype=np.float32).reshape(3, STEPS, FEATURES)
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    return members, x, model.predict(x, verbose=0)


def write_model(path, config=None, weights=None, *, base, extra=(), manifest=None):
    """Write a model zip from ``base`` members with a replaced config or weights and a
    matching manifest (so only the change under test is wrong)."""
    members = dict(base)
    if config is not None:
        members["config.json"] = (
            config if isinstance(config, bytes) else json.dumps(config).encode()
        )
    if weights is not None:
        members["model.safetensors"] = weights
    digests = {n: hashlib.sha256(b).hexdigest() for n, b in members.items() if n != "manifest.json"}
    members["manifest.json"] = manifest or json.dumps({"files": digests}).encode()
    with zipfile.ZipFile(path, "w") as archive:
        for name, payload in [*members.items(), *extra]:
            archive.writestr(name, payload)
    return path


def config_of(original) -> dict:
    return json.loads(original[0]["config.json"])


def gru_config(config: dict) -> dict:
    return config["model"]["config"]["layers"][1]["config"]


def refused(path, match: str, *, loader=load_model) -> str:
    """Load ``path``: it must raise a one-line CheckpointError naming the file, fast."""
    start = time.perf_counter()
    with pytest.raises(CheckpointError, match=match) as info:
        loader(path)
    assert time.perf_counter() - start < FAST
    message = str(info.value)
    assert "\n" not in message
    assert str(path) in message
    return message


# ------------------------------------------------------ allocation before checks
def test_gru_8000_units_in_a_tiny_file_fails_fast_naming_layer_and_shapes(tmp_path, original):
    config = config_of(original)
    gru_config(config)["units"] = 8000
    path = write_model(tmp_path / "m.keras", config, base=original[0])
    assert path.stat().st_size < 8_000
    message = refused(path, "do not fit the model its config.json describes")
    assert "stack.1.cell.weight_hh of layer 'gru'" in message
    assert "(file (24, 8), model (24000, 8000))" in message


@pytest.mark.parametrize("units", [10**9, 10**30])
def test_absurd_units_fail_without_allocating(tmp_path, original, units):
    config = config_of(original)
    gru_config(config)["units"] = units
    path = write_model(tmp_path / "m.keras", config, base=original[0])
    refused(path, "(do not fit|does not describe a valid model)")


def test_huge_input_features_fail_without_allocating(tmp_path, original):
    config = config_of(original)
    config["build_input_shape"] = [None, 10**12, 10**9]
    config["model"]["config"]["layers"][0]["config"]["shape"] = [10**12, 10**9]
    path = write_model(tmp_path / "m.keras", config, base=original[0])
    message = refused(path, "do not fit")
    assert "model (24, 1000000000)" in message


def test_valid_file_loads_without_running_initialisers(tmp_path, original, monkeypatch):
    """Weights are read into the model as they are: no initialiser draws values."""
    path = write_model(tmp_path / "m.keras", base=original[0])

    def forbidden(self, shape, dtype=None):
        raise AssertionError("an initialiser drew real values during load_model")

    real_call = initializers.Orthogonal.__call__

    def meta_only(self, shape, dtype=None):
        if torch.get_default_device().type != "meta":
            forbidden(self, shape, dtype)
        return real_call(self, shape, dtype)

    monkeypatch.setattr(initializers.Orthogonal, "__call__", meta_only)
    loaded = load_model(path)
    np.testing.assert_array_equal(loaded.predict(original[1], verbose=0), original[2])
    assert not any(t.is_meta for t in loaded.state_dict().values())


# ------------------------------------------------------------------ zip directory
def test_zip_bomb_member_is_refused_from_its_directory_entry(tmp_path, original, monkeypatch):
    path = tmp_path / "bomb.keras"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in ("config.json", "manifest.json"):
            archive.writestr(name, original[0][name])
        with archive.open("model.safetensors", "w", force_zip64=True) as member:
            block = bytes(1 << 20)
            for _ in range(64):  # 64 MiB of zeros, about 64 KB on disk
                member.write(block)
    assert path.stat().st_size < 1 << 20

    def never(*args, **kwargs):
        raise AssertionError("a member was read before its directory entry was checked")

    monkeypatch.setattr(model_archive, "_read_entry", never)
    message = refused(path, r"member model\.safetensors .* is refused: it inflates")
    assert f"over the {model_archive.MAX_COMPRESSION_RATIO}x limit" in message


def test_config_over_its_size_limit_is_refused_unread(tmp_path, original, monkeypatch):
    path = write_model(tmp_path / "m.keras", base=original[0])
    monkeypatch.setattr(model_archive, "MAX_CONFIG_BYTES", 1000)
    monkeypatch.setattr(model_archive, "_read_entry", None)  # reading would raise TypeError
    refused(path, r"member config\.json .* declares \d[\d,]* bytes, over the 1,000-byte limit")


def test_extra_member_is_refused(tmp_path, original):
    path = write_model(tmp_path / "m.keras", base=original[0], extra=[("payload.pkl", b"x")])
    refused(path, re.escape("unexpected member(s) ['payload.pkl']"))


def test_duplicate_member_is_refused(tmp_path, original):
    """Two entries named config.json: which one a reader picks must not matter."""
    other = json.dumps(config_of(original)).replace('"units": 8', '"units": 9').encode()
    path = tmp_path / "m.keras"
    with pytest.warns(UserWarning, match="Duplicate name"):
        write_model(path, base=original[0], extra=[("config.json", other)])
    refused(path, re.escape("holds member(s) ['config.json'] more than once"))


def symlink_entry(name: str, target: bytes) -> tuple[zipfile.ZipInfo, bytes]:
    info = zipfile.ZipInfo(name)
    info.create_system = 3  # Unix, so the mode bits count
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info, target


def test_symlink_member_is_refused(tmp_path, original):
    members = dict(original[0])
    path = tmp_path / "m.keras"
    with zipfile.ZipFile(path, "w") as archive:
        for name in ("model.safetensors", "manifest.json"):
            archive.writestr(name, members[name])
        archive.writestr(*symlink_entry("config.json", b"/etc/passwd"))
    refused(path, r"member config\.json .* is a folder, link or device entry")


def test_encrypted_member_is_refused(tmp_path, original):
    path = write_model(tmp_path / "m.keras", base=original[0])
    data = bytearray(path.read_bytes())
    # Set the "encrypted" flag of every entry in the central directory.
    start = 0
    while (start := data.find(b"PK\x01\x02", start)) != -1:
        data[start + 8] |= 0x01
        start += 4
    path.write_bytes(bytes(data))
    refused(path, "is encrypted")


# ----------------------------------------------------------- not regular files
@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
@pytest.mark.parametrize("loader", ["load_model", "load_weights"])
def test_fifo_is_refused_at_once(tmp_path, loader):
    fifo = tmp_path / "model.keras"
    os.mkfifo(fifo)
    load = load_model if loader == "load_model" else small_model().load_weights
    outcome: list[BaseException] = []

    def attempt():
        try:
            load(fifo)
        except BaseException as exc:
            outcome.append(exc)

    worker = threading.Thread(target=attempt, daemon=True)
    worker.start()
    worker.join(FAST)
    assert not worker.is_alive(), f"{loader} blocked on a FIFO"
    assert len(outcome) == 1 and isinstance(outcome[0], CheckpointError)
    assert "not a regular file" in str(outcome[0]) and str(fifo) in str(outcome[0])


def test_folder_is_refused(tmp_path):
    with pytest.raises(CheckpointError, match="is a folder"):
        load_model(tmp_path)


# ------------------------------------------------------------- hostile JSON
def test_layers_as_a_string(tmp_path, original):
    config = config_of(original)
    config["model"]["config"]["layers"] = "GRU"
    path = write_model(tmp_path / "m.keras", config, base=original[0])
    refused(path, "'layers' must be a list of layers. Received: 'GRU'")


@pytest.mark.parametrize("spec", ["os.system", {"class_name": "os.system", "config": {}}])
def test_regularizer_named_os_system(tmp_path, original, spec):
    config = config_of(original)
    gru_config(config)["kernel_regularizer"] = spec
    path = write_model(tmp_path / "m.keras", config, base=original[0])
    message = refused(path, "does not describe a valid model: .*unknown regularizer 'os.system'")
    assert "Expected one of 'L1', 'L1L2', 'L2'" in message


def test_unknown_layer_class_gets_a_suggestion(tmp_path, original):
    config = config_of(original)
    config["model"]["config"]["layers"][1]["class_name"] = "GRUU"
    path = write_model(tmp_path / "m.keras", config, base=original[0])
    refused(path, "unknown layer class 'GRUU'.*Did you mean 'GRU'")


def test_initializer_with_unknown_arguments(tmp_path, original):
    config = config_of(original)
    gru_config(config)["kernel_initializer"] = {
        "class_name": "glorot_uniform",
        "config": {"seed": 1, "command": "rm -rf /"},
    }
    path = write_model(tmp_path / "m.keras", config, base=original[0])
    refused(
        path,
        re.escape(
            "initializer 'glorot_uniform' got unknown argument(s) ['command']. It accepts ['seed']"
        ),
    )


def test_layer_with_unknown_arguments_lists_the_accepted_ones(tmp_path, original):
    config = config_of(original)
    gru_config(config)["unitz"] = 3
    path = write_model(tmp_path / "m.keras", config, base=original[0])
    message = refused(path, re.escape("layer 1 (GRU): unknown argument(s) ['unitz']"))
    assert "'recurrent_dropout'" in message and "Did you mean 'units'?" in message


@pytest.mark.parametrize(
    ("key", "value"),
    [("units", "8"), ("units", True), ("dropout", [0.1]), ("use_bias", "yes"), ("seed", "abc")],
)
def test_wrong_value_types(tmp_path, original, key, value):
    config = config_of(original)
    gru_config(config)[key] = value
    path = write_model(tmp_path / "m.keras", config, base=original[0])
    refused(path, rf"model, layer 1 \(GRU[^)]*\): .*{key}")


def test_deeply_nested_json_is_refused(tmp_path, original):
    depth = 100_000
    nested = b'{"format": "rnnkit-model", "model": ' + b"[" * depth + b"]" * depth + b"}"
    path = write_model(tmp_path / "m.keras", nested, base=original[0])
    refused(path, re.escape(f"config.json in {str(path)!r} is corrupt (nested deeper than"))


def test_moderately_nested_json_past_the_limit_is_refused(tmp_path, original):
    config = config_of(original)
    deep: list = []
    for _ in range(model_archive.MAX_JSON_DEPTH):
        deep = [deep]
    gru_config(config)["seed"] = deep
    path = write_model(tmp_path / "m.keras", config, base=original[0])
    refused(path, f"nested deeper than {model_archive.MAX_JSON_DEPTH} levels")


@pytest.mark.parametrize(
    "config",
    [b"\xff\xfe{}", b"[1, 2]", b'{"format": "rnnkit-model"}', b'"rnnkit-model"'],
)
def test_odd_config_documents(tmp_path, original, config):
    path = write_model(tmp_path / "m.keras", config, base=original[0])
    refused(path, "config.json|not an rnnkit model file")


def test_newer_format_version(tmp_path, original):
    config = config_of(original)
    config["format_version"] = 2
    path = write_model(tmp_path / "m.keras", config, base=original[0])
    refused(path, "format_version 2 is newer than this rnnkit reads .1.. Upgrade rnnkit")


@pytest.mark.parametrize(
    ("compile_config", "match"),
    [
        ({"optimizer": "os.system", "loss": "mse", "metrics": []}, "unknown optimizer"),
        ({"optimizer": "adam", "loss": "os.system", "metrics": []}, "os.system"),
        ({"optimizer": {"class_name": "Adam", "config": {"lr": 1}}, "loss": "mse"}, "lr"),
        ({"optimizer": "adam", "loss": "mse", "metrics": "mae"}, "'metrics' must be a list"),
    ],
)
def test_hostile_compile_settings(tmp_path, original, compile_config, match):
    config = config_of(original)
    config["compile_config"] = compile_config
    path = write_model(tmp_path / "m.keras", config, base=original[0])
    refused(path, match)
    loaded = load_model(path, compile=False) if "metrics' must" not in match else None
    assert loaded is None or not loaded.compiled


# ------------------------------------------------------------- safetensors
def weights_of(original) -> dict[str, torch.Tensor]:
    from safetensors.torch import load

    return load(original[0]["model.safetensors"])


def test_wrong_dtype_in_safetensors(tmp_path, original):
    state = weights_of(original)
    state["stack.2.bias"] = state["stack.2.bias"].to(torch.int64)
    path = write_model(
        tmp_path / "m.keras", weights=save_safetensors_bytes(state), base=original[0]
    )
    refused(path, "tensor 'stack.2.bias' has dtype 'I64'; weights must be one of")


def test_wrong_shape_in_safetensors(tmp_path, original):
    state = weights_of(original)
    state["stack.1.cell.weight_hh"] = torch.zeros(24, 9)
    path = write_model(
        tmp_path / "m.keras", weights=save_safetensors_bytes(state), base=original[0]
    )
    refused(path, re.escape("stack.1.cell.weight_hh of layer 'gru' (file (24, 9), model (24, 8))"))


def test_header_offsets_that_lie_about_sizes(tmp_path, original):
    data = bytearray(original[0]["model.safetensors"])
    length = int.from_bytes(data[:8], "little")
    header = json.loads(data[8 : 8 + length])
    header["stack.2.bias"]["shape"] = [2]  # 8 bytes, where the offsets span 4
    text = json.dumps(header, separators=(",", ":")).encode().ljust(length)
    path = write_model(
        tmp_path / "m.keras",
        weights=bytes(data[:8]) + text + bytes(data[8 + length :]),
        base=original[0],
    )
    refused(path, re.escape("tensor 'stack.2.bias' of shape (2,) and dtype F32 takes 4 bytes"))


def test_header_length_beyond_the_data(tmp_path, original):
    weights = (2**63).to_bytes(8, "little") + b"{}"
    path = write_model(tmp_path / "m.keras", weights=weights, base=original[0])
    refused(path, "not valid safetensors data")


def test_load_weights_checks_the_header_before_reading_the_data(tmp_path, original, monkeypatch):
    """A mismatched file is refused from its header: the tensor data is never read."""
    path = tmp_path / "w.weights.safetensors"
    big = Sequential([Input((STEPS, FEATURES)), GRU(64), Dense(1)])
    big.build((None, STEPS, FEATURES))
    big.save_weights(path)
    monkeypatch.setattr(saving, "_load_tensors", None)  # reading the data would fail
    refused(path, r"do not fit this model: shape mismatch", loader=small_model().load_weights)


def test_load_weights_wrong_dtype(tmp_path, original):
    state = weights_of(original)
    state["stack.2.kernel"] = state["stack.2.kernel"].to(torch.bool)
    path = tmp_path / "w.weights.safetensors"
    path.write_bytes(save_safetensors_bytes(state))
    refused(path, "has dtype 'BOOL'", loader=small_model().load_weights)


def test_valid_weights_still_load(tmp_path, original):
    path = tmp_path / "w.weights.safetensors"
    path.write_bytes(original[0]["model.safetensors"])
    model = small_model()
    model.load_weights(path)
    np.testing.assert_array_equal(model.predict(original[1], verbose=0), original[2])


# --------------------------------------------- the name resolvers on their own
@pytest.mark.parametrize(
    ("get", "classes_hint"),
    [
        (initializers.get, "'constant'"),
        (regularizers.get, "'L1L2'"),
        (constraints.get, "'MaxNorm'"),
    ],
)
def test_resolvers_refuse_unknown_dotted_names(get, classes_hint):
    for spec in ("os.system", {"class_name": "os.system"}, {"class_name": "builtins.eval"}):
        with pytest.raises(
            RnnkitValueError, match=r"unknown .* '(os\.system|builtins\.eval)'"
        ) as info:
            get(spec)
        assert classes_hint in str(info.value)


@pytest.mark.parametrize(
    ("get", "spec", "match"),
    [
        (
            initializers.get,
            {"class_name": "Orthogonal", "config": {"gian": 2}},
            r"got unknown argument\(s\) \['gian'\]. "
            r"It accepts \['gain', 'seed'\]. Did you mean 'gain'",
        ),
        (
            regularizers.get,
            {"class_name": "L2", "config": {"l1": 0.1}},
            r"unknown argument\(s\) \['l1'\]. It accepts \['l2'\]",
        ),
        (
            constraints.get,
            {"class_name": "max_norm", "config": {"max_value": 2, "x": 1}},
            r"It accepts \['max_value', 'axis'\]",
        ),
        (regularizers.get, {"class_name": "L2", "config": "l2=1"}, "must be a name or"),
        (regularizers.get, {"class_name": 7}, "class_name must be a string"),
    ],
)
def test_resolvers_name_bad_config_dicts(get, spec, match):
    with pytest.raises(RnnkitTypeError, match=match):
        get(spec)


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: regularizers.L2("0.1"), "`l2` must be a number. Received: l2='0.1'"),
        (lambda: regularizers.L1(-1), "`l1` must be a number >= 0"),
        (lambda: regularizers.L1L2(l1=float("nan")), "Received: l1=nan"),
        (lambda: initializers.Constant(True), "`value` must be a number"),
        (lambda: initializers.RandomNormal(seed="1"), "`seed` must be an integer or None"),
        (lambda: initializers.Orthogonal(gain=float("inf")), "`gain` must be finite"),
        (lambda: constraints.MaxNorm(axis="0"), "`axis` must be an integer or a list"),
        (lambda: constraints.MinMaxNorm(rate=[1]), "`rate` must be a number"),
    ],
)
def test_settings_are_type_checked(make, match):
    with pytest.raises(RnnkitError, match=re.escape(match)):
        make()


def test_resolvers_still_accept_keras_forms():
    assert initializers.get({"class_name": "GlorotUniform", "config": {"seed": 3}}).seed == 3
    assert regularizers.get({"class_name": "L1L2", "config": {"l1": 1, "l2": 2}}).get_config() == {
        "l1": 1.0,
        "l2": 2.0,
    }
    assert constraints.get({"class_name": "MaxNorm", "config": {"max_value": 3}}).max_value == 3.0
    spec = {
        "class_name": "L2",
        "config": {"l2": 0.5},
        "module": "keras.regularizers",
        "registered_name": None,
    }
    assert regularizers.get(spec).l2 == 0.5
    assert copy.deepcopy(regularizers.get("l2")).l2 == 0.01


def test_too_many_layers_are_refused_before_building(tmp_path, original):
    config = config_of(original)
    dense = config["model"]["config"]["layers"][2]
    extra = [copy.deepcopy(dense) for _ in range(model_archive.MAX_LAYERS)]
    for index, item in enumerate(extra):
        item["config"]["name"] = f"dense_extra_{index}"
    config["model"]["config"]["layers"] += extra
    path = write_model(tmp_path / "m.keras", config, base=original[0])
    refused(path, f"more than {model_archive.MAX_LAYERS} layers")


def test_activation_named_os_system(tmp_path, original):
    config = config_of(original)
    config["model"]["config"]["layers"][2]["config"]["activation"] = "os.system"
    path = write_model(tmp_path / "m.keras", config, base=original[0])
    refused(path, r"layer 2 \(Dense 'dense'\): .*unknown activation 'os.system'")


def test_load_model_draws_no_random_values(tmp_path, original):
    """load_model builds on the meta device to check shapes, where initialisers draw
    nothing: drawing would route through PyTorch's compiler stack, whose import alone
    takes seconds (in a fresh process, as for the CLI). compile=False: building an
    optimizer imports it anyway (torch.optim)."""
    path = write_model(tmp_path / "m.keras", base=original[0])
    script = (
        "import sys\n"
        "from rnnkit.models import load_model\n"
        f"load_model({str(path)!r}, compile=False)\n"
        "print('torch._dynamo' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=300
    )
    assert result.stdout.strip() == "False"


@pytest.mark.parametrize(
    "init",
    [
        initializers.Orthogonal(seed=1),
        initializers.GlorotUniform(),
        initializers.RandomNormal(),
        initializers.HeNormal(seed=2),
        initializers.RandomUniform(seed=3),
    ],
)
def test_initialisers_give_empty_tensors_on_the_meta_device(init):
    with torch.device("meta"):
        weights = init((3, 12))
    assert weights.is_meta and tuple(weights.shape) == (3, 12)
    assert not init((3, 12)).is_meta  # elsewhere they draw as before
