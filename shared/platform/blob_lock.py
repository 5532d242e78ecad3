"""Named locks built on blob leases, so two runs of one stream never overlap.

A lease is held for a short time and renewed by a background thread while its
holder works. If the holder's process dies, renewals stop and the lease lapses
within ``lease_seconds``: a crashed run cannot block its stream forever. The
holder's id is kept in the lock blob's metadata so a refused caller learns which
run is in the way.
"""

from __future__ import annotations

import logging
import threading
from types import TracebackType

from azure.core.exceptions import HttpResponseError, ResourceExistsError, ResourceNotFoundError
from azure.storage.blob import BlobClient, BlobLeaseClient, ContainerClient

_LOCKS_PREFIX = "locks/"
_HOLDER = "holder"
log = logging.getLogger(__name__)


class LockHeldError(Exception):
    """The lock is held by someone else; ``holder`` names them (a run id) when known."""

    def __init__(self, name: str, holder: str | None) -> None:
        super().__init__(f"'{name}' is already held by {holder or 'another holder'}")
        self.name = name
        self.holder = holder


class HeldLock:
    """A lease that renews itself until released; use it as a context manager."""

    def __init__(self, name: str, lease: BlobLeaseClient, lease_seconds: int) -> None:
        self.name = name
        self._lease = lease
        self._stop = threading.Event()
        self._lost = threading.Event()
        self._renewer = threading.Thread(
            target=self._renew_until_stopped, args=(lease_seconds / 3,), name=f"lease:{name}", daemon=True
        )
        self._renewer.start()

    @property
    def lost(self) -> bool:
        """True when a renewal failed: the lock may now belong to someone else."""
        return self._lost.is_set()

    def _renew_until_stopped(self, every: float) -> None:
        while not self._stop.wait(every):
            try:
                self._lease.renew()
            except HttpResponseError:
                log.warning("Lost the lease on lock '%s'; another run may take it", self.name)
                self._lost.set()
                return

    def release(self) -> None:
        self._stop.set()
        self._renewer.join()
        if not self._lost.is_set():
            try:
                self._lease.release()
            except HttpResponseError:
                log.warning("Could not release lock '%s'; it lapses on its own", self.name)

    def __enter__(self) -> HeldLock:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.release()


class BlobLocks:
    """Hands out named locks in one container; ``lease_seconds`` must be 15 to 60 (Blob's limits)."""

    def __init__(self, container: ContainerClient, lease_seconds: int = 30) -> None:
        if not 15 <= lease_seconds <= 60:
            raise ValueError("lease_seconds must be between 15 and 60")
        self._container = container
        self._lease_seconds = lease_seconds

    def acquire(self, name: str, holder: str) -> HeldLock:
        """Take the lock ``name`` for ``holder`` or raise ``LockHeldError`` at once (no waiting)."""
        blob = self._container.get_blob_client(_LOCKS_PREFIX + name)
        self._ensure_exists(blob)
        lease = BlobLeaseClient(blob)
        try:
            lease.acquire(lease_duration=self._lease_seconds)
        except HttpResponseError as error:
            if error.status_code != 409:
                raise
            holder_now = blob.get_blob_properties().metadata.get(_HOLDER)
            raise LockHeldError(name, holder_now) from None
        blob.set_blob_metadata({_HOLDER: holder}, lease=lease)
        return HeldLock(name, lease, self._lease_seconds)

    def holder(self, name: str) -> str | None:
        """Who holds the lock ``name`` now, or None when nobody does (a lapsed lease is nobody's)."""
        blob = self._container.get_blob_client(_LOCKS_PREFIX + name)
        try:
            properties = blob.get_blob_properties()
        except ResourceNotFoundError:
            return None
        if properties.lease.state != "leased":
            return None
        return str(properties.metadata.get(_HOLDER) or "unknown")

    @staticmethod
    def _ensure_exists(blob: BlobClient) -> None:
        try:
            blob.upload_blob(b"", overwrite=False)
        except ResourceExistsError:
            pass
        except HttpResponseError as error:
            # A leased blob refuses even a conditional create: it exists, which is all we need.
            if error.status_code != 412:
                raise
