"""One module per screen; each exposes a component taking the tab's StationModel."""
