"""#15 part 1: each trial is seeded from (search seed, trial id, execution).

Weights, dropout masks and shuffling are drawn from generators seeded per trial, so
two fresh searches with the same seed score every trial identically on a CPU.
"""

from __future__ import annotations

import numpy as np
import rnn_builds

import rnnkit.tuner as kt


def _scores(tmp_path, name, *, seed=7, workers=1, build=rnn_builds.build_gru, **kwargs):
    tuner = kt.RandomSearch(
        build,
        objective="val_loss",
        max_trials=3,
        seed=seed,
        directory=tmp_path,
        project_name=name,
    )
    tuner.search(
        *rnn_builds.data(), epochs=2, batch_size=8, validation_split=0.25, verbose=0,
        workers=workers, **kwargs,
    )  # fmt: skip
    trials = sorted(tuner.oracle.get_best_trials(3), key=lambda t: t.trial_id)
    return [t.score for t in trials], tuner.oracle.get_best_trials(1)[0].trial_id


def test_same_seed_gives_bit_identical_scores_and_best_trial(tmp_path):
    first, best = _scores(tmp_path, "a", vectorize=False)
    again, best_again = _scores(tmp_path, "b", vectorize=False)
    other, _ = _scores(tmp_path, "c", seed=8, vectorize=False)
    assert first == again  # bit-identical
    assert best == best_again
    assert first != other


def test_a_model_built_for_the_data_is_seeded_too(tmp_path):
    first, _ = _scores(tmp_path, "a", build=rnn_builds.build_unshaped, vectorize=False)
    again, _ = _scores(tmp_path, "b", build=rnn_builds.build_unshaped, vectorize=False)
    assert first == again


def test_two_vectorised_workers_repeat_themselves_and_match_one_plain_worker(tmp_path):
    two, best = _scores(tmp_path, "a", workers=2, vectorize=True)
    again, best_again = _scores(tmp_path, "b", workers=2, vectorize=True)
    one, best_one = _scores(tmp_path, "c", workers=1, vectorize=False)
    assert two == again  # bit-identical
    assert best == best_again == best_one
    # a worker of two runs 1 torch thread, one worker 2, and groups of trials run
    # batched matmuls: the same arithmetic, possibly summed in another order
    np.testing.assert_allclose(two, one, rtol=1e-5)
