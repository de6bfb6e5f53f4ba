"""Settings of the ingest process, built once at the entry point from the environment."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from pydantic import Field, SecretStr

from shared.settings import CommonSettings


class IngestSettings(CommonSettings):
    """Where ingest listens, the webhook secrets, the limits it enforces, the vendor mapping."""

    ingest_host: str = "127.0.0.1"
    ingest_port: int = Field(default=8001, ge=1, le=65_535)
    # The dev placeholder lets `make run` work on a fresh machine; refused outside dev.
    ingest_secret: SecretStr = SecretStr("dev-secret")
    ingest_max_body_bytes: int = Field(default=1024 * 1024, ge=1)
    ingest_max_batch: int = Field(default=1000, ge=1)
    # One far-future event would push the downstream event-time watermark forward.
    ingest_max_future_skew_seconds: int = Field(default=300, ge=0)
    ingest_send_timeout_seconds: float = Field(default=10.0, gt=0)
    # How vendor users, stages and activity types map to reps and canonical values (JSON).
    # Re-read when the file changes; without it, vendor events park on the dead-letter topic.
    ingest_mapping_file: Path | None = None

    # Vendor secrets left unset turn that vendor's endpoint off (401 naming the setting).
    # Salesforce (Outbound Messages and CDC through a relay): no signature exists, so the
    # organisation allow-list (comma-separated 15- or 18-char ids) and optional HTTP Basic.
    salesforce_org_id: str = ""
    salesforce_user: str = ""
    salesforce_password: SecretStr | None = None

    # HubSpot webhooks: v3 signatures with the app's client secret; v1/v2 only when enabled.
    hubspot_client_secret: SecretStr | None = None
    hubspot_legacy_signatures: bool = False
    # The public base URL HubSpot calls (scheme://host[:port]), when a proxy rewrites Host.
    hubspot_public_url: str = ""
    # The CRM API engagements are hydrated from, with a private-app token.
    hubspot_api_url: str = "https://api.hubapi.com"
    hubspot_access_token: SecretStr | None = None
    hubspot_api_timeout_seconds: float = Field(default=3.0, gt=0)
    hubspot_api_attempts: int = Field(default=3, ge=1, le=10)

    # Pipedrive webhooks v2: HTTP Basic, as set on the webhook (http_auth_user/password).
    pipedrive_user: str = ""
    pipedrive_password: SecretStr | None = None

    @property
    def max_future_skew(self) -> timedelta:
        """How far ahead of the wall clock an event's occurred_at may be."""
        return timedelta(seconds=self.ingest_max_future_skew_seconds)

    @property
    def salesforce_org_ids(self) -> frozenset[str]:
        """The allowed organisations, each as its case-sensitive 15-character id."""
        return frozenset(
            part.strip()[:15] for part in self.salesforce_org_id.split(",") if part.strip()
        )
