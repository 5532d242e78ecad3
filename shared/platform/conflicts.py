"""The one exception every ETag-guarded state write raises, in a module of its own.

Blob and Table stores both raise it, and modules that only name it (the error
table, the stores' callers) need not load either SDK to do so.
"""


class StateConflictError(Exception):
    """A state document changed between read and write; re-read it and decide again."""
