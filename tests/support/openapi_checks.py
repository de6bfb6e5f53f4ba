"""The schemathesis checks every ingest fuzz test applies to each answer.

Signed or credentialed bodies are not what the schema promises a client sends, so "valid data
accepted" and "invalid data rejected" do not apply; every response must still conform.
"""

from __future__ import annotations

from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

CONFORMANCE = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
