"""compile / fit / evaluate / predict: Keras 3's training API on a torch module.

``Trainer`` is mixed into :class:`~rnnkit.models.sequential.Sequential`. Training
is ``train_step``, ``test_step`` and ``predict_step`` and one plain epoch loop that
calls callbacks at fixed points.

One job, Keras' training API; ``compile``, ``fit``, ``evaluate`` and ``predict`` share
the trainer's state on one mixin.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING
from typing import Any

import numpy as np
import torch

from rnnkit import losses as losses_mod
from rnnkit import metrics as metrics_mod
from rnnkit import optimizers as optimizers_mod
from rnnkit.callbacks.base import CallbackList
from rnnkit.callbacks.base import History
from rnnkit.errors import NotFittedError
from rnnkit.errors import RnnkitValueError
from rnnkit.models.data_adapter import ArrayBatches
from rnnkit.models.data_adapter import DatasetBatches
from rnnkit.models.data_adapter import check_dataset_arguments
from rnnkit.models.data_adapter import check_same_length
from rnnkit.models.data_adapter import is_dataset
from rnnkit.models.data_adapter import split_validation
from rnnkit.models.data_adapter import to_tensor

_SPARSE_LOSSES = ("sparse_categorical_crossentropy",)

if TYPE_CHECKING:
    # Trainer is only ever mixed into a torch module (Sequential): type-check it as one.
    _ModuleBase = torch.nn.Module
else:
    _ModuleBase = object


def _owns_parameters(module: torch.nn.Module) -> bool:
    """Whether ``module`` holds parameters itself (an RNN delegates to its cell)."""
    return next(module.parameters(recurse=False), None) is not None


class StepLayers:
    """The layers each training step visits, found once per ``fit``.

    Walking every module of the model twice a batch (penalties before the backward
    pass, constraints after the update) costs more than the visits themselves on a
    small network; ``fit`` finds the layers once. A plan lives for one ``fit`` call;
    ``train_step`` outside ``fit`` walks the modules each call, as before.

    Attributes:
        loss_terms: ``(module, penalty)`` for every module, in ``model.modules()``
            order: the step adds its ``activity_loss`` when its forward pass set
            one, and its ``regularization_loss()`` when ``penalty`` (it holds
            parameters and has the method).
        constrained: Layers holding parameters with an ``apply_constraints`` method.
    """

    __slots__ = ("constrained", "loss_terms")

    def __init__(self, loss_terms: list[tuple[Any, bool]], constrained: list[Any]):
        self.loss_terms = loss_terms
        self.constrained = constrained

    @classmethod
    def of(cls, model: torch.nn.Module) -> StepLayers:
        """Find the layers of ``model``.

        Example:
            >>> from rnnkit.layers import Dense, Dropout, Input, LSTM
            >>> from rnnkit.models import Sequential
            >>> model = Sequential([Input((5, 2)), LSTM(4), Dropout(0.1), Dense(1)])
            >>> plan = StepLayers.of(model)
            >>> [type(layer).__name__ for layer in plan.constrained]
            ['LSTMCell', 'Dense']
            >>> [type(layer).__name__ for layer, penalty in plan.loss_terms if penalty]
            ['LSTMCell', 'Dense']
        """
        loss_terms, constrained = [], []
        for layer in model.modules():
            owner = _owns_parameters(layer)
            penalty = owner and getattr(layer, "regularization_loss", None) is not None
            loss_terms.append((layer, penalty))
            if owner and getattr(layer, "apply_constraints", None) is not None:
                constrained.append(layer)
        return cls(loss_terms, constrained)


def _warn_ran_out(caller: str, what: str = "your input", then: str = "") -> None:
    warnings.warn(
        f"{caller}: {what} ran out of data{then}. Make sure the dataset or generator "
        "can produce at least steps * epochs batches.",
        UserWarning,
        stacklevel=3,
    )


def default_device() -> torch.device:
    """CUDA when available, else CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


