"""The Tryton connector: pulls reference data and applies operations through the station module's
``returns.station.operation`` model (operation.py), which applies each operation id exactly once."""

from __future__ import annotations

import base64
from typing import Any

import httpx

from sync.erp.address import ErpAddress
from sync.erp.protocol import ErpConflict, ErpError, ErpRejected, ErpUnavailable, PhotoReader, PullResult
from sync.erp.tryton.rpc import TrytonRPC
from sync.operations import ApplyResult, Operation

MODEL = "model.returns.station.operation"
FIGURES = "model.returns.station.figures"
STATION_METHODS = "returns.station."  # requests may call the station module's models only
MAX_BATCH_BYTES = (
    8 * 1024 * 1024
)  # photos travel base64 in the batch: keep each call well under Tryton's limit


class TrytonConnector:
    """Talks to one Tryton database over JSON-RPC (httpx; TLS verified unless ``verify=False``)."""

    def __init__(
        self,
        address: ErpAddress,
        *,
        client: httpx.Client | None = None,
        timeout: float = 30.0,
        verify: bool = True,
    ) -> None:
        self.address = address
        self.rpc = TrytonRPC(address, client=client, timeout=timeout, verify=verify)

    def check(self) -> str:
        """Log in; a short description of the ERP (for "test connection"). Raises ErpError."""
        self.rpc.login()
        return f"Tryton {self.rpc.server_version()} at {self.rpc.where} as {self.address.user}"

    def pull(self, cursors: dict[str, str]) -> PullResult:
        """Reference records changed since ``cursors`` (everything open when a kind has no cursor)."""
        result = self.rpc.call(f"{MODEL}.pull", dict(cursors), {})
        return PullResult(records=result["records"], cursors=result["cursors"])

    def apply(self, op: Operation, read_photo: PhotoReader) -> ApplyResult:
        """Apply ``op`` exactly once; ErpRejected / ErpConflict with the ERP's reason, ErpUnavailable."""
        (result,) = self.apply_batch([op], read_photo)
        if isinstance(result, ErpError):
            raise result
        if result is None:
            raise ErpUnavailable("the ERP did not try the operation")
        return result

    def apply_batch(
        self, ops: list[Operation], read_photo: PhotoReader
    ) -> list[ApplyResult | ErpError | None]:
        """Apply ``ops`` in order, each exactly once; one result per op, in order.

        A result is an ApplyResult, an ErpRejected / ErpConflict for that op, or None when it was
        not tried because an op it depends on (in this batch) did not apply. A transport fault
        raises ErpUnavailable / ErpAuthFailed for the whole batch: nothing is known about any op,
        and re-sending is safe.
        """
        results: dict[str, ApplyResult | ErpError | None] = {}
        chunk: list[dict[str, Any]] = []
        size = 0
        local_failures: set[str] = set()
        for op in ops:
            if any(dep in local_failures for dep in op.depends_on):
                results[op.id] = None
                local_failures.add(op.id)
                continue
            item: dict[str, Any] = {"operation": op.to_dict(), "photo": None}
            if op.type == "upload_photo":
                try:
                    data = read_photo(op.payload["sha256"])
                except (FileNotFoundError, ValueError):
                    results[op.id] = ErpRejected(
                        f"photo {op.payload.get('sha256', '?')[:12]}… is missing from this station's photos"
                    )
                    local_failures.add(op.id)
                    continue
                item["photo"] = base64.b64encode(data).decode()
                size += len(item["photo"])
            chunk.append(item)
            if size >= MAX_BATCH_BYTES:
                self._send(chunk, results)
                chunk, size = [], 0
        if chunk:
            self._send(chunk, results)
        return [results[op.id] for op in ops]

    def _send(self, chunk: list[dict[str, Any]], results: dict[str, ApplyResult | ErpError | None]) -> None:
        replies = self.rpc.call(f"{MODEL}.apply_batch", chunk, {})
        for reply in replies:
            status = reply["status"]
            refs = reply.get("refs") or {}
            if status == "applied":
                results[reply["id"]] = ApplyResult(already=False, erp_refs=refs)
            elif status == "already":
                results[reply["id"]] = ApplyResult(already=True, erp_refs=refs)
            elif status == "conflict":
                results[reply["id"]] = ErpConflict(reply.get("message") or "the ERP's state moved")
            elif status == "rejected":
                results[reply["id"]] = ErpRejected(reply.get("message") or "the ERP refused the operation")
            else:  # skipped: a dependency in the batch did not apply
                results[reply["id"]] = None

    def figures(self, window: dict[str, Any]) -> dict[str, Any]:
        """The ERP's figures for ``window`` ({"from", "to", "node", "station", "family", "as_of"}, each
        optional); the shape is documented in the module's figures.py. Raises ErpError."""
        return self.rpc.call(f"{FIGURES}.compute", dict(window), {})

    def evaluate_alerts(self, options: dict[str, Any] | None = None) -> list[str]:
        """Open the alerts whose condition holds and that are not open yet; the keys opened."""
        return self.rpc.call(f"{FIGURES}.evaluate_alerts", dict(options or {}), {})

    def request(self, method: str, *args: Any, timeout: float | None = None) -> Any:
        """Call the module's RPC method ``method`` (``returns.station.<model>.<method>``) with
        ``args``: its JSON answer. Raises ErpError; ValueError when ``method`` is not the module's."""
        if not method.startswith(STATION_METHODS) or method.count(".") < 3:
            raise ValueError(f"not a station-facing ERP method: {method!r}")
        return self.rpc.call(f"model.{method}", *args, {}, timeout=timeout)

    def close(self) -> None:
        self.rpc.close()
