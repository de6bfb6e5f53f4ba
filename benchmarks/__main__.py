"""Run every benchmark and print medians and ratios (never absolute pass/fail)."""

from __future__ import annotations

from benchmarks import metrics_core, simulator_generate


def main() -> None:
    print(metrics_core.report())
    print(simulator_generate.report())


if __name__ == "__main__":
    main()
