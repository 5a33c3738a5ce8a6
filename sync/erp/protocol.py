"""The connector protocol: the only way the sync engine talks to an ERP.

A connector maps its ERP's errors onto four kinds the engine understands:
- :class:`ErpUnavailable` — transient (network, timeout, 5xx, 429, ERP locked): retry later;
- :class:`ErpRejected` — permanent: the ERP refused this operation; a person must look;
- :class:`ErpConflict` — the ERP's state moved under the operation (another station did it);
- :class:`ErpAuthFailed` — credentials refused (or, :class:`ErpMethodRefused`, a method the ERP does
  not let the station call): stop syncing and say so.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from sync.operations import ApplyResult, Operation


class ErpError(Exception):
    """Base of the connector errors; ``str(error)`` is a message a supervisor can read."""


class ErpUnavailable(ErpError):
    """Transient: try again later."""


class ErpFault(ErpUnavailable):
    """The ERP was reached and answered, but failed on the request (a server-side error that is
    not a refusal). Retried like an outage, except that the engine isolates the operation at fault
    and counts it toward its cap (an unreachable ERP never counts)."""


class ErpRejected(ErpError):
    """Permanent: the ERP refused the operation."""


class ErpConflict(ErpError):
    """The ERP's state moved under the operation."""


class ErpAuthFailed(ErpError):
    """The ERP refused the station's credentials."""


class ErpMethodRefused(ErpAuthFailed):
    """The station logs in but the ERP will not let it call this method (its module does not offer
    it): like refused credentials, only a person can fix it."""


# Online requests (SyncEngine.request): what the station gets instead of an answer.
@dataclass(frozen=True)
class Offline:
    """No answer now: the ERP cannot be reached, or refuses this station's login (``auth_failed``).
    ``reason`` is readable and never holds a secret. The caller carries on without the ERP."""

    reason: str
    auth_failed: bool = False


@dataclass(frozen=True)
class Refused:
    """The ERP answered no: it refused the request; ``reason`` is in the ERP's words."""

    reason: str


@dataclass
class PullResult:
    """Changed reference records per kind (see ``sync.reference``) and the cursors to pass next time."""

    records: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    cursors: dict[str, str] = field(default_factory=dict)


PhotoReader = Callable[[str], bytes]  # sha256 hex -> the photo's bytes


class Connector(Protocol):
    def check(self) -> str:
        """Log in and return a short description of the ERP (for "test connection")."""

    def pull(self, cursors: dict[str, str]) -> PullResult:
        """Reference records changed since ``cursors`` (all of them when a kind has no cursor)."""

    def apply(self, op: Operation, read_photo: PhotoReader) -> ApplyResult:
        """Apply ``op`` exactly once; a re-send of an applied id returns ``ApplyResult(already=True)``."""

    def request(self, method: str, *args: Any, timeout: float | None = None) -> Any:
        """Call the station-facing module method ``method`` (``returns.station.<model>.<method>``,
        e.g. ``returns.station.clock.now``) with ``args``: its JSON answer. Raises ErpError;
        ValueError for a method that is not station-facing. ``timeout`` in seconds (None: the
        connector's own)."""

    def close(self) -> None: ...
