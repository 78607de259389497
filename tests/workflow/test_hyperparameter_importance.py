import pandas as pd

from rnnkit.workflow.importance import hyperparameter_importance


def test_a_trial_table_without_a_status_column_counts_every_trial_as_completed():
    scores = {"score": [1.0, 1.1, 3.0, 3.1], "hp_units": [8, 8, 64, 64]}
    importance, method = hyperparameter_importance(pd.DataFrame(scores))
    assert importance == {"units": 1.0}
    assert "over 4 completed trials" in method
    with_status = pd.DataFrame({"status": ["COMPLETED"] * 3 + ["FAILED"], **scores})
    importance, method = hyperparameter_importance(with_status)
    assert importance is None and "3 completed" in method
