"""Suite-wide settings and fixtures.

Settings: one torch thread (the CI machine has 2 cores and several test processes may
share them), non-interactive matplotlib.

Services: a test that needs PostgreSQL or Chromium asks for it through
:func:`service_unavailable`, which skips it with the reason when the service is
missing, and fails it instead when ``RNNKIT_REQUIRE_SERVICES`` names the service:
`.ci/run` sets that variable to the services it installed and checked, so a service
CI believes is running but a test cannot find fails the run instead of skipping.
"""

import os
import shutil
from typing import NoReturn

os.environ.setdefault("MPLBACKEND", "Agg")

import pytest
import torch

torch.set_num_threads(1)

if torch.cuda.is_available():
    # The Keras oracle (KERAS_BACKEND=torch) would run cuDNN in TF32 on a GPU; the
    # comparisons need full float32 on both sides (rnnkit's fused path sets it itself).
    torch.backends.cudnn.allow_tf32 = False

#: Services (space- or comma-separated: "postgres chromium") that must be there.
REQUIRE_SERVICES = "RNNKIT_REQUIRE_SERVICES"


def required_services() -> set[str]:
    """The services ``RNNKIT_REQUIRE_SERVICES`` names (empty when it is unset)."""
    return set(os.environ.get(REQUIRE_SERVICES, "").replace(",", " ").split())


def _unavailable(service: str, reason: str) -> NoReturn:
    if service in required_services():
        pytest.fail(
            f"{reason}; but {REQUIRE_SERVICES}={os.environ[REQUIRE_SERVICES]!r} says this run "
            f"started {service}: see .ci/run's output above for why the tests cannot reach it",
            pytrace=False,
        )
    pytest.skip(reason)


@pytest.fixture(scope="session")
def service_unavailable():
    """``service_unavailable(service, reason)``: skip this test, or fail it when required."""
    return _unavailable


@pytest.fixture(scope="session")
def chromium() -> str:
    """The path of a Chromium browser (for tests that render HTML headless)."""
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        _unavailable("chromium", "Chromium is not installed (apt-get install chromium)")
    return path
