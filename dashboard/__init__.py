"""The provincial supervisors' Plotly Dash dashboard: coverage, performance and cases (docs/dashboard.md).

It reads through ``citylead`` query functions and imports nothing from ``provisioning``. The
composition roots build it with ``create_dashboard(DatabaseReader(db))`` and mount it with
``dashboard_mount(dash_app)``.
"""

from dashboard.app import create_dashboard
from dashboard.data import CoverageReader, DashboardReader, DatabaseReader
from dashboard.mount import dashboard_mount

__all__ = [
    "CoverageReader",
    "DashboardReader",
    "DatabaseReader",
    "create_dashboard",
    "dashboard_mount",
]
