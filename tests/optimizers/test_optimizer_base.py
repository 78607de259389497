"""What every optimizer shares (base.py): clipping, weight decay, EMA, gradient
accumulation and loss scaling against Keras; the learning rate, build, step, apply."""

import inspect
import re

import numpy as np
import pytest
import torch
from optimizer_helpers import assert_matches_keras
from optimizer_helpers import problem
from optimizer_helpers import run_keras
from optimizer_helpers import run_ours
from optimizer_helpers import trained

import rnnkit.errors as errors
from rnnkit import optimizers
from rnnkit.optimizers import schedules

ALL = sorted(optimizers.OPTIMIZERS.values(), key=lambda c: c.__name__)

CASES = [
    ("SGD", {"learning_rate": 0.1, "clipnorm": 0.5}),
    ("SGD", {"learning_rate": 0.1, "clipvalue": 0.2}),
    ("SGD", {"learning_rate": 0.1, "global_clipnorm": 0.7}),
    ("Adam", {"learning_rate": 0.05, "clipnorm": 0.3}),
    ("Adam", {"learning_rate": 0.05, "clipvalue": 0.1}),
    ("Adam", {"learning_rate": 0.05, "global_clipnorm": 0.4}),
    ("Adam", {"learning_rate": 0.05, "weight_decay": 0.1}),
    ("Adam", {"learning_rate": 0.05, "use_ema": True, "ema_momentum": 0.5}),
    ("Adam", {"learning_rate": 0.05, "use_ema": True, "ema_overwrite_frequency": 2}),
    ("Adam", {"learning_rate": 0.05, "gradient_accumulation_steps": 2}),
    ("Adam", {"learning_rate": 0.05, "loss_scale_factor": 4.0}),
]


@pytest.mark.parametrize(("name", "kwargs"), CASES, ids=[f"{n}-{k}" for n, k in CASES])
def test_optimizer_base_options_match_keras_after_steps(keras, name, kwargs):
    assert_matches_keras(keras, name, kwargs)


