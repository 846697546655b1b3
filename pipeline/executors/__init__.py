"""Where ingest's per-file work runs: `local` (pipeline/flow.py, this process) or `ray` (a Ray cluster).

EXECUTORS maps the `--executor` name to a function with flow.ingest's signature plus `address`.
Ray is imported only when its executor is used.
"""

from __future__ import annotations

from ..errors import UsageError


def _ray(*args, **kwargs):
    from .ray_exec import ingest_ray

    return ingest_ray(*args, **kwargs)


def _local(*args, address: str | None = None, **kwargs):
    from ..flow import ingest

    if address:
        raise UsageError("--ray-address only applies to --executor ray")
    return ingest(*args, **kwargs)


EXECUTORS = {"local": _local, "ray": _ray}


def get_executor(name: str):
    try:
        return EXECUTORS[name]
    except KeyError:
        raise UsageError(f"unknown executor {name!r}; known: {', '.join(EXECUTORS)}") from None
