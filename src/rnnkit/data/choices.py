"""The options the data readers and scalers accept, as plain tuples.

A module of its own, with no imports, so that validating a configuration
(`rnnkit.workflow.spec`) does not load pandas or scikit-learn: a command that
fails on its arguments answers at once.
"""

__all__ = ["CATEGORICAL_POLICIES", "MISSING_POLICIES", "WINDOW_SCALING_METHODS"]

#: `read_table(missing=...)`: what to do with empty cells.
MISSING_POLICIES = ("interpolate", "ffill", "drop", "error")
#: `read_table(categorical=...)`: what to do with text columns.
CATEGORICAL_POLICIES = ("onehot", "drop", "error")
#: `make_window_scaler(method)`: how windows are scaled.
WINDOW_SCALING_METHODS = ("global", "window", "diff")
