"""Optimizers: Keras 3 parity (weights after a few steps), state, config and errors."""

from __future__ import annotations

import inspect
import json
import math
import os
import re

import numpy as np
import pytest
import torch

import rnnkit.errors as errors
from rnnkit import optimizers
from rnnkit.optimizers import schedules

SHAPES = [(3, 4), (4,), (2,)]


@pytest.fixture(scope="module")
def keras():
    os.environ["KERAS_BACKEND"] = "torch"  # must precede the first keras import
    keras = pytest.importorskip("keras")
    if keras.backend.backend() != "torch":
        pytest.skip("keras was already imported with another backend")
    return keras


def _problem(seed: int = 0, dtype=np.float32):
    """Initial weights and a fixed quadratic loss: grad_i = a_i * w_i + b_i."""
    rng = np.random.default_rng(seed)
    inits = [rng.normal(size=s).astype(dtype) for s in SHAPES]
    a = [rng.uniform(0.5, 3.0, size=s).astype(dtype) for s in SHAPES]
    b = [rng.normal(size=s).astype(dtype) for s in SHAPES]

    def grads(weights):
        return [ai * w + bi for ai, w, bi in zip(a, weights, b, strict=True)]

    return inits, grads


def _keras_schedule(keras, schedule):
    cls = getattr(keras.optimizers.schedules, type(schedule).__name__)
    return cls(**schedule.get_config())


def _run_keras(keras, name, kwargs, steps, *, dtype=np.float32, none_at=None):
    inits, grad_fn = _problem(dtype=dtype)
    kwargs = dict(kwargs)
    if isinstance(kwargs.get("learning_rate"), schedules.LearningRateSchedule):
        kwargs["learning_rate"] = _keras_schedule(keras, kwargs["learning_rate"])
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


def _run_ours(name, kwargs, steps, *, dtype=np.float32, none_at=None):
    inits, grad_fn = _problem(dtype=dtype)
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


CASES = [
    ("SGD", {}),
    ("SGD", {"learning_rate": 0.05, "momentum": 0.9}),
    ("SGD", {"learning_rate": 0.05, "momentum": 0.9, "nesterov": True}),
    ("SGD", {"learning_rate": 0.1, "clipnorm": 0.5}),
    ("SGD", {"learning_rate": 0.1, "clipvalue": 0.2}),
    ("SGD", {"learning_rate": 0.1, "global_clipnorm": 0.7}),
    ("Adam", {}),
    ("Adam", {"learning_rate": 0.05, "amsgrad": True}),
    ("Adam", {"learning_rate": 0.05, "beta_1": 0.5, "beta_2": 0.9, "epsilon": 1e-3}),
    ("Adam", {"learning_rate": 0.05, "clipnorm": 0.3}),
    ("Adam", {"learning_rate": 0.05, "clipvalue": 0.1}),
    ("Adam", {"learning_rate": 0.05, "global_clipnorm": 0.4}),
    ("Adam", {"learning_rate": 0.05, "weight_decay": 0.1}),
    ("Adam", {"learning_rate": 0.05, "use_ema": True, "ema_momentum": 0.5}),
    ("Adam", {"learning_rate": 0.05, "use_ema": True, "ema_overwrite_frequency": 2}),
    ("Adam", {"learning_rate": 0.05, "gradient_accumulation_steps": 2}),
    ("Adam", {"learning_rate": 0.05, "loss_scale_factor": 4.0}),
    ("AdamW", {}),
    ("AdamW", {"learning_rate": 0.05, "weight_decay": 0.2, "amsgrad": True}),
    ("RMSprop", {}),
    ("RMSprop", {"learning_rate": 0.01, "momentum": 0.5}),
    ("RMSprop", {"learning_rate": 0.01, "centered": True}),
    ("RMSprop", {"learning_rate": 0.01, "centered": True, "momentum": 0.3, "rho": 0.8}),
    ("Adagrad", {}),
    ("Adagrad", {"learning_rate": 0.1, "initial_accumulator_value": 0.5, "clipnorm": 1.0}),
    ("Adamax", {"learning_rate": 0.05}),
    ("Nadam", {"learning_rate": 0.05}),
    ("Nadam", {"learning_rate": 0.05, "weight_decay": 0.05, "global_clipnorm": 1.0}),
    ("Adam", {"learning_rate": schedules.ExponentialDecay(0.1, decay_steps=2, decay_rate=0.5)}),
    ("SGD", {"learning_rate": schedules.PiecewiseConstantDecay([1, 3], [0.1, 0.05, 0.01])}),
    ("RMSprop", {"learning_rate": schedules.InverseTimeDecay(0.01, 1, 0.5, staircase=True)}),
    (
        "AdamW",
        {
            "learning_rate": schedules.CosineDecay(
                0.0, 4, alpha=0.1, warmup_target=0.1, warmup_steps=2
            )
        },
    ),
    ("SGD", {"learning_rate": schedules.PolynomialDecay(0.1, 3, power=2.0, cycle=True)}),
]


