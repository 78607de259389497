"""Run one search described by a JSON argument (used by the process-level tests).

python tuner_script.py '{"tuner": "RandomSearch", "build": "build_slow",
                         "kwargs": {...}, "search": {"epochs": 3}}'
"""

from __future__ import annotations

import json
import logging
import sys

import tuner_fakes

import rnnkit.tuner as kt


def main() -> None:
    config = json.loads(sys.argv[1])
    logging.basicConfig(level=logging.INFO, format="%(process)d %(name)s %(message)s")
    x, y = tuner_fakes.data()
    cls = getattr(kt, config.get("tuner", "RandomSearch"))
    build = getattr(tuner_fakes, config.get("build", "build_model"))
    tuner = cls(build, **config["kwargs"])
    search = dict(config.get("search", {}))
    tuner.search(x, y, **search)
    print("SEARCH DONE", flush=True)


if __name__ == "__main__":
    main()
