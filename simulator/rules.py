"""Which alert rules the engine has, read from the rules package rather than a list here."""

from __future__ import annotations

import importlib
import pkgutil

import services.alerts.rules as rules_package


def implemented_rules() -> frozenset[str]:
    """The `RULE` name of every module in `services.alerts.rules` that defines one."""
    names: set[str] = set()
    for module_info in pkgutil.iter_modules(rules_package.__path__):
        module = importlib.import_module(f"{rules_package.__name__}.{module_info.name}")
        rule = getattr(module, "RULE", None)
        # Helper modules (base, config) define no RULE; anything else named RULE is a bug.
        if rule is None:
            continue
        if not isinstance(rule, str):
            raise TypeError(f"{module.__name__}.RULE is {type(rule).__name__}, not str")
        names.add(rule)
    return frozenset(names)
