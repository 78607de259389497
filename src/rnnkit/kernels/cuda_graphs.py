"""Replay GPU loops as CUDA graphs: one launch instead of thousands.

The ``general-torch`` kernel's loops launch some 20 small kernels per time step;
on a GPU, at the batch sizes recurrent models train with, launching them takes
longer than running them. :func:`run_graphed` runs a loop normally the first time
it meets a new configuration (which also warms up cuBLAS), records it as a
:class:`torch.cuda.CUDAGraph` the second time, and from then on copies the inputs
into the graph's own buffers, replays it, and returns copies of its outputs.

The cache holds the most recently used :data:`CAPACITY` graphs (a new batch size
or sequence length is a new graph; recording costs about one normal run). Set
``RNNKIT_CUDA_GRAPHS=0`` to run every loop normally. A loop that cannot be
recorded runs normally from then on, and :func:`graph_status` says why.
On a CPU nothing changes: the loop just runs.
"""

from __future__ import annotations

import logging
import os
from collections import OrderedDict
from collections.abc import Callable
from collections.abc import Sequence

import torch

logger = logging.getLogger(__name__)

#: Recorded graphs kept (least recently used dropped first).
CAPACITY = 64

Tensors = Sequence[torch.Tensor | None]


class _Graph:
    """One recorded loop with its static input and output buffers."""

    def __init__(self, loop: Callable[..., list], inputs: Tensors):
        self.inputs = [None if t is None else t.clone() for t in inputs]
        self.graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(self.graph):
            self.outputs = loop(*self.inputs)

    def __call__(self, inputs: Tensors) -> list[torch.Tensor | None]:
        for static, value in zip(self.inputs, inputs, strict=True):
            if static is not None:
                assert value is not None  # captured with a tensor here, so replays get one too
                static.copy_(value)
        self.graph.replay()
        return [None if t is None else t.clone() for t in self.outputs]


_graphs: OrderedDict[tuple, _Graph] = OrderedDict()
_seen: set[tuple] = set()
_failed: dict[tuple, str] = {}


def enabled() -> bool:
    """Whether loops on a GPU are recorded (``RNNKIT_CUDA_GRAPHS`` is not ``0``)."""
    return os.environ.get("RNNKIT_CUDA_GRAPHS", "1") != "0"


def run_graphed(key: tuple, loop: Callable[..., list], inputs: Tensors) -> list:
    """``loop(*inputs)``, replayed from a CUDA graph when the inputs are on a GPU.

    Args:
        key: What identifies the loop's code (its tensors' shapes, dtypes and
            devices are added here).
        loop: A function of ``inputs`` returning a list of new tensors (or
            ``None``), with no host synchronisation and no randomness.
        inputs: Tensors (or ``None``) the loop reads.

    Example:
        >>> import torch
        >>> run_graphed(("double",), lambda x: [x * 2], [torch.ones(2)])
        [tensor([2., 2.])]
    """
    first = next((t for t in inputs if t is not None), None)
    if first is None or first.device.type != "cuda" or not enabled():
        return loop(*inputs)
    full_key = (key, *(None if t is None else (t.shape, t.dtype, t.device) for t in inputs))
    graph = _graphs.get(full_key)
    if graph is not None:
        _graphs.move_to_end(full_key)
        return graph(inputs)
    if full_key in _failed or full_key not in _seen:
        _seen.add(full_key)
        return loop(*inputs)  # first meeting: run normally (and warm up)
    try:
        graph = _Graph(loop, inputs)
    except Exception as error:  # recording is an optimisation: fall back, say why once
        _failed[full_key] = f"{type(error).__name__}: {error}"
        logger.warning("rnnkit: running %s without a CUDA graph (%s)", key, _failed[full_key])
        return loop(*inputs)
    _graphs[full_key] = graph
    while len(_graphs) > CAPACITY:
        _graphs.popitem(last=False)
    return graph(inputs)


def graph_status() -> dict[str, object]:
    """Recorded graphs, and the loops that could not be recorded with the reason.

    Example:
        >>> sorted(graph_status())
        ['failed', 'recorded']
    """
    return {"recorded": len(_graphs), "failed": dict(_failed)}


def clear() -> None:
    """Drop every recorded graph (frees their GPU memory pools)."""
    _graphs.clear()
    _seen.clear()
    _failed.clear()
