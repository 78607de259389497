import pytest
import tuner_fakes as f

import rnnkit.tuner as kt
from rnnkit.tuner.hyperband import HyperbandSchedule

# keras-tuner's schedule for max_epochs=100, factor=3 (KERAS_NOTES c4):
# bracket -> [(trials, cumulative epochs, initial epoch) per round]
TUTORIAL = {
    4: [(98, 2, 0), (33, 4, 2), (11, 12, 4), (4, 34, 12), (2, 100, 34)],
    3: [(41, 4, 0), (14, 12, 4), (5, 34, 12), (2, 100, 34)],
    2: [(18, 12, 0), (6, 34, 12), (2, 100, 34)],
    1: [(9, 34, 0), (3, 100, 34)],
    0: [(6, 100, 0)],
}


def test_schedule_matches_keras_tuner_table():
    plan = HyperbandSchedule(100, 3, 1).plan()
    table = {}
    for row in plan.rows:
        table.setdefault(row.bracket, []).append((row.trials, row.epochs, row.initial_epoch))
    assert table == TUTORIAL
    assert (plan.trials, plan.max_epochs_trained) == (254, 2672)


@pytest.mark.parametrize(
    ("max_epochs", "iterations", "brackets", "trials", "epochs"),
    [(100, 5, 5, 1270, 13360), (10, 1, 3, 30, 120), (30, 1, 4, 90, 576), (9, 1, 3, 23, 75)],
)
def test_search_cost_previews_trials_and_epochs(
    tmp_path, max_epochs, iterations, brackets, trials, epochs
):
    tuner = kt.Hyperband(
        f.build_model,
        objective="val_loss",
        max_epochs=max_epochs,
        factor=3,
        hyperband_iterations=iterations,
        directory=tmp_path,
        project_name="hb",
    )
    cost = tuner.search_cost()
    assert (cost.schedule.num_brackets, cost.trials, cost.max_epochs_trained) == (
        brackets,
        trials,
        epochs,
    )
    assert f"up to {trials:,} trials" in str(cost)


def test_hyperband_runs_the_schedule_and_promotions_continue_with_optimizer_state(tmp_path, xy):
    tuner = kt.Hyperband(
        f.build_model,
        objective="val_loss",
        max_epochs=9,
        factor=3,
        seed=5,
        directory=tmp_path,
        project_name="hb",
    )
    tuner.search(*xy, epochs=1000, validation_split=0.25)  # epochs is overridden, as in keras-tuner
    trials = list(tuner.oracle.trials.values())
    assert len(trials) == 23
    assert all(t.status is kt.TrialStatus.COMPLETED for t in trials)
    promoted = [t for t in trials if t.control["parent"]]
    assert len(promoted) == 23 - (9 + 5 + 3)  # all but the round-0 trials of brackets 2, 1, 0
    by_id = {t.trial_id: t for t in trials}
    for t in promoted:
        parent = by_id[t.control["parent"]]
        assert t.values == parent.values
        assert t.control["initial_epoch"] == parent.control["epochs"]
        # weights and optimizer state continued from the parent's best epoch
        assert t.metrics["start_progress"] == t.control["initial_epoch"]
        assert t.metrics["start_iterations"] == 2 * t.control["initial_epoch"]
        assert t.best_step == t.control["epochs"] - 1
    round0 = [t for t in trials if not t.control["parent"]]
    assert len({tuple(sorted(t.values.items())) for t in round0}) == len(round0)
