"""CallbackList.overrides: which hooks some callback implements."""

from __future__ import annotations

from rnnkit.callbacks import EarlyStopping
from rnnkit.callbacks import LambdaCallback
from rnnkit.callbacks.base import Callback
from rnnkit.callbacks.base import CallbackList
from rnnkit.callbacks.base import History
from rnnkit.callbacks.progress import ProgbarLogger


class _BatchCounter(Callback):
    def on_train_batch_end(self, batch, logs=None):
        pass


def test_overrides_sees_only_hooks_a_callback_implements():
    quiet = CallbackList([History(), EarlyStopping()])
    assert quiet.overrides("on_epoch_end")
    assert not quiet.overrides("on_train_batch_begin", "on_train_batch_end")
    assert CallbackList([History(), _BatchCounter()]).overrides("on_train_batch_end")
    assert CallbackList([ProgbarLogger()]).overrides("on_train_batch_end")


def test_overrides_sees_hooks_set_on_the_instance():
    counter = Callback()
    counter.on_train_batch_begin = lambda batch, logs=None: None
    assert CallbackList([counter]).overrides("on_train_batch_begin")
    assert CallbackList([LambdaCallback(on_train_batch_end=print)]).overrides("on_train_batch_end")
