"""Pack: the pack job, rendered from the workflows' task view (see screens/task.py)."""

from __future__ import annotations

import flet as ft

from app.ui.model import StationModel
from app.ui.screens.task import TaskScreen


@ft.component
def Pack(model: StationModel) -> ft.Control:
    return TaskScreen(model, "pack")
