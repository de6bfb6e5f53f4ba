"""The whole system on one machine: `python -m deploy.local.stack run`.

Starts the embedded broker, migrates the DB, starts both edge servers (Slack API, SMTP) and
the five services, optionally feeds the demo org, prints where to look, and supervises:
if any part dies the rest are stopped; Ctrl-C (SIGINT) or SIGTERM stops everything.
Every child runs in its own session with a parent-death signal, so none outlives us.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

import httpx

from deploy.local.processes import ManagedProcess, python_module
from shared.db.engine import make_engine
from shared.db.migrate import upgrade
from shared.embedded_broker import EmbeddedBroker, free_port, port_open

ROOT = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"
DEFAULT_PORTS = {
    "broker": 9092,
    "api": 8000,
    "ingest": 8001,
    "metrics": 8002,
    "alerts": 8003,
    "digest": 8004,
    "slack": 8090,
    "hubspot_api": 8092,
    "smtp": 8025,
}
SERVICES = ("metrics", "alerts", "digest", "api", "ingest")
SECRET_NAMES = (
    "API_KEY",
    "INGEST_SECRET",
    "SLACK_BOT_TOKEN",
    "HUBSPOT_CLIENT_SECRET",
    "HUBSPOT_ACCESS_TOKEN",
    "SALESFORCE_ORG_ID",
    "PIPEDRIVE_USER",
    "PIPEDRIVE_PASSWORD",
)
DEMO_SALESFORCE_ORG_ID = "00D5e000000SiMuEAK"  # the simulator's default organisation
MAPPING_FILE = "ingest-mapping.json"


@dataclass
class StackConfig:
    var_dir: Path
    ports: dict[str, int]
    clock_mode: str = "replay"
    database_url: str = ""
    demo: bool = True
    demo_args: list[str] = field(default_factory=list)
    credentials: dict[str, str] = field(default_factory=dict)

    def url(self, part: str, path: str = "") -> str:
        return f"http://{HOST}:{self.ports[part]}{path}"


def load_or_create_credentials(path: Path) -> dict[str, str]:
    """Demo credentials: reuse var/demo.env if present, else generate fresh random ones."""
    values: dict[str, str] = {}
    if path.exists():
        for line in path.read_text().splitlines():
            name, sep, value = line.partition("=")
            if sep and not line.lstrip().startswith("#"):
                values[name.strip()] = value.strip()
    generated: dict[str, Callable[[], str]] = {
        "API_KEY": lambda: "sk-demo-" + secrets.token_urlsafe(24),
        "INGEST_SECRET": lambda: "whsec-demo-" + secrets.token_urlsafe(24),
        "SLACK_BOT_TOKEN": lambda: "xoxb-local-" + secrets.token_hex(12),
        "HUBSPOT_CLIENT_SECRET": lambda: str(uuid.UUID(bytes=secrets.token_bytes(16))),
        "HUBSPOT_ACCESS_TOKEN": lambda: "pat-local-" + secrets.token_hex(16),
        "SALESFORCE_ORG_ID": lambda: DEMO_SALESFORCE_ORG_ID,
        "PIPEDRIVE_USER": lambda: "pipedrive-demo",
        "PIPEDRIVE_PASSWORD": lambda: secrets.token_urlsafe(18),
    }
    for name in SECRET_NAMES:
        values.setdefault(name, generated[name]())
    path.parent.mkdir(parents=True, exist_ok=True)
    body = "# Demo credentials written by `make run` (local stack only).\n" + "".join(
        f"{name}={value}\n" for name, value in values.items()
    )
    path.write_text(body)
    path.chmod(0o600)
    return values


def service_env(config: StackConfig, broker: str) -> dict[str, str]:
    """Environment shared by the five services."""
    ports, creds = config.ports, config.credentials
    return {
        "ENVIRONMENT": "dev",
        "KAFKA_BOOTSTRAP_SERVERS": broker,
        "DATABASE_URL": config.database_url,
        "CLOCK_MODE": config.clock_mode,
        "VAR_DIR": str(config.var_dir),
        "LOG_LEVEL": os.environ.get("LOG_LEVEL", "INFO"),
        "API_PORT": str(ports["api"]),
        "INGEST_PORT": str(ports["ingest"]),
        "METRICS_PORT": str(ports["metrics"]),
        "ALERTS_PORT": str(ports["alerts"]),
        "DIGEST_PORT": str(ports["digest"]),
        "API_KEY": creds["API_KEY"],
        "INGEST_SECRET": creds["INGEST_SECRET"],
        "SLACK_BOT_TOKEN": creds["SLACK_BOT_TOKEN"],
        "SLACK_BASE_URL": config.url("slack", "/api/"),
        "SMTP_HOST": HOST,
        "SMTP_PORT": str(ports["smtp"]),
        "PUBLIC_BASE_URL": config.url("api"),
        "DIGEST_PUBLIC_URL": config.url("digest"),
        "INGEST_MAPPING_FILE": str(config.var_dir / MAPPING_FILE),
        "SALESFORCE_ORG_ID": creds["SALESFORCE_ORG_ID"],
        "HUBSPOT_CLIENT_SECRET": creds["HUBSPOT_CLIENT_SECRET"],
        "HUBSPOT_API_URL": config.url("hubspot_api"),
        "HUBSPOT_ACCESS_TOKEN": creds["HUBSPOT_ACCESS_TOKEN"],
        "PIPEDRIVE_USER": creds["PIPEDRIVE_USER"],
        "PIPEDRIVE_PASSWORD": creds["PIPEDRIVE_PASSWORD"],
    }


def build_processes(config: StackConfig, broker: str) -> list[ManagedProcess]:
    """Edge servers first, then the services (consumers before the ingest that feeds them)."""
    logs = config.var_dir / "log"
    env = service_env(config, broker)
    edge = [
        ManagedProcess(
            "slack",
            python_module(
                "deploy.local.slack_api",
                "--host",
                HOST,
                "--port",
                str(config.ports["slack"]),
                "--log-level",
                "warning",
            ),
            log_path=logs / "slack.log",
            health_url=config.url("slack", "/healthz"),
        ),
        ManagedProcess(
            "hubspot_api",
            python_module(
                "deploy.local.hubspot_api",
                "--host",
                HOST,
                "--port",
                str(config.ports["hubspot_api"]),
            ),
            env={"HUBSPOT_LOCAL_TOKEN": config.credentials["HUBSPOT_ACCESS_TOKEN"]},
            log_path=logs / "hubspot_api.log",
            health_url=config.url("hubspot_api", "/healthz"),
        ),
        ManagedProcess(
            "smtp",
            python_module(
                "deploy.local.smtp_catcher",
                "--host",
                HOST,
                "--port",
                str(config.ports["smtp"]),
                "--mail-dir",
                str(config.var_dir / "mail"),
            ),
            log_path=logs / "smtp.log",
        ),
    ]
    services = [
        ManagedProcess(
            name,
            python_module(f"services.{name}"),
            env=env,
            log_path=logs / f"{name}.log",
            health_url=config.url(name, "/healthz"),
        )
        for name in SERVICES
    ]
    return edge + services


class Stack:
    """Starts the parts in order, watches them, stops them in reverse order."""

    def __init__(self, config: StackConfig) -> None:
        self.config = config
        self.broker = EmbeddedBroker(
            config.ports["broker"], log_path=config.var_dir / "log" / "broker.log"
        )
        self.processes: list[ManagedProcess] = []
        self.demo: ManagedProcess | None = None

    def start(self) -> None:
        started = time.monotonic()
        self._check_ports_free()
        (self.config.var_dir / "log").mkdir(parents=True, exist_ok=True)
        self.broker.start()
        engine = make_engine(self.config.database_url)
        upgrade(engine)
        engine.dispose()
        write_mapping_file(self.config)
        self.processes = build_processes(self.config, self.broker.bootstrap_servers)
        for process in self.processes:
            process.start(ROOT)
        for process in self.processes:
            process.wait_healthy(timeout=90)
        for name in SERVICES:
            _wait_ready(self.config.url(name, "/readyz"), timeout=90)
        self._write_stack_file()
        if self.config.demo:
            self.demo = ManagedProcess(
                "demo",
                python_module(
                    "simulator",
                    "run",
                    "--scenario",
                    "demo",
                    "--ingest-url",
                    self.config.url("ingest"),
                    "--labels-out",
                    str(self.config.var_dir / "sim" / "labels.json"),
                    *self.config.demo_args,
                ),
                env={"INGEST_SECRET": self.config.credentials["INGEST_SECRET"]},
                log_path=self.config.var_dir / "log" / "demo.log",
            ).start(ROOT)
        print(f"stack ready in {time.monotonic() - started:.1f}s", flush=True)

    def stop(self, timeout: float = 15.0) -> None:
        """Signal every part at once, then wait with one deadline (not one per part)."""
        parts = ([self.demo] if self.demo else []) + list(reversed(self.processes))
        for process in parts:
            process.terminate()
        deadline = time.monotonic() + timeout
        for process in parts:
            process.wait(max(deadline - time.monotonic(), 0.1))
        self.broker.stop()

    def first_failure(self) -> ManagedProcess | None:
        """A part that died (the demo may finish; that is not a failure if it exited 0)."""
        for process in self.processes:
            if not process.alive():
                return process
        demo = self.demo
        if demo and demo.process and demo.process.poll() not in (None, 0):
            return demo
        return None

    def _check_ports_free(self) -> None:
        taken = [f"{name}={port}" for name, port in self.config.ports.items() if port_open(port)]
        if taken:
            raise SystemExit(
                f"ports already in use: {', '.join(taken)}. Is another stack running? "
                "Stop it, or set the *_PORT variables (see README)."
            )

    def _write_stack_file(self) -> None:
        description = {
            "ports": self.config.ports,
            "urls": {
                name: self.config.url(name)
                for name in self.config.ports
                if name not in ("broker", "smtp")
            },
            "kafka_bootstrap_servers": self.broker.bootstrap_servers,
            "database_url": self.config.database_url,
            "mail_dir": str(self.config.var_dir / "mail"),
            "credentials_file": str(self.config.var_dir / "demo.env"),
            "pid": os.getpid(),
        }
        (self.config.var_dir / "stack.json").write_text(json.dumps(description, indent=2))


def write_mapping_file(config: StackConfig) -> Path:
    """The demo org's CRM mapping for ingest, unless the user already has one (kept as is)."""
    path = config.var_dir / MAPPING_FILE
    if not path.exists():
        from simulator.config import SCENARIOS
        from simulator.engine import Simulation
        from simulator.ingest_mapping import ingest_mapping

        document = ingest_mapping(Simulation(SCENARIOS["demo"]).org, config.credentials)
        path.write_text(json.dumps(document, indent=2))
    return path


