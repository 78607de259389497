"""The CUDA paths match the CPU reference loop (run where a GPU is present).

On a GPU the layers run cuDNN's fused op when the configuration fits and the
``general-torch`` BPTT otherwise. Each case runs the same cell (same weights, same
frozen dropout masks) on the CPU through the reference loop and on the GPU through
the kernel ``select_kernel`` picks, in float64, and compares outputs, final states
and the gradients of inputs, initial states and every weight. A model trained on
the GPU follows the same loss history as on the CPU.

Skipped without CUDA (CI has no GPU); run with ``pytest tests/kernels/test_cuda.py``
on a GPU machine.
"""

from __future__ import annotations

import copy
import functools
import itertools

import numpy as np
import pytest
import torch
from kernel_helpers import KINDS
from kernel_helpers import assert_same_results
from kernel_helpers import freeze_dropout_masks
from kernel_helpers import make_cell
from kernel_helpers import make_request
from kernel_helpers import outputs_and_grads

from rnnkit.kernels import CellKind
from rnnkit.kernels.base import SequenceRequest
from rnnkit.kernels.reference import run_reference
from rnnkit.kernels.select import select_kernel

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA"),
]

FUSABLE = {
    (CellKind.LSTM, "tanh"),
    (CellKind.GRU, "tanh"),
    (CellKind.SIMPLE_RNN, "tanh"),
    (CellKind.SIMPLE_RNN, "relu"),
}


def _to_cuda(cell, request: SequenceRequest, masks):
    """A copy of ``cell`` and ``request`` on the GPU, reusing the CPU dropout masks."""
    gpu_cell = copy.deepcopy(cell).cuda()
    moved = type(masks)(
        None if masks.inputs is None else masks.inputs.cuda(),
        None if masks.recurrent is None else masks.recurrent.cuda(),
    )
    gpu_cell.make_dropout_masks = lambda _x, training: moved if training else type(masks)()
    x = request.x.detach().cuda().requires_grad_(True)
    states = [s.detach().cuda().requires_grad_(True) for s in request.initial_states]
    mask = None if request.mask is None else request.mask.cuda()
    gpu_request = SequenceRequest(
        x, states, mask=mask, training=request.training, go_backwards=request.go_backwards,
        return_sequences=request.return_sequences,
        zero_output_for_mask=request.zero_output_for_mask,
    )  # fmt: skip
    return gpu_cell, gpu_request


@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid"])
@pytest.mark.parametrize("kind", KINDS)
def test_cuda_kernel_matches_cpu_reference(kind, activation):
    cases = itertools.product([None, "right", "left", "gaps"], [0.0, 0.3], [False, True])
    for index, (mask, recurrent, go_backwards) in enumerate(cases):
        label = f"{kind} {activation} mask={mask} recurrent={recurrent} back={go_backwards}"
        cell = make_cell(kind, activation, dropout=0.2, recurrent_dropout=recurrent)
        request = make_request(
            cell, mask=mask, go_backwards=go_backwards, training=True,
            return_sequences=index % 2 == 0, zero_output_for_mask=index % 3 == 0,
        )  # fmt: skip
        if mask == "left":
            request.mask[-1, -1] = True  # make_mask leaves the last row fully masked
        masks = freeze_dropout_masks(cell, request.x)
        expected = outputs_and_grads(run_reference, cell, request)
        gpu_cell, gpu_request = _to_cuda(cell, request, masks)
        kernel, choice = select_kernel(gpu_cell, gpu_request)
        fits = (kind, activation) in FUSABLE and recurrent == 0.0
        fits = fits and mask != "gaps"  # left or right padding runs packed
        assert choice.name.startswith("fused" if fits else "general-torch"), (label, choice)
        out, grads = outputs_and_grads(kernel, gpu_cell, gpu_request)
        got = [o.cpu() for o in out], [None if g is None else g.cpu() for g in grads]
        assert_same_results(expected, got, torch.float64, label)


def test_cuda_model_fit_follows_cpu_loss_history():
    import rnnkit

    rng = np.random.default_rng(0)
    x = rng.standard_normal((256, 12, 3)).astype("float32")
    y = x[:, -3:, :1].sum(axis=1)

    def history(device: str) -> list[float]:
        rnnkit.utils.set_random_seed(0)
        model = rnnkit.Sequential(
            [
                rnnkit.layers.Input((12, 3)),
                rnnkit.layers.LSTM(16, return_sequences=True),
                rnnkit.layers.GRU(8, activation="relu"),
                rnnkit.layers.Dense(1),
            ]
        )
        model.compile(optimizer="adam", loss="mse")
        model.build((None, 12, 3))
        model.to(device)
        fit = model.fit(x, y, epochs=3, batch_size=32, shuffle=False, verbose=0)
        assert next(model.parameters()).device.type == device
        return fit.history["loss"]

    cudnn_tf32 = torch.backends.cudnn.allow_tf32
    torch.backends.cudnn.allow_tf32 = False  # cuDNN may use TF32 otherwise
    try:
        np.testing.assert_allclose(history("cuda"), history("cpu"), rtol=1e-4)
    finally:
        torch.backends.cudnn.allow_tf32 = cudnn_tf32


def test_general_torch_loops_replay_as_cuda_graphs_with_the_same_results():
    from rnnkit.kernels import cuda_graphs
    from rnnkit.kernels.general import run_general

    cuda_graphs.clear()
    cell = make_cell(CellKind.LSTM, "relu", recurrent_dropout=0.3)
    request = make_request(cell, mask="left", return_sequences=True, training=True)
    masks = freeze_dropout_masks(cell, request.x)
    gpu_cell, gpu_request = _to_cuda(cell, request, masks)
    kernel = functools.partial(run_general, engine="torch")
    eager = outputs_and_grads(kernel, gpu_cell, gpu_request)  # first meeting: runs normally
    assert cuda_graphs.graph_status()["recorded"] == 0
    for _ in range(2):  # recorded, then replayed
        graphed = outputs_and_grads(kernel, gpu_cell, gpu_request)
        assert_same_results(eager, graphed, torch.float64, "graphed")
    assert cuda_graphs.graph_status() == {"recorded": 2, "failed": {}}  # forward + backward
