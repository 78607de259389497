"""Fuzzing the model and weights readers: a mutated file loads or raises RnnkitError.

Hypothesis mutates a valid saved model: flipped and truncated bytes, lying member
sizes in the zip directory, and config.json edits with a matching manifest (so the
edit reaches the config checks instead of stopping at the checksum): type swaps,
deleted and added keys, huge numbers, deep nesting. Each load must either give a
model holding exactly the file's weights or raise an :class:`RnnkitError` with a
one-line message naming the file, within seconds. Any other exception, a hang or
an allocation the file does not pay for would fail the test.

The runs are derandomised (the same examples on every machine) and sized to take
well under a minute in all.
"""

from __future__ import annotations

import hashlib
import io
import json
import time
import zipfile

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from safetensors.torch import load as load_safetensors_bytes

from rnnkit import regularizers
from rnnkit.errors import RnnkitError
from rnnkit.layers import GRU
from rnnkit.layers import LSTM
from rnnkit.layers import Bidirectional
from rnnkit.layers import Dense
from rnnkit.layers import Input
from rnnkit.layers import TimeDistributed
from rnnkit.models import Sequential
from rnnkit.models import load_model

STEPS, FEATURES = 4, 2
PER_EXAMPLE_LIMIT = 20.0  # seconds; the requirement is "within seconds", CI is loaded
FUZZ = settings(
    max_examples=150,
    deadline=None,  # the explicit wall-clock bound below is the one that counts
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def make_model() -> Sequential:
    torch.manual_seed(0)
    model = Sequential(
        [
            Input((STEPS, FEATURES)),
            Bidirectional(GRU(3, return_sequences=True)),
            TimeDistributed(Dense(2, kernel_regularizer=regularizers.L2(0.01))),
            LSTM(2, dropout=0.1, seed=1),
            Dense(1),
        ]
    )
    model.compile(optimizer="adam", loss="mse", metrics=["mae"])
    return model


@pytest.fixture(scope="module")
def valid(tmp_path_factory):
    """A saved model's bytes and members, a folder to write mutants into, and the
    predictions of the saved model."""
    folder = tmp_path_factory.mktemp("fuzz")
    model = make_model()
    model.save(folder / "valid.keras")
    data = (folder / "valid.keras").read_bytes()
    with zipfile.ZipFile(folder / "valid.keras") as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    x = np.linspace(-1, 1, 2 * STEPS * FEATURES, dtype=np.float32).reshape(2, STEPS, FEATURES)
    return {
        "bytes": data,
        "members": members,
        "folder": folder,
        "x": x,
        "y": model.predict(x, verbose=0),
        "model": model,
    }


# --------------------------------------------------------------- mutations
DEEP = "\x00deep:{}\x00"  # a string replaced by that many nested lists after dumping

odd_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([0, -1, 10**9, 2**31, 2**63, 10**30]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=8),
    st.sampled_from(["os.system", "__import__", "builtins.eval", "GRU", "tanh", "Sequential"]),
    st.lists(st.integers(min_value=-3, max_value=10**6), max_size=4),
    st.dictionaries(st.sampled_from(["class_name", "config", "x"]), st.text(max_size=4)),
    st.sampled_from([10, 70, 5_000]).map(DEEP.format),
)


def json_paths(node, prefix=()):
    """Every path (tuple of keys and indexes) into a parsed JSON document."""
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from json_paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from json_paths(value, (*prefix, index))


def mutate_config(draw, config):
    """Apply one to three edits (replace, delete, add) at drawn places in ``config``."""
    for _ in range(draw(st.integers(1, 3))):
        paths = [p for p in json_paths(config) if p]
        path = draw(st.sampled_from(paths))
        parent = config
        for key in path[:-1]:
            parent = parent[key]
        action = draw(st.sampled_from(["replace", "replace", "delete", "add"]))
        if action == "replace":
            parent[path[-1]] = draw(odd_values)
        elif action == "delete":
            del parent[path[-1]]
        elif isinstance(parent, dict):
            parent[draw(st.sampled_from(["x", "units", "layers", "cell", "__class__"]))] = draw(
                odd_values
            )
        else:
            parent.append(draw(odd_values))
    text = json.dumps(config)
    for depth in (10, 70, 5_000):
        text = text.replace(json.dumps(DEEP.format(depth)), "[" * depth + "]" * depth)
    return text.encode()


def zip_members(members, *, fix_manifest=True):
    """A model zip of ``members``; with ``fix_manifest`` the digests match them."""
    members = dict(members)
    if fix_manifest:
        digests = {
            n: hashlib.sha256(b).hexdigest() for n, b in members.items() if n != "manifest.json"
        }
        members["manifest.json"] = json.dumps({"files": digests}).encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, payload in members.items():
            archive.writestr(name, payload)
    return buffer.getvalue()


