"""The dashboard app factory (看板): a Dash app served under ``/dashboard/`` by the API process.

Configured as ``docs/stack-notes`` says for a mount inside Litestar: requests go to
``/dashboard/``, routes are matched at ``/`` (the mount rebuilds the path), and every asset is
served locally (no CDN: the platform works offline).

Three pages, one module each (``dashboard.pages``): 覆盖情况 at ``/dashboard/``, 绩效考核 at
``/dashboard/performance`` and 案件情况 at ``/dashboard/cases``. The header's links change the
``dcc.Location``; one callback renders the page's layout. No global page registry: each app holds
its own pages (``PAGES``) and its own reader.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from dash import Dash, Input, Output, dcc, html

from dashboard._request import current_principal, run_on_server_loop
from dashboard.data import DashboardReader
from dashboard.pages import cases, coverage, performance

__all__ = ["PAGES", "PREFIX", "SIGNOUT", "create_dashboard"]

PREFIX = "/dashboard/"
SIGNOUT = "/signout"
PAGES = (("", "覆盖情况"), ("performance", "绩效考核"), ("cases", "案件情况"))  # path → nav label


def _shell() -> html.Div:
    return html.Div(
        [
            dcc.Location(id="app-location", refresh=False),
            html.Header(
                [
                    html.Nav(id="app-nav", className="nav"),
                    html.Span(id="app-user", className="user"),
                    html.A("退出登录", href=SIGNOUT, id="app-signout"),
                ],
                style={"display": "flex", "gap": "1.5em", "alignItems": "center"},
            ),
            html.Main(id="app-page"),
        ]
    )


def _nav(current: str) -> list[html.A]:
    return [
        html.A(
            title,
            href=PREFIX + path,
            className="active" if path == current else "",
            id=f"app-nav-{path or 'coverage'}",
        )
        for path, title in PAGES
    ]


def create_dashboard(
    reader: DashboardReader, *, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
) -> Dash:
    """A new Dash app reading through ``reader``; nothing is shared between two apps."""
    app = Dash(
        __name__,
        requests_pathname_prefix=PREFIX,
        routes_pathname_prefix="/",
        serve_locally=True,
        title="citylead 看板",
        compress=False,
        suppress_callback_exceptions=True,  # page ids exist only while their page is shown
    )
    # offline: never ask the internet for a newer Dash version, whatever the dev tools say
    app.enable_dev_tools(debug=False, dev_tools_disable_version_check=True)
    topojson_url = app.get_asset_url("topojson/")
    app.layout = _shell()
    layouts: dict[str, Callable[[], html.Div]] = {
        "": lambda: coverage.layout(topojson_url=topojson_url),
        "performance": performance.layout,
        "cases": cases.layout,
    }

    @app.callback(
        Output("app-page", "children"), Output("app-nav", "children"), Input("app-location", "pathname")
    )
    def route(pathname: str | None) -> tuple[Any, list[html.A]]:
        path = (app.strip_relative_path(pathname or PREFIX) or "").strip("/")
        page = path if path in layouts else ""
        return layouts[page](), _nav(page)

    @app.callback(Output("app-user", "children"), Input("app-user", "id"))
    def signed_in(_: str) -> str:
        principal = current_principal()
        places = run_on_server_loop(reader.places(principal))
        tenant = next((p.name for p in places if p.code == principal.tenant_code), principal.tenant_code)
        roles = "、".join(sorted(r.label for r in principal.roles))
        return f"{principal.name or principal.username}（{tenant}{' · ' + roles if roles else ''}）"

    coverage.register_callbacks(app, reader, clock=clock)
    performance.register_callbacks(app, reader, clock=clock)
    cases.register_callbacks(app, reader, clock=clock)
    return app
