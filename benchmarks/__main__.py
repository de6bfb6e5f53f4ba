"""Run every benchmark and print medians and ratios (never absolute pass/fail)."""

from __future__ import annotations

from benchmarks import ingest_http, metrics_core, simulator_generate


def main() -> None:
    print(metrics_core.report())
    print(simulator_generate.report())
    print(ingest_http.report())


if __name__ == "__main__":
    main()