def set_sizes(data: bytes, draw) -> bytes:
    """Overwrite the declared sizes of a member in the zip's directories."""
    out = bytearray(data)
    sizes = st.sampled_from([0, 1, 100, 2**20, 2**31, 2**32 - 1]) | st.integers(0, 2**32 - 1)
    for signature, offsets in ((b"PK\x01\x02", (20, 24)), (b"PK\x03\x04", (18, 22))):
        starts = [i for i in range(len(out)) if out.startswith(signature, i)]
        start = draw(st.sampled_from(starts))
        for offset in offsets:
            if draw(st.booleans()):
                out[start + offset : start + offset + 4] = draw(sizes).to_bytes(4, "little")
    return bytes(out)


@st.composite
def mutants(draw, valid):
    """(kind, file bytes) for one mutated model file."""
    kind = draw(st.sampled_from(["flip", "truncate", "sizes", "config", "config", "weights"]))
    data = valid["bytes"]
    if kind == "flip":
        out = bytearray(data)
        for _ in range(draw(st.integers(1, 8))):
            position = draw(st.integers(0, len(out) - 1))
            out[position] ^= draw(st.integers(1, 255))
        return kind, bytes(out)
    if kind == "truncate":
        return kind, data[: draw(st.integers(0, len(data) - 1))]
    if kind == "sizes":
        return kind, set_sizes(data, draw)
    members = dict(valid["members"])
    if kind == "config":
        members["config.json"] = mutate_config(draw, json.loads(members["config.json"]))
    else:
        weights = bytearray(members["model.safetensors"])
        header_end = 8 + int.from_bytes(weights[:8], "little")
        for _ in range(draw(st.integers(1, 4))):
            position = draw(st.integers(0, header_end + 16))
            weights[min(position, len(weights) - 1)] = draw(st.integers(0, 255))
        if draw(st.booleans()):
            weights = weights[: draw(st.integers(0, len(weights)))]
        members["model.safetensors"] = bytes(weights)
    return kind, zip_members(members)


# ------------------------------------------------------------------- tests
def load_or_refuse(load, path):
    """Run ``load(path)``: return the result, or None after a proper RnnkitError."""
    start = time.perf_counter()
    try:
        return load(path)
    except RnnkitError as exc:
        message = str(exc)
        assert "\n" not in message, message
        assert str(path) in message, message
        return None
    finally:
        assert time.perf_counter() - start < PER_EXAMPLE_LIMIT


def test_mutated_model_files_load_or_raise_rnnkit_error(valid):
    path = valid["folder"] / "mutant.keras"
    outcomes = {"loaded": 0, "refused": 0}

    @FUZZ
    @given(mutant=mutants(valid))
    def check(mutant):
        kind, data = mutant
        path.write_bytes(data)
        model = load_or_refuse(lambda p: load_model(p, compile=True), path)
        outcomes["refused" if model is None else "loaded"] += 1
        if model is None:
            return
        assert isinstance(model, Sequential)
        with zipfile.ZipFile(path) as archive:
            weights = load_safetensors_bytes(archive.read("model.safetensors"))
        state = model.state_dict()
        assert set(state) == set(weights)
        for name, tensor in weights.items():
            torch.testing.assert_close(state[name], tensor.to(state[name].dtype), rtol=0, atol=0)
        if kind != "config":  # the file is the saved one: the same model comes back
            np.testing.assert_array_equal(model.predict(valid["x"], verbose=0), valid["y"])

    check()
    # The mutations must reach both outcomes, or the test proves little.
    assert outcomes["refused"] > 50 and outcomes["loaded"] > 0, outcomes


def test_mutated_weights_files_load_or_raise_rnnkit_error(valid):
    model = valid["model"]
    original = valid["members"]["model.safetensors"]
    path = valid["folder"] / "mutant.weights.safetensors"
    before = {k: v.clone() for k, v in model.state_dict().items()}

    @settings(FUZZ, max_examples=80)
    @given(
        flips=st.lists(st.tuples(st.integers(0, 400), st.integers(1, 255)), max_size=6),
        keep=st.none() | st.integers(0, len(original)),
    )
    def check(flips, keep):
        data = bytearray(original)
        for position, value in flips:
            data[min(position, len(data) - 1)] ^= value
        path.write_bytes(bytes(data[:keep] if keep is not None else data))
        load_or_refuse(model.load_weights, path)
        model.load_state_dict(before)  # the next example starts from the saved weights

    check()
