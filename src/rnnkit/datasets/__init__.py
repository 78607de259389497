"""Real datasets bundled with rnnkit, loadable with no network access."""

from rnnkit.datasets.beijing import BEIJING_PM25_SHA256
from rnnkit.datasets.beijing import BeijingPM25Arrays
from rnnkit.datasets.beijing import beijing_pm25_path
from rnnkit.datasets.beijing import load_beijing_pm25

__all__ = [
    "BEIJING_PM25_SHA256",
    "BeijingPM25Arrays",
    "beijing_pm25_path",
    "load_beijing_pm25",
]
