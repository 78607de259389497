"""rnnkit optimizers as torch optimizers: param_groups, torch LR schedulers, closures,
hooks, copies, and exact resumes with a scheduler."""

import copy
import math
import pickle

import numpy as np
import pytest
import torch
from optimizer_helpers import problem
from optimizer_helpers import trained
from torch.optim.lr_scheduler import LambdaLR
from torch.optim.lr_scheduler import OneCycleLR
from torch.optim.lr_scheduler import StepLR

import rnnkit.errors as errors
from rnnkit import optimizers
from rnnkit.callbacks import LambdaCallback
from rnnkit.layers import Dense
from rnnkit.models import Sequential
from rnnkit.optimizers import schedules


def _fresh_params():
    inits, _ = problem()
    return [torch.nn.Parameter(torch.tensor(w)) for w in inits]


def _run(opt, params, steps, scheduler=None):
    """``steps`` of ``opt`` (and ``scheduler``) on the fixed problem; the rates used."""
    _, grad_fn = problem()
    rates = []
    for _ in range(steps):
        rates.append(opt.param_groups[0]["lr"])
        for p, g in zip(params, grad_fn([p.detach().numpy() for p in params]), strict=True):
            p.grad = torch.tensor(g)
        opt.step()
        if scheduler is not None:
            scheduler.step()
    return rates


def test_optimizer_is_a_torch_optimizer_with_one_group():
    opt = optimizers.Adam(0.25)
    assert isinstance(opt, torch.optim.Optimizer)
    assert [(g["lr"], g["params"]) for g in opt.param_groups] == [(0.25, [])]
    w = torch.nn.Parameter(torch.ones(2))
    opt.build([w])
    assert len(opt.param_groups) == 1
    assert opt.param_groups[0]["params"][0] is w
    with pytest.raises(ValueError, match="keep all parameters in one group"):
        opt.add_param_group({"params": [torch.nn.Parameter(torch.ones(1))]})


def test_learning_rate_and_param_groups_agree():
    opt = optimizers.SGD(0.1)
    assert opt.param_groups[0]["lr"] == opt.learning_rate == float(np.float32(0.1))
    opt.learning_rate = 0.5
    assert opt.param_groups[0]["lr"] == 0.5
    opt.param_groups[0]["lr"] = 0.125  # what a torch LR scheduler does
    assert opt.learning_rate == 0.125
    assert opt.get_config()["learning_rate"] == 0.125
    w = torch.nn.Parameter(torch.ones(2))
    opt.build([w])
    w.grad = torch.ones(2)
    opt.step()
    torch.testing.assert_close(w.detach(), torch.full((2,), 0.875), rtol=0, atol=0)


def test_param_groups_follow_a_keras_schedule():
    opt = optimizers.SGD(schedules.ExponentialDecay(1.0, decay_steps=1, decay_rate=0.5))
    assert opt.param_groups[0]["lr"] == 1.0
    trained(opt, steps=2)
    assert opt.param_groups[0]["lr"] == opt.learning_rate == 0.25
    opt.iterations = 0
    assert opt.param_groups[0]["lr"] == 1.0


def test_a_torch_scheduler_cannot_override_a_keras_schedule():
    opt = optimizers.SGD(schedules.ExponentialDecay(1.0, decay_steps=1, decay_rate=0.5))
    LambdaLR(opt, lambda epoch: 0.1)  # sets param_groups[0]["lr"] to 0.1 at once
    w = torch.nn.Parameter(torch.ones(2))
    opt.build([w])
    w.grad = torch.ones(2)
    with pytest.raises(errors.RnnkitValueError, match="Use one or the other, not both") as info:
        opt.step()
    assert "set to 0.1 (by a torch LR scheduler?)" in str(info.value)
    assert "ExponentialDecay (1.0 at this step)" in str(info.value)
    torch.testing.assert_close(w.detach(), torch.ones(2), rtol=0, atol=0)


def test_step_lr_drives_sgd_exactly_like_torch_sgd():
    ours_params, torch_params = _fresh_params(), _fresh_params()
    ours = optimizers.SGD(learning_rate=0.25)
    ours.build(ours_params)
    reference = torch.optim.SGD(torch_params, lr=0.25)
    ours_rates = _run(ours, ours_params, 6, StepLR(ours, step_size=2, gamma=0.5))
    torch_rates = _run(reference, torch_params, 6, StepLR(reference, step_size=2, gamma=0.5))
    assert ours_rates == torch_rates == [0.25, 0.25, 0.125, 0.125, 0.0625, 0.0625]
    for mine, theirs in zip(ours_params, torch_params, strict=True):
        torch.testing.assert_close(mine, theirs, rtol=0, atol=0)


