import rnnkit.callbacks as callbacks
from rnnkit.callbacks.base import Callback


def test_callbacks_all_is_complete_and_importable():
    expected = {
        "Callback",
        "CallbackList",
        "History",
        "MonitorCallback",
        "EarlyStopping",
        "GradientHealth",
        "ModelCheckpoint",
        "ReduceLROnPlateau",
        "LearningRateScheduler",
        "TerminateOnNaN",
        "CSVLogger",
        "LambdaCallback",
        "ProgbarLogger",
    }
    assert set(callbacks.__all__) == expected
    for name in callbacks.__all__:
        assert issubclass(getattr(callbacks, name), Callback)


def test_callbacks_work_together_in_one_fit(make_model, fit, tmp_path):
    model = make_model(learning_rate=1.0)
    history = callbacks.History()
    stop = callbacks.EarlyStopping(patience=2, restore_best_weights=True)
    reduce = callbacks.ReduceLROnPlateau(factor=0.5, patience=1)
    logger = callbacks.CSVLogger(tmp_path / "log.csv")
    values = [1.0, 0.5, 0.6, 0.7, 0.4]
    fit([reduce, stop, logger, history], model, [{"val_loss": v} for v in values])
    assert history.epoch == [0, 1, 2, 3]
    assert history.history["learning_rate"] == [1.0, 1.0, 1.0, 0.5]
    assert stop.stopped_epoch == 3
    assert model.get_weights()[0][0, 0] == 1.0
    assert (tmp_path / "log.csv").read_text().splitlines()[0] == "epoch,learning_rate,val_loss"
