"""Long console work on background threads, with progress the page polls.

An import or a whole-ledger verification runs on its own thread, so the
request that started it returns at once and the page stays usable. The page
polls `/console/jobs/<id>` for the job's state as JSON.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from govchain.errors import GovchainError

logger = logging.getLogger(__name__)


@dataclass
class Job:
    """The state of one background job; `done` of `total` units, 0 when unknown."""

    id: str
    kind: str
    owner: str
    state: str = "running"
    stage: str = "queued"
    done: int = 0
    total: int = 0
    result: dict[str, Any] = field(default_factory=dict)
    error: str = ""
    error_reason: str = ""
    started: float = field(default_factory=time.time)
    finished: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "state": self.state,
            "stage": self.stage,
            "done": self.done,
            "total": self.total,
            "error": self.error,
            "error_reason": self.error_reason,
            "seconds": round((self.finished or time.time()) - self.started, 1),
        }


class Progress:
    """Given to a job's function to report its stage and count."""

    def __init__(self, job: Job) -> None:
        self._job = job

    def stage(self, name: str, total: int = 0) -> None:
        self._job.stage = name
        self._job.done = 0
        self._job.total = total

    def advance(self, done: int, total: int | None = None) -> None:
        self._job.done = done
        if total is not None:
            self._job.total = total


Work = Callable[[Progress], dict[str, Any]]


class Jobs:
    """The jobs of one console; the latest `KEEP` stay listed after they end."""

    KEEP = 200

    def __init__(self) -> None:
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._lock = threading.Lock()

    def start(self, kind: str, owner: str, work: Work) -> Job:
        """Run `work` on a new thread and return its job at once."""
        job = Job(id=f"job-{secrets.token_hex(8)}", kind=kind, owner=owner)
        with self._lock:
            self._jobs[job.id] = job
            while len(self._jobs) > self.KEEP:
                self._jobs.popitem(last=False)
        thread = threading.Thread(
            target=self._run, args=(job, work), name=job.id, daemon=True
        )
        thread.start()
        logger.info("console job %s (%s) started by user %s", job.id, kind, owner)
        return job

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)

    def _run(self, job: Job, work: Work) -> None:
        try:
            job.result = work(Progress(job))
            job.state = "done"
            logger.info("console job %s (%s) finished", job.id, job.kind)
        except GovchainError as exc:
            job.state = "failed"
            job.error = str(exc)
            job.error_reason = getattr(exc, "reason", "")
            logger.info("console job %s (%s) failed: %s", job.id, job.kind, exc)
        except Exception as exc:
            job.state = "failed"
            job.error = f"internal error: {type(exc).__name__}"
            logger.exception("console job %s (%s) failed", job.id, job.kind)
        finally:
            job.finished = time.time()

    def latest(self, kind: str) -> Job | None:
        """Return the most recently started job of `kind`, running or not."""
        with self._lock:
            for job in reversed(self._jobs.values()):
                if job.kind == kind:
                    return job
        return None