def _keras_adam_reference(rates, *, beta_1, beta_2, epsilon, keras_epsilon=True):
    """Keras' Adam in float64 on the fixed problem; ``keras_epsilon=False`` puts epsilon
    where torch.optim.Adam puts it (after the bias correction of ``sqrt(v)``)."""
    inits, grad_fn = problem(dtype=np.float64)
    weights = [w.copy() for w in inits]
    m = [np.zeros_like(w) for w in weights]
    v = [np.zeros_like(w) for w in weights]
    for t, lr in enumerate(rates, start=1):
        grads = grad_fn(weights)
        for i, g in enumerate(grads):
            m[i] = beta_1 * m[i] + (1 - beta_1) * g
            v[i] = beta_2 * v[i] + (1 - beta_2) * g * g
            if keras_epsilon:
                alpha = lr * math.sqrt(1 - beta_2**t) / (1 - beta_1**t)
                weights[i] = weights[i] - alpha * m[i] / (np.sqrt(v[i]) + epsilon)
            else:
                v_hat = v[i] / (1 - beta_2**t)
                weights[i] = weights[i] - lr * m[i] / (1 - beta_1**t) / (np.sqrt(v_hat) + epsilon)
    return weights


def test_lambda_lr_drives_adam_with_keras_epsilon_placement():
    params = _fresh_params()
    opt = optimizers.Adam(learning_rate=0.125, beta_1=0.8, beta_2=0.9, epsilon=0.1)
    opt.build(params)
    rates = _run(opt, params, 5, LambdaLR(opt, lambda epoch: 1.0 / (1 + epoch)))
    assert rates == [0.125 / (1 + epoch) for epoch in range(5)]
    hyper = {"beta_1": 0.8, "beta_2": 0.9, "epsilon": 0.1}
    keras_way = _keras_adam_reference(rates, **hyper)
    torch_way = _keras_adam_reference(rates, **hyper, keras_epsilon=False)
    for mine, expected, other in zip(params, keras_way, torch_way, strict=True):
        np.testing.assert_allclose(mine.detach().numpy(), expected, rtol=1e-6, atol=1e-6)
        assert np.abs(expected - other).max() > 1e-3  # the placement matters at this epsilon


def test_one_cycle_lr_drives_adam_like_torch_adam_without_epsilon():
    ours_params, torch_params = _fresh_params(), _fresh_params()
    ours = optimizers.Adam(learning_rate=0.01, epsilon=0.0)
    ours.build(ours_params)
    reference = torch.optim.Adam(torch_params, lr=0.01, eps=0.0)

    def one_cycle(opt):
        return OneCycleLR(opt, max_lr=0.1, total_steps=6, cycle_momentum=False)

    ours_rates = _run(ours, ours_params, 6, one_cycle(ours))
    torch_rates = _run(reference, torch_params, 6, one_cycle(reference))
    assert ours_rates == torch_rates
    assert ours_rates[0] == pytest.approx(0.1 / 25)  # max_lr / div_factor, then up and down
    assert max(ours_rates) > 0.09 > ours_rates[-1]
    for mine, theirs in zip(ours_params, torch_params, strict=True):
        torch.testing.assert_close(mine, theirs, rtol=1e-5, atol=1e-6)


def test_one_cycle_lr_refuses_to_cycle_momentum_it_cannot_set():
    opt = optimizers.SGD(0.1, momentum=0.9)
    with pytest.raises(ValueError, match="optimizer must support momentum"):
        OneCycleLR(opt, max_lr=0.1, total_steps=6)


