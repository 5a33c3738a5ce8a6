"""What a person does at the station, as steps the end-to-end tests share."""

from __future__ import annotations

import io
import re
import time

from PIL import Image

from sync.erp.tryton.demo import plan
from tests.fixtures.browser import MARK_STALE

DEMO = plan()


def barcode(code: str) -> str:
    """The demo product's barcode, as its label carries it."""
    return DEMO.product(code).barcode


def sign_in(page, badge: str, pin: str) -> None:
    page.field("Badge").wait_for(timeout=30_000)
    page.scan(badge)
    page.field("PIN").wait_for(timeout=10_000)
    page.scan(pin)


def answer_checklist(page, answers: list[tuple[str, str]]) -> None:
    """Press each answer and wait until the question leaves the "Still needed" line."""
    for question, answer in answers:
        page.press(f"{question}: {answer}")
        # one line of text only: a group node's text holds the question's own label too
        line = r"^Still needed:[^\n]*" + re.escape(question) + r"[^\n]*$"
        pending = page.page.get_by_text(re.compile(line))
        pending.first.wait_for(state="hidden", timeout=15_000)


def jpeg(colour: str) -> bytes:
    """A small photo of one colour, as a file picker would give it."""
    out = io.BytesIO()
    Image.new("RGB", (320, 240), colour).save(out, format="JPEG")
    return out.getvalue()


def mark_received(store, rma: str) -> None:
    """What the next pull brings after the ERP applied the receipt."""
    ret = store.find_return(rma)
    store.upsert_reference("returns", [{**ret, "state": "received"}])


def slow_press(page, name: str, hold_s: float) -> None:
    """Press a button the way a gloved hand does: down, ``hold_s`` seconds, up."""
    button = page.button(name).first
    button.wait_for(timeout=15_000)
    box = button.bounding_box()
    page.page.evaluate(MARK_STALE)  # the scan field it leaves: a scan after it waits for a fresh one
    page.page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.page.mouse.down()
    time.sleep(hold_s)
    page.page.mouse.up()
