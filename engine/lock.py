"""One writer at a time: ``fcntl.flock`` on ``<store>/lock``, holder's PID inside.

The lock is advisory and tied to the open file: if the holder dies (even by
``kill -9``) the kernel releases it, so a stale lock never needs cleaning up.
"""

from __future__ import annotations

import fcntl
import os
import time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Callable, Optional

LOCK_NAME = "lock"


class LockBusy(Exception):
    """Another process holds the lock and the caller asked not to wait."""

    def __init__(self, pid: Optional[int]) -> None:
        self.pid = pid
        who = f"process {pid}" if pid else "another promptgen process"
        super().__init__(f"the store is locked by {who} (a build is running)")


class BuildLock:
    def __init__(self, store_dir: str) -> None:
        self.path = os.path.join(store_dir, LOCK_NAME)
        self.fd: Optional[int] = None

    def holder(self) -> Optional[int]:
        try:
            with open(self.path, "rb") as fh:
                text = fh.read(32).decode("ascii", "replace").strip()
            return int(text) if text.isdigit() else None
        except OSError:
            return None

    def acquire(self, wait: bool = True, on_wait: Optional[Callable[[Optional[int]], None]] = None,
                timeout: Optional[float] = None) -> None:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pid = self.holder()
            if not wait:
                os.close(fd)
                raise LockBusy(pid) from None
            if on_wait is not None:
                on_wait(pid)
            if timeout is None:
                fcntl.flock(fd, fcntl.LOCK_EX)
            else:
                deadline = time.monotonic() + timeout
                while True:
                    try:
                        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                        break
                    except BlockingIOError:
                        if time.monotonic() > deadline:
                            os.close(fd)
                            raise LockBusy(pid) from None
                        time.sleep(0.02)
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self.fd = fd

    def release(self) -> None:
        if self.fd is not None:
            try:
                os.ftruncate(self.fd, 0)
            except OSError:
                pass
            os.close(self.fd)  # closing releases the flock
            self.fd = None

    def __enter__(self) -> "BuildLock":
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
