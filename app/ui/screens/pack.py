"""Pack: waiting for the workflows' session API."""

from __future__ import annotations

import flet as ft

from app.ui.model import StationModel
from app.ui.widgets import Frame, muted


@ft.component
def Pack(model: StationModel) -> ft.Control:
    return Frame(model, [muted("Coming with the workflows")], on_scan=lambda text: model.say("info", text))
