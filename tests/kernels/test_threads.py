"""Thread counts on a busy machine: idle cores from /proc/stat, capped torch threads."""

from __future__ import annotations

import os

import pytest
import torch

from rnnkit.kernels import threads
from rnnkit.workflow.measure import torch_threads


def _stat(rows: dict[str, tuple[int, int, int, int, int]]) -> str:
    """A /proc/stat text: ``cpuN user nice system idle iowait irq softirq steal``."""
    lines = ["cpu  1 1 1 1 1 0 0 0 0 0"]
    lines += [f"{name} {u} {n} {s} {i} {w} 0 0 0 0 0" for name, (u, n, s, i, w) in rows.items()]
    return "\n".join([*lines, "intr 1 2 3", ""])


def test_idle_cores_counts_the_idle_share_of_each_core(tmp_path, monkeypatch):
    stat = tmp_path / "stat"
    stat.write_text(_stat({"cpu0": (100, 0, 0, 100, 0), "cpu1": (100, 0, 0, 100, 0)}))

    def one_sample_later(seconds):  # cpu0 fully busy, cpu1 idle 3/4 of the time (iowait counts)
        stat.write_text(_stat({"cpu0": (200, 0, 0, 100, 0), "cpu1": (125, 0, 0, 160, 15)}))

    monkeypatch.setattr(threads.os, "sched_getaffinity", lambda pid: {0, 1})
    monkeypatch.setattr(threads.time, "sleep", one_sample_later)
    assert threads.idle_cores(path=str(stat)) == pytest.approx(0.75)


def test_idle_cores_only_counts_the_cores_the_process_may_use(tmp_path, monkeypatch):
    stat = tmp_path / "stat"
    stat.write_text(_stat({"cpu0": (0, 0, 0, 0, 0), "cpu1": (0, 0, 0, 0, 0)}))
    monkeypatch.setattr(threads.os, "sched_getaffinity", lambda pid: {1})
    monkeypatch.setattr(
        threads.time, "sleep",
        lambda s: stat.write_text(_stat({"cpu0": (0, 0, 0, 50, 0), "cpu1": (40, 0, 10, 50, 0)})),
    )  # fmt: skip
    assert threads.idle_cores(path=str(stat)) == pytest.approx(0.5)


def test_idle_cores_is_none_without_the_counters(tmp_path):
    assert threads.idle_cores(0.0, path=str(tmp_path / "missing")) is None


@pytest.mark.parametrize(
    ("requested", "idle", "expected"),
    [(2, 1.2, 1), (2, 1.6, 2), (4, 2.5, 2), (8, 0.0, 1), (2, 5.0, 2), (1, 0.0, 1)],
)
def test_usable_threads_never_exceeds_the_idle_cores(requested, idle, expected):
    assert threads.usable_threads(requested, idle=idle) == expected


def test_usable_threads_keeps_the_request_when_nothing_can_be_sampled(monkeypatch):
    monkeypatch.setattr(threads, "idle_cores", lambda: None)
    assert threads.usable_threads(3) == 3


def test_torch_threads_uses_only_the_idle_cores_and_restores(monkeypatch):
    monkeypatch.setattr(threads, "idle_cores", lambda: 0.9)  # one core free
    before = torch.get_num_threads()
    with torch_threads(2):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before


def test_torch_threads_sets_passive_waiting_for_child_processes(monkeypatch):
    monkeypatch.delenv("OMP_WAIT_POLICY", raising=False)
    with torch_threads(1):
        assert os.environ["OMP_WAIT_POLICY"] == "PASSIVE"


def test_passive_waiting_leaves_a_users_choice(monkeypatch):
    monkeypatch.setenv("OMP_WAIT_POLICY", "ACTIVE")
    assert threads.prefer_passive_waiting() is False
    assert os.environ["OMP_WAIT_POLICY"] == "ACTIVE"