def _wait_ready(url: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"{url} not ready after {timeout}s")


def banner(config: StackConfig) -> str:
    """Where to look, and the demo credentials (also in var/demo.env)."""
    creds, url = config.credentials, config.url
    lines = [
        "",
        "Salescoach is running"
        + (
            " with the simulator's demo org: 12 reps in 2 teams, 6 weeks of history replayed"
            " in about 15 s, then live."
            if config.demo
            else "."
        ),
        f"  API docs        {url('api', '/docs')}",
        f"  Alerts (REST)   curl -H 'X-API-Key: {creds['API_KEY']}' {url('api', '/v1/alerts')}",
        f"  Slack messages  {url('slack', '/api/_messages')}",
        f"  Mail folder     {config.var_dir / 'mail'}/   (morning digests, one .eml each)",
        f"  Webhooks        POST {url('ingest', '/v1/events')}  (canonical JSON, HMAC; README)",
        f"                  POST {url('ingest', '/v1/webhooks/')}"
        "{salesforce,salesforce-cdc,hubspot,pipedrive}",
        f"  CRM mapping     {config.var_dir / MAPPING_FILE}  (users, stages; edit, then "
        "`python -m services.ingest replay-dlq`)",
        "  Prometheus      /metrics on ports "
        + ", ".join(f"{name} {config.ports[name]}" for name in SERVICES),
        f"  Logs            {config.var_dir / 'log'}/",
        *(
            [f"  Ground truth    {config.var_dir / 'sim' / 'labels.json'}  (after the history)"]
            if config.demo
            else []
        ),
        "",
        f"  Credentials (also in {config.var_dir / 'demo.env'}):",
        *(f"    {name}={value}" for name, value in creds.items()),
        "",
        "Ctrl-C stops everything.",
        "",
    ]
    return "\n".join(lines)


