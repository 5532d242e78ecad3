"""``python -m localdev``: the hub's local command line (see ``localdev/cli.py``)."""

from localdev.cli import main

raise SystemExit(main())
