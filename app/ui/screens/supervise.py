"""Supervise: the work waiting at each stage (oldest first, with its age), this station's outbox
with retry / edit / cancel for what failed or conflicted, and the approvals inbox."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

import flet as ft

from app.runtime import age, ago
from app.ui import theme
from app.ui.layout import side_by_side, use_wide
from app.ui.model import StationModel
from app.ui.station_health import station_health
from app.ui.widgets import Frame, big_button, bind, button_row, muted, section
from app.workflows.priority import by_urgency, is_late
from app.workflows.tasks.sorting import open_totes

OUTBOX_STATES = ("failed", "conflict", "pending", "sending")


def _age_s(iso: str | None) -> float | None:
    if not iso:
        return None
    try:
        then = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except ValueError:
        return None
    if then.tzinfo is None:
        then = then.replace(tzinfo=UTC)
    return time.time() - then.timestamp()


def received_since(ret: dict[str, Any]) -> str | None:
    """When a return's wait for inspection began: a station received it (a blind receipt, which has
    no station stamp, was created when received). Not ``write_date``: that is its last change in
    the ERP, any change."""
    return ret.get("received_at") or ret.get("created_at")


def _row(
    key: str, title: str, detail: str, *, colour: str | None = None, actions: list[ft.Control] | None = None
) -> ft.Control:
    return ft.Container(
        key=key,
        border=ft.Border.all(1, ft.Colors.OUTLINE_VARIANT),
        border_radius=8,
        padding=10,
        content=ft.Column(
            spacing=6,
            controls=[
                ft.Text(title, size=theme.TEXT, weight=ft.FontWeight.W_600, color=colour),
                ft.Text(detail, size=15),
                *([button_row(actions)] if actions else []),
            ],
        ),
    )


@ft.component
def Supervise(model: StationModel) -> ft.Control:
    station = model.station
    store = station.store
    tab, set_tab = ft.use_state("queues")
    editing, set_editing = ft.use_state(None)
    edit_text, set_edit_text = ft.use_state("")
    reason, set_reason = ft.use_state("")
    locked_badge, set_locked_badge = ft.use_state("")
    _tick, set_tick = ft.use_state(0)
    note, set_note = ft.use_state("")  # the approvals' note (the outbox has its own reason beside it)
    wide = use_wide()

    def refresh() -> None:
        set_tick(_tick + 1)
        model.refresh_status()

    def act(outcome) -> None:
        # The session checks the outbox's state table and audits who did what; a refusal says why.
        if model.show(outcome):
            station.request_sync()
        refresh()

    def retry(op_id: str) -> None:
        act(model.session.retry_operation(op_id))

    def cancel(op_id: str) -> None:
        act(model.session.cancel_operation(op_id, reason.strip()))
        set_reason("")

    def start_edit(row: dict[str, Any]) -> None:
        set_editing(row["id"])
        set_edit_text(json.dumps(row["operation"].get("payload", {}), indent=1))

    def save_edit() -> None:
        try:
            payload = json.loads(edit_text)
        except ValueError as exc:
            model.say("refused", f"The payload is not valid JSON: {exc}")
            return
        act(model.session.edit_operation(editing, payload))
        set_editing(None)

    def decide(request_id: str, decision: str) -> None:
        session = model.session
        method = session.approve if decision == "approve" else session.refuse
        outcome = method(request_id, note=note.strip())
        model.show(outcome)
        set_note("")
        station.request_sync()
        refresh()

    def queues() -> list[ft.Control]:
        stages: list[tuple[str, list[tuple[str, str, str | None]]]] = []
        received = [
            (f"ret-{r['id']}", f"{r['rma']} · {r['customer']}", received_since(r))
            for r in store.returns("received")
        ]
        stages.append(("Received, not inspected", received))
        totes = [
            (f"tote-{t.code}", f"{t.code} · {t.label} · {t.units} unit(s)", t.opened_at)
            for t in open_totes(store)
        ]  # this station's open totes on the sort table
        stages.append(("Open totes", totes))
        approvals = [
            (f"apr-{a['request_id']}", f"{a['summary']}", a.get("requested_at"))
            for a in store.approvals("pending")
        ]
        stages.append(("Approvals pending", approvals))
        now = datetime.now(UTC)
        packs = [
            (
                f"shp-{s['id']}",
                ("LATE · " if is_late(s, now) else "")
                + f"{s['number']} · {s.get('service_class') or 'standard'} · {s['customer']}",
                s.get("created_at"),
            )
            for s in by_urgency(store.shipments("assigned"), now)
        ]
        stages.append(("Orders waiting to be packed", packs))
        drafts = [
            (f"drf-{d.get('key')}", str(d.get("key")), d.get("updated_at"))
            for d in (store.drafts() if hasattr(store, "drafts") else [])
        ]
        stages.append(("Work started at this station", drafts))
        out: list[ft.Control] = []
        for title, items in stages:
            if title != "Orders waiting to be packed":  # those are in packing order already
                items = sorted(items, key=lambda item: item[2] or "")
            lines = [_row(key, text, f"waiting {age(_age_s(when))}") for key, text, when in items[:20]]
            out.append(section(f"{title}: {len(items)}", lines or [muted("Nothing waiting")]))
        # parcels received blind (no sale found, or offline): the ERP flags them until a supervisor
        # identifies the sender there
        flagged = sorted(
            (r for r in store.returns() if r.get("review") and r["state"] != "cancelled"),
            key=lambda r: received_since(r) or "",
        )
        out.insert(
            1,
            section(
                f"Blind receipts to identify: {len(flagged)}",
                [
                    _row(
                        f"blind-{r['id']}",
                        f"{r['rma']} · {r['state']}",
                        f"{r['review']} · waiting {age(_age_s(received_since(r)))}",
                        colour=theme.WARN,
                    )
                    for r in flagged[:20]
                ]
                or [muted("Nothing waiting")],
            ),
        )
        return out

    def outbox_view() -> list[ft.Control]:
        out: list[ft.Control] = [
            ft.TextField(
                label="Reason",
                value=reason,
                on_change=lambda e: set_reason(e.control.value),
                text_size=theme.TEXT,
                hint_text="why you cancel (needed to cancel)",
            ),
        ]
        counts = model.session.outbox_counts() if model.session is not None else {}
        for state in OUTBOX_STATES:
            rows = model.session.outbox_rows(state, limit=30) if model.session is not None else []
            lines = []
            for row in rows:
                op = row["operation"]
                colour = theme.REFUSED if state in ("failed", "conflict") else None
                # The buttons are the outbox state table's supervisor moves for this state.
                allowed = set(row["actions"])
                actions: list[ft.Control] = []
                if "retry" in allowed:
                    actions.append(
                        big_button(
                            "Retry", bind(retry, row["id"]), icon=ft.Icons.REPLAY, key=f"retry-{row['id']}"
                        )
                    )
                if "edit" in allowed:
                    actions.append(big_button("Edit", bind(start_edit, row), icon=ft.Icons.EDIT))
                if "cancel" in allowed:
                    actions.append(
                        big_button("Cancel operation", bind(cancel, row["id"]), icon=ft.Icons.DELETE_FOREVER)
                    )
                detail = f"{op.get('user', '')} · {ago(row.get('created_at'))}"
                if row.get("error"):
                    detail += f" · {row['error']}"
                lines.append(
                    _row(row["id"], f"{row['type']} · {state}", detail, colour=colour, actions=actions)
                )
                if editing == row["id"]:
                    lines.append(
                        ft.Column(
                            [
                                ft.TextField(
                                    label="Payload",
                                    value=edit_text,
                                    multiline=True,
                                    min_lines=4,
                                    max_lines=14,
                                    on_change=lambda e: set_edit_text(e.control.value),
                                ),
                                button_row(
                                    [
                                        big_button("Save and send", save_edit, primary=True),
                                        big_button("Stop editing", lambda: set_editing(None)),
                                    ]
                                ),
                            ]
                        )
                    )
            out.append(
                section(f"{state.capitalize()}: {counts.get(state, len(rows))}", lines or [muted("None")])
            )
        # Delivered, but the ERP holds them for a supervisor (its rules decided otherwise): why.
        held = model.session.held_by_erp() if model.session is not None else []
        if held:
            out.append(
                section(
                    f"Held by the ERP: {len(held)}",
                    [
                        _row(
                            f"held-{row['id']}",
                            f"{row['type']} · held by the ERP",
                            row["erp_refs"]["held"],
                            colour=theme.REFUSED,
                        )
                        for row in held
                    ],
                )
            )
        return out

    def approvals_view() -> list[ft.Control]:
        view = model.session.view() if model.session is not None else None
        pending = list(view.approvals) if view is not None and view.kind == "supervise" else []
        out: list[ft.Control] = [
            ft.TextField(
                label="Note",
                value=note,
                on_change=lambda e: set_note(e.control.value),
                text_size=theme.TEXT,
                hint_text="why (needed to refuse)",
            ),
        ]
        for approval in pending:
            parts = [approval.reason]
            if approval.value is not None:
                parts.append(f"value {approval.value:.2f}")
            if approval.rule_id:
                parts.append(f"rule {approval.rule_id}")
            when = ago(approval.requested_at)
            parts.append(f"asked by {approval.requested_by} at {approval.station} {when}")
            if not approval.synced:
                parts.append("not yet sent to the ERP")
            detail = " · ".join(parts)
            photos = [
                ft.Image(
                    src=url,
                    width=96,
                    height=96,
                    fit=ft.BoxFit.COVER,
                    semantics_label=f"evidence photo {i + 1}",
                    key=sha,
                )
                for i, sha in enumerate(approval.evidence)
                if (url := station.photo(sha))
            ]
            actions = [
                big_button(
                    "Approve",
                    bind(decide, approval.request_id, "approve"),
                    icon=ft.Icons.CHECK,
                    primary=True,
                    disabled=not approval.can_decide,
                ),
                big_button(
                    "Refuse",
                    bind(decide, approval.request_id, "refuse"),
                    icon=ft.Icons.CLOSE,
                    disabled=not approval.can_decide,
                ),
            ]
            out.append(
                ft.Column(
                    key=approval.request_id,
                    controls=[
                        _row(f"a-{approval.request_id}", approval.summary, detail, actions=actions),
                        *([ft.Row(photos, wrap=True)] if photos else []),
                        *([muted(approval.why_not)] if approval.why_not else []),
                    ],
                )
            )
        return out if pending else [*out, muted("No approvals waiting")]

    def unlock() -> None:
        model.show(model.session.unlock(locked_badge))
        set_locked_badge("")

    def unlock_view() -> list[ft.Control]:
        return [
            section(
                "Unlock a badge",
                [
                    muted("A badge locked after too many wrong PINs can sign in again at once (audited)."),
                    ft.TextField(
                        label="Badge to unlock",
                        value=locked_badge,
                        text_size=theme.TEXT,
                        on_change=lambda e: set_locked_badge(e.control.value),
                    ),
                    button_row([big_button("Unlock badge", unlock, icon=ft.Icons.LOCK_OPEN)]),
                ],
            )
        ]

    panels = [
        ("queues", "Queues", lambda: [*queues(), *station_health(station.settings.data_dir), *unlock_view()]),
        ("outbox", f"Outbox ({model.status.failures if model.status else 0})", outbox_view),
        ("approvals", f"Approvals ({_pending_count(model)})", approvals_view),
    ]
    refresh_button = ft.IconButton(
        ft.Icons.REFRESH,
        on_click=refresh,
        tooltip="Refresh",
        icon_size=28,
        width=theme.TARGET,
        height=theme.TARGET,
    )
    if wide:  # at the desk: every panel at once, side by side (app/ui/layout.py)
        return Frame(
            model,
            [side_by_side([(title, build()) for _key, title, build in panels], tools=[refresh_button])],
            keep_focus=False,
            fill=True,
        )
    # in the hand: the tabs on one line (scrolling sideways if the counts grow), Refresh beside them
    tabs = ft.Row(
        spacing=4,
        controls=[
            ft.Row(
                [_tab(title, bind(set_tab, key), chosen=tab == key) for key, title, _build in panels],
                spacing=4,
                scroll=ft.ScrollMode.AUTO,
                expand=True,
            ),
            refresh_button,
        ],
    )
    content = next((build for key, _title, build in panels if key == tab), panels[0][2])()
    return Frame(model, [tabs, *content], keep_focus=False)


def _tab(title: str, on_click: Any, *, chosen: bool) -> ft.Control:
    """A tab of Supervise in the hand: a compact button, filled when its panel is shown."""
    kind: type[ft.Button] = ft.FilledButton if chosen else ft.OutlinedButton
    return kind(
        content=title,
        on_click=on_click,
        height=theme.TARGET_COMPACT,
        style=ft.ButtonStyle(
            padding=ft.Padding.symmetric(horizontal=8, vertical=4),
            text_style=ft.TextStyle(size=15, weight=ft.FontWeight.W_600),
            shape=ft.RoundedRectangleBorder(radius=8),
        ),
    )


def _pending_count(model: StationModel) -> int:
    view = model.session.view() if model.session is not None else None
    return len(view.approvals) if view is not None and view.kind == "supervise" else 0