@pytest.mark.parametrize(("name", "kwargs"), CASES, ids=[f"{n}-{k}" for n, k in CASES])
def test_optimizer_matches_keras_after_steps(keras, name, kwargs):
    ours, opt = _run_ours(name, kwargs, steps=6)
    theirs = _run_keras(keras, name, kwargs, steps=6)
    for mine, reference in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(mine, reference, rtol=1e-6, atol=1e-6)
    assert opt.iterations == (3 if kwargs.get("gradient_accumulation_steps") else 6)


@pytest.mark.parametrize(
    ("name", "kwargs"),
    [("Adam", {"learning_rate": 0.05, "weight_decay": 0.1}), ("SGD", {"momentum": 0.9})],
)
def test_optimizer_skips_missing_grads_like_keras(keras, name, kwargs):
    ours, _ = _run_ours(name, kwargs, steps=4, none_at=2)
    theirs = _run_keras(keras, name, kwargs, steps=4, none_at=2)
    for mine, reference in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(mine, reference, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("name", ["Adam", "RMSprop", "Nadam"])
def test_optimizer_matches_keras_in_float64(keras, name):
    kwargs = {"learning_rate": 0.05}
    ours, _ = _run_ours(name, kwargs, steps=5, dtype=np.float64)
    theirs = _run_keras(keras, name, kwargs, steps=5, dtype=np.float64)
    for mine, reference in zip(ours, theirs, strict=True):
        assert mine.dtype == np.float64
        np.testing.assert_allclose(mine, reference, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", sorted(optimizers.OPTIMIZERS.values(), key=lambda c: c.__name__))
def test_optimizer_signature_and_config_match_keras(keras, name):
    cls = name
    theirs = getattr(keras.optimizers, cls.__name__)
    keras_params = [p for p in inspect.signature(theirs.__init__).parameters if p != "kwargs"]
    assert list(inspect.signature(cls.__init__).parameters) == keras_params
    ours_config, keras_config = cls().get_config(), theirs().get_config()
    ours_config.pop("name")
    keras_config.pop("name")
    assert ours_config == keras_config


@pytest.mark.parametrize(
    "schedule",
    [
        schedules.ExponentialDecay(0.1, decay_steps=3, decay_rate=0.7),
        schedules.ExponentialDecay(0.1, decay_steps=3, decay_rate=0.7, staircase=True),
        schedules.InverseTimeDecay(0.2, decay_steps=2, decay_rate=0.3),
        schedules.PiecewiseConstantDecay([2, 5], [1.0, 0.5, 0.25]),
        schedules.PolynomialDecay(0.1, decay_steps=5, end_learning_rate=0.01, power=0.5),
        schedules.CosineDecay(0.1, decay_steps=6, alpha=0.2),
        schedules.CosineDecay(0.01, decay_steps=6, warmup_target=0.1, warmup_steps=3),
    ],
    ids=lambda s: repr(s),
)
def test_schedule_matches_keras(keras, schedule):
    reference = _keras_schedule(keras, schedule)
    for step in range(12):
        expected = float(keras.ops.convert_to_numpy(reference(step)))
        assert schedule(step) == pytest.approx(expected, rel=1e-6, abs=1e-9)


def test_schedule_round_trips_through_config():
    schedule = schedules.CosineDecay(0.1, decay_steps=6, warmup_target=0.2, warmup_steps=2)
    restored = schedules.deserialize(json.loads(json.dumps(schedules.serialize(schedule))))
    assert [restored(s) for s in range(10)] == [schedule(s) for s in range(10)]


def test_schedules_reachable_as_attribute():
    import rnnkit.optimizers

    assert rnnkit.optimizers.schedules.ExponentialDecay is schedules.ExponentialDecay


def _trained(opt, steps, params=None):
    inits, grad_fn = _problem()
    params = params or [torch.nn.Parameter(torch.tensor(w)) for w in inits]
    opt.build(params)
    for _ in range(steps):
        for p, g in zip(params, grad_fn([p.detach().numpy() for p in params]), strict=True):
            p.grad = torch.tensor(g)
        opt.step()
    return params


@pytest.mark.parametrize(
    "make",
    [
        lambda: optimizers.Adam(0.05, amsgrad=True),
        lambda: optimizers.Nadam(0.05),
        lambda: optimizers.RMSprop(0.01, momentum=0.5, centered=True),
        lambda: optimizers.Adam(0.05, use_ema=True, gradient_accumulation_steps=2),
        lambda: optimizers.SGD(schedules.ExponentialDecay(0.1, 2, 0.5), momentum=0.9),
    ],
)
def test_optimizer_state_dict_resumes_exactly(make):
    straight = _trained(make(), steps=6)
    first = make()
    params = _trained(first, steps=3)
    state = first.state_dict()
    assert all(isinstance(v, (torch.Tensor, int, float)) for v in state.values())
    json.dumps({k: v for k, v in state.items() if not isinstance(v, torch.Tensor)})
    resumed = make()
    resumed.load_state_dict(state)  # before build: applied when build() runs
    resumed.build(params)
    assert resumed.iterations == first.iterations
    _trained(resumed, steps=3, params=params)
    for a, b in zip(straight, params, strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_optimizer_load_state_dict_rejects_mismatch():
    opt = optimizers.Adam()
    opt.build([torch.nn.Parameter(torch.zeros(3))])
    state = opt.state_dict()
    other = optimizers.Adam()
    other.build([torch.nn.Parameter(torch.zeros(4))])
    with pytest.raises(errors.CheckpointError, match=re.escape("has shape (3,) but the parameter")):
        other.load_state_dict(state)
    sgd = optimizers.SGD()
    sgd.build([torch.nn.Parameter(torch.zeros(3))])
    with pytest.raises(errors.CheckpointError, match="does not match this optimizer"):
        sgd.load_state_dict(state)


def test_optimizer_learning_rate_property():
    opt = optimizers.Adam(learning_rate=0.01)
    assert opt.learning_rate == pytest.approx(0.01)
    opt.learning_rate = 0.5
    assert opt.learning_rate == 0.5
    with pytest.raises(ValueError, match=re.escape("Received: learning_rate=-1")):
        opt.learning_rate = -1
    scheduled = optimizers.SGD(schedules.ExponentialDecay(1.0, 1, 0.5))
    _trained(scheduled, steps=2)
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
    inits, grad_fn = _problem()
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


@pytest.mark.parametrize("cls", sorted(optimizers.OPTIMIZERS.values(), key=lambda c: c.__name__))
def test_optimizer_config_round_trip(cls):
    opt = cls(learning_rate=0.02, clipnorm=1.5, name="custom")
    config = json.loads(json.dumps(opt.get_config()))
    restored = cls.from_config(config)
    assert restored.get_config() == opt.get_config()
    again = optimizers.deserialize(optimizers.serialize(opt))
    assert type(again) is cls
    assert again.get_config() == opt.get_config()


def test_optimizer_config_with_schedule_round_trips():
    opt = optimizers.Adam(schedules.ExponentialDecay(0.1, 10, 0.9, staircase=True))
    config = json.loads(json.dumps(opt.get_config()))
    assert config["learning_rate"]["class_name"] == "ExponentialDecay"
    restored = optimizers.Adam.from_config(config)
    assert isinstance(restored.get_config()["learning_rate"], dict)
    assert restored.learning_rate == pytest.approx(0.1)


@pytest.mark.parametrize(
    ("identifier", "expected"),
    [
        ("adam", optimizers.Adam),
        ("SGD", optimizers.SGD),
        ("RMSProp", optimizers.RMSprop),
        ("adagrad", optimizers.Adagrad),
        ("AdamW", optimizers.AdamW),
        ("nadam", optimizers.Nadam),
    ],
)
def test_get_resolves_names_case_insensitively(identifier, expected):
    assert type(optimizers.get(identifier)) is expected


def test_get_passes_instances_and_dicts():
    opt = optimizers.SGD()
    assert optimizers.get(opt) is opt
    assert optimizers.get(None) is None
    from_dict = optimizers.get({"class_name": "Adam", "config": {"learning_rate": 0.5}})
    assert from_dict.learning_rate == 0.5


def test_get_rejects_unknown_with_hint():
    with pytest.raises(ValueError, match=re.escape("unknown optimizer 'adm'")) as info:
        optimizers.get("adm")
    assert "Did you mean 'adam'?" in str(info.value)
    with pytest.raises(TypeError, match="expected an optimizer name"):
        optimizers.get(3)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: optimizers.Adam(learning_rate=0), "Received: learning_rate=0"),
        (lambda: optimizers.Adam(learning_rate=math.nan), "must be finite"),
        (
            lambda: optimizers.Adam(learning_rate="fast"),
            "must be a float or a LearningRateSchedule",
        ),
        (lambda: optimizers.Adam(beta_1=1.0), "`beta_1` must be a number in [0, 1)"),
        (lambda: optimizers.Adam(beta_2=-0.1), "Received: beta_2=-0.1"),
        (lambda: optimizers.Adam(epsilon=-1e-7), "`epsilon` must be a number >= 0"),
        (lambda: optimizers.SGD(clipnorm=0), "`clipnorm` must be a number > 0"),
        (lambda: optimizers.SGD(clipvalue=-1.0), "Received: clipvalue=-1.0"),
        (lambda: optimizers.SGD(clipnorm=1.0, global_clipnorm=1.0), "only one of `clipnorm`"),
        (lambda: optimizers.SGD(momentum=1.5), "`momentum` must be a number in [0, 1]"),
        (lambda: optimizers.AdamW(weight_decay=None), "use Adam for no decay"),
        (lambda: optimizers.Adam(gradient_accumulation_steps=1), "integer >= 2 or None"),
        (lambda: optimizers.Adam(amsgrad="yes"), "`amsgrad` must be True or False"),
    ],
)
def test_optimizer_rejects_bad_arguments(make, message):
    with pytest.raises((ValueError, TypeError), match=re.escape(message)):
        make()


def test_optimizer_repr_shows_non_defaults():
    assert repr(optimizers.SGD(momentum=0.9)) == "SGD(learning_rate=0.01, momentum=0.9)"
    assert repr(optimizers.Adam()) == "Adam(learning_rate=0.001)"


def test_optimizer_variables_count_like_keras(keras):
    w = torch.nn.Parameter(torch.zeros(3, 2))
    opt = optimizers.Adam()
    opt.build([w])
    reference = keras.optimizers.Adam()
    reference.build([keras.Variable(np.zeros((3, 2), dtype="float32"))])
    assert sum(v.numel() for v in opt.variables) == sum(
        int(np.prod(v.shape)) for v in reference.variables
    )
