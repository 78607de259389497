"""run_group: several recurrences in one native call equal each run alone (run_general)."""

from __future__ import annotations

import pytest
import torch
from kernel_helpers import KINDS
from kernel_helpers import TOLERANCE
from kernel_helpers import make_cell
from kernel_helpers import make_mask

from rnnkit.kernels import native
from rnnkit.kernels.base import SequenceRequest
from rnnkit.kernels.cellspec import describe
from rnnkit.kernels.general import run_general
from rnnkit.kernels.group import GroupItem
from rnnkit.kernels.group import run_group

pytestmark = pytest.mark.skipif(
    native.load(torch.float64) is None, reason="the native library is not available here"
)

BATCH, STEPS, FEATURES = 20, 7, 3
# units, dropout, recurrent dropout, mask: sizes differ, masks and dropouts vary by item
ITEMS = ((2, 0.0, 0.0, None), (5, 0.3, 0.4, "gaps"), (3, 0.0, 0.25, "right"), (6, 0.2, 0.0, "left"))


def _cells(kind, dtype):
    """One cell per item (LSTM and GRU draw one recurrent mask per gate, as Keras)."""
    cells = []
    for index, (units, dropout, recurrent, _) in enumerate(ITEMS):
        options = {"dropout": dropout, "recurrent_dropout": recurrent, "seed": index}
        cells.append(make_cell(kind, dtype=dtype, units=units, features=FEATURES, **options))
    return cells


def _alone(cell, x, mask, masks):
    """The history of ``cell`` over ``x`` with its masks, through run_general."""
    cell.make_dropout_masks = lambda _x, training: masks
    request = SequenceRequest(
        x, [torch.zeros(BATCH, s, dtype=x.dtype) for s in cell.state_size], mask=mask,
        return_sequences=True, training=True, zero_initial_state=True,
    )  # fmt: skip
    result = run_general(cell, request)
    assert result.outputs is not None  # from zero states: the carried state history
    return result.outputs


@pytest.mark.parametrize("threads", [1, 2, 8])  # 8: two row blocks per recurrence
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("kind", KINDS)
def test_each_recurrence_in_a_group_equals_running_it_alone(kind, dtype, threads):
    x = torch.randn(BATCH, STEPS, FEATURES, generator=torch.Generator().manual_seed(2), dtype=dtype)
    cells = _cells(kind, dtype)
    masks = [c.make_dropout_masks(x, True) for c in cells]
    valids = [make_mask(m, BATCH, STEPS, seed=i) for i, (*_, m) in enumerate(ITEMS)]
    gen = torch.Generator().manual_seed(4)
    loss_weights = [torch.randn(BATCH, STEPS, c.units, generator=gen, dtype=dtype) for c in cells]

    items = []
    for cell, mask, valid in zip(cells, masks, valids, strict=True):
        spec, _ = describe(cell)
        xp = cell.project_inputs(x, type(mask)(mask.inputs, None))
        items.append(GroupItem(spec, xp, cell.weight_hh, spec.bias_hh, mask.recurrent, valid))
    histories = run_group(items, threads)
    loss = sum((h * w).sum() for h, w in zip(histories, loss_weights, strict=True))
    params = [p for c in cells for p in c.parameters()]
    grads = torch.autograd.grad(loss, params)

    for index, cell in enumerate(cells):
        expected = _alone(cell, x, valids[index], masks[index])
        own = list(cell.parameters())
        expected_grads = torch.autograd.grad((expected * loss_weights[index]).sum(), own)
        tol = TOLERANCE[dtype]
        torch.testing.assert_close(histories[index], expected, atol=tol, rtol=tol)
        start = sum(len(list(c.parameters())) for c in cells[:index])
        for got, want in zip(grads[start : start + len(own)], expected_grads, strict=True):
            torch.testing.assert_close(got, want, atol=tol, rtol=tol)


def test_a_recurrence_outside_the_loss_gets_no_gradient_and_the_others_theirs():
    x = torch.randn(BATCH, STEPS, FEATURES, dtype=torch.float64)
    cells = _cells(KINDS[1], torch.float64)[:2]
    items = []
    for cell in cells:
        spec, _ = describe(cell)
        xp = cell.project_inputs(x, type(cell.make_dropout_masks(x, False))())
        items.append(GroupItem(spec, xp, cell.weight_hh))
    _, second = run_group(items, threads=2)
    second.sum().backward()
    assert all(p.grad is None for p in cells[0].parameters())
    zeros = [torch.zeros(BATCH, 5, dtype=torch.float64)] * 2
    alone = run_general(cells[1], SequenceRequest(x, zeros))  # no dropout, as above
    assert torch.allclose(second[:, -1], alone.last_output, atol=1e-10)
    assert cells[1].weight_hh.grad is not None and cells[1].weight_hh.grad.abs().sum() > 0


@pytest.mark.parametrize("kind", KINDS)
def test_one_block_per_recurrence_agrees_on_any_thread_count(kind):
    """K >= threads (a tuner's group): each recurrence is one row block on some thread,
    its weight gradient computed in C++ by the BLAS product torch.mm runs. 1, 2 or 8
    threads agree within rounding. (Not bit for bit: the input weights' gradients are
    torch's own products, whose BLAS may sum in another order on another thread count;
    in the full suite 1 and 2 threads differed in the last bits.)"""
    x = torch.randn(BATCH, STEPS, FEATURES, generator=torch.Generator().manual_seed(3))
    cells = _cells(kind, torch.float32)
    masks = [c.make_dropout_masks(x, True) for c in cells]
    valids = [make_mask(m, BATCH, STEPS, seed=i) for i, (*_, m) in enumerate(ITEMS)]
    results = []
    for threads in (1, 2, 8):
        items = []
        for cell, mask, valid in zip(cells, masks, valids, strict=True):
            spec, _ = describe(cell)
            xp = cell.project_inputs(x, type(mask)(mask.inputs, None))
            items.append(GroupItem(spec, xp, cell.weight_hh, spec.bias_hh, mask.recurrent, valid))
        before = torch.get_num_threads()
        torch.set_num_threads(threads)  # as the stacked trainer runs it (BLAS outside, too)
        try:
            histories = run_group(items, threads)
            loss = sum((h * h.detach().cos()).sum() for h in histories)
            params = [p for c in cells for p in c.parameters()]
            grads = list(torch.autograd.grad(loss, params))
        finally:
            torch.set_num_threads(before)
        results.append([h.detach() for h in histories] + grads)
    one, two, eight = results
    for a, b, c in zip(one, two, eight, strict=True):
        torch.testing.assert_close(b, a, atol=1e-6, rtol=1e-6)
        torch.testing.assert_close(c, a, atol=1e-5, rtol=1e-5)
