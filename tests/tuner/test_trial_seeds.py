"""#15 part 1: each trial is seeded from (search seed, trial id, execution).

Weights, dropout masks and shuffling are drawn from generators seeded per trial, so
two fresh searches with the same seed score every trial identically on a CPU.
"""

from __future__ import annotations

import numpy as np
import pytest
import rnn_builds

import rnnkit.tuner as kt


def _scores(
    tmp_path, name, *, seed=7, workers=1, build=rnn_builds.build_gru, max_trials=3, **kwargs
):
    tuner = kt.RandomSearch(
        build,
        objective="val_loss",
        max_trials=max_trials,
        seed=seed,
        directory=tmp_path,
        project_name=name,
    )
    tuner.search(
        *rnn_builds.data(), epochs=2, batch_size=8, validation_split=0.25, verbose=0,
        workers=workers, **kwargs,
    )  # fmt: skip
    trials = sorted(tuner.oracle.get_best_trials(max_trials), key=lambda t: t.trial_id)
    return [t.score for t in trials], tuner.oracle.get_best_trials(1)[0].trial_id


@pytest.fixture(scope="module")
def one_plain_worker(tmp_path_factory):
    """Scores and best trial of a seed-7 search, one worker, trials one by one."""
    return _scores(tmp_path_factory.mktemp("plain"), "plain", vectorize=False)


def test_same_seed_gives_bit_identical_scores_and_best_trial(tmp_path, one_plain_worker):
    first, best = one_plain_worker
    again, best_again = _scores(tmp_path, "b", vectorize=False)
    other, _ = _scores(tmp_path, "c", seed=8, max_trials=1, vectorize=False)
    assert first == again  # bit-identical
    assert best == best_again
    assert other != first[:1]  # trial 0 of another seed scores differently


def test_a_model_built_for_the_data_is_seeded_too(tmp_path):
    unshaped = {"build": rnn_builds.build_unshaped, "max_trials": 1, "vectorize": False}
    first, _ = _scores(tmp_path, "a", **unshaped)
    again, _ = _scores(tmp_path, "b", **unshaped)
    assert first == again


def test_two_workers_repeat_themselves_and_match_one_worker(tmp_path, one_plain_worker):
    two, best = _scores(tmp_path, "a", workers=2, vectorize=False)
    again, best_again = _scores(tmp_path, "b", workers=2, vectorize=False)
    one, best_one = one_plain_worker
    assert two == again  # bit-identical, whichever worker took which trial
    assert best == best_again == best_one
    # a worker of two runs 1 torch thread, one worker 2: the same arithmetic, possibly
    # summed in another order
    np.testing.assert_allclose(two, one, rtol=1e-5)


def test_two_vectorised_workers_match_one_plain_worker(tmp_path, one_plain_worker):
    # Which trials train together depends on which worker asks first, and a group's
    # batched matmuls round differently from one model's: equal within rounding, not bits.
    grouped, best = _scores(tmp_path, "a", workers=2, vectorize=True)
    one, best_one = one_plain_worker
    assert best == best_one
    np.testing.assert_allclose(grouped, one, rtol=1e-5)
