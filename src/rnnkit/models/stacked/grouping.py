"""Splitting K built models into groups that train together, with the reasons.

One job: grouping.
"""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from typing import Any

from rnnkit.models.stacked.arguments import fit_problem
from rnnkit.models.stacked.signature import NotStackable
from rnnkit.models.stacked.signature import Structure
from rnnkit.models.stacked.signature import structure
from rnnkit.models.stacked.signature import why_not_together


@dataclass
class Grouping:
    """Groups of model positions, and why each ungrouped model trains alone.

    Attributes:
        groups: Positions of models that train together (two or more each).
        alone: ``{position: reason}`` for every model that trains on its own.
    """

    groups: list[list[int]] = field(default_factory=list)
    alone: dict[int, str] = field(default_factory=dict)


def group_models(models: list[Any], x: Any, fit_kwargs: dict[str, Any]) -> Grouping:
    """Group ``models`` (in order) by structure, for ``fit(x, y, **fit_kwargs)``.

    Each model joins the first group whose structure it shares; a model that shares
    none opens a group. Groups of one train alone, with the reason they differ from
    the first group's model.

    Example:
        >>> from rnnkit import Sequential
        >>> from rnnkit.layers import GRU, LSTM, Dense
        >>> def make(layer):
        ...     model = Sequential([layer, Dense(1)])
        ...     model.build((None, 5, 1)); model.compile(optimizer="adam", loss="mse")
        ...     return model
        >>> import numpy as np
        >>> grouping = group_models([make(GRU(4)), make(GRU(8)), make(LSTM(4))], np.zeros(1), {})
        >>> grouping.groups, grouping.alone
        ([[0, 1]], {2: 'LSTM vs GRU at layer 0'})
    """
    result = Grouping()
    problem = fit_problem(x, fit_kwargs)
    if problem is not None:
        result.alone = dict.fromkeys(range(len(models)), problem)
        return result
    opened: list[tuple[Structure, list[int]]] = []
    for position, model in enumerate(models):
        try:
            shape = structure(model)
        except NotStackable as exc:
            result.alone[position] = str(exc)
            continue
        for other, members in opened:
            if why_not_together(other, shape) is None:
                members.append(position)
                break
        else:
            opened.append((shape, [position]))
    for shape, members in opened:
        if len(members) > 1:
            result.groups.append(members)
        else:
            first = opened[0]
            reason = why_not_together(first[0], shape) if first[1] != members else None
            result.alone[members[0]] = reason or "no other trial shares its structure"
    return result