class Trainer(_ModuleBase):
    """Keras' compile/fit/evaluate/predict for a model that is a torch module."""

    optimizer: Any = None
    loss: Any = None
    compiled_metrics: list[Any]
    stop_training: bool = False
    _fit_step_layers: StepLayers | None = None  # the layers a step visits, during fit
    history: History | None

    if TYPE_CHECKING:  # provided by the model class Trainer is mixed into (Sequential)
        built: bool
        built_input_shape: tuple[int | None, ...] | None

        def build(self, input_shape: Any = None) -> None:
            """Create the model's weights for inputs of ``input_shape``."""

        @property
        def input_features(self) -> int | None:
            """Features per timestep the model was built for."""

        @property
        def device(self) -> torch.device:
            """Where the model runs."""

    @staticmethod
    def group_training() -> Any:
        """How several models of one structure train together: ``rnnkit.models.stacked``.

        The tuner sees a model only through ``build(hp)`` and ``fit``; a model that
        can also be trained in a stacked group with others (vectorised trials) says
        so through this hook, which the tuner looks up on the model it was given.

        Example:
            >>> from rnnkit.models import Sequential
            >>> Sequential.group_training().__name__
            'rnnkit.models.stacked'
        """
        from rnnkit.models import stacked  # the trainer of groups builds on this class

        return stacked

    # ------------------------------------------------------------------ compile
    def compile(
        self,
        optimizer: Any = "rmsprop",
        loss: Any = None,
        loss_weights: Any = None,
        metrics: Any = None,
        weighted_metrics: Any = None,
        run_eagerly: bool = False,
        steps_per_execution: int = 1,
        jit_compile: Any = "auto",
        auto_scale_loss: bool = True,
    ) -> None:
        """Configure the model for training.

        Args:
            optimizer: Name (``"adam"``) or :class:`~rnnkit.optimizers.Optimizer`.
                Defaults to `"rmsprop"`.
            loss: Name (``"mse"``, ``"mean_squared_error"``, ...) or callable.
            loss_weights: Accepted for Keras compatibility; no effect (one output).
            metrics: List of metric names or objects (``["mae"]``).
            weighted_metrics: Metrics that also receive ``sample_weight``.
            run_eagerly: Accepted for Keras compatibility; no effect (always eager).
            steps_per_execution: Accepted for Keras compatibility; no effect.
            jit_compile: Accepted for Keras compatibility; no effect.
            auto_scale_loss: Accepted for Keras compatibility; no effect.
        """
        if loss is None:
            raise RnnkitValueError(
                "compile(): `loss` is required, e.g. model.compile(optimizer='adam', loss='mse')."
            )
        self.optimizer = optimizers_mod.get(optimizer)
        self.loss = losses_mod.get(loss)
        self.loss_name = getattr(self.loss, "name", getattr(loss, "__name__", str(loss)))
        self._metric_specs = (list(metrics or []), list(weighted_metrics or []))
        self.compiled_metrics = [metrics_mod.get(m, loss=loss) for m in self._metric_specs[0]]
        self.weighted_metrics = [metrics_mod.get(m, loss=loss) for m in self._metric_specs[1]]
        self._compile_config = {
            "optimizer": optimizers_mod.serialize(self.optimizer),
            "loss": loss if isinstance(loss, str) else self.loss_name,
            "metrics": [
                m if isinstance(m, str) else getattr(m, "name", str(m))
                for m in self._metric_specs[0]
            ],
        }
        self._optimizer_built = False
        self.compiled = True

    @property
    def metric_directions(self) -> dict[str, str]:
        """``"min"``/``"max"`` for every log key fit produces."""
        directions = {"loss": "min"}
        for name, metric in self._named_metrics():
            directions[name] = getattr(metric, "direction", "min")
        directions.update({f"val_{k}": v for k, v in list(directions.items())})
        return directions

    @property
    def metrics_names(self) -> list[str]:
        """Log keys of ``evaluate``: ``["loss", *metric names]``."""
        return ["loss", *(name for name, _ in self._named_metrics())]

    def _require_compiled(self, caller: str) -> None:
        if not getattr(self, "compiled", False):
            raise NotFittedError(
                f"{caller}() was called before compile(). Call "
                'model.compile(optimizer="adam", loss="mse") first.'
            )

    # ------------------------------------------------------------------- steps
    def _align_targets(self, y: torch.Tensor, y_pred: torch.Tensor) -> torch.Tensor:
        if y.dim() == y_pred.dim() - 1 and y_pred.shape[-1] == 1 and not self._is_sparse():
            return y.unsqueeze(-1)
        return y

    def _is_sparse(self) -> bool:
        loss = getattr(self, "loss", None)
        if isinstance(loss, losses_mod.SparseCategoricalCrossentropy):
            return True
        return getattr(self, "loss_name", "") in _SPARSE_LOSSES

    def _check_target_shape(self, y: torch.Tensor, y_pred: torch.Tensor, caller: str) -> None:
        if self._is_sparse():
            return
        if tuple(y.shape[1:]) != tuple(y_pred.shape[1:]):
            raise RnnkitValueError(
                f"{caller}: y has shape {tuple(y.shape)} but the model outputs shape "
                f"{tuple(y_pred.shape)} per batch. Make the last layer output "
                f"{tuple(y.shape[1:])} per sample, or reshape y."
            )

    def _step_layers(self) -> StepLayers:
        """The layers a training step visits: the plan cached by ``fit``, else a fresh one."""
        plan = self._fit_step_layers
        return plan if plan is not None else StepLayers.of(self)

    def _regularization(self) -> torch.Tensor | None:
        total = None
        for layer, has_penalty in self._step_layers().loss_terms:
            penalty = layer.regularization_loss() if has_penalty else None
            activity = getattr(layer, "activity_loss", None)
            for term in (penalty, activity):
                if term is not None:
                    total = term if total is None else total + term
            if activity is not None:
                layer.activity_loss = None
        return total

    def train_step(self, x, y, sample_weight=None) -> torch.Tensor:
        """One optimisation step on a batch; returns the (detached) loss."""
        y_pred = self(x, training=True)
        y = self._align_targets(y, y_pred)
        loss = self.loss(y, y_pred, sample_weight)
        penalty = self._regularization()
        if penalty is not None:
            loss = loss + penalty
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        for layer in self._step_layers().constrained:
            layer.apply_constraints()
        predictions = y_pred.detach()
        if hasattr(y_pred, "_keras_mask"):  # detach() drops the output mask
            predictions._keras_mask = y_pred._keras_mask
        self._update_metrics(y, predictions, sample_weight)
        return loss.detach()

    def test_step(self, x, y, sample_weight=None) -> torch.Tensor:
        """Loss of a batch in inference mode."""
        y_pred = self(x, training=False)
        y = self._align_targets(y, y_pred)
        loss = self.loss(y, y_pred, sample_weight)
        penalty = self._regularization()
        if penalty is not None:
            loss = loss + penalty
        self._update_metrics(y, y_pred, sample_weight)
        return loss

    def predict_step(self, x) -> torch.Tensor:
        """Model outputs for a batch in inference mode."""
        return self(x, training=False)

    def _update_metrics(self, y, y_pred, sample_weight) -> None:
        for metric in self.compiled_metrics:
            metric.update_state(y, y_pred)
        for metric in self.weighted_metrics:
            metric.update_state(y, y_pred, sample_weight)

    def _reset_metrics(self) -> None:
        for metric in [*self.compiled_metrics, *self.weighted_metrics]:
            metric.reset_state()

    def _metric_logs(self, prefix: str = "") -> dict[str, float]:
        return {f"{prefix}{name}": float(m.result()) for name, m in self._named_metrics()}

    def _named_metrics(self) -> list[tuple[str, Any]]:
        """``(log key, metric)`` pairs, named as Keras names them.

        A repeated name gets ``_1``, ``_2``…; a weighted metric whose name is taken
        becomes ``weighted_<name>``.
        """
        counts: dict[str, int] = {}

        def unique(name: str) -> str:
            if name not in counts:
                counts[name] = 1
                return name
            counts[name] += 1
            return f"{name}_{counts[name] - 1}"

        named = [(unique(m.name), m) for m in getattr(self, "compiled_metrics", [])]
        for m in getattr(self, "weighted_metrics", []):
            name = m.name if m.name not in counts else f"weighted_{m.name}"
            named.append((unique(name), m))
        return named

    # ---------------------------------------------------------------- arrays
    def _prepare(self, x, y, sample_weight, caller, setup=True):
        """Validate ``x``, ``y`` and ``sample_weight`` and return them as tensors.

        With ``setup`` also build the model and place it on its device; without it
        (later batches of a dataset) only check the input shape.
        """
        x_t = to_tensor(x, name="x", caller=caller)
        if x_t.dim() < 2:
            raise RnnkitValueError(
                f"{caller}: x must have at least 2 dimensions (samples, features); recurrent "
                f"layers need 3 (samples, timesteps, features). Received shape {tuple(x_t.shape)}."
            )
        y_t = None
        if y is not None:
            dtype = torch.long if self._is_sparse() else torch.float32
            y_t = to_tensor(y, name="y", caller=caller, dtype=dtype)
            check_same_length(x_t, y_t, caller=caller)
        sw_t = None
        if sample_weight is not None:
            sw_t = to_tensor(sample_weight, name="sample_weight", caller=caller)
            check_same_length(x_t, sw_t, caller=caller)
        if setup:
            self._ensure_ready(x_t, caller)
        else:
            self._check_input_shape(x_t, caller)
        return x_t, y_t, sw_t

    def _ensure_ready(self, x: torch.Tensor, caller: str) -> None:
        if not self.built:
            self.build((None, *x.shape[1:]))
        self._check_input_shape(x, caller)
        device = self.device
        if next(iter(self.parameters()), torch.empty(0)).device != device:
            self.to(device)
        if not getattr(self, "_optimizer_built", True) and self.optimizer is not None:
            self.optimizer.build([p for p in self.parameters() if p.requires_grad])
            self._optimizer_built = True

    def _check_input_shape(self, x: torch.Tensor, caller: str) -> None:
        expected_ndim = len(self.built_input_shape) if self.built_input_shape else None
        if expected_ndim is not None and x.dim() != expected_ndim:
            raise RnnkitValueError(
                f"{caller}: the model expects inputs of shape {self.built_input_shape}. "
                f"Received x with shape {tuple(x.shape)}."
            )
        expected = self.input_features
        if expected is not None and x.shape[-1] != expected:
            raise RnnkitValueError(
                f"{caller}: the model was built for inputs with {expected} features per "
                f"timestep (input shape {self.built_input_shape}). Received x with shape "
                f"{tuple(x.shape)} ({x.shape[-1]} features)."
            )

    # -------------------------------------------------------------------- fit
    def fit(
        self,
        x: Any = None,
        y: Any = None,
        batch_size: int | None = None,
        epochs: int = 1,
        verbose: Any = "auto",
        callbacks: list[Any] | None = None,
        validation_split: float = 0.0,
        validation_data: Any = None,
        shuffle: bool | str = True,
        class_weight: dict[int, float] | None = None,
        sample_weight: Any = None,
        initial_epoch: int = 0,
        steps_per_epoch: int | None = None,
        validation_steps: int | None = None,
        validation_batch_size: int | None = None,
        validation_freq: int = 1,
    ) -> History:
        """Train for ``epochs - initial_epoch`` epochs and return the :class:`History`.

        ``validation_split`` takes the LAST fraction of the samples, before shuffling
        (for time series, the validation data stays in the future). With
        ``validation_freq=n`` the epochs validated are those whose 1-based number is a
        multiple of ``n`` (as Keras, whatever ``initial_epoch`` is), so a fit continued
        with ``initial_epoch`` validates where one uninterrupted fit would.
        """
        caller = "fit()"
        self._require_compiled("fit")
        if x is None:
            raise RnnkitValueError("fit(): pass x (and y), or a dataset of batches as x.")
        val: ArrayBatches | DatasetBatches | None = None
        train: ArrayBatches | DatasetBatches
        if is_dataset(x):
            check_dataset_arguments(
                x, caller=caller, y=y, sample_weight=sample_weight,
                validation_split=validation_split,
            )  # fmt: skip
            train = DatasetBatches(
                x, self._batch_converter(class_weight), caller=caller,
                shuffle=shuffle, steps=steps_per_epoch,
            )  # fmt: skip
        else:
            if y is None:
                raise RnnkitValueError(
                    "fit(): pass both x and y (arrays of samples), or a dataset of (x, y) "
                    "batches as x."
                )
            batch_size = self._check_batch_size(batch_size, caller)
            tensors = list(self._prepare(x, y, sample_weight, caller))
            if validation_split and validation_data is None:
                tensors, split_off = split_validation(tensors, validation_split, caller=caller)
                val = ArrayBatches(
                    split_off, batch_size=validation_batch_size or batch_size, shuffle=False,
                    steps=validation_steps,
                )  # fmt: skip
            if class_weight is not None:  # training batches only, as in Keras
                tensors[2] = self._class_weights(tensors[1], class_weight, tensors[2])
            train = ArrayBatches(
                tensors, batch_size=batch_size, shuffle=shuffle, steps=steps_per_epoch
            )
        if validation_data is not None:
            val = self._validation_batches(
                validation_data, validation_batch_size or batch_size, validation_steps, caller
            )
        verbose = 1 if verbose == "auto" else int(verbose)
        history = History()
        callback_list = self._callback_list(callbacks, history, verbose, epochs, train.steps)
        self.stop_training = False
        device = self.device
        logs: dict[str, float] = {}
        callback_list.on_train_begin()
        self._fit_step_layers = None  # found at the first batch, once the model is built
        try:
            for epoch in range(initial_epoch, epochs):
                self._reset_metrics()
                self.train()
                train.on_epoch_begin()
                callback_list.on_epoch_begin(epoch)
                logs, seen, batches = self._train_epoch(train, callback_list, device)
                self.eval()
                if seen == 0 and train.ran_out:
                    _warn_ran_out(caller, then="; interrupting training")
                    break
                if train.ran_out:  # a short epoch, as Keras: say so and go on
                    _warn_ran_out(caller, then=f"; epoch {epoch + 1} ended after {batches} batches")
                if val is not None and (epoch + 1) % validation_freq == 0:  # as Keras: absolute
                    logs.update(self._evaluate_batches(val, None, caller, prefix="val_"))
                    if val.ran_out:
                        _warn_ran_out(
                            caller, "validation_data", "; the val_ logs of this epoch are "
                            "missing or cover fewer batches",
                        )  # fmt: skip
                train.on_epoch_end()
                callback_list.on_epoch_end(epoch, logs)
                if self.stop_training:
                    break
        finally:
            self._fit_step_layers = None
        self.eval()
        callback_list.on_train_end(logs)
        self.history = history
        return history

    def _train_epoch(
        self, train: ArrayBatches | DatasetBatches, callback_list: CallbackList, device
    ) -> tuple[dict[str, float], int, int]:
        """One epoch of training steps: ``(logs, samples seen, batches run)``.

        The per-batch logs (loss so far, metric results) are built only when a
        callback reads them, as Keras does; otherwise once, after the last batch.
        """
        batch_hooks = callback_list.overrides("on_train_batch_begin", "on_train_batch_end")
        total, seen, batches = 0.0, 0, 0
        logs: dict[str, float] = {}
        for step, (xb, yb, swb) in enumerate(train.epoch(device)):
            if self._fit_step_layers is None:
                self._fit_step_layers = StepLayers.of(self)
            if batch_hooks:
                callback_list.on_train_batch_begin(step)
            loss = self.train_step(xb, yb, swb)
            n = len(xb)
            total += float(loss) * n
            seen += n
            batches = step + 1
            if batch_hooks:
                logs = {"loss": total / seen, **self._metric_logs()}
                callback_list.on_train_batch_end(step, logs)
            if self.stop_training:
                break
        if seen and not batch_hooks:
            logs = {"loss": total / seen, **self._metric_logs()}
        return logs, seen, batches

    def _check_batch_size(self, batch_size: Any, caller: str) -> int:
        if batch_size is None:
            return 32
        if (
            isinstance(batch_size, bool)
            or not isinstance(batch_size, (int, np.integer))
            or batch_size <= 0
        ):
            raise RnnkitValueError(
                f"{caller}: batch_size must be a positive integer. Received: {batch_size!r}."
            )
        return int(batch_size)

    def _class_weights(self, y, class_weight, sw):
        labels = y.argmax(-1) if y.dim() > 1 and y.shape[-1] > 1 else y.reshape(len(y), -1)[:, 0]
        weights = torch.tensor(
            [class_weight.get(int(c), 1.0) for c in labels.long().tolist()], dtype=torch.float32
        )
        return weights if sw is None else sw * weights

    def _validation_batches(self, data, batch_size, steps, caller):
        """``validation_data`` (arrays or a dataset) as a batch source."""
        where = f"{caller} validation_data"
        if is_dataset(data):
            return DatasetBatches(data, self._batch_converter(), caller=where, steps=steps)
        if not isinstance(data, (tuple, list)) or len(data) not in (2, 3):
            raise RnnkitValueError(
                f"{caller}: validation_data must be a tuple (x_val, y_val) or "
                "(x_val, y_val, sample_weight_val), or a dataset of such batches."
            )
        x_v, y_v, *rest = data
        tensors = self._prepare(x_v, y_v, rest[0] if rest else None, where)
        batch_size = self._check_batch_size(batch_size, caller)
        return ArrayBatches(tensors, batch_size=batch_size, shuffle=False, steps=steps)

    def _batch_converter(self, class_weight: dict[int, float] | None = None):
        """``convert(x, y, sample_weight, caller=...)`` for the batches of a dataset."""
        ready = False  # the model is built and placed once, at the first batch

        def convert(x, y, sample_weight, *, caller: str):
            nonlocal ready
            x_t, y_t, sw_t = self._prepare(x, y, sample_weight, caller, setup=not ready)
            ready = True
            if class_weight is not None and y_t is not None:
                sw_t = self._class_weights(y_t, class_weight, sw_t)
            return x_t, y_t, sw_t

        return convert

    def _callback_list(self, callbacks, history, verbose, epochs, steps) -> CallbackList:
        from rnnkit.callbacks.progress import ProgbarLogger

        chain = [*list(callbacks or []), history]  # Keras order: user, History, progress
        if verbose:
            chain.append(ProgbarLogger())
        return CallbackList(chain, model=self, epochs=epochs, steps=steps, verbose=verbose)

    # --------------------------------------------------------------- evaluate
    def _evaluate_batches(self, batches, callback_list, caller, prefix=""):
        self._reset_metrics()
        self.eval()
        device = self.device
        total, seen = 0.0, 0
        logs: dict[str, float] = {}
        with torch.no_grad():
            for step, (xb, yb, swb) in enumerate(batches.epoch(device)):
                if yb is None:
                    raise RnnkitValueError(
                        f"{caller}: no targets to evaluate against. Pass y with x, or a "
                        "dataset whose batches are (x, y) tuples."
                    )
                if callback_list is not None:
                    callback_list.on_test_batch_begin(step)
                loss = self.test_step(xb, yb, swb)
                total += float(loss) * len(xb)
                seen += len(xb)
                logs = {"loss": total / seen, **self._metric_logs()}
                if callback_list is not None:
                    callback_list.on_test_batch_end(step, logs)
        return {f"{prefix}{k}": v for k, v in logs.items()}

    def evaluate(
        self,
        x: Any = None,
        y: Any = None,
        batch_size: int | None = None,
        verbose: Any = "auto",
        sample_weight: Any = None,
        steps: int | None = None,
        callbacks: list[Any] | None = None,
        return_dict: bool = False,
    ):
        """Loss (and metrics) on ``x, y``: a float, ``[loss, *metrics]`` or a dict."""
        caller = "evaluate()"
        self._require_compiled("evaluate")
        batches = self._inference_batches(x, y, sample_weight, batch_size, steps, caller)
        verbose = 1 if verbose == "auto" else int(verbose)
        callback_list = self._callback_list(callbacks, History(), verbose, 1, batches.steps)
        callback_list.on_test_begin()
        logs = self._evaluate_batches(batches, callback_list, caller)
        callback_list.on_test_end(logs)
        if return_dict:
            return logs
        values = [logs[k] for k in self.metrics_names if k in logs]
        return values[0] if len(values) == 1 else values

    # ---------------------------------------------------------------- predict
    def predict(
        self,
        x: Any,
        batch_size: int | None = None,
        verbose: Any = "auto",
        steps: int | None = None,
        callbacks: list[Any] | None = None,
    ) -> np.ndarray:
        """Model outputs for ``x`` as a numpy array, computed in batches."""
        caller = "predict()"
        batches = self._inference_batches(x, None, None, batch_size, steps, caller)
        verbose = 1 if verbose == "auto" else int(verbose)
        callback_list = self._callback_list(callbacks, History(), verbose, 1, batches.steps)
        callback_list.on_predict_begin()
        self.eval()
        outputs = []
        batch_hooks = callback_list.overrides("on_predict_batch_begin", "on_predict_batch_end")
        with torch.no_grad():
            for step, (xb, _, _) in enumerate(batches.epoch(self.device)):
                if batch_hooks:
                    callback_list.on_predict_batch_begin(step)
                outputs.append(self.predict_step(xb).cpu())
                if batch_hooks:
                    callback_list.on_predict_batch_end(step, {})
        callback_list.on_predict_end()
        if not outputs:
            return np.zeros((0,), dtype=np.float32)
        shapes = {tuple(o.shape[1:]) for o in outputs}
        if len(shapes) > 1:
            raise RnnkitValueError(
                f"{caller}: the batches gave outputs of different shapes per sample "
                f"({sorted(shapes)}), which cannot be stacked into one array. For padded "
                "sequence outputs of different lengths use rnnkit.utils.predict_ragged, or "
                "call predict_on_batch batch by batch."
            )
        return torch.cat(outputs).numpy()

    def _inference_batches(self, x, y, sample_weight, batch_size, steps, caller):
        """The batches of evaluate (``y`` given or in the dataset) or predict."""
        if is_dataset(x):
            check_dataset_arguments(x, caller=caller, y=y, sample_weight=sample_weight)
            return DatasetBatches(x, self._batch_converter(), caller=caller, steps=steps)
        batch_size = self._check_batch_size(batch_size, caller)
        if caller == "predict()":
            x_t = to_tensor(x, name="x", caller=caller)
            self._ensure_ready(x_t, caller)
            tensors = [x_t, None, None]
        else:
            tensors = list(self._prepare(x, y, sample_weight, caller))
        return ArrayBatches(tensors, batch_size=batch_size, shuffle=False, steps=steps)

    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None, return_dict=False):
        """One gradient step on a single batch; returns the loss (and metrics)."""
        self._require_compiled("train_on_batch")
        x_t, y_t, sw_t = self._prepare(x, y, sample_weight, "train_on_batch()")
        self._reset_metrics()
        self.train()
        device = self.device
        loss = self.train_step(
            x_t.to(device), y_t.to(device), None if sw_t is None else sw_t.to(device)
        )
        self.eval()
        logs = {"loss": float(loss), **self._metric_logs()}
        return logs if return_dict else (logs["loss"] if len(logs) == 1 else list(logs.values()))

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
        """Loss (and metrics) on a single batch."""
        return self.evaluate(
            x, y, batch_size=len(x), verbose=0, sample_weight=sample_weight, return_dict=return_dict
        )

    def predict_on_batch(self, x):
        """Outputs for a single batch."""
        return self.predict(x, batch_size=max(1, len(x)), verbose=0)
