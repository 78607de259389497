"""Run one search described by a JSON argument (used by the process-level tests).

python tuner_script.py '{"tuner": "RandomSearch", "build": "build_slow",
                         "kwargs": {...}, "search": {"epochs": 3}}'

``module`` names the module of ``build`` and ``data()`` (default ``tuner_fakes``;
``rnn_builds`` for real networks), ``callback`` a callback class of it passed to
``search``.
"""

from __future__ import annotations

import importlib
import json
import logging
import sys

import rnnkit.tuner as kt


def main() -> None:
    config = json.loads(sys.argv[1])
    logging.basicConfig(level=logging.INFO, format="%(process)d %(name)s %(message)s")
    module = importlib.import_module(config.get("module", "tuner_fakes"))
    x, y = module.data()
    cls = getattr(kt, config.get("tuner", "RandomSearch"))
    build = getattr(module, config.get("build", "build_model"))
    tuner = cls(build, **config["kwargs"])
    search = dict(config.get("search", {}))
    if config.get("callback"):  # a module-level callback class of the build module
        search["callbacks"] = [getattr(module, config["callback"])()]
    tuner.search(x, y, **search)
    print("SEARCH DONE", flush=True)


if __name__ == "__main__":
    main()