def resolve_config(args: argparse.Namespace) -> StackConfig:
    var_dir = Path(args.var_dir).resolve()
    ports = {
        name: (
            free_port() if args.free_ports else int(os.environ.get(f"{name.upper()}_PORT", default))
        )
        for name, default in DEFAULT_PORTS.items()
    }
    database_url = os.environ.get("DATABASE_URL", "")
    if not database_url:
        # The broker keeps nothing between runs, so neither does the demo: its database and
        # the digests it mailed belong to the previous run's world.
        demo_db = var_dir / "demo.db"
        for stale in [*var_dir.glob("demo.db*"), *(var_dir / "mail").glob("*.eml")]:
            stale.unlink()
        database_url = f"sqlite:///{demo_db}"
    return StackConfig(
        var_dir=var_dir,
        ports=ports,
        clock_mode=args.clock,
        database_url=database_url,
        demo=not args.no_demo,
        demo_args=list(args.demo_arg or []),
        credentials=load_or_create_credentials(var_dir / "demo.env"),
    )


def supervise(stack: Stack, started_at: float) -> int:
    """Wait for Ctrl-C/SIGTERM or a dead part; report the first Slack message's arrival."""
    stopping = False

    def request_stop(_signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    first_message_seen = not stack.config.demo
    while not stopping:
        failed = stack.first_failure()
        if failed is not None:
            print(
                f"\n{failed.name} stopped unexpectedly; its log ends with:\n"
                f"{failed.log_tail()}\nstopping the stack.",
                file=sys.stderr,
                flush=True,
            )
            return 1
        if not first_message_seen and _slack_has_messages(stack.config):
            first_message_seen = True
            print(
                f"first Slack message after {time.monotonic() - started_at:.1f}s: "
                f"{stack.config.url('slack', '/api/_messages')}",
                flush=True,
            )
        time.sleep(0.25)
    print("\nstopping…", flush=True)
    return 0


def _slack_has_messages(config: StackConfig) -> bool:
    try:
        response = httpx.get(config.url("slack", "/api/_messages"), timeout=1)
        body = response.json()
    except (httpx.HTTPError, ValueError):
        return False
    messages = body.get("messages", body) if isinstance(body, dict) else body
    return bool(messages)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.local.stack", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="start everything and supervise until Ctrl-C")
    run.add_argument("--var-dir", default="var", help="state, logs, mail (default: var)")
    run.add_argument(
        "--clock",
        choices=("replay", "live"),
        default="replay",
        help="replay: now = event-time watermark (default); live: wall clock",
    )
    run.add_argument("--no-demo", action="store_true", help="do not feed the demo org")
    run.add_argument(
        "--free-ports", action="store_true", help="pick free ports instead of the defaults (tests)"
    )
    run.add_argument("--demo-arg", action="append", help="extra argument for the demo feed")
    args = parser.parse_args(argv)
    started_at = time.monotonic()
    config = resolve_config(args)
    stack = Stack(config)
    try:
        stack.start()
        print(banner(config), flush=True)
        return supervise(stack, started_at)
    except (TimeoutError, RuntimeError) as exc:
        print(f"the stack did not start: {exc}", file=sys.stderr, flush=True)
        return 1
    finally:
        stack.stop()


if __name__ == "__main__":
    sys.exit(main())
