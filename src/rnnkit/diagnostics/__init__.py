"""Gradient-health diagnostics: why a recurrent network fails to learn.

A diagnostic pass re-runs each recurrent layer step by step from its own weights
(:mod:`~rnnkit.diagnostics.trace`), measures the gradient through time, dead
units and saturated gates (:mod:`~rnnkit.diagnostics.measure`), and words what it
finds (:mod:`~rnnkit.diagnostics.verdicts`). :func:`diagnose` does all three for
a trained model; the ``GradientHealth`` callback does it during ``fit``;
``rnnkit diagnose`` does it for a saved forecaster. docs/diagnostics.md explains
every measure.
"""

from rnnkit.diagnostics.measure import HealthFigures
from rnnkit.diagnostics.measure import LayerHealth
from rnnkit.diagnostics.measure import measure
from rnnkit.diagnostics.plot import plot_gradient_norms
from rnnkit.diagnostics.plot import plot_health_over_epochs
from rnnkit.diagnostics.summary import Diagnosis
from rnnkit.diagnostics.summary import diagnose
from rnnkit.diagnostics.verdicts import Problem
from rnnkit.diagnostics.verdicts import Verdict
from rnnkit.diagnostics.verdicts import judge

__all__ = [
    "Diagnosis",
    "HealthFigures",
    "LayerHealth",
    "Problem",
    "Verdict",
    "diagnose",
    "judge",
    "measure",
    "plot_gradient_norms",
    "plot_health_over_epochs",
]
