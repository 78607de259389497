"""A fixed problem, run step by step through an rnnkit optimizer or a Keras one."""

from __future__ import annotations

import numpy as np
import torch

from rnnkit import optimizers
from rnnkit.optimizers import schedules

SHAPES = [(3, 4), (4,), (2,)]


def problem(seed: int = 0, dtype=np.float32):
    """Initial weights and a fixed quadratic loss: grad_i = a_i * w_i + b_i."""
    rng = np.random.default_rng(seed)
    inits = [rng.normal(size=s).astype(dtype) for s in SHAPES]
    a = [rng.uniform(0.5, 3.0, size=s).astype(dtype) for s in SHAPES]
    b = [rng.normal(size=s).astype(dtype) for s in SHAPES]

    def grads(weights):
        return [ai * w + bi for ai, w, bi in zip(a, weights, b, strict=True)]

    return inits, grads


def keras_schedule(keras, schedule):
    cls = getattr(keras.optimizers.schedules, type(schedule).__name__)
    return cls(**schedule.get_config())


def run_keras(keras, name, kwargs, steps, *, dtype=np.float32, none_at=None):
    inits, grad_fn = problem(dtype=dtype)
    kwargs = dict(kwargs)
    if isinstance(kwargs.get("learning_rate"), schedules.LearningRateSchedule):
        kwargs["learning_rate"] = keras_schedule(keras, kwargs["learning_rate"])
    variables = [keras.Variable(w.copy(), dtype=str(w.dtype)) for w in inits]
    opt = getattr(keras.optimizers, name)(**kwargs)
    for step in range(steps):
        grads = [torch.as_tensor(g) for g in grad_fn([v.numpy() for v in variables])]
        if step == none_at:
            grads[1] = None
        opt.apply(grads, variables)
    if kwargs.get("use_ema"):
        opt.finalize_variable_values(variables)
    return [v.numpy() for v in variables]


def run_ours(name, kwargs, steps, *, dtype=np.float32, none_at=None):
    inits, grad_fn = problem(dtype=dtype)
    params = [torch.nn.Parameter(torch.tensor(w)) for w in inits]
    opt = getattr(optimizers, name)(**kwargs)
    opt.build(params)
    for step in range(steps):
        grads = grad_fn([p.detach().numpy() for p in params])
        for p, g in zip(params, grads, strict=True):
            p.grad = torch.tensor(g)
        if step == none_at:
            params[1].grad = None
        opt.step()
    opt.finalize_variable_values()
    return [p.detach().numpy() for p in params], opt


def assert_matches_keras(keras, name, kwargs, *, steps=6):
    """Six steps of rnnkit's and Keras' optimizer give the same weights (float32)."""
    ours, opt = run_ours(name, kwargs, steps=steps)
    theirs = run_keras(keras, name, kwargs, steps=steps)
    for mine, reference in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(mine, reference, rtol=1e-6, atol=1e-6)
    accumulation = kwargs.get("gradient_accumulation_steps")
    assert opt.iterations == (steps // accumulation if accumulation else steps)


def assert_matches_keras_in_float64(keras, name, *, steps=5):
    kwargs = {"learning_rate": 0.05}
    ours, _ = run_ours(name, kwargs, steps=steps, dtype=np.float64)
    theirs = run_keras(keras, name, kwargs, steps=steps, dtype=np.float64)
    for mine, reference in zip(ours, theirs, strict=True):
        assert mine.dtype == np.float64
        np.testing.assert_allclose(mine, reference, rtol=1e-12, atol=1e-12)


def trained(opt, steps, params=None):
    """``steps`` updates of ``opt`` on the fixed problem; returns the parameters."""
    inits, grad_fn = problem()
    params = params or [torch.nn.Parameter(torch.tensor(w)) for w in inits]
    opt.build(params)
    for _ in range(steps):
        for p, g in zip(params, grad_fn([p.detach().numpy() for p in params]), strict=True):
            p.grad = torch.tensor(g)
        opt.step()
    return params
