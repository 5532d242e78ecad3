"""The API's handlers, one module per area; each operation in ``shared/api/operations.py`` names its own."""
