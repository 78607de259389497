"""The forward pass of K stacked models: every matmul batched over a leading trial axis.

A :class:`StackedNetwork` reads K models of one structure (see
:mod:`rnnkit.models.stacked.signature`) into :class:`~rnnkit.models.stacked.weights.StackedWeights`
and runs them on inputs of shape ``(K, batch, timesteps, features)`` (each trial its
own batch): per timestep one batched matmul ``(K, batch, units) @ (K, units, k*units)``
instead of K small ones. The equations are the cells' own
(:meth:`~rnnkit.layers.cells.RecurrentCell.step`), with Keras' masking semantics:
a masked step carries the states over and repeats the previous output (zeros with
``zero_output_for_mask``). Where the native CPU library runs every recurrent layer the
network runs per trial instead (:mod:`rnnkit.models.stacked.per_trial`).

One job: the stacked forward pass.
"""

from __future__ import annotations

from typing import Any

import torch

from rnnkit.kernels.cellspec import describe
from rnnkit.layers.cells import GRUCell
from rnnkit.layers.core import Masking
from rnnkit.layers.dense import Dense
from rnnkit.layers.rnn import RNN
from rnnkit.models.stacked.per_trial import forward_per_trial
from rnnkit.models.stacked.per_trial import per_trial_applies
from rnnkit.models.stacked.recurrence import StackedRecurrence
from rnnkit.models.stacked.recurrence import fused_applies
from rnnkit.models.stacked.specs import DenseSpec
from rnnkit.models.stacked.specs import LayerMasks
from rnnkit.models.stacked.specs import MaskingSpec
from rnnkit.models.stacked.specs import RecurrentSpec
from rnnkit.models.stacked.weights import Placement
from rnnkit.models.stacked.weights import StackedWeight
from rnnkit.models.stacked.weights import StackedWeights
from rnnkit.models.stacked.weights import gate_rows


