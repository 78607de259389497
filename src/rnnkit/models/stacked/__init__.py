"""Vectorised training: K models of one structure trained as one computation.

The tuner trains trials that share a structure (same layers, cell, depth,
activations, input shape; different units, dropout rates, learning rates, seeds)
together: every per-timestep matmul becomes one batched matmul over a leading trial
axis, unit counts are padded to the largest with padding units whose weights stay
zero, and each trial keeps its own shuffling, dropout masks, optimizer, callbacks and
history, so it ends exactly (within float rounding) where training it alone would.

On a CPU with rnnkit's native library nothing is padded: each trial runs on its own
parameters, and the K recurrences of a layer — where a small network's time goes — run
as one native call whose row blocks are shared out over the threads
(:mod:`.per_trial`). Elsewhere (a GPU) the trials run as the padded stack.

Modules, one job each: :mod:`.signature` (what groups, and why not),
:mod:`.arguments` (which ``fit`` arguments and callbacks), :mod:`.specs` (what the
network knows of each layer), :mod:`.weights` (the padded stack and the hand-over to
each model), :mod:`.network` (the stacked forward pass), :mod:`.per_trial` (the
forward pass per trial, recurrences grouped), :mod:`.trainer` (the epoch loop),
:mod:`.grouping` (splitting a list of models into groups).
"""

from rnnkit.models.stacked.arguments import callback_problem
from rnnkit.models.stacked.arguments import fit_problem
from rnnkit.models.stacked.grouping import Grouping
from rnnkit.models.stacked.grouping import group_models
from rnnkit.models.stacked.signature import NotStackable
from rnnkit.models.stacked.signature import structure
from rnnkit.models.stacked.signature import why_not_together
from rnnkit.models.stacked.trainer import fit_stacked

__all__ = [
    "Grouping",
    "NotStackable",
    "callback_problem",
    "fit_problem",
    "fit_stacked",
    "group_models",
    "structure",
    "why_not_together",
]
