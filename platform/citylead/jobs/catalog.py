"""Every job the platform runs, and what it schedules: the one list a worker process declares.

Part of the composition root: it assembles the jobs of ``citylead`` and of ``provisioning``."""

from __future__ import annotations

from citylead.jobs import notifications
from citylead.jobs.registry import Registry
from citylead.settings import Settings

__all__ = ["build_registry"]


def build_registry(settings: Settings) -> Registry:
    """The registry for ``citylead up`` and ``citylead worker`` (periodic intervals from settings)."""
    from citylead.assessment import rollup, schedule
    from citylead.cases import jobs as case_jobs
    from citylead.cases import volume as case_volume
    from provisioning.pipeline import run_step

    registry = Registry(
        [notifications.send, *case_jobs.JOBS, *rollup.JOBS, *schedule.JOBS, *case_volume.JOBS, run_step]
    )
    registry.every(settings.jobs.overdue_sweep_seconds, "cases.sweep_overdue")
    registry.every(settings.jobs.assessment_refresh_seconds, "assessment.refresh_current")
    registry.every(settings.jobs.case_stats_refresh_seconds, "cases.refresh_stats")
    return registry
