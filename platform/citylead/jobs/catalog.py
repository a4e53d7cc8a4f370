"""Every job the platform runs, and what it schedules: the one list a worker process declares.

Part of the composition root: it assembles the jobs of ``citylead`` and of ``provisioning``."""

from __future__ import annotations

from citylead.jobs import notifications
from citylead.jobs.registry import Registry
from citylead.settings import Settings

__all__ = ["build_registry"]


def build_registry(settings: Settings) -> Registry:
    """The registry for ``citylead up`` and ``citylead worker`` (periodic intervals from settings)."""
    from citylead.assessment import rollup
    from citylead.cases import jobs as case_jobs
    from provisioning.pipeline import run_step

    registry = Registry([notifications.send, *case_jobs.JOBS, *rollup.JOBS, run_step])
    registry.every(settings.jobs.overdue_sweep_seconds, "cases.sweep_overdue")
    return registry
