"""The settings a Functions app sees locally: ``local.settings.json``, ``host.json``, ``%NAME%`` references.

Core Tools copies ``local.settings.json`` ``Values`` into the worker's
environment, and variables already set win so a shell or a test can override
one value without editing the file. Trigger properties written as ``%NAME%``
are app-setting references that the Functions host resolves before binding.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping, MutableMapping
from pathlib import Path
from typing import Any

_SETTING_REFERENCE = re.compile(r"%([^%]+)%")


class SettingsError(ValueError):
    """A local setting or ``host.json`` value the host cannot use; the message names it."""


def load_local_settings(path: Path, environment: MutableMapping[str, str]) -> dict[str, str]:
    """Put the file's ``Values`` into ``environment`` (existing entries win) and return the file's values."""
    if not path.exists():
        return {}
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise SettingsError(f"{path.name} is not valid JSON: {error}") from error
    if document.get("IsEncrypted"):
        raise SettingsError(f"{path.name} is encrypted; the local host reads only plain-text settings")
    values = document.get("Values", {})
    if not isinstance(values, dict):
        raise SettingsError(f"{path.name}: Values must be an object of setting names to strings")
    for name, value in values.items():
        # Azure app settings are always strings; accepting numbers here would hide a typo until deploy.
        if not isinstance(value, str):
            raise SettingsError(f"{path.name}: Values.{name} must be a string")
        environment.setdefault(name, value)
    return dict(values)


def resolve(expression: str, environment: Mapping[str, str] | None = None) -> str:
    """Replace each ``%NAME%`` in a trigger property with that app setting, as the Functions host does."""
    settings = os.environ if environment is None else environment

    def setting(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in settings:
            raise SettingsError(f"'%{name}%' refers to the app setting {name}, which is not set")
        return settings[name]

    return _SETTING_REFERENCE.sub(setting, expression)


def load_host_json(app_dir: Path) -> dict[str, Any]:
    """The app's ``host.json`` (empty when the app has none)."""
    path = app_dir / "host.json"
    if not path.exists():
        return {}
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise SettingsError(f"host.json is not valid JSON: {error}") from error
    if not isinstance(document, dict):
        raise SettingsError("host.json must be a JSON object")
    return document


def extension_settings(host_json: Mapping[str, Any], extension: str) -> dict[str, Any]:
    """``host.json`` ``extensions.<extension>``; the Functions host matches the name case-insensitively."""
    extensions = host_json.get("extensions") or {}
    for name, section in extensions.items():
        if name.lower() == extension.lower() and isinstance(section, dict):
            return section
    return {}
