"""The set's decisions without I/O: `stage.Stage` takes events and the visitor's actions with the
time and returns `actions`; `view.StageView` is what the page and the tests read of it. Its machines:
`lifecycle`, `floor`, `hearing`, `crowd`, `cutting`, `speaker`, `transcript`, `status`."""

__all__ = [
    "actions",
    "floor",
    "lifecycle",
    "playback",
    "stage",
    "transcript",
    "view",
]
