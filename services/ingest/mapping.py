"""How each CRM's users, pipelines, stages and activity types map to canonical values.

One JSON file (`INGEST_MAPPING_FILE`), one section per vendor::

    {"salesforce": {"users": {"0058W…": "rep-1"},
                    "pipelines": {"default": {"stages": {"Prospecting": "Prospecting", …},
                                              "won": ["Closed Won"], "lost": ["Closed Lost"]}},
                    "activity_types": {"Email": "email", "Call": "call"}, …},
     "hubspot": {…}, "pipedrive": {…}}

A pipeline's `stages` are in funnel order (vendor stage id → canonical stage name); `won` and
`lost` list the vendor stage ids that close a deal. Each vendor section may add its own fields
(see the adapter's mapping model). A value the mapping does not know is never guessed: the
item is parked on the dead-letter topic with the reason, and replayed once the file is fixed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from services.ingest.adapters.hubspot_mapping import HubSpotMapping
from services.ingest.adapters.pipedrive_mapping import PipedriveMapping
from services.ingest.adapters.salesforce_mapping import SalesforceMapping
from shared.logging import get_logger

log = get_logger(__name__)


class MappingConfig(BaseModel):
    """The whole mapping file."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    salesforce: SalesforceMapping = Field(default_factory=SalesforceMapping)
    hubspot: HubSpotMapping = Field(default_factory=HubSpotMapping)
    pipedrive: PipedriveMapping = Field(default_factory=PipedriveMapping)

    @classmethod
    def from_json(cls, raw: bytes | str) -> MappingConfig:
        """Parse and validate a mapping document."""
        return cls.model_validate_json(raw)


class MappingError(Exception):
    """The mapping file cannot be read or is invalid; the message names the problem."""


def load_mapping(path: Path | None) -> MappingConfig:
    """The mapping in `path`, or the empty mapping when no file is configured."""
    if path is None:
        return MappingConfig()
    try:
        return MappingConfig.from_json(path.read_bytes())
    except OSError as exc:
        raise MappingError(f"cannot read mapping file {path}: {exc.strerror}") from exc
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(part) for part in first["loc"])
        raise MappingError(f"mapping file {path}: {where}: {first['msg']}") from exc


@dataclass
class MappingSource:
    """The configured mapping, re-read when the file's modification time changes.

    A file that turns invalid keeps the last good mapping in force (and says so in the log),
    so a half-saved edit never drops traffic.
    """

    path: Path | None
    _mapping: MappingConfig | None = None
    _stamp: tuple[int, int] | None = None

    def current(self) -> MappingConfig:
        """The mapping to use for the next request."""
        stamp = self._file_stamp()
        if self._mapping is None or stamp != self._stamp:
            try:
                self._mapping = load_mapping(self.path)
                if self._stamp is not None:
                    log.info("mapping file reloaded", path=str(self.path))
            except MappingError as exc:
                if self._mapping is None:
                    raise
                log.error("mapping file is invalid; keeping the previous one", reason=str(exc))
            self._stamp = stamp
        return self._mapping

    def _file_stamp(self) -> tuple[int, int] | None:
        if self.path is None:
            return None
        try:
            stat = self.path.stat()
        except OSError:
            return None
        return stat.st_mtime_ns, stat.st_size
