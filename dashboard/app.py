"""The dashboard app factory (看板): a Dash app served under ``/dashboard/`` by the API process.

Configured as ``docs/stack-notes`` says for a mount inside Litestar: requests go to
``/dashboard/``, routes are matched at ``/`` (the mount rebuilds the path), and every asset is
served locally (no CDN: the platform works offline).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from dash import Dash

from dashboard.data import CoverageReader
from dashboard.pages import coverage

__all__ = ["PREFIX", "create_dashboard"]

PREFIX = "/dashboard/"


def create_dashboard(
    reader: CoverageReader, *, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
) -> Dash:
    """A new Dash app reading through ``reader``; nothing is shared between two apps."""
    app = Dash(
        __name__,
        requests_pathname_prefix=PREFIX,
        routes_pathname_prefix="/",
        serve_locally=True,
        title="citylead 覆盖情况",
        compress=False,
    )
    # offline: never ask the internet for a newer Dash version, whatever the dev tools say
    app.enable_dev_tools(debug=False, dev_tools_disable_version_check=True)
    app.layout = coverage.layout(topojson_url=app.get_asset_url("topojson/"))
    coverage.register_callbacks(app, reader, clock=clock)
    return app
