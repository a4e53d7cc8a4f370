"""Shared by the ``citylead`` commands: the console, settings, and friendly failures."""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from pydantic import ValidationError
from rich.console import Console

from citylead.settings import Settings
from tenants.errors import CityleadError, InvalidInput

__all__ = ["console", "friendly", "load_settings"]

# Tables keep their full paths when the output is a pipe or a file (rich would assume 80 columns).
console = Console(stderr=False, highlight=False, width=None if sys.stdout.isatty() else 160)
F = TypeVar("F", bound=Callable[..., Any])


def friendly(fn: F) -> F:
    """Turn expected failures into one clear line and exit status 1, never a traceback."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except CityleadError as exc:
            console.print(f"[bold red]citylead:[/] {exc.detail}", soft_wrap=True)
            for problem in exc.errors if isinstance(exc, InvalidInput) else []:
                upper = f" (upper: {problem.upper!r}, set by {problem.set_by})" if problem.set_by else ""
                console.print(f"  {problem.field}: {problem.rule}{upper}", soft_wrap=True, markup=False)
            for conflict in exc.extra.get("conflicts", []):
                console.print(
                    f"  {conflict['tenant']} {conflict['path']}: {conflict['detail']}",
                    soft_wrap=True,
                    markup=False,
                )
            sys.exit(1)
        except ValidationError as exc:
            console.print("[bold red]citylead: invalid settings[/]")
            for err in exc.errors():
                loc = ".".join(str(x) for x in err["loc"]) or "settings"
                console.print(f"  CITYLEAD_{loc.upper()}: {err['msg']}")
            sys.exit(2)

    return wrapper  # type: ignore[return-value]


def load_settings(**server: Any) -> Settings:
    settings = Settings()
    overrides = {k: v for k, v in server.items() if v is not None}
    if overrides:
        settings.server = settings.server.model_copy(update=overrides)
    return settings
