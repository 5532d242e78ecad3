"""``make connector``: write the OpenAPI 2.0 document a Power Platform maker imports as a custom connector.

The same document the app serves at ``GET /api/v1/openapi.json``, without a
``host``: the maker sets the Function App's host name when importing it.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import orjson

from shared.api.openapi import openapi_document
from shared.live_reads.reads import LIVE_READS


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m localdev.connector", description=__doc__)
    parser.add_argument(
        "path",
        nargs="?",
        type=Path,
        default=Path("hub-connector.swagger.json"),
        help="where to write the document (default hub-connector.swagger.json)",
    )
    path = parser.parse_args(argv).path
    document = orjson.dumps(openapi_document(LIVE_READS), option=orjson.OPT_INDENT_2)
    path.write_bytes(document)
    print(f"Wrote {path} ({len(document) / 1024:.0f} KiB; custom connectors take up to 1 MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
