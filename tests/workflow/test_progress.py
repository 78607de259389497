"""The time estimate shown while a command trains: from measured epoch times, never guessed."""

import io

import pytest
from rich.console import Console

from rnnkit.errors import RnnkitValueError
from rnnkit.workflow.progress import TimeEstimate
from rnnkit.workflow.progress import WorkPlan
from rnnkit.workflow.progress import format_duration


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def _epoch(estimate, clock, at):
    clock.now = at
    estimate.advance("epochs")


def test_the_estimate_follows_measured_epochs_early_stopping_and_each_network():
    clock = Clock()
    # two networks, one tuning trial each, then the best trained again: 4 runs of <= 4 epochs
    plan = WorkPlan.for_comparison(models=2, max_trials=1, epochs=4)
    assert plan == WorkPlan(trainings=4, epochs=4, models=2)
    estimate = TimeEstimate(plan, clock=clock)
    estimate.begin("models", total=2)
    estimate.begin("epochs", total=4)
    assert estimate.remaining() is None  # nothing measured yet: no number
    assert estimate.describe() == "elapsed 0 s, time left: measuring the first epoch"
    _epoch(estimate, clock, 1.0)
    # 3 epochs left in this run, 1 more run of this network, 2 of the next; 1 s per epoch
    assert estimate.remaining() == pytest.approx(3 + 4 + 2 * 4)
    _epoch(estimate, clock, 2.0)
    estimate.end("epochs")  # early stopping after 2 of 4 epochs: runs now count 2 epochs
    assert estimate.remaining() == pytest.approx(2 + 2 * 2)
    estimate.begin("epochs", total=4)
    _epoch(estimate, clock, 3.0)
    _epoch(estimate, clock, 4.0)
    estimate.end("epochs")
    estimate.advance("models")
    estimate.begin("epochs", total=4)
    _epoch(estimate, clock, 7.0)  # the second network is three times slower
    # 1 epoch left of 2, then its final run of 2 epochs, at its own 3 s per epoch
    assert estimate.remaining() == pytest.approx((1 + 2) * 3.0)
    assert estimate.describe() == "elapsed 7 s, about 9 s left (from 5 epochs timed)"


def test_the_time_between_runs_counts_as_training_time():
    clock = Clock()
    estimate = TimeEstimate(WorkPlan(trainings=3, epochs=2), clock=clock)
    estimate.begin("epochs", total=2)
    _epoch(estimate, clock, 1.0)
    _epoch(estimate, clock, 2.0)
    estimate.end("epochs")
    clock.now = 4.0  # 2 s of checkpointing and building the next model
    estimate.begin("epochs", total=2)
    _epoch(estimate, clock, 5.0)
    # 5 s for 3 epochs; 1 epoch left in this run and 2 in the last one
    assert estimate.remaining() == pytest.approx((1 + 2) * 5 / 3)


def test_a_network_whose_final_fit_is_skipped_does_not_leave_runs_owed():
    clock = Clock()
    estimate = TimeEstimate(WorkPlan.for_comparison(models=2, max_trials=1, epochs=2), clock=clock)
    estimate.begin("epochs", total=2)
    _epoch(estimate, clock, 1.0)
    _epoch(estimate, clock, 2.0)
    estimate.end("epochs")
    estimate.advance("models")  # its trial's weights were reused: no second run
    # the next network's two runs of 2 epochs at 1 s each
    assert estimate.remaining() == pytest.approx(4.0)


def test_a_plan_without_work_is_refused():
    with pytest.raises(RnnkitValueError, match=r"TimeEstimate\(\): the plan needs at least 1"):
        TimeEstimate(WorkPlan(trainings=0, epochs=20))


def test_format_duration():
    assert [format_duration(s) for s in (0, 59.4, 60, 3599, 7260)] == [
        "0 s",
        "59 s",
        "1 min 00 s",
        "59 min 59 s",
        "2 h 01 min",
    ]


def test_the_cli_prints_the_time_left_after_each_network_even_without_a_terminal():
    from rnnkit.cli.display import RichProgress

    clock = Clock()
    out = io.StringIO()
    console = Console(file=out, force_terminal=False, width=200)
    plan = WorkPlan.for_comparison(models=2, max_trials=0, epochs=3)
    with RichProgress(console=console, plan=plan, clock=clock) as progress:
        progress.begin("models", total=2)
        progress.begin("epochs", total=3)
        for at in (2.0, 4.0, 6.0):
            clock.now = at
            progress.advance("epochs")
        progress.end("epochs")
        progress.advance("models")
        progress.message("RNN: 3 epochs, 2.00 s/epoch, 214 parameters")
        progress.begin("epochs", total=3)
        for at in (8.0, 10.0, 12.0):
            clock.now = at
            progress.advance("epochs")
        progress.end("epochs")
        progress.advance("models")
        progress.message("GRU: 3 epochs, 2.00 s/epoch, 558 parameters")
    assert out.getvalue().splitlines() == [
        "RNN: 3 epochs, 2.00 s/epoch, 214 parameters. "
        "Elapsed 6 s, about 6 s left (from 3 epochs timed).",
        "GRU: 3 epochs, 2.00 s/epoch, 558 parameters",  # nothing left to estimate
    ]
