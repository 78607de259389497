"""Which kernel each configuration runs, and the reason it gives."""

from __future__ import annotations

import re

import pytest
import torch
from kernel_helpers import make_cell
from kernel_helpers import make_request

from rnnkit.kernels import native
from rnnkit.kernels.select import select_kernel
from rnnkit.layers.recurrent import GRU
from rnnkit.layers.recurrent import LSTM
from rnnkit.layers.recurrent import SimpleRNN

CPU_AUTO = [
    # (kind, activation, cell kwargs, request kwargs, expected str(choice))
    ("lstm", "tanh", {}, {}, "general-native"),
    ("gru", "tanh", {}, {}, "general-native"),
    ("rnn", "tanh", {}, {}, "general-native"),
    ("rnn", "relu", {}, {}, "general-native"),
    ("lstm", "relu", {}, {}, "general-native (relu activation has no fused kernel)"),
    ("gru", "elu", {}, {}, "general-native (elu activation has no fused kernel)"),
    ("rnn", "sigmoid", {}, {}, "general-native (sigmoid activation has no fused kernel)"),
    ("gru_before", "tanh", {}, {},
     "general-native (GRU with reset_after=False has no fused kernel)"),
    ("lstm", "tanh", {"recurrent_activation": "hard_sigmoid"}, {},
     "general-native (hard_sigmoid recurrent_activation has no fused kernel)"),
    ("lstm", "tanh", {"recurrent_dropout": 0.2}, {"training": True},
     "general-native (recurrent dropout has no fused kernel)"),
    ("lstm", "tanh", {"recurrent_dropout": 0.2}, {"training": False}, "general-native"),
    ("gru", "tanh", {}, {"mask": "left"}, "general-native"),
    ("lstm", "gelu", {}, {}, "reference (activation 'gelu' has no fast kernel)"),
    ("gru", "tanh", {"recurrent_activation": "swish"}, {},
     "reference (recurrent_activation 'swish' has no fast kernel)"),
    ("lstm", "tanh", {}, {"steps": 0}, "reference (zero timesteps)"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("kind", "activation", "cell_kwargs", "request_kwargs", "expected"), CPU_AUTO
)
def test_select_kernel_on_cpu(kind, activation, cell_kwargs, request_kwargs, expected):
    cell = make_cell(kind, activation, dtype=torch.float32, **cell_kwargs)
    request = make_request(cell, dtype=torch.float32, **request_kwargs)
    _, choice = select_kernel(cell, request)
    assert str(choice) == expected


def test_select_kernel_custom_activation_runs_reference():
    cell = make_cell("rnn", lambda x: torch.tanh(x) * 0.5)
    _, choice = select_kernel(cell, make_request(cell))
    assert choice.name == "reference"
    assert choice.reason == "activation '<lambda>' has no fast kernel"


def test_select_kernel_general_preference_says_use_cudnn_false():
    cell = make_cell("lstm")
    _, choice = select_kernel(cell, make_request(cell), preference="general")
    assert str(choice) == "general-native (use_cudnn=False)"


def test_select_kernel_without_native_library_uses_torch_engine(native_off):
    cell = make_cell("gru", "relu")
    _, choice = select_kernel(cell, make_request(cell))
    assert str(choice) == (
        "general-torch (relu activation has no fused kernel; "
        "native kernels unavailable: disabled by the test)"
    )


def test_select_kernel_without_native_library_prefers_fused_op(native_off):
    cell = make_cell("lstm", dtype=torch.float32)
    _, choice = select_kernel(cell, make_request(cell, dtype=torch.float32, mask="right"))
    assert str(choice) == "fused-lstm-packed (native kernels unavailable: disabled by the test)"


@pytest.mark.parametrize(
    ("kind", "activation", "cell_kwargs", "mask", "go_backwards", "reason"),
    [
        ("lstm", "relu", {}, None, False, "relu activation has no fused kernel"),
        ("gru_before", "tanh", {}, None, False, "GRU with reset_after=False has no fused kernel"),
        ("gru", "tanh", {"recurrent_dropout": 0.1}, None, False,
         "recurrent dropout has no fused kernel"),
        ("lstm", "tanh", {}, "gaps", False,
         "the mask is not contiguous padding on one side of every sequence"),
        ("lstm", "tanh", {}, "gaps", True,
         "the mask is not contiguous padding on one side of every sequence"),
    ],
)  # fmt: skip
def test_select_kernel_fused_preference_explains_why_not(
    kind, activation, cell_kwargs, mask, go_backwards, reason
):
    cell = make_cell(kind, activation, **cell_kwargs)
    request = make_request(cell, mask=mask, go_backwards=go_backwards)
    message = f"use_cudnn=True requires a fused kernel, but {reason}."
    with pytest.raises(ValueError, match=re.escape(message)):
        select_kernel(cell, request, preference="fused")


def test_select_kernel_fused_preference_rejects_fully_masked_rows():
    cell = make_cell("gru")
    request = make_request(cell, mask="right")
    request.mask[0] = False
    with pytest.raises(ValueError, match="a fully masked sequence has no fused kernel"):
        select_kernel(cell, request, preference="fused")


def test_select_kernel_rejects_unknown_preference():
    cell = make_cell("lstm")
    with pytest.raises(ValueError, match=re.escape("unknown preference 'fast'")):
        select_kernel(cell, make_request(cell), preference="fast")


@pytest.mark.parametrize(
    ("layer", "expected"),
    [
        (LSTM(3), "general-native"),
        (LSTM(3, use_cudnn=True), "fused-lstm"),
        (LSTM(3, use_cudnn=False), "general-native (use_cudnn=False)"),
        (GRU(3, activation="relu"), "general-native (relu activation has no fused kernel)"),
        (SimpleRNN(3, activation="relu"), "general-native"),
    ],
)
def test_layer_records_its_kernel(layer, expected):
    layer(torch.ones(2, 4, 5))
    assert str(layer.kernel) == expected


def test_layer_use_cudnn_true_raises_for_relu():
    layer = LSTM(3, activation="relu", use_cudnn=True)
    with pytest.raises(ValueError, match="relu activation has no fused kernel"):
        layer(torch.ones(2, 4, 5))


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_select_kernel_on_gpu_prefers_fused_then_torch_engine():
    cell = make_cell("gru").cuda()
    request = make_request(cell)
    request.x = request.x.detach().cuda()
    request.initial_states = [s.detach().cuda() for s in request.initial_states]
    assert select_kernel(cell, request)[1].name == "fused-gru"
    relu = make_cell("gru", "relu").cuda()
    assert str(select_kernel(relu, request)[1]) == (
        "general-torch (relu activation has no fused kernel)"
    )


def test_native_load_reports_a_missing_compiler(monkeypatch):
    def no_compiler():
        raise native._Unavailable(
            "no C++ compiler found (install g++ to enable the native kernels)"
        )

    native.reset()
    monkeypatch.setattr(native, "_compiler", no_compiler)
    try:
        assert native.load(torch.float32) is None
        assert native.unavailable_reason(torch.float32).startswith("no C++ compiler found")
    finally:
        native.reset()


def test_native_load_reports_a_failed_build(monkeypatch, tmp_path):
    def failed_build(compiler, flags, directory, target):
        raise native._Unavailable("compiling the native kernels failed: error: boom")

    native.reset()
    monkeypatch.setattr(native, "cache_dir", lambda: tmp_path / "cache")
    monkeypatch.setattr(native, "_compile", failed_build)
    try:
        assert native.load(torch.float64) is None
        assert native.unavailable_reason(torch.float64).endswith("error: boom")
    finally:
        native.reset()


def test_native_load_needs_a_writable_directory(monkeypatch, tmp_path):
    native.reset()
    monkeypatch.setattr(native, "cache_dir", lambda: tmp_path / "cache")
    monkeypatch.setattr(native.tempfile, "gettempdir", lambda: str(tmp_path / "tmp"))
    monkeypatch.setattr(native, "_writable", lambda directory: False)
    try:
        assert native.load(torch.float64) is None
        assert native.unavailable_reason(torch.float64) == (
            "no writable cache directory for the compiled kernels"
        )
    finally:
        native.reset()
