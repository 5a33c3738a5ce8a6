"""Tryton's JSON-RPC over httpx: session login and renewal, and Tryton's errors mapped onto the
four kinds of sync.erp.protocol. Messages name the server (never the password)."""

from __future__ import annotations

import base64
import itertools
import json
from typing import Any

import httpx

from sync.erp.address import ErpAddress
from sync.erp.protocol import (
    ErpAuthFailed,
    ErpConflict,
    ErpFault,
    ErpMethodRefused,
    ErpRejected,
    ErpUnavailable,
)

TRANSIENT_STATUS = {408, 423, 425, 429, 500, 502, 503, 504}


class TrytonRPC:
    """One logged-in JSON-RPC session with a Tryton database. Not thread-safe: one user at a time."""

    def __init__(
        self,
        address: ErpAddress,
        *,
        client: httpx.Client | None = None,
        timeout: float = 30.0,
        verify: bool = True,
    ) -> None:
        self.address = address
        self._own_client = client is None
        self._client = client or httpx.Client(
            timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)), verify=verify
        )
        self._session: str | None = None
        self._ids = itertools.count(1)

    @property
    def where(self) -> str:
        return f"{self.address.base_url}/{self.address.database}"

    def close(self) -> None:
        if self._own_client:
            self._client.close()

    def login(self, timeout: float | None = None) -> None:
        """Open a session. ErpAuthFailed when the credentials are refused, ErpUnavailable when unreachable."""
        try:
            result = self._post(
                "common.db.login", [self.address.user, {"password": self.address.password}, "en"], timeout
            )
        except ErpRejected as exc:
            raise ErpAuthFailed(
                f"the ERP at {self.where} refused the login of {self.address.user!r}: {exc}"
            ) from None
        user_id, key = result[0], result[1]
        token = base64.b64encode(f"{self.address.user}:{user_id}:{key}".encode()).decode()
        self._session = f"Session {token}"

    def call(self, method: str, *params: Any, timeout: float | None = None) -> Any:
        """Call ``method`` (logging in first, and once more if the session expired). ``timeout`` in
        seconds overrides the client's for this call."""
        if self._session is None:
            self.login(timeout)
        try:
            return self._post(method, list(params), timeout)
        except _SessionExpired:
            self.login(timeout)
            try:
                return self._post(method, list(params), timeout)
            except _SessionExpired as exc:
                if exc.status == 403:  # Tryton's answer to a method it does not offer over RPC
                    raise ErpMethodRefused(
                        f"the ERP at {self.where} does not let {self.address.user!r} call {method} "
                        "(its returns_station module may be older than this station)"
                    ) from None
                raise ErpAuthFailed(
                    f"the ERP at {self.where} keeps refusing the session of {self.address.user!r}"
                ) from None

    def server_version(self) -> str:
        try:
            response = self._client.post(
                f"{self.address.base_url}/rpc/",
                json={"id": 0, "method": "common.server.version", "params": []},
            )
            return str(response.json().get("result"))
        except (httpx.HTTPError, ValueError):
            return "?"

    def _post(self, method: str, params: list[Any], timeout: float | None = None) -> Any:
        headers = {"Authorization": self._session} if self._session and method != "common.db.login" else {}
        body = json.dumps({"id": next(self._ids), "method": method, "params": params}, default=str)
        try:
            response = self._client.post(
                f"{self.address.base_url}/{self.address.database}/rpc/",
                content=body,
                headers={"Content-Type": "application/json", **headers},
                timeout=(
                    httpx.USE_CLIENT_DEFAULT
                    if timeout is None
                    else httpx.Timeout(timeout, connect=min(timeout, 5.0))
                ),
            )
        except httpx.TimeoutException:
            raise ErpUnavailable(f"the ERP at {self.where} did not answer in time") from None
        except httpx.TransportError as exc:
            raise ErpUnavailable(f"cannot reach the ERP at {self.where} ({_short(exc)})") from None
        status = response.status_code
        if status in (401, 403):
            if method == "common.db.login":
                raise ErpAuthFailed(
                    f"the ERP at {self.where} refused the login of {self.address.user!r}: "
                    "check the user and password in STATION_ERP_URL"
                )
            raise _SessionExpired(status)
        if status == 404:
            raise ErpUnavailable(
                f"the ERP at {self.address.base_url} has no database {self.address.database!r}"
            )
        if status in TRANSIENT_STATUS or status >= 500:
            raise ErpUnavailable(f"the ERP at {self.where} is busy or failing (HTTP {status})")
        if status >= 400:
            raise ErpRejected(f"the ERP at {self.where} refused the request (HTTP {status})")
        try:
            reply = response.json()
        except ValueError:
            raise ErpUnavailable(f"the ERP at {self.where} sent an unreadable answer") from None
        if "error" in reply and reply["error"]:
            raise _error(reply["error"])
        return reply.get("result")


_ACCESS_DENIED = "You are not allowed to"  # the connector logs in with language "en"
# A server error that says the database was busy is an outage (retried), not a fault of the batch.
_BUSY = ("locked", "could not serialize", "deadlock", "timeout", "too many connections")


class _SessionExpired(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


def _error(error: Any) -> Exception:
    """Tryton's ``error`` member ([name, args]) as a connector error."""
    if isinstance(error, list | tuple) and error:
        name = error[0]
        args = error[1] if len(error) > 1 else None
        if name == "UserError" and isinstance(args, list | tuple):
            message, description = args[0], args[1] if len(args) > 1 else ""
            if str(message).startswith(_ACCESS_DENIED):
                # Tryton's AccessError travels as a UserError: the station's ERP user lacks a right,
                # which no retry and no other operation will fix.
                return ErpAuthFailed(
                    f"the ERP user may not do this ({message}): a station logs in as a user of the "
                    'group "Returns Station" (`station erp add-station NAME` creates one)'
                )
            return ErpRejected(f"{message} {description}".strip())
        if name == "UserWarning" and isinstance(args, list | tuple):
            return ErpRejected(" ".join(str(a) for a in args[1:] if a))
        if name == "ConcurrencyException":
            return ErpConflict(f"the record changed in the ERP meanwhile: {args}")
        if name == "LoginException":
            return ErpAuthFailed("the ERP asks for another login step; use a user with a password only")
        first_line = str(name).splitlines()[0] if name else "unknown error"
        if any(word in first_line.lower() for word in _BUSY):
            return ErpUnavailable(f"the ERP is busy: {first_line[:200]}")
        return ErpFault(f"the ERP failed: {first_line[:200]}")
    return ErpUnavailable(f"the ERP failed: {str(error)[:200]}")


def _short(exc: Exception) -> str:
    text = str(exc) or type(exc).__name__
    return text.splitlines()[0][:120]
