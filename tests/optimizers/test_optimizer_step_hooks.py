"""step() outside torch's per-call wrapper, unless a hook or a profiler is watching."""

from __future__ import annotations

import torch
from torch.optim.optimizer import register_optimizer_step_pre_hook

from rnnkit import optimizers
from rnnkit.optimizers.base import Optimizer


def _built(opt: Optimizer) -> torch.nn.Parameter:
    w = torch.nn.Parameter(torch.ones(2))
    opt.build([w])
    w.grad = torch.ones(2)
    return w


def test_torch_leaves_the_step_of_rnnkit_optimizers_unwrapped():
    optimizers.Adam()
    optimizers.SGD()
    assert optimizers.Adam.step is Optimizer.step
    assert optimizers.SGD.step is Optimizer.step


def test_global_step_hooks_still_run():
    opt = optimizers.SGD(learning_rate=0.5)
    w = _built(opt)
    seen = []
    handle = register_optimizer_step_pre_hook(lambda o, args, kwargs: seen.append(o.iterations))
    try:
        opt.step()
    finally:
        handle.remove()
    opt.step()  # no hook any more
    assert seen == [0]
    torch.testing.assert_close(w.detach(), torch.zeros(2), rtol=0, atol=0)


def test_the_profiler_still_sees_the_step():
    opt = optimizers.Adam()
    _built(opt)
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as prof:
        opt.step()
    assert "Optimizer.step#Adam.step" in {event.name for event in prof.events()}


class _Counting(optimizers.SGD):
    """A subclass with a step of its own: torch wraps it, hooks run once."""

    def step(self, closure=None):
        return super().step(closure)


def test_a_subclass_with_its_own_step_runs_each_hook_once():
    opt = _Counting(learning_rate=0.5)
    _built(opt)
    seen = []
    opt.register_step_pre_hook(lambda o, args, kwargs: seen.append("pre"))
    opt.register_step_post_hook(lambda o, args, kwargs: seen.append("post"))
    opt.step()
    assert seen == ["pre", "post"]
    assert opt.iterations == 1
