"""The few Portico names the benchmarks use whose home moves between versions.

The record pages bench runs against this checkout's code and against another checkout's
(`bench/record_pages.py --code-dir`), so "before" and "after" are measured by the same bench on
the same data. Each name is looked up where the newer code keeps it first, then where commit
271fb73 kept it. A module that exists but fails to import is an error, never skipped.
"""

from __future__ import annotations

import importlib
import pkgutil


def _import(module_name: str):
    """The module, or None if it (or a package above it) does not exist."""
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        missing = exc.name or ""
        if module_name == missing or module_name.startswith(missing + "."):
            return None
        raise


def first_of(name: str, *modules: str, package: str | None = None):
    """`name` from the first of `modules` that has it; else from any module of `package`."""
    for module_name in modules:
        module = _import(module_name)
        if module is not None and hasattr(module, name):
            return getattr(module, name)
    if package is not None:
        root = _import(package)
        for info in pkgutil.iter_modules(getattr(root, "__path__", [])):
            module = _import(f"{package}.{info.name}")
            if module is not None and hasattr(module, name):
                return getattr(module, name)
    raise ImportError(f"{name} is in none of {', '.join(modules)} (nor in {package})")


def bulk_generate():
    """The clinical bulk generator: portico.demo.records (or another module of the new
    portico.demo package), else portico.charts.demo_records (271fb73)."""
    return first_of(
        "bulk_generate",
        "portico.demo.records",
        "portico.charts.demo_records",
        package="portico.demo",
    )


def record_viewed():
    """The patient record read's audit: portico.records.services, else portico.portal.services
    (271fb73)."""
    return first_of("record_viewed", "portico.records.services", "portico.portal.services")


def chart_viewed():
    """A staff read of a chart (the sample charts' access log)."""
    return first_of("chart_viewed", "portico.charts.services", "portico.records.services")


def patient_record_view():
    """The record pages' access check (the decorator every patient record page uses)."""
    return first_of("patient_record_view", "portico.records.views")


def shared_record():
    """What a patient's record shows (used only to report the size of the sample charts)."""
    return first_of("shared_record", "portico.records.selectors")
