"""q4m_fast: background jobs from Python on Q4M, the queue storage engine for MySQL/MariaDB.

::

    import q4m_fast

    class ShellJob(q4m_fast.Job):      # works off the table "shell_jobs"
        def execute(self, job):
            ...

    q4m_fast.enqueue("mysql://root@127.0.0.1:3306/test", "shell_jobs", {"command": "true"})
    ShellJob("mysql://root@127.0.0.1:3306/test").work()

``q4m_fast.__impl__`` says which job loop runs: ``"c"`` (the compiled one) or ``"python"``
(chosen by the environment variable ``Q4M_FAST_IMPL``).
"""

from __future__ import annotations

from typing import Any

from . import errors
from .enqueue import enqueue, enqueue_many
from .job import Job
from .rows import Row

__all__ = ["Job", "Row", "enqueue", "enqueue_many", "errors", "__version__", "__impl__"]

__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    if name == "__impl__":  # computed on access: importing the package must not load a loop
        from . import _impl

        return _impl.name()
    raise AttributeError(f"module 'q4m_fast' has no attribute {name!r}")
