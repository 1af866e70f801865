"""Settings, read once from the environment (prefix ``ENTENTE_``)."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, Field, HttpUrl, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

ROLES = ("officer", "approver", "diplomat", "auditor", "admin")


class ExternalIssuer(BaseModel):
    """An OpenID Connect provider whose access tokens we accept.

    Claim mapping: the organization comes from ``org_claim`` (an organization code) or, when the
    provider serves one organization only, from ``organization_code``; roles come from
    ``roles_claim`` translated through ``role_map`` (unmapped values are ignored).
    """

    model_config = {"extra": "forbid"}

    issuer: str
    jwks_url: HttpUrl
    audience: str
    algorithms: list[str] = Field(default_factory=lambda: ["RS256", "ES256"])
    org_claim: str | None = "org"
    organization_code: str | None = None
    roles_claim: str = "roles"
    role_map: dict[str, str] = Field(default_factory=dict)
    username_claim: str = "preferred_username"
    display_name_claim: str = "name"

    @field_validator("algorithms")
    @classmethod
    def asymmetric_only(cls, value: list[str]) -> list[str]:
        # An HMAC algorithm beside asymmetric ones is the algorithm-confusion attack (RFC 8725 3.1).
        allowed = {"RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "PS256", "PS384", "PS512"}
        bad = [alg for alg in value if alg not in allowed]
        if bad or not value:
            raise ValueError(f"only asymmetric algorithms are allowed, not {bad or 'none'}")
        return value


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ENTENTE_", env_nested_delimiter="__")

    data_dir: Path = Path("./var")
    database_url: str | None = None
    database_pool_size: int = 10
    sqlite_busy_timeout_ms: int = 5000

    token_issuer: str = "urn:entente:local"  # noqa: S105
    token_audience: str = "entente"  # noqa: S105
    user_token_ttl_seconds: int = Field(900, ge=60, le=86400)
    client_token_ttl_seconds: int = Field(3600, ge=60, le=86400)
    token_leeway_seconds: int = Field(30, ge=0, le=300)
    signing_key_file: Path | None = None  # the current key (private PEM): signs everything
    signing_key_retired_dir: Path | None = None  # default: "retired" beside the key file
    signing_key_publish_days: int = Field(400, ge=1, le=3650)
    """How long a retired key stays in our JWKS and verifies what it signed.

    Access tokens expire within a day (the token TTLs above), but decision notices carry a JWS
    that customs and the counterpart verify against our JWKS whenever goods move under the
    permits concerned, months after issue. 400 days covers a one-year licence plus a month of
    margin; raise it if permits run longer. Once a key leaves the JWKS, notices it signed only
    verify with a copy of the JWKS kept from before.
    """
    trusted_issuers: list[ExternalIssuer] = Field(default_factory=list)
    jwks_cache_seconds: int = 600
    jwks_min_refresh_seconds: int = 30
    password_grant: bool = True

    signin_max_failures: int = 5
    signin_window_seconds: int = 900
    signin_lockout_seconds: int = 900

    max_body_bytes: int = 1_048_576
    idempotency_ttl_seconds: int = 86400
    # A key claimed by a request that never finished (its process was killed, or the database
    # went away before the answer was stored) is free again after this long; until then a retry
    # with it is told 409 with Retry-After. Longer than any request runs.
    idempotency_claim_seconds: int = Field(60, ge=1, le=3600)
    webhook_allowed_networks: Annotated[list[str], NoDecode] = Field(default_factory=list)
    webhook_allow_http: bool = False
    webhook_timeout_seconds: float = Field(10.0, gt=0, le=60)
    # Delays after each failed attempt (Svix's schedule): 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h,
    # so eight attempts over about 27.5 hours; each delay varies by +/- the jitter fraction.
    webhook_retry_schedule: Annotated[list[float], NoDecode] = Field(
        default_factory=lambda: [5, 300, 1800, 7200, 18000, 36000, 36000]
    )
    webhook_retry_jitter: float = Field(0.2, ge=0, le=0.5)
    webhook_disable_after_seconds: int = Field(5 * 86400, ge=60)
    webhook_rotation_overlap_seconds: int = Field(86400, ge=0, le=7 * 86400)
    webhook_log_retention_days: int = Field(30, ge=1)
    webhook_response_excerpt_bytes: int = Field(1024, ge=0, le=65536)
    secrets_key: SecretStr | None = None
    secrets_key_file: Path | None = None

    worker_concurrency: int = Field(64, ge=1, le=1024)
    worker_connections_per_client: int = Field(4, ge=1, le=64)
    worker_per_endpoint: int = Field(8, ge=1, le=256)
    worker_lease_seconds: float = Field(60.0, gt=0)
    worker_poll_seconds: float = Field(2.0, gt=0)
    worker_jobs_interval_seconds: float = Field(60.0, gt=0)
    worker_shutdown_grace_seconds: float = Field(10.0, ge=0)
    web_session_idle_seconds: int = Field(1800, ge=60)
    web_session_absolute_seconds: int = Field(43200, ge=300)
    serve_worker: bool | None = None  # None: in-process worker on the embedded SQLite default
    # On SIGTERM `entente serve` stops accepting, lets requests in flight finish for up to this
    # long, then stops the in-process worker (worker_shutdown_grace_seconds) and exits 0.
    shutdown_grace_seconds: int = Field(20, ge=1, le=3600)
    # Proxies (comma-separated addresses or CIDRs, "*" for any) whose X-Forwarded-For and
    # X-Forwarded-Proto are believed: the client address audited is then the caller's, not the
    # proxy's. Unset: the headers are ignored, so nobody can forge the audited address.
    forwarded_allow_ips: str | None = None
    log_level: str = "INFO"

    # /metrics is for the cluster network (the Ingress does not route it); a token guards it too.
    metrics_enabled: bool = True
    metrics_cache_seconds: float = Field(5.0, ge=0)  # database gauges are read at most this often
    metrics_token: SecretStr | None = None
    worker_metrics_port: int = Field(0, ge=0, le=65535)  # 0: `entente worker` serves no metrics
    worker_metrics_host: str = "127.0.0.1"
    otel_enabled: bool = False  # tracing over OTLP/HTTP, configured by the standard OTEL_* vars

    @field_validator("webhook_allowed_networks", "webhook_retry_schedule", mode="before")
    @classmethod
    def split_commas(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("webhook_retry_schedule")
    @classmethod
    def non_negative_delays(cls, value: list[float]) -> list[float]:
        if any(delay < 0 for delay in value):
            raise ValueError("retry delays are seconds, zero or more")
        return value

    @cached_property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'entente.db').resolve()}"

    @cached_property
    def resolved_signing_key_file(self) -> Path:
        return self.signing_key_file or self.data_dir / "keys" / "signing-key.pem"

    @cached_property
    def resolved_signing_key_retired_dir(self) -> Path:
        return self.signing_key_retired_dir or self.resolved_signing_key_file.parent / "retired"

    @cached_property
    def resolved_secrets_key_file(self) -> Path:
        return self.secrets_key_file or self.data_dir / "keys" / "secrets.key"

    @property
    def runs_worker_in_process(self) -> bool:
        return self.is_sqlite if self.serve_worker is None else self.serve_worker

    @property
    def is_sqlite(self) -> bool:
        return self.resolved_database_url.startswith("sqlite")


class AdminPassword(BaseSettings):
    """``ENTENTE_ADMIN_PASSWORD`` for ``entente init`` when not given on the command line."""

    model_config = SettingsConfigDict(env_prefix="ENTENTE_")
    admin_password: SecretStr | None = None
