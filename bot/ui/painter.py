"""Pictures drawn away from the event loop: in a process of their own, or in threads.

An ikigai picture is many milliseconds of CPU, half of it pure Python (the layout) that holds
the GIL. Drawn in a thread, it takes that time from the event loop: when many users finish the
exercise together (a workshop, a load test), every other update waits behind their pictures.
In a process of its own (`PICTURE_PROCESSES`, default 1) a picture uses the second core
instead, and only the users waiting for their pictures wait for them (the figures, and the
process's size: bench/README.md).

The process is started at the first picture (`spawn`: a fresh interpreter that imports
Pillow and `bot.ui.pictures`, nothing else) and kept. Should it die, the picture being drawn
is drawn in a thread and the next one starts a new process; where no process can be started
at all, pictures are drawn in threads from then on. With `PICTURE_PROCESSES=0` pictures are
drawn in two threads of this process, as before (tests, or a host where processes are dear).
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")
THREADS = 2  # Pillow's mapping to a palette and PNG encoding let go of the GIL


class Painter:
    def __init__(self, processes: int = 1) -> None:
        self.processes = processes
        self._pool: ProcessPoolExecutor | None = None
        self._threads: ThreadPoolExecutor | None = None

    async def draw(self, draw: Callable[..., T], *args: Any) -> T:
        """`draw(*args)` away from the event loop. With processes, `draw` and its arguments
        and result must pickle (a module-level function, plain data, bytes)."""
        if self.processes > 0:
            pool = self._pool or self._start()
            try:
                drawn = pool.submit(draw, *args)  # starts the process if need be
            except (OSError, NotImplementedError) as exc:  # no processes on this host
                log.warning(
                    "pictures are drawn in threads: no process could be started",
                    extra={"error": repr(exc)},
                )
                self.processes = 0
                self._drop(pool)
            else:
                try:
                    return await asyncio.wrap_future(drawn)
                except BrokenProcessPool:
                    log.warning("the picture process died: this picture is drawn here instead")
                    self._drop(pool)
        loop = asyncio.get_running_loop()
        if self._threads is None:
            self._threads = ThreadPoolExecutor(THREADS, thread_name_prefix="picture")
        return await loop.run_in_executor(self._threads, draw, *args)

    def _drop(self, pool: ProcessPoolExecutor) -> None:
        if self._pool is pool:
            self._pool = None
        pool.shutdown(wait=False, cancel_futures=True)

    def _start(self) -> ProcessPoolExecutor:
        self._pool = ProcessPoolExecutor(
            self.processes, mp_context=multiprocessing.get_context("spawn")
        )
        return self._pool

    def close(self) -> None:
        """Stop the process and the threads (without waiting: a picture being drawn ends by
        itself, and the interpreter waits for it at exit)."""
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
        threads, self._threads = self._threads, None
        if threads is not None:
            threads.shutdown(wait=False, cancel_futures=True)
