"""Which kernel each configuration runs, and the reason it gives."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch
from kernel_helpers import make_cell
from kernel_helpers import make_request

from rnnkit.kernels import CellKind
from rnnkit.kernels import native
from rnnkit.kernels.select import select_kernel

CPU_AUTO = [
    # (kind, activation, cell kwargs, request kwargs, expected str(choice))
    (CellKind.LSTM, "tanh", {}, {}, "general-native"),
    (CellKind.GRU, "tanh", {}, {}, "general-native"),
    (CellKind.SIMPLE_RNN, "tanh", {}, {}, "general-native"),
    (CellKind.SIMPLE_RNN, "relu", {}, {}, "general-native"),
    (CellKind.LSTM, "relu", {}, {}, "general-native (relu activation has no fused kernel)"),
    (CellKind.GRU, "elu", {}, {}, "general-native (elu activation has no fused kernel)"),
    (CellKind.SIMPLE_RNN, "sigmoid", {}, {},
     "general-native (sigmoid activation has no fused kernel)"),
    (CellKind.GRU_RESET_BEFORE, "tanh", {}, {},
     "general-native (GRU with reset_after=False has no fused kernel)"),
    (CellKind.LSTM, "tanh", {"recurrent_activation": "hard_sigmoid"}, {},
     "general-native (hard_sigmoid recurrent_activation has no fused kernel)"),
    (CellKind.LSTM, "tanh", {"recurrent_dropout": 0.2}, {"training": True},
     "general-native (recurrent dropout has no fused kernel)"),
    (CellKind.LSTM, "tanh", {"recurrent_dropout": 0.2}, {"training": False},
     "general-native"),
    (CellKind.GRU, "tanh", {}, {"mask": "left"}, "general-native"),
    (CellKind.LSTM, "gelu", {}, {}, "reference (activation 'gelu' has no fast kernel)"),
    (CellKind.GRU, "tanh", {"recurrent_activation": "swish"}, {},
     "reference (recurrent_activation 'swish' has no fast kernel)"),
    (CellKind.LSTM, "tanh", {}, {"steps": 0}, "reference (zero timesteps)"),
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
    cell = make_cell(CellKind.SIMPLE_RNN, lambda x: torch.tanh(x) * 0.5)
    _, choice = select_kernel(cell, make_request(cell))
    assert choice.name == "reference"
    assert choice.reason == "activation '<lambda>' has no fast kernel"


def test_select_kernel_general_preference_says_use_cudnn_false():
    cell = make_cell(CellKind.LSTM)
    _, choice = select_kernel(cell, make_request(cell), preference="general")
    assert str(choice) == "general-native (use_cudnn=False)"


def test_select_kernel_without_native_library_uses_torch_engine(native_off):
    cell = make_cell(CellKind.GRU, "relu")
    _, choice = select_kernel(cell, make_request(cell))
    assert str(choice) == (
        "general-torch (relu activation has no fused kernel; "
        "native kernels unavailable: disabled by the test)"
    )


def test_select_kernel_without_native_library_prefers_fused_op(native_off):
    cell = make_cell(CellKind.LSTM, dtype=torch.float32)
    _, choice = select_kernel(cell, make_request(cell, dtype=torch.float32, mask="right"))
    assert str(choice) == "fused-lstm-packed (native kernels unavailable: disabled by the test)"


@pytest.mark.parametrize(
    ("kind", "activation", "cell_kwargs", "mask", "go_backwards", "reason"),
    [
        (CellKind.LSTM, "relu", {}, None, False, "relu activation has no fused kernel"),
        (CellKind.GRU_RESET_BEFORE, "tanh", {}, None, False,
         "GRU with reset_after=False has no fused kernel"),
        (CellKind.GRU, "tanh", {"recurrent_dropout": 0.1}, None, False,
         "recurrent dropout has no fused kernel"),
        (CellKind.LSTM, "tanh", {}, "gaps", False,
         "the mask is not contiguous padding on one side of every sequence"),
        (CellKind.LSTM, "tanh", {}, "gaps", True,
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
    cell = make_cell(CellKind.GRU)
    request = make_request(cell, mask="right")
    request.mask[0] = False
    with pytest.raises(ValueError, match="a fully masked sequence has no fused kernel"):
        select_kernel(cell, request, preference="fused")


def test_select_kernel_rejects_unknown_preference():
    cell = make_cell(CellKind.LSTM)
    with pytest.raises(ValueError, match=re.escape("unknown preference 'fast'")):
        select_kernel(cell, make_request(cell), preference="fast")


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_select_kernel_on_gpu_prefers_fused_then_torch_engine():
    cell = make_cell(CellKind.GRU).cuda()
    request = make_request(cell)
    request.x = request.x.detach().cuda()
    request.initial_states = [s.detach().cuda() for s in request.initial_states]
    assert select_kernel(cell, request)[1].name == "fused-gru"
    relu = make_cell(CellKind.GRU, "relu").cuda()
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
    def failed_build(compiler, flags, source, directory, target):
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


def test_native_load_reports_a_missing_source_file(monkeypatch):
    native.reset()
    monkeypatch.setattr(native, "SOURCE_NAME", "no_such_file.cpp")
    try:
        assert native.load(torch.float64) is None
        reason = native.unavailable_reason(torch.float64)
        assert reason.startswith("the C++ source no_such_file.cpp is missing from the rnnkit")
        assert reason.endswith("reinstall rnnkit")
    finally:
        native.reset()


def test_native_source_is_the_packaged_cpp_file():
    path = Path(native.__file__).with_name(native.SOURCE_NAME)
    assert path.suffix == ".cpp"
    assert native.source_text() == path.read_text(encoding="utf-8")
    assert "int rk_run(int64_t op, int64_t is_double, const RkArgs* args)" in native.source_text()


def test_native_build_is_keyed_by_the_source_text(monkeypatch, tmp_path):
    """A changed source file builds a new library; an unchanged one reuses the cached one."""
    compiled = []

    def fake_compile(compiler, flags, source, directory, target):
        compiled.append(source)
        target.write_text(source)
        return target

    monkeypatch.setattr(native, "cache_dir", lambda: tmp_path / "cache")
    monkeypatch.setattr(native, "_compile", fake_compile)
    monkeypatch.setattr(native, "source_text", lambda: "// version 1\n")
    first = native._build(torch.float64)
    assert native._build(torch.float64) == first  # cached: not compiled again
    monkeypatch.setattr(native, "source_text", lambda: "// version 2\n")
    second = native._build(torch.float64)
    assert second != first
    assert compiled == ["// version 1\n", "// version 2\n"]
    assert second.read_text() == "// version 2\n"
