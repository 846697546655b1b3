"""The default executor: a bounded pool of threads on this machine (ffmpeg does the heavy lifting in its
own processes). An executor only needs `run(fn, jobs, progress)` yielding (job, result) as results
complete, and returning only once nothing it started still writes."""

from __future__ import annotations

import concurrent.futures as cf
import threading
from collections.abc import Callable, Iterator


class Cancelled(BaseException):
    """Raised inside a worker (through its progress callback) once the batch is interrupted."""


class LocalExecutor:
    """A bounded pool of threads on this machine. When the driver stops (Ctrl-C), queued files are
    dropped and files in work stop at their next progress report (their ffmpeg is killed); `run` returns
    only once they have stopped and removed their temporary files, so a rerun never meets a worker of
    the interrupted run still writing."""

    def __init__(self, workers: int):
        self.workers = max(1, workers)
        self.cancel = threading.Event()

    def run(self, fn: Callable, jobs: list, progress: Callable | None) -> Iterator[tuple]:
        pool = cf.ThreadPoolExecutor(self.workers, thread_name_prefix="dailies-worker")
        try:
            futures = {pool.submit(fn, job, self._bind(progress, job)): job for job in jobs}
            for fut in cf.as_completed(futures):
                yield futures[fut], fut.result()
        finally:
            self.cancel.set()
            pool.shutdown(wait=True, cancel_futures=True)

    def _bind(self, progress, job):
        def report(phase, done, total):
            if self.cancel.is_set():
                raise Cancelled(job.path)
            if progress is not None:
                progress(job.path, phase, done, total)

        return report
