"""Colours and sizes used on every screen: large targets for gloved hands, colour that means one thing."""

from __future__ import annotations

import flet as ft

GOOD = ft.Colors.GREEN_700
GOOD_BG = ft.Colors.GREEN_50
REFUSED = ft.Colors.RED_700
REFUSED_BG = ft.Colors.RED_50
WARN = ft.Colors.AMBER_800
WARN_BG = ft.Colors.AMBER_50
INFO = ft.Colors.BLUE_GREY_700
INFO_BG = ft.Colors.BLUE_GREY_50
MUTED = ft.Colors.GREY_700

TARGET = 56  # minimum height of anything pressed, in logical pixels (Material: 48; gloves: more)
TARGET_COMPACT = 48  # the app bar's and scan row's icon buttons in the hand, where height is short
TEXT = 18
TITLE = 24
NARROW = 600  # below this width the handheld layout applies
