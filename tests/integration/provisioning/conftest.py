"""Provisioning fixtures: the embedded identity provider over real HTTP, and onboarding helpers."""

from __future__ import annotations

from tests.integration.provisioning.fixtures_idp import *  # noqa: F403
