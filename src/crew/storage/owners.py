"""Tell whether the process that started a long job (a turn, an upload) can still finish it.

Jobs record their owner (host and pid) and a heartbeat. A job whose owner on this host is gone
was cut short (killed, crashed, restarted); on another host only a stale heartbeat says so.
"""

from __future__ import annotations

import os
import socket

# A job owned by another host is taken as dead after this long without a heartbeat.
STALE_AFTER_S = 120.0


def process_owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def owner_alive(owner: str, heartbeat: float | None, now: float, stale_after_s: float = STALE_AFTER_S) -> bool:
    host, _, pid = owner.rpartition(":")
    if host == socket.gethostname() and pid.isdigit():
        try:
            os.kill(int(pid), 0)  # signal 0: only asks whether the process exists
        except (ProcessLookupError, OverflowError):  # gone, or not a pid this host could have
            return False
        except PermissionError:
            return True
        return True
    return heartbeat is not None and now - heartbeat < stale_after_s
