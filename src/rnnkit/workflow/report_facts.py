"""Facts a report states about a comparison: the winner, the units, which networks hit the cap.

The plots, the HTML page and the command line all read these, so they can
never disagree:

- `best_model`: the model with the lowest test MAE, baseline or network;
- `stopped_at_cap`: whether a network ran out of epochs while its validation
  loss was still falling, so its best epoch is no convergence point;
- `target_units` and `axis_label`: the target's name and unit on every axis.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

__all__ = [
    "BUNDLED_UNITS",
    "IMPROVING_WINDOW",
    "axis_label",
    "best_model",
    "cap_sentence",
    "capped_networks",
    "epoch_cap",
    "stopped_at_cap",
    "target_units",
    "units_phrase",
]

#: Units of the bundled Beijing PM2.5 columns (the dataset README: `datasets/data/README.md`).
BUNDLED_UNITS = {
    "pm2.5": "µg/m³",
    "DEWP": "°C",
    "TEMP": "°C",
    "PRES": "hPa",
    "Iws": "m/s",
    "Is": "h",
    "Ir": "h",
}
#: A network whose best validation epoch is among this many last epochs was still improving.
IMPROVING_WINDOW = 3


def best_model(metrics: Any) -> str | None:
    """The model with the lowest finite test MAE (the verdicts' "Lowest test MAE"), or `None`.

    Example:
        >>> import pandas as pd
        >>> metrics = pd.DataFrame({"MAE": [3.0, 2.5, np.nan]}, index=["naive", "LSTM", "GRU"])
        >>> best_model(metrics)
        'LSTM'
    """
    if metrics is None or "MAE" not in metrics:
        return None
    finite = metrics["MAE"].astype(float)
    finite = finite[np.isfinite(finite)]
    return str(finite.idxmin()) if len(finite) else None


def epoch_cap(config: Any) -> int | None:
    """The most epochs one training run may take under `config` (before any extension)."""
    cap = getattr(config, "epoch_cap", None)
    if cap is None:
        cap = getattr(config, "epochs", None)
    return int(cap) if cap is not None else None


def stopped_at_cap(fit: Any, config: Any = None) -> bool:
    """Whether a network stopped at its epoch cap while its validation loss was still falling.

    Reads `fit.stopped_at_cap` when training recorded it; otherwise decides from
    the run itself: it ran the cap's epochs (`config.epochs`, by default the
    fit's own run settings) and its best validation epoch is among the last
    `IMPROVING_WINDOW`. Such a best epoch is where the budget ended, not where
    the network converged.

    Args:
        fit: A `FitResult` (or anything with `history`, `best_epoch`, `epochs_run`).
        config: The run settings. Defaults to `None` (`fit.data.config`).

    Returns:
        `True` when more epochs would likely have helped.

    Example:
        >>> from types import SimpleNamespace as NS
        >>> run = NS(best_epoch=20, epochs_run=20, history={}, data=NS(config=NS(epochs=20)))
        >>> stopped_at_cap(run), stopped_at_cap(NS(**{**vars(run), "best_epoch": 10}))
        (True, False)
    """
    recorded = getattr(fit, "stopped_at_cap", None)
    if isinstance(recorded, (bool, np.bool_)):
        return bool(recorded)
    if config is None:
        config = getattr(getattr(fit, "data", None), "config", None)
    cap = epoch_cap(config)
    val_loss = [v for v in (fit.history.get("val_loss") or []) if np.isfinite(v)]
    epochs_run = int(fit.epochs_run)
    best = int(np.argmin(val_loss)) + 1 if len(val_loss) == epochs_run else int(fit.best_epoch)
    return cap is not None and epochs_run >= cap and epochs_run - best < IMPROVING_WINDOW


def capped_networks(result: Any) -> list[str]:
    """Names of the networks in a comparison that stopped at the epoch cap while improving."""
    return [name for name, fit in result.fits.items() if stopped_at_cap(fit, result.config)]


def cap_sentence(result: Any) -> str | None:
    """One sentence naming the networks that stopped at the cap still improving, or `None`."""
    names = capped_networks(result)
    if not names:
        return None
    runs = "; ".join(
        f"{name}: best epoch {result.fits[name].best_epoch} of {result.fits[name].epochs_run}"
        for name in names
    )
    who = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    its, it = ("its", "it") if len(names) == 1 else ("their", "them")
    return (
        f"{who} stopped at the epoch cap while still improving ({runs}): not converged, "
        f"so {its} scores may understate {it}; raise --epochs."
    )


def target_units(data: Any, units: Mapping[str, str] | str | None = None) -> dict[str, str]:
    """Unit of each target: from `units` (a mapping, or one unit for every target), else known ones.

    Targets of the bundled Beijing data get their documented units
    (`BUNDLED_UNITS`); other targets without a given unit get none.

    Example:
        >>> from types import SimpleNamespace as NS
        >>> target_units(NS(targets=["pm2.5"], is_bundled=True))
        {'pm2.5': 'µg/m³'}
        >>> target_units(NS(targets=["load"], is_bundled=False), "MW")
        {'load': 'MW'}
    """
    targets = list(data.targets)
    known = BUNDLED_UNITS if getattr(data, "is_bundled", False) else {}
    given = dict.fromkeys(targets, units) if isinstance(units, str) else dict(units or {})
    out = {}
    for name in targets:
        unit = given.get(name) or known.get(name)
        if unit:
            out[name] = str(unit)
    return out


def axis_label(name: str, units: Mapping[str, str], *, prefix: str = "") -> str:
    """`"<prefix><name> (<unit>)"`, or without the unit when it is unknown.

    Example:
        >>> axis_label("pm2.5", {"pm2.5": "µg/m³"}, prefix="test MAE of ")
        'test MAE of pm2.5 (µg/m³)'
    """
    unit = units.get(name)
    return f"{prefix}{name} ({unit})" if unit else f"{prefix}{name}"


def units_phrase(units: Mapping[str, str], what: str = "MAE and RMSE") -> str:
    """Which unit the scores are in, for a heading: `"MAE and RMSE in µg/m³"`.

    Example:
        >>> units_phrase({"pm2.5": "µg/m³"}), units_phrase({})
        ('MAE and RMSE in µg/m³', 'original units')
        >>> units_phrase({"pm2.5": "µg/m³", "TEMP": "°C"}, "MAE")
        'MAE in original units: pm2.5 in µg/m³; TEMP in °C'
    """
    if not units:
        return "original units"
    if len(units) == 1:
        return f"{what} in {next(iter(units.values()))}"
    return f"{what} in original units: " + "; ".join(f"{t} in {u}" for t, u in units.items())
