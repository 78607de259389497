"""Suite-wide settings: one torch thread (the CI machine has 2 cores and several
test processes may share them), non-interactive matplotlib."""

import os

os.environ.setdefault("MPLBACKEND", "Agg")

import torch

torch.set_num_threads(1)

if torch.cuda.is_available():
    # The Keras oracle (KERAS_BACKEND=torch) would run cuDNN in TF32 on a GPU; the
    # comparisons need full float32 on both sides (rnnkit's fused path sets it itself).
    torch.backends.cudnn.allow_tf32 = False
