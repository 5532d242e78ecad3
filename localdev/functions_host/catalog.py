"""The app's functions, read the way the Python worker indexes them: import ``function_app`` and ask its app.

Each function's trigger is read from its function.json form (``get_function_json``),
the same description the decorators hand the real Functions host, so this host
needs nothing from the app that Azure does not. A function the host cannot serve
is reported "in error" and skipped, as the Functions host does, while the rest run.
"""

from __future__ import annotations

import importlib
import inspect
import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import azure.functions as func

SCRIPT_MODULE = "function_app"

# Bindings this host wires up; anything else is an input/output binding it cannot serve.
HTTP_TRIGGER = "httptrigger"
TIMER_TRIGGER = "timertrigger"
SERVICE_BUS_TRIGGER = "servicebustrigger"
_HTTP_RESULT = "http"


class AppLoadError(RuntimeError):
    """The app could not be imported or indexed; the message says why."""


@dataclass(frozen=True)
class AppFunction:
    """One function of the app: its name, its Python callable and its trigger's function.json properties."""

    name: str
    user_function: Callable[..., Any]
    trigger: dict[str, Any]
    wants_context: bool = field(default=False)

    @property
    def trigger_type(self) -> str:
        return str(self.trigger.get("type", "")).lower()

    @property
    def argument(self) -> str:
        """The parameter the trigger's value is passed as."""
        return str(self.trigger["name"])


@dataclass(frozen=True)
class FunctionInError:
    name: str
    reason: str


@dataclass
class Catalog:
    functions: list[AppFunction] = field(default_factory=list)
    in_error: list[FunctionInError] = field(default_factory=list)


def import_app(app_dir: Path) -> func.FunctionRegister:
    """Import ``function_app.py`` from ``app_dir`` and find the one FunctionApp it defines."""
    if not (app_dir / f"{SCRIPT_MODULE}.py").exists():
        raise AppLoadError(f"{app_dir} has no {SCRIPT_MODULE}.py")
    sys.path.insert(0, str(app_dir))
    try:
        module = importlib.import_module(SCRIPT_MODULE)
    except Exception as error:
        raise AppLoadError(f"importing {SCRIPT_MODULE}.py failed: {type(error).__name__}: {error}") from error
    return _the_app(module)


def _the_app(module: ModuleType) -> func.FunctionRegister:
    apps = [value for value in vars(module).values() if isinstance(value, func.FunctionRegister)]
    if len(apps) != 1:
        raise AppLoadError(f"{SCRIPT_MODULE}.py must define exactly one FunctionApp; found {len(apps)}")
    return apps[0]


def read_catalog(app: func.FunctionRegister, environment: dict[str, str] | None = None) -> Catalog:
    """Every function of ``app``, or why it cannot run here."""
    settings = os.environ if environment is None else environment
    catalog = Catalog()
    try:
        functions = app.get_functions()
    except ValueError as error:
        raise AppLoadError(f"indexing the app failed: {error}") from error
    for function in functions:
        name = function.get_function_name() or function.get_user_function().__name__
        if settings.get(f"AzureWebJobs.{name}.Disabled", "").lower() in ("true", "1"):
            continue
        description = json.loads(function.get_function_json())
        trigger, unsupported = _split_bindings(description["bindings"])
        if unsupported:
            catalog.in_error.append(
                FunctionInError(name, f"the local host does not support {', '.join(unsupported)} bindings")
            )
            continue
        user_function = function.get_user_function()
        wants_context = "context" in inspect.signature(user_function).parameters
        catalog.functions.append(AppFunction(name, user_function, trigger, wants_context))
    return catalog


def _split_bindings(bindings: list[dict[str, Any]]) -> tuple[dict[str, Any], list[str]]:
    trigger: dict[str, Any] = {}
    unsupported = []
    for binding in bindings:
        kind = str(binding.get("type", "")).lower()
        if kind in (HTTP_TRIGGER, TIMER_TRIGGER, SERVICE_BUS_TRIGGER):
            trigger = binding
        elif kind == _HTTP_RESULT and binding.get("name") == "$return":
            continue
        else:
            unsupported.append(str(binding.get("type")))
    return trigger, unsupported
