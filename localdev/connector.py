"""``make connector``: the files a Power Platform maker imports as the hub's custom connector.

The OpenAPI 2.0 document is the one the app serves at ``GET /api/v1/openapi.json``,
for the host ``CONNECTOR_HOST`` names (``http`` for a local host, ``https``
otherwise), so the import asks for nothing. Beside it goes the
``apiProperties.json`` that ``paconn create --api-prop`` takes: the connection a
maker creates (the function key; with ``API_ENTRA_CLIENT_ID``/``API_ENTRA_TENANT_ID``
set, Entra ID sign-in as well, since the API then wants both), a policy that
sends the key on every call, and one that routes ``nextLink`` pages through the
connector.
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path
from typing import Any

import orjson

from shared.api.callers import EntraAudience
from shared.api.openapi import openapi_document
from shared.live_reads.reads import LIVE_READS
from shared.settings import ConnectorSettings, load_connector_settings

API_PROPERTIES = "apiProperties.json"
BRAND_COLOR = "#00539B"
_LOCAL_HOSTS = ("127.0.0.1", "localhost")
_PAGED_OPERATIONS = ["ListRuns", "ListDeadLetters"]
REDIRECT_URL = "https://global.consent.azure-apim.net/redirect"  # Power Platform's consent page


def audience(settings: ConnectorSettings) -> EntraAudience | None:
    """The API's Entra ID registration, when the settings name one."""
    if not (settings.api_entra_client_id and settings.api_entra_tenant_id):
        return None
    registration = EntraAudience(settings.api_entra_client_id, settings.api_entra_tenant_id)
    if settings.api_entra_authority_host is None:
        return registration
    return replace(registration, authority_host=str(settings.api_entra_authority_host).rstrip("/"))


def api_definition(settings: ConnectorSettings) -> dict[str, Any]:
    host = settings.host
    scheme = "http" if host and host.split(":")[0] in _LOCAL_HOSTS else "https"
    return openapi_document(LIVE_READS, host, scheme, entra=audience(settings))


def api_properties(settings: ConnectorSettings) -> dict[str, Any]:
    """The connection and policies, in the shape of Microsoft's ``paconn-apiProperties`` schema."""
    parameters: dict[str, Any] = {
        "api_key": {
            "type": "securestring",
            "uiDefinition": {
                "displayName": "Function key",
                "description": "The Function App's function key for the hub's API (Discard a dead letter "
                "takes the admin key).",
                "tooltip": "Azure portal: the Function App, App keys",
                "constraints": {"tabIndex": 2, "clearText": False, "required": "true"},
            },
        }
    }
    entra = audience(settings)
    if entra is not None:
        parameters["token"] = _entra_sign_in(entra, settings.client_id or entra.client_id)
    return {
        "properties": {
            "iconBrandColor": BRAND_COLOR,
            "capabilities": [],
            "connectionParameters": parameters,
            "policyTemplateInstances": [
                {
                    "templateId": "setheader",
                    "title": "Send the function key",
                    "parameters": {
                        "x-ms-apimTemplateParameter.name": "x-functions-key",
                        "x-ms-apimTemplateParameter.value": "@connectionParameters('api_key')",
                        "x-ms-apimTemplateParameter.existsAction": "override",
                        "x-ms-apimTemplate-policySection": "Request",
                    },
                },
                {
                    "templateId": "updatenextlink",
                    "title": "Page runs and dead letters through the connector",
                    "parameters": {
                        "x-ms-apimTemplate-operationName": _PAGED_OPERATIONS,
                        "x-ms-apimTemplateParameter.nextLinkPropertyName": "nextLink",
                    },
                },
            ],
        }
    }


def _entra_sign_in(entra: EntraAudience, client_id: str) -> dict[str, Any]:
    """Entra ID sign-in ("aad") for a token whose audience is the API's registration."""
    resource = f"api://{entra.client_id}"
    return {
        "type": "oauthSetting",
        "oAuthSettings": {
            "identityProvider": "aad",
            "clientId": client_id,
            "scopes": [],
            "redirectMode": "Global",
            "redirectUrl": REDIRECT_URL,
            "properties": {"IsFirstParty": "False", "AzureActiveDirectoryResourceId": resource},
            "customParameters": {
                "loginUri": {"value": entra.authority_host},
                "tenantId": {"value": entra.tenant_id},
                "resourceUri": {"value": resource},
            },
        },
        "uiDefinition": {
            "displayName": "Sign in with Entra ID",
            "description": "Your app roles on the hub's API (Integration.Read, .Run, .Admin; Budget.Approve "
            "for budget revisions) decide what the connection may do.",
            "constraints": {"required": "true"},
        },
    }


def write_connector(path: Path, settings: ConnectorSettings) -> list[Path]:
    """Write the API definition to ``path`` and ``apiProperties.json`` beside it; return both paths."""
    properties = path.with_name(API_PROPERTIES)
    path.write_bytes(orjson.dumps(api_definition(settings), option=orjson.OPT_INDENT_2))
    properties.write_bytes(orjson.dumps(api_properties(settings), option=orjson.OPT_INDENT_2))
    return [path, properties]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m localdev.connector", description=__doc__)
    parser.add_argument(
        "path",
        nargs="?",
        type=Path,
        default=Path("hub-connector.swagger.json"),
        help="where to write the document (default hub-connector.swagger.json); apiProperties.json goes beside it",
    )
    path = parser.parse_args(argv).path
    settings = load_connector_settings()
    definition, properties = write_connector(path, settings)
    size = definition.stat().st_size / 1024
    print(f"Wrote {definition} ({size:.0f} KiB; custom connectors take up to 1 MB) and {properties}")
    if settings.host is None:
        print("No CONNECTOR_HOST set: the importer will ask for the Function App's host name.")
    print(
        f"paconn create --api-def {definition} --api-prop {properties}"
        + (" --secret <client secret>" if audience(settings) else "")
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
