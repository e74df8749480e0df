"""A server's state, in a module of its own so the tray can show states without importing
the process machinery (psutil, subprocess, HTTP) at start-up."""

from enum import Enum


class State(str, Enum):
    """Syncthing Tray's model: starting means the process runs but has no URL yet."""

    STOPPED = "stopped"
    STARTING = "starting"
    RUNNING = "running"
    FAILED = "failed"