@pytest.mark.parametrize(
    ("name", "kwargs"),
    [("Adam", {"learning_rate": 0.05, "weight_decay": 0.1}), ("SGD", {"momentum": 0.9})],
)
def test_optimizer_skips_missing_grads_like_keras(keras, name, kwargs):
    ours, _ = run_ours(name, kwargs, steps=4, none_at=2)
    theirs = run_keras(keras, name, kwargs, steps=4, none_at=2)
    for mine, reference in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(mine, reference, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("cls", ALL, ids=lambda c: c.__name__)
def test_optimizer_signature_and_config_match_keras(keras, cls):
    theirs = getattr(keras.optimizers, cls.__name__)
    keras_params = [p for p in inspect.signature(theirs.__init__).parameters if p != "kwargs"]
    assert list(inspect.signature(cls.__init__).parameters) == keras_params
    ours_config, keras_config = cls().get_config(), theirs().get_config()
    ours_config.pop("name")
    keras_config.pop("name")
    assert ours_config == keras_config


def test_optimizer_learning_rate_property():
    opt = optimizers.Adam(learning_rate=0.01)
    assert opt.learning_rate == pytest.approx(0.01)
    opt.learning_rate = 0.5
    assert opt.learning_rate == 0.5
    with pytest.raises(ValueError, match=re.escape("Received: learning_rate=-1")):
        opt.learning_rate = -1
    scheduled = optimizers.SGD(schedules.ExponentialDecay(1.0, 1, 0.5))
    trained(scheduled, steps=2)
    assert scheduled.learning_rate == 0.25
    with pytest.raises(TypeError, match="LearningRateSchedule"):
        scheduled.learning_rate = 0.1


def test_optimizer_step_skips_none_and_zero_grad_clears():
    w, v = torch.nn.Parameter(torch.ones(2)), torch.nn.Parameter(torch.ones(2))
    opt = optimizers.SGD(learning_rate=0.5)
    opt.build([w, v])
    opt.step()  # no gradients at all: nothing happens
    assert opt.iterations == 0
    w.grad = torch.ones(2)
    opt.step()
    torch.testing.assert_close(w.detach(), torch.full((2,), 0.5))
    torch.testing.assert_close(v.detach(), torch.ones(2))
    opt.zero_grad()
    assert w.grad is None
    assert opt.iterations == 1


def test_optimizer_build_is_idempotent_and_guards_other_params():
    w = torch.nn.Parameter(torch.ones(2))
    opt = optimizers.Adam()
    opt.build([w])
    opt.build(iter([w]))
    with pytest.raises(ValueError, match="create a new optimizer"):
        opt.build([torch.nn.Parameter(torch.ones(2))])
    with pytest.raises(ValueError, match="appears twice"):
        optimizers.Adam().build([w, w])
    with pytest.raises(errors.NotFittedError, match=re.escape("Call optimizer.build(")):
        optimizers.Adam().step()


def test_optimizer_apply_matches_step():
    inits, grad_fn = problem()
    a = [torch.nn.Parameter(torch.tensor(w)) for w in inits]
    b = [torch.nn.Parameter(torch.tensor(w)) for w in inits]
    opt_a, opt_b = optimizers.Adam(0.1), optimizers.Adam(0.1)
    opt_a.build(a)
    grads = [torch.tensor(g) for g in grad_fn(inits)]
    for p, g in zip(a, grads, strict=True):
        p.grad = g
    opt_a.step()
    opt_b.apply(grads, b)
    for x, y in zip(a, b, strict=True):
        torch.testing.assert_close(x, y, rtol=0, atol=0)


def test_optimizer_exclude_from_weight_decay_by_name():
    w, bias = torch.nn.Parameter(torch.ones(2)), torch.nn.Parameter(torch.ones(2))
    opt = optimizers.SGD(learning_rate=0.5, weight_decay=0.1)
    opt.exclude_from_weight_decay(var_names=["bias"])
    opt.build([("weight", w), ("bias", bias)])
    w.grad, bias.grad = torch.zeros(2), torch.zeros(2)
    opt.step()
    torch.testing.assert_close(w.detach(), torch.full((2,), 0.95))
    torch.testing.assert_close(bias.detach(), torch.ones(2))


def test_optimizer_exclude_from_weight_decay_by_identity():
    w, bias = torch.nn.Parameter(torch.ones(2)), torch.nn.Parameter(torch.ones(2))
    opt = optimizers.SGD(learning_rate=0.5, weight_decay=0.1)
    opt.exclude_from_weight_decay(var_list=[bias])
    opt.build([w, bias])
    w.grad, bias.grad = torch.zeros(2), torch.zeros(2)
    opt.step()
    torch.testing.assert_close(w.detach(), torch.full((2,), 0.95))
    torch.testing.assert_close(bias.detach(), torch.ones(2))


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: optimizers.SGD(clipnorm=0), "`clipnorm` must be a number > 0"),
        (lambda: optimizers.SGD(clipvalue=-1.0), "Received: clipvalue=-1.0"),
        (lambda: optimizers.SGD(clipnorm=1.0, global_clipnorm=1.0), "only one of `clipnorm`"),
        (lambda: optimizers.Adam(gradient_accumulation_steps=1), "integer >= 2 or None"),
    ],
)
def test_optimizer_rejects_bad_arguments(make, message):
    with pytest.raises((ValueError, TypeError), match=re.escape(message)):
        make()


def test_optimizer_variables_count_like_keras(keras):
    w = torch.nn.Parameter(torch.zeros(3, 2))
    opt = optimizers.Adam()
    opt.build([w])
    reference = keras.optimizers.Adam()
    reference.build([keras.Variable(np.zeros((3, 2), dtype="float32"))])
    assert sum(v.numel() for v in opt.variables) == sum(
        int(np.prod(v.shape)) for v in reference.variables
    )
