"""Suite-wide settings: one torch thread (the CI machine has 2 cores and several
test processes may share them), non-interactive matplotlib."""

import os

os.environ.setdefault("MPLBACKEND", "Agg")

import torch

torch.set_num_threads(1)
