"""state_dict / load_state_dict (_state.py): exact resumes, before or after build."""

import json
import re

import pytest
import torch
from optimizer_helpers import trained

import rnnkit.errors as errors
from rnnkit import optimizers
from rnnkit.optimizers import schedules
from rnnkit.tuner._checkpoint import flatten_state
from rnnkit.tuner._checkpoint import unflatten_state

MAKERS = [
    lambda: optimizers.Adam(0.05, amsgrad=True),
    lambda: optimizers.Nadam(0.05),
    lambda: optimizers.RMSprop(0.01, momentum=0.5, centered=True),
    lambda: optimizers.Adam(0.05, use_ema=True, gradient_accumulation_steps=2),
    lambda: optimizers.SGD(schedules.ExponentialDecay(0.1, 2, 0.5), momentum=0.9),
]


@pytest.mark.parametrize("make", MAKERS)
def test_optimizer_state_dict_resumes_exactly(make):
    straight = trained(make(), steps=6)
    first = make()
    params = trained(first, steps=3)
    state = first.state_dict()
    assert all(isinstance(v, (torch.Tensor, int, float)) for v in state.values())
    json.dumps({k: v for k, v in state.items() if not isinstance(v, torch.Tensor)})
    resumed = make()
    resumed.load_state_dict(state)  # before build: applied when build() runs
    resumed.build(params)
    assert resumed.iterations == first.iterations
    trained(resumed, steps=3, params=params)
    for a, b in zip(straight, params, strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


@pytest.mark.parametrize("make", MAKERS)
def test_optimizer_state_survives_the_tuner_checkpoint_format(make):
    straight = trained(make(), steps=6)
    first = make()
    params = trained(first, steps=3)
    tensors, skeleton = flatten_state(first.state_dict())
    skeleton = json.loads(json.dumps(skeleton))  # what the checkpoint writes
    resumed = make()
    resumed.build(params)  # after build: applied at once
    resumed.load_state_dict(unflatten_state(tensors, skeleton, int_keys=True))
    trained(resumed, steps=3, params=params)
    for a, b in zip(straight, params, strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_optimizer_state_lives_in_torch_state_under_keras_slot_names():
    opt = optimizers.Adam(0.1)
    params = trained(opt, steps=2)
    assert [sorted(opt.state[p]) for p in params] == [["momentum", "velocity"]] * 3
    state = opt.state_dict()
    for i, p in enumerate(params):
        torch.testing.assert_close(
            state[f"state.{i}.velocity"], opt.state[p]["velocity"], rtol=0, atol=0
        )
    state["state.0.velocity"].add_(1.0)  # state_dict() hands out copies
    assert not torch.equal(state["state.0.velocity"], opt.state[params[0]]["velocity"])


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


def test_optimizer_load_state_dict_mismatch_leaves_state_untouched():
    saved = optimizers.Adam(0.1)
    trained(saved, steps=2)
    state = saved.state_dict()
    state["state.2.velocity"] = torch.zeros(5)  # wrong shape, after good entries
    target = optimizers.Adam(0.1)
    trained(target, steps=1)
    before = target.state_dict()
    with pytest.raises(errors.CheckpointError, match=re.escape("'state.2.velocity' has shape")):
        target.load_state_dict(state)
    after = target.state_dict()
    assert after.keys() == before.keys()
    assert after["iterations"] == 1
    for key in (k for k in before if k.startswith("state.")):
        torch.testing.assert_close(after[key], before[key], rtol=0, atol=0)


def test_optimizer_state_dict_runs_torch_hooks():
    opt = optimizers.SGD(0.1, momentum=0.9)
    trained(opt, steps=1)
    calls = []
    opt.register_state_dict_pre_hook(lambda o: calls.append("save-pre"))
    opt.register_state_dict_post_hook(lambda o, s: {**s, "iterations": 41})
    opt.register_load_state_dict_pre_hook(lambda o, s: {**s, "iterations": s["iterations"] + 1})
    opt.register_load_state_dict_post_hook(lambda o: calls.append("load-post"))
    state = opt.state_dict()
    assert state["iterations"] == 41
    opt.load_state_dict(state)
    assert opt.iterations == 42
    assert calls == ["save-pre", "load-post"]
