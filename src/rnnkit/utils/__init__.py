"""Utilities with Keras names: seeding, padding, one-hot encoding, batch datasets."""

from rnnkit.utils.py_dataset import PyDataset
from rnnkit.utils.py_dataset import Sequence
from rnnkit.utils.ragged import RaggedBatches
from rnnkit.utils.ragged import bucket_by_length
from rnnkit.utils.ragged import pad_ragged
from rnnkit.utils.ragged import predict_ragged
from rnnkit.utils.ragged import sequence_lengths
from rnnkit.utils.ragged import sequence_mask
from rnnkit.utils.random import set_random_seed
from rnnkit.utils.sequences import pad_sequences
from rnnkit.utils.sequences import to_categorical
from rnnkit.utils.session import clear_session

__all__ = [
    "PyDataset",
    "RaggedBatches",
    "Sequence",
    "bucket_by_length",
    "clear_session",
    "pad_ragged",
    "pad_sequences",
    "predict_ragged",
    "sequence_lengths",
    "sequence_mask",
    "set_random_seed",
    "to_categorical",
]
