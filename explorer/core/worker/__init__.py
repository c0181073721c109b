"""Every real model runs here: in a worker process that may crash, hang or be killed
without taking its asker down (see ``supervisor``)."""

from explorer.core.worker.jobs import Job, RunCancelled
from explorer.core.worker.supervisor import JobFailed, Worker, WorkerCrashed

__all__ = ["Job", "JobFailed", "RunCancelled", "Worker", "WorkerCrashed"]