@pytest.mark.parametrize(
    ("make", "schedule"),
    [
        (lambda: optimizers.SGD(0.25, momentum=0.9), lambda o: StepLR(o, 2, gamma=0.5)),
        (lambda: optimizers.Adam(0.125), lambda o: LambdaLR(o, lambda e: 0.9**e)),
    ],
    ids=["SGD-StepLR", "Adam-LambdaLR"],
)
def test_resume_with_a_torch_scheduler_is_exact(make, schedule):
    straight_params = _fresh_params()
    straight = make()
    straight.build(straight_params)
    straight_scheduler = schedule(straight)
    straight_rates = _run(straight, straight_params, 6, straight_scheduler)

    params = _fresh_params()
    first = make()
    first.build(params)
    first_scheduler = schedule(first)
    rates = _run(first, params, 3, first_scheduler)
    optimizer_state, scheduler_state = first.state_dict(), first_scheduler.state_dict()

    resumed = make()
    resumed.build(params)
    resumed_scheduler = schedule(resumed)
    resumed.load_state_dict(optimizer_state)
    resumed_scheduler.load_state_dict(scheduler_state)
    rates += _run(resumed, params, 3, resumed_scheduler)
    assert rates == straight_rates
    for a, b in zip(straight_params, params, strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_step_uses_state_tensors_that_tools_rebind():
    w = torch.nn.Parameter(torch.zeros(1))
    opt = optimizers.SGD(0.1, momentum=0.5)
    opt.build([w])
    opt.state[w]["momentum"] = torch.full((1,), 2.0)  # as Lightning's device moves rebind them
    w.grad = torch.ones(1)
    opt.step()  # m = 0.5 * 2 - 0.1 * 1; w = w + m
    torch.testing.assert_close(opt.state[w]["momentum"], torch.full((1,), 0.9))
    torch.testing.assert_close(w.detach(), torch.full((1,), 0.9))


def test_step_runs_a_closure_and_returns_its_loss():
    w = torch.nn.Parameter(torch.tensor([1.0, 2.0]))
    opt = optimizers.SGD(learning_rate=0.5)
    opt.build([w])

    def closure():
        opt.zero_grad()
        loss = (w**2).sum()
        loss.backward()
        return loss

    loss = opt.step(closure)
    assert loss.item() == 5.0
    torch.testing.assert_close(w.detach(), torch.zeros(2), rtol=0, atol=0)


def test_step_runs_torch_step_hooks():
    w = torch.nn.Parameter(torch.ones(2))
    opt = optimizers.SGD(learning_rate=0.5)
    opt.build([w])
    seen = []
    opt.register_step_pre_hook(lambda o, args, kwargs: seen.append(("pre", o.iterations)))
    opt.register_step_post_hook(lambda o, args, kwargs: seen.append(("post", o.iterations)))
    w.grad = torch.ones(2)
    opt.step()
    assert seen == [("pre", 0), ("post", 1)]


def test_zero_grad_can_keep_zeroed_tensors():
    w = torch.nn.Parameter(torch.ones(2))
    opt = optimizers.Adam()
    opt.build([w])
    w.grad = torch.ones(2)
    opt.zero_grad(set_to_none=False)
    torch.testing.assert_close(w.grad, torch.zeros(2), rtol=0, atol=0)


def test_deepcopy_keeps_arguments_and_state():
    opt = optimizers.Adam(0.1, amsgrad=True, clipnorm=2.0)
    params = trained(opt, steps=2)
    clone = copy.deepcopy(opt)
    assert clone.get_config() == opt.get_config()
    assert clone.iterations == 2
    trained(opt, steps=2, params=params)
    trained(clone, steps=2, params=clone.params)
    for a, b in zip(params, clone.params, strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_pickle_works_with_a_scheduler_attached():
    opt = optimizers.SGD(0.25, momentum=0.9)
    params = trained(opt, steps=1)
    StepLR(opt, step_size=1, gamma=0.5)  # wraps opt.step in a local function
    restored = pickle.loads(pickle.dumps(opt))
    assert restored.get_config() == opt.get_config()
    assert restored.learning_rate == 0.25
    torch.testing.assert_close(
        restored.state_dict()["state.0.momentum"], opt.state[params[0]]["momentum"]
    )


def test_fit_follows_a_torch_scheduler_stepped_each_epoch():
    model = Sequential([Dense(1)])
    model.compile(optimizer=optimizers.SGD(learning_rate=0.5), loss="mse")
    scheduler = StepLR(model.optimizer, step_size=1, gamma=0.5)  # before the optimizer is built
    x, y = np.ones((4, 3), dtype="float32"), np.zeros((4, 1), dtype="float32")
    rates = []
    model.fit(
        x,
        y,
        epochs=3,
        batch_size=4,
        verbose=0,
        callbacks=[
            LambdaCallback(
                on_epoch_end=lambda epoch, logs: (
                    rates.append(model.optimizer.learning_rate),
                    scheduler.step(),
                )
            )
        ],
    )
    assert rates == [0.5, 0.25, 0.125]
    assert model.optimizer.learning_rate == 0.0625
    assert model.optimizer.iterations == 3