class StackedNetwork:
    """K models of one structure, as one network with a leading trial axis.

    Args:
        models: Built models that share a structure (check with
            :func:`~rnnkit.models.stacked.signature.why_not_together` first).
        per_trial: Run each trial on its own parameters with the recurrences grouped
            in the native library (:mod:`rnnkit.models.stacked.per_trial`) instead of
            the padded stack. Defaults to `None`: wherever the native library runs
            every recurrent layer (a CPU with the library built).

    Attributes:
        per_trial: Whether the forward pass runs per trial. Its gradients then land on
            the models' own parameters and :attr:`weights` holds no stacked weight.
    """

    def __init__(self, models: list[Any], *, per_trial: bool | None = None) -> None:
        self.models = list(models)
        weights: list[StackedWeight] = []
        self.specs: list[RecurrentSpec | DenseSpec | MaskingSpec] = []
        layer_lists = [m.layers for m in self.models]
        features = int(self.models[0].built_input_shape[-1])
        real_inputs = [features] * len(self.models)
        device = next(self.models[0].parameters()).device
        for index, layer in enumerate(layer_lists[0]):
            layers = [trial[index] for trial in layer_lists]
            if isinstance(layer, Masking):
                self.specs.append(MaskingSpec(layer.mask_value))
            elif isinstance(layer, RNN):
                spec = self._recurrent(index, layers, features, real_inputs, weights, device)
                self.specs.append(spec)
                features, real_inputs = spec.units, [lay.cell.units for lay in layers]
            elif isinstance(layer, Dense):
                spec_d, features = self._dense(layers, features, real_inputs, weights)
                self.specs.append(spec_d)
                real_inputs = [lay.units for lay in layers]
        if per_trial is None:
            first = next(self.models[0].parameters())
            shape = tuple(self.models[0].built_input_shape)
            per_trial = per_trial_applies(self.specs, shape, first.device, first.dtype)
        self.per_trial = per_trial
        self.weights = StackedWeights([] if per_trial else weights)

    @staticmethod
    def _recurrent(index, layers, features, real_inputs, weights, device) -> RecurrentSpec:
        cells = [lay.cell for lay in layers]
        gates = cells[0].gates
        units = max(c.units for c in cells)
        rows = [gate_rows(gates, c.units, units, device) for c in cells]
        positions = [len(weights), len(weights) + 1]
        weights.append(
            StackedWeight(
                [c.weight_ih for c in cells],
                (gates * units, features),
                [Placement((0, f), 0, r) for f, r in zip(real_inputs, rows, strict=True)],
            )
        )
        weights.append(
            StackedWeight(
                [c.weight_hh for c in cells],
                (gates * units, units),
                [Placement((0, c.units), 0, r) for c, r in zip(cells, rows, strict=True)],
            )
        )
        reset_after = cells[0].reset_after if isinstance(cells[0], GRUCell) else None
        if cells[0].bias is not None:
            positions.append(len(weights))
            shape: tuple[int, ...]
            if reset_after:
                shape, places = (2, gates * units), [Placement((2, 0), 1, r) for r in rows]
            else:
                shape, places = (gates * units,), [Placement((0,), 0, r) for r in rows]
            weights.append(StackedWeight([c.bias for c in cells], shape, places))
        return RecurrentSpec(
            index=index,
            cells=cells,
            gates=gates,
            units=units,
            features=features,
            weights=positions,
            return_sequences=layers[0].return_sequences,
            zero_output_for_mask=layers[0].zero_output_for_mask,
            reset_after=reset_after,
            kernel_specs=[describe(c)[0] for c in cells],
        )

    @staticmethod
    def _dense(layers, features, real_inputs, weights) -> tuple[DenseSpec, int]:
        units = max(lay.units for lay in layers)
        positions = [len(weights)]
        weights.append(
            StackedWeight(
                [lay.kernel for lay in layers],
                (features, units),
                [Placement((f, lay.units)) for f, lay in zip(real_inputs, layers, strict=True)],
            )
        )
        if layers[0].bias is not None:
            positions.append(len(weights))
            weights.append(
                StackedWeight(
                    [lay.bias for lay in layers],
                    (units,),
                    [Placement((lay.units,)) for lay in layers],
                )
            )
        return DenseSpec(positions, layers[0].activation, list(layers)), units

    @property
    def recurrent_specs(self) -> list[RecurrentSpec]:
        """The recurrent layers, in order (the order their dropout masks are drawn in)."""
        return [s for s in self.specs if isinstance(s, RecurrentSpec)]

    def keep(self, trials: list[int]) -> None:
        """Keep only the listed trials (positions in the current stack)."""
        self.models = [self.models[k] for k in trials]
        for spec in self.recurrent_specs:
            spec.cells = [spec.cells[k] for k in trials]
            spec.kernel_specs = [spec.kernel_specs[k] for k in trials]
        for dense in self.specs:
            if isinstance(dense, DenseSpec):
                dense.layers = [dense.layers[k] for k in trials]
        self.weights.keep(trials)

    # ---------------------------------------------------------------- forward
    def forward(
        self, x: torch.Tensor, masks: list[LayerMasks] | None = None
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Outputs ``(K, batch, ...)`` for inputs ``(K, batch, timesteps, features)``.

        Args:
            x: Each trial's batch.
            masks: One :class:`LayerMasks` per recurrent layer while training;
                ``None`` runs without dropout (inference).

        Returns:
            The outputs and the timestep mask that reaches them (``None`` if none does).
        """
        if self.per_trial:
            return forward_per_trial(self.specs, x, masks)
        tensors = self.weights.tensors()
        seq_mask: torch.Tensor | None = None
        recurrent = 0
        for spec in self.specs:
            if isinstance(spec, MaskingSpec):
                if spec.mask_value == 0.0:
                    seq_mask = x.any(dim=-1)
                else:
                    seq_mask = x.ne(spec.mask_value).any(dim=-1)
                x = torch.where(seq_mask.unsqueeze(-1), x, x.new_zeros(()))
            elif isinstance(spec, RecurrentSpec):
                layer_masks = masks[recurrent] if masks is not None else LayerMasks()
                recurrent += 1
                params = [tensors[i] for i in spec.weights]
                x = _run_recurrent(spec, x, params, layer_masks, seq_mask)
                if not spec.return_sequences:
                    seq_mask = None
            else:
                kernel = tensors[spec.weights[0]]
                bias = tensors[spec.weights[1]] if len(spec.weights) > 1 else None
                shape = x.shape
                flat = x.reshape(shape[0], -1, shape[-1])
                if bias is None:
                    out = torch.bmm(flat, kernel)
                else:
                    out = torch.baddbmm(bias[:, None, :], flat, kernel)
                x = spec.activation(out.reshape(*shape[:-1], kernel.shape[-1]))
        return x, seq_mask


def _project_inputs(spec, x, weight_ih, bias, masks) -> torch.Tensor:
    k, batch, steps, features = x.shape
    units, gates = spec.units, spec.gates
    inputs = masks.inputs
    if inputs is not None and inputs.dim() == 4:  # one mask per gate
        xg = x[:, None] * inputs[:, :, :, None, :]
        wg = weight_ih.reshape(k, gates, units, features)
        xp = torch.einsum("kgbtf,kguf->kbtgu", xg, wg).reshape(k, batch, steps, gates * units)
        return xp if bias is None else xp + bias[:, None, None, :]
    if inputs is not None:
        x = x * inputs[:, :, None, :]
    flat = x.reshape(k, batch * steps, features)
    if bias is None:
        xp = torch.bmm(flat, weight_ih.transpose(1, 2))
    else:
        xp = torch.baddbmm(bias[:, None, :], flat, weight_ih.transpose(1, 2))
    return xp.reshape(k, batch, steps, gates * units)


def _project_state(spec, h, weight_hh, mask, first, last) -> torch.Tensor:
    """``h U`` for gate blocks ``first:last``, the recurrent dropout masks applied."""
    units = spec.units
    rows = weight_hh[:, first * units : last * units]
    if mask is None:
        return torch.bmm(h, rows.transpose(1, 2))
    if mask.dim() == 3:
        return torch.bmm(h * mask, rows.transpose(1, 2))
    k, _, batch, _ = mask.shape
    hg = h[:, None] * mask[:, first:last]
    wg = rows.reshape(k, last - first, units, units)
    return torch.einsum("kgbu,kgvu->kbgv", hg, wg).reshape(k, batch, (last - first) * units)


def _run_recurrent(spec, x, params, masks, seq_mask) -> torch.Tensor:
    cell = spec.cells[0]
    act, rec_act = cell.activation, cell.recurrent_activation
    weight_ih, weight_hh = params[0], params[1]
    bias = params[2] if len(params) > 2 else None
    input_bias = bias[:, 0] if (bias is not None and spec.reset_after) else bias
    xp = _project_inputs(spec, x, weight_ih, input_bias, masks)
    if fused_applies(cell, masks.recurrent, seq_mask):
        if spec.reset_after:
            assert bias is not None, "fused_applies() takes a reset_after GRU only with its bias"
            recurrent_bias = bias[:, 1]
        else:
            recurrent_bias = xp.new_empty(0)
        outputs = StackedRecurrence.apply(xp, weight_hh, recurrent_bias, spec.gates)
        return outputs if spec.return_sequences else outputs[:, :, -1]
    k, batch, steps, _ = x.shape
    units, gates = spec.units, spec.gates
    rec = masks.recurrent
    h = x.new_zeros(k, batch, units)
    c = x.new_zeros(k, batch, units) if gates == 4 else None
    previous = None
    outputs = []
    inputs = xp.unbind(2)  # one backward node for all steps (slicing would add T)
    for t in range(steps):
        xp_t = inputs[t]
        if gates == 1:
            new_h = act(xp_t + _project_state(spec, h, weight_hh, rec, 0, 1))
            new_c = None
        elif gates == 4:
            z = xp_t + _project_state(spec, h, weight_hh, rec, 0, 4)
            z_i, z_f, z_c, z_o = z.split(units, dim=-1)
            new_c = rec_act(z_f) * c + rec_act(z_i) * act(z_c)
            new_h = rec_act(z_o) * act(new_c)
        else:
            x_z, x_r, x_h = xp_t.split(units, dim=-1)
            new_c = None
            if spec.reset_after:
                hp = _project_state(spec, h, weight_hh, rec, 0, 3)
                if bias is not None:
                    hp = hp + bias[:, 1][:, None, :]
                h_z, h_r, h_h = hp.split(units, dim=-1)
                z = rec_act(x_z + h_z)
                r = rec_act(x_r + h_r)
                candidate = act(x_h + r * h_h)
            else:
                h_z, h_r = _project_state(spec, h, weight_hh, rec, 0, 2).split(units, dim=-1)
                z = rec_act(x_z + h_z)
                r = rec_act(x_r + h_r)
                mask_h = None if rec is None else (rec[:, 2] if rec.dim() == 4 else rec)
                h_c = h if mask_h is None else h * mask_h
                w_h = weight_hh[:, 2 * units :]
                candidate = act(x_h + torch.bmm(r * h_c, w_h.transpose(1, 2)))
            new_h = z * h + (1.0 - z) * candidate
        output = new_h
        if seq_mask is not None:
            valid = seq_mask[:, :, t, None]
            new_h = torch.where(valid, new_h, h)
            if new_c is not None:
                assert c is not None, "an LSTM (gates == 4) carries a cell state from step 0"
                new_c = torch.where(valid, new_c, c)
            if spec.zero_output_for_mask:
                output = torch.where(valid, output, torch.zeros_like(output))
            else:
                carried = torch.zeros_like(output) if previous is None else previous
                output = torch.where(valid, output, carried)
        h, c = new_h, new_c
        previous = output
        if spec.return_sequences:
            outputs.append(output)
    if spec.return_sequences:
        return torch.stack(outputs, dim=2)
    assert previous is not None
    return previous
