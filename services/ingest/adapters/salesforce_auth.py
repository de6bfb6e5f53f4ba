"""Who may post Salesforce deliveries: the organisation allow-list and optional HTTP Basic.

Salesforce signs neither Outbound Messages nor CDC events, so a request is accepted when
every organisation it names is on `SALESFORCE_ORG_ID` (15- or 18-character ids, compared by
their case-sensitive 15-character form) and, when `SALESFORCE_USER` and `SALESFORCE_PASSWORD`
are set, it carries those HTTP Basic credentials (compared in constant time). An empty
allow-list turns both routes off, and so does setting only one of user and password: 401
naming the settings.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from pydantic import SecretStr

from services.ingest.adapters.base import (
    WebhookRequest,
    check_basic_auth,
    not_configured,
    refuse,
)
from services.ingest.intake import Refused
from services.ingest.models import Outcome
from services.ingest.settings import IngestSettings

ORG_SETTING = "SALESFORCE_ORG_ID"
BASIC_SETTINGS = "SALESFORCE_USER and SALESFORCE_PASSWORD"


@dataclass(frozen=True)
class SalesforceAccess:
    """The allowed organisations and the optional Basic credentials."""

    organization_ids: frozenset[str]  # 15-character ids
    user: str = ""
    password: SecretStr | None = None

    @classmethod
    def from_settings(cls, settings: IngestSettings) -> SalesforceAccess:
        return cls(
            settings.salesforce_org_ids, settings.salesforce_user, settings.salesforce_password
        )

    @property
    def configured(self) -> bool:
        return bool(self.organization_ids)

    def check(
        self, request: WebhookRequest, organizations: Callable[[WebhookRequest], Iterable[str]]
    ) -> None:
        """Refuse with 401 unless the request may be accepted.

        `organizations` reads the organisation ids from the body; when it cannot (a body of
        the wrong shape), the check lets the request through to parsing, which refuses it
        with 400/415/422 for the same reason.
        """
        if not self.configured:
            raise not_configured(ORG_SETTING, "Salesforce")
        password_set = self.password is not None and bool(self.password.get_secret_value())
        if self.user or password_set:
            if not (self.user and password_set):
                # Half a credential is a mistake, not an empty password to accept (or none).
                raise not_configured(BASIC_SETTINGS + " (both, or neither)", "Salesforce")
            check_basic_auth(
                request.headers.get("authorization"), self.user, self.password, vendor="salesforce"
            )
        try:
            named = set(organizations(request))
        except Refused:
            return
        for organization_id in sorted(named):
            if organization_id[:15] not in self.organization_ids:
                raise refuse(
                    401,
                    Outcome.UNAUTHORIZED,
                    f"organization {organization_id[:18]!r} is not allowed ({ORG_SETTING})",
                )
