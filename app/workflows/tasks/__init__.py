"""The four tasks of the station — receive, inspect, pack, supervise — as small state machines.

A task holds only what the worker did (scans, answers, photo hashes); everything shown is derived
from that and the reference cache on each :meth:`Task.view`, so a task saved as a draft and loaded
again after a crash shows the same screen. Tasks are driven by
:class:`app.workflows.station.StationSession`; they reach the store, rules and clock only through a
:class:`Desk`."""

from app.workflows.tasks.base import Desk, Task
from app.workflows.tasks.inspection import InspectTask
from app.workflows.tasks.pack import PackTask
from app.workflows.tasks.receive import ReceiveTask
from app.workflows.tasks.supervise import SuperviseTask

TASKS: dict[str, type[Task]] = {t.kind: t for t in (ReceiveTask, InspectTask, PackTask, SuperviseTask)}

__all__ = ["TASKS", "Desk", "InspectTask", "PackTask", "ReceiveTask", "SuperviseTask", "Task"]
