"""Reading a search's results: best trials, summaries, a pandas DataFrame.

Mixed into :class:`rnnkit.tuner.base_tuner.BaseTuner`; everything is recomputed
from the study, so the results of a search run by other processes or machines
are visible as soon as they are stored.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING
from typing import Any

from rnnkit.tuner._hp_types import hp_from_config
from rnnkit.tuner._view import SearchView
from rnnkit.tuner._view import build_view
from rnnkit.tuner._view import space_size
from rnnkit.tuner._worker_loop import check_attempt
from rnnkit.tuner.folds import stored_folds
from rnnkit.tuner.hyperparameters import HyperParameters
from rnnkit.tuner.trial import Trial
from rnnkit.tuner.trial import TrialStatus

if TYPE_CHECKING:
    import pandas as pd

SPACE_ATTR = "rnnkit_space"


class ResultsMixin:
    """The tuner's results API: best trials and hyperparameters, summaries, a dataframe."""

    oracle: Any
    project_dir: Any
    _study: Any

    # ---------------------------------------------------------------- views
    def _view(self) -> SearchView:
        self._ensure_open()  # type: ignore[attr-defined]
        attempts = self._study.attempts()
        where = f"Study {self._study_label()}"  # type: ignore[attr-defined]
        for attempt in attempts:  # records written by something else: a named error
            check_attempt(attempt, where)
        return build_view(attempts)

    def _stored_space(self, *, refresh: bool = True) -> dict[str, Any]:
        """The space recorded in the study (cached between allocations)."""
        cache = getattr(self, "_space_cache", None)
        if refresh or cache is None:
            configs = self._study.study_attrs().get(SPACE_ATTR) or []
            cache = {item["config"]["name"]: hp_from_config(item) for item in configs}
            self._space_cache = cache
        return dict(cache)

    def _space_hp(self) -> HyperParameters:
        """The known search space as a ``HyperParameters`` (no values)."""
        self._ensure_open()  # type: ignore[attr-defined]
        hp = HyperParameters()
        hp.merge(list(self._known_space().values()))  # type: ignore[attr-defined]
        return hp

    def _best_trials(self, num_trials: int = 1) -> list[Trial]:
        direction = self.oracle.objective.direction
        done = [
            t
            for t in self._view().ordered()
            if t.status is TrialStatus.COMPLETED and t.score is not None and math.isfinite(t.score)
        ]
        sign = -1.0 if direction == "max" else 1.0
        done.sort(key=lambda t: (sign * float(t.score), t.trial_id))  # type: ignore[arg-type]
        return done[:num_trials]

    # --------------------------------------------------------------- public
    def get_best_hyperparameters(self, num_trials: int = 1) -> list[HyperParameters]:
        """Values of the best completed trials, best first.

        Failed trials (including those with a NaN or infinite loss) are never
        returned, so the list can be shorter than ``num_trials``.
        """
        space = self._space_hp()
        result = []
        for trial in self._best_trials(num_trials):
            hp = space.copy()
            hp.values = dict(trial.values)
            result.append(hp)
        return result

    def get_best_trials(self, num_trials: int = 1) -> list[Trial]:
        """The best completed :class:`Trial` objects, best first."""
        return self._best_trials(num_trials)

    @property
    def remaining_trials(self) -> int | None:
        """Trials left before ``max_trials`` (``None`` when unlimited)."""
        return self.oracle.remaining_trials

    def results_summary(self, num_trials: int = 10, print_fn: Callable[..., None] = print) -> None:
        """Print the best trials like keras-tuner's ``results_summary``.

        Args:
            num_trials: How many of the best trials to show. Defaults to `10`.
            print_fn: Where lines go. Defaults to `print`.
        """
        print_fn("Results summary")
        print_fn(f"Results in {self.project_dir}")
        print_fn(f"Showing {num_trials} best trials")
        print_fn(f"{self.oracle.objective}")
        for trial in self._best_trials(num_trials):
            print_fn()
            trial.summary(print_fn=print_fn)
        failed = [t for t in self._view().ordered() if t.status is TrialStatus.FAILED]
        if failed:
            print_fn()
            print_fn(f"{len(failed)} failed trial(s): " + ", ".join(t.trial_id for t in failed))

    def search_space_summary(
        self, extended: bool = False, print_fn: Callable[..., None] = print
    ) -> None:
        """Print the search space like keras-tuner, plus its size.

        Args:
            extended: Also print each hyperparameter's grid. Defaults to `False`.
            print_fn: Where lines go. Defaults to `print`.
        """
        self._ensure_space()  # type: ignore[attr-defined]
        space = list(self._known_space().values())  # type: ignore[attr-defined]
        print_fn("Search space summary")
        print_fn(f"Default search space size: {len(space)}")
        for hp in space:
            config = hp.get_config()
            name = config.pop("name")
            print_fn(f"{name} ({type(hp).__name__})")
            print_fn(config)
            if extended and hp.grid() is not None:
                print_fn(f"  values: {list(hp.grid())}")
        size = space_size(space)
        print_fn(
            "Distinct configurations: "
            + ("unbounded (continuous ranges)" if size is None else f"{size:,}")
        )

    def results_dataframe(self) -> pd.DataFrame:
        """One row per trial: id, status, score, best step, ``hp_*`` values, ``metric_*``.

        A search with folds (``search(cv=...)``) adds ``fold_<f>_score`` and
        ``fold_<f>_best_step`` for each fold ``f`` (oldest first; missing for a fold
        a pruned or cut trial did not finish); ``score`` is their mean.

        Example:
            ``tuner.results_dataframe().sort_values("score").head()``
        """
        import pandas as pd

        rows = []
        for group in self._view().trials.values():
            t = group.trial
            row: dict[str, Any] = {
                "trial_id": t.trial_id,
                "status": t.status.value,
                "score": t.score,
                "best_step": t.best_step,
            }
            row.update({f"hp_{k}": v for k, v in t.values.items()})
            row.update({f"metric_{k}": v for k, v in t.metrics.items()})
            for number, fold in enumerate(stored_folds(group.last.attr("result") or {})):
                row[f"fold_{number}_score"] = fold["value"]
                row[f"fold_{number}_best_step"] = fold["best_step"]
            row.update(
                attempts=t.attempts,
                duration_s=t.duration_s,
                worker=t.worker,
                optuna_numbers=list(t.numbers),
                message=t.message,
            )
            for key in ("bracket", "round", "epochs", "parent"):
                if key in t.control:
                    row[f"hyperband_{key}"] = t.control[key]
            rows.append(row)
        return pd.DataFrame(rows)
