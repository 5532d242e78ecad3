"""``make connector``: write the OpenAPI 2.0 document a Power Platform maker imports as a custom connector.

The same document the app serves at ``GET /api/v1/openapi.json``, without a
``host``: the maker sets the Function App's host name when importing it.
"""

from __future__ import annotations

import sys
from pathlib import Path

import orjson

from shared.api.openapi import openapi_document
from shared.live_reads.reads import LIVE_READS


def main(path: str) -> int:
    document = orjson.dumps(openapi_document(LIVE_READS), option=orjson.OPT_INDENT_2)
    Path(path).write_bytes(document)
    print(f"Wrote {path} ({len(document) / 1024:.0f} KiB; custom connectors take up to 1 MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1] if len(sys.argv) > 1 else "hub-connector.swagger.json"))
