"""Typed settings, grouped by subsystem, read once from ``CITYLEAD_*`` environment variables.

Every variable a deployment may set is a field here, and nowhere else.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = [
    "BlobSettings",
    "DatabaseSettings",
    "IdentitySettings",
    "JobsSettings",
    "ServerSettings",
    "Settings",
]


class DatabaseSettings(BaseSettings):
    """Where the data lives. No URL means: run an embedded PostgreSQL in ``CITYLEAD_HOME``."""

    model_config = SettingsConfigDict(env_prefix="CITYLEAD_", extra="ignore")

    database_url: SecretStr | None = Field(
        default=None,
        description="Owner (migration) connection URL. Unset: embedded PostgreSQL in CITYLEAD_HOME.",
    )
    app_database_url: SecretStr | None = Field(
        default=None,
        description="Application-role URL. Unset: CITYLEAD_DATABASE_URL with the app user and password.",
    )
    database_name: str = Field(default="citylead", description="Database created on the embedded server.")
    db_owner_role: str = Field(default="citylead_owner", pattern=r"^[a-z_][a-z0-9_]{0,62}$")
    db_app_role: str = Field(default="citylead_app", pattern=r"^[a-z_][a-z0-9_]{0,62}$")
    db_app_password: SecretStr | None = None
    db_pool_size: int = Field(default=10, ge=1, le=200)


class IdentitySettings(BaseSettings):
    """Who is calling: a real Keycloak in production, the embedded provider on one machine."""

    model_config = SettingsConfigDict(env_prefix="CITYLEAD_", extra="ignore")

    identity: Literal["embedded", "keycloak"] = "embedded"
    keycloak_url: str | None = Field(default=None, description="Keycloak base URL, e.g. https://sso.example/")
    keycloak_realm: str = "citylead"
    keycloak_client_id: str = "citylead"
    keycloak_audience: str = "citylead"
    token_leeway_seconds: int = Field(default=10, ge=0, le=300)
    jwks_refresh_seconds: int = Field(default=300, ge=10)
    access_token_ttl_seconds: int = Field(default=1800, ge=60, le=86400)
    refresh_token_ttl_seconds: int = Field(default=28800, ge=300, le=604800)
    idp_provisioner_secret: SecretStr | None = Field(
        default=None,
        description="Secret of the embedded provider's `citylead-provisioner` client; persisted in "
        "CITYLEAD_HOME when unset.",
    )

    keycloak_admin_client_id: str = Field(
        default="citylead-provisioner",
        description="Confidential client whose service account has realm-management rights "
        "(manage-users, view-realm): onboarding creates groups, roles and users through it.",
    )
    keycloak_admin_client_secret: SecretStr | None = Field(
        default=None, description="Its secret (Keycloak mode; embedded mode uses the persisted one)."
    )

    @model_validator(mode="after")
    def _keycloak_needs_url(self) -> IdentitySettings:
        if self.identity == "keycloak" and not self.keycloak_url:
            raise ValueError("CITYLEAD_KEYCLOAK_URL is required when CITYLEAD_IDENTITY=keycloak")
        return self


class ServerSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CITYLEAD_", extra="ignore")

    home: Path = Field(default=Path(".citylead"), description="Data directory (embedded database, keys).")
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    public_url: str | None = Field(
        default=None, description="Base URL clients use; default http://host:port."
    )
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    seed_demo: bool = Field(default=True, description="Seed the demo province into an empty database.")
    demo_history_months: int = Field(
        default=6,
        ge=0,
        le=24,
        description="Months of generated case history a freshly seeded demo gets (0: none).",
    )


class JobsSettings(BaseSettings):
    """Background jobs (dramatiq). One machine: PostgreSQL itself is the broker; production: RabbitMQ."""

    model_config = SettingsConfigDict(env_prefix="CITYLEAD_", extra="ignore")

    broker: Literal["postgres", "rabbitmq"] = Field(
        default="postgres", description="postgres: the platform's own database (dramatiq-postgres)."
    )
    rabbitmq_url: SecretStr | None = Field(default=None, description="amqp://user:password@host:5672/vhost")
    worker_threads: int = Field(default=2, ge=1, le=64, description="Worker threads per worker process.")
    relay_interval_seconds: float = Field(
        default=0.5, gt=0, le=60, description="How often the outbox relay looks for committed messages."
    )
    overdue_sweep_seconds: int = Field(
        default=60, ge=5, le=3600, description="How often overdue cases are swept (marked, notified)."
    )
    assessment_refresh_seconds: int = Field(
        default=3600,
        ge=60,
        le=86_400,
        description="How often the assessment roll-ups of the current periods are recounted "
        "(assessment.refresh_current).",
    )
    case_stats_refresh_seconds: int = Field(
        default=600,
        ge=30,
        le=86_400,
        description="How often the case volumes the dashboard shows are recounted (cases.refresh_stats).",
    )
    worker_heartbeat_seconds: float = Field(
        default=15.0,
        gt=0,
        le=300,
        description="PostgreSQL broker: how often a worker says it is alive. A message held by a "
        "worker silent for 4x this long (killed, lost) is delivered again.",
    )

    @model_validator(mode="after")
    def _rabbitmq_needs_url(self) -> JobsSettings:
        if self.broker == "rabbitmq" and self.rabbitmq_url is None:
            raise ValueError("CITYLEAD_RABBITMQ_URL is required when CITYLEAD_BROKER=rabbitmq")
        return self


class BlobSettings(BaseSettings):
    """Where case photos are kept: a local directory by default, an S3-compatible store by setting."""

    model_config = SettingsConfigDict(env_prefix="CITYLEAD_", extra="ignore")

    blob_store: Literal["local", "s3"] = "local"
    blob_dir: Path | None = Field(default=None, description="Local store directory; default HOME/blobs.")
    s3_endpoint_url: str | None = Field(default=None, description="e.g. https://oss-cn-hangzhou.aliyuncs.com")
    s3_bucket: str | None = None
    s3_region: str = "us-east-1"
    s3_access_key_id: SecretStr | None = None
    s3_secret_access_key: SecretStr | None = None
    photo_max_bytes: int = Field(default=10 * 1024 * 1024, ge=1024, description="Largest photo accepted.")
    photos_per_report: int = Field(default=9, ge=1, le=50)

    @model_validator(mode="after")
    def _s3_needs_bucket(self) -> BlobSettings:
        if self.blob_store == "s3" and not self.s3_bucket:
            raise ValueError("CITYLEAD_S3_BUCKET is required when CITYLEAD_BLOB_STORE=s3")
        return self


class Settings:
    """All settings, read once per process (by the CLI) and passed down, never re-read."""

    def __init__(self) -> None:
        self.server = ServerSettings()
        self.database = DatabaseSettings()
        self.identity = IdentitySettings()
        self.jobs = JobsSettings()
        self.blobs = BlobSettings()

    @property
    def home(self) -> Path:
        return self.server.home.expanduser().resolve()

    @property
    def blob_dir(self) -> Path:
        return (self.blobs.blob_dir or self.home / "blobs").expanduser().resolve()

    @property
    def public_url(self) -> str:
        if self.server.public_url:
            return self.server.public_url.rstrip("/")
        return f"http://{self.server.host}:{self.server.port}"

    @property
    def issuer(self) -> str:
        """The token issuer the API trusts."""
        if self.identity.identity == "keycloak":
            assert self.identity.keycloak_url
            return f"{self.identity.keycloak_url.rstrip('/')}/realms/{self.identity.keycloak_realm}"
        return f"{self.public_url}/idp/realms/{self.identity.keycloak_realm}"
