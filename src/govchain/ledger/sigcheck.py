"""Signature checks of transactions, on worker processes for large batches.

Checking a transaction means decoding its canonical bytes and verifying its
Ed25519 signature. Both are pure functions of the bytes and the department's
key, so they can run anywhere. Large batches go to a pool of worker processes.
Threads do not help, because decoding holds the GIL and starves the committer.
Measured on 2 cores with bench/ledger.py's transactions, committing with two
checking threads was slower than checking everything on the committer thread.

Each result is one of:

- `None`: the bytes do not decode as a transaction; the committer decodes them
  again to learn why;
- `("", False)`: they decode, but the key table has no key with the
  transaction's key id for its department, so the committer checks it against
  the state itself;
- `(kid, valid)`: the signature was checked under key `kid`.

A request can list, for each transaction, whether the ledger records its
signature as valid (`govchain verify` sends this list). Those signatures may
take the quicker check of `govchain.crypto.recheck`, and all others take
libsodium's.

A check process also runs a `Task`: a function of govchain named by module and
name, such as the index checks that end `govchain verify`.
"""

from __future__ import annotations

import collections
import contextlib
import importlib
import logging
import os
import pickle
import queue
import struct
import subprocess
import sys
import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import nacl.bindings
import nacl.exceptions

from govchain.crypto import recheck
from govchain.crypto.keys import PublicKey
from govchain.errors import GovchainError, ValidationError
from govchain.ledger.transaction import decode_transaction

logger = logging.getLogger(__name__)

#: A department's current key: its key id and the 32 raw public key bytes.
KeyTable = dict[str, tuple[str, bytes]]
Check = tuple[str, bool] | None
#: A request to a check process: transactions, keys, and for each transaction
#: whether the ledger records its signature as valid (None: nothing recorded).
Request = tuple[list[bytes], KeyTable, list[bool] | None]


@dataclass(frozen=True)
class Task:
    """A call of `function` (`module:name`, a module of govchain) with `args`.

    The function's result must pickle. If it raises, its check process exits
    and the task's future fails with `CheckWorkerError`.
    """

    function: str
    args: tuple[Any, ...]

    def run(self) -> Any:
        module, _, name = self.function.partition(":")
        if not module.startswith("govchain."):
            raise ValueError(f"task function {self.function!r} is not in govchain")
        return getattr(importlib.import_module(module), name)(*self.args)


#: How much lower the check processes' scheduling priority is than the node's.
#: With two of them beside the committer on two cores, equal priorities gave
#: the committer two thirds of a core. It does more per transaction than they
#: do, so it should run whenever it has work, and they take the rest.
CHECK_NICENESS = 10

#: The result for a transaction whose department has no matching key.
UNCHECKED: tuple[str, bool] = ("", False)


def key_table(keys: Mapping[str, PublicKey]) -> KeyTable:
    """Return the picklable form of department keys that workers receive."""
    return {dept: (key.kid, key.raw) for dept, key in keys.items()}


def ed25519_valid(public_key: bytes, message: bytes, signature: bytes) -> bool:
    """Return whether `signature` over `message` verifies under `public_key`.

    The same libsodium check as `PublicKey.verify`, without building a
    `VerifyKey` per call.
    """
    try:
        nacl.bindings.crypto_sign_open(signature + message, public_key)
    except (nacl.exceptions.BadSignatureError, ValueError):
        return False
    return True


def check_transactions(
    datas: Sequence[bytes],
    keys: KeyTable,
    recorded_valid: Sequence[bool] | None = None,
) -> list[Check]:
    """Decode each transaction and check its signature; see the module docstring."""
    checks: list[Check] = []
    for i, data in enumerate(datas):
        try:
            tx = decode_transaction(data)
        except ValidationError:
            checks.append(None)
            continue
        key = keys.get(tx.dept)
        if key is None or key[0] != tx.kid:
            checks.append(UNCHECKED)
            continue
        if (
            recorded_valid is not None
            and recorded_valid[i]
            and recheck.usable_key(key[1])
        ):
            valid = recheck.valid(key[1], tx.signing_bytes(), tx.signature)
        else:
            valid = ed25519_valid(key[1], tx.signing_bytes(), tx.signature)
        checks.append((key[0], valid))
    return checks


class CheckWorkerError(GovchainError):
    """A check process exited or sent something that is not a result."""


#: Frame header: the length of the pickled message that follows.
_FRAME = struct.Struct(">I")


def _write_frame(stream: IO[bytes], message: object) -> None:
    body = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_FRAME.pack(len(body)))
    stream.write(body)
    stream.flush()


def _read_frame(stream: IO[bytes]) -> Any:
    """Return the next message, or raise EOFError when the stream has ended."""
    header = stream.read(_FRAME.size)
    if len(header) < _FRAME.size:
        raise EOFError
    (length,) = _FRAME.unpack(header)
    body = stream.read(length)
    if len(body) < length:
        raise EOFError
    return pickle.loads(body)


class _Worker:
    """One check process, fed by a writer thread and read by a reader thread.

    The process returns results in the order it receives requests, so the
    reader completes the futures in that order too. It exits when its stdin ends,
    which also happens when the node's process dies.
    """

    def __init__(self, number: int) -> None:
        package_root = str(Path(__file__).resolve().parents[2])
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (package_root, env.get("PYTHONPATH", "")) if p
        )
        self.process = subprocess.Popen(
            [sys.executable, "-m", __name__],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
        )
        self._requests: queue.SimpleQueue[Request | Task | None] = queue.SimpleQueue()
        self._waiting: collections.deque[Future[Any]] = collections.deque()
        self._lock = threading.Lock()
        self._failed: CheckWorkerError | None = None
        #: Set once the process has imported govchain and sent its first frame.
        self.ready = threading.Event()
        name = f"check-worker-{number}"
        self._writer = threading.Thread(
            target=self._write, name=f"{name}-writer", daemon=True
        )
        self._reader = threading.Thread(
            target=self._read, name=f"{name}-reader", daemon=True
        )
        self._writer.start()
        self._reader.start()

    def submit(self, request: Request | Task) -> Future[Any]:
        future: Future[Any] = Future()
        with self._lock:
            if self._failed is not None:
                raise self._failed
            self._waiting.append(future)
            self._requests.put(request)
        return future

    def close(self) -> None:
        self._requests.put(None)
        self._writer.join()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._reader.join()
        assert self.process.stdout is not None
        self.process.stdout.close()

    def _write(self) -> None:
        assert self.process.stdin is not None
        stdin = self.process.stdin
        try:
            while (request := self._requests.get()) is not None:
                _write_frame(stdin, request)
        except OSError as exc:
            self._fail(f"check process {self.process.pid} stopped reading: {exc}")
        finally:
            with contextlib.suppress(OSError):
                stdin.close()

    def _read(self) -> None:
        assert self.process.stdout is not None
        stdout = self.process.stdout
        first = True
        while True:
            try:
                checks = _read_frame(stdout)
                if first:
                    first = False
                    self.ready.set()
                    continue
            except (EOFError, OSError, pickle.UnpicklingError) as exc:
                code = self.process.wait()
                self._fail(
                    f"check process {self.process.pid} ended with exit code {code} "
                    f"({type(exc).__name__})"
                )
                return
            with self._lock:
                future = self._waiting.popleft() if self._waiting else None
            if future is None:
                self._fail(
                    f"check process {self.process.pid} sent an unrequested result"
                )
                return
            future.set_result(checks)

    def _fail(self, message: str) -> None:
        self.ready.set()
        with self._lock:
            if self._failed is None:
                self._failed = CheckWorkerError(message)
            failed = self._failed
            waiting = list(self._waiting)
            self._waiting.clear()
        for future in waiting:
            future.set_exception(failed)


class CheckPool:
    """Worker processes that run `check_transactions` on chunks of a batch.

    Each worker is `python -m govchain.ledger.sigcheck`, started on first use
    or by `start()`. A fresh interpreter rather than `multiprocessing`: `fork`
    does not copy the node's threads safely, and `spawn` runs the main script of
    the node's process again in each worker, which a script without an
    `if __name__ == "__main__"` guard does not survive.
    """

    def __init__(self, processes: int) -> None:
        self.processes = processes
        self._workers: list[_Worker] = []
        self._next = 0
        self._lock = threading.Lock()

    def start(self, timeout: float = 60.0) -> bool:
        """Start every worker process and wait until each is ready.

        Returns whether all were ready within `timeout` seconds. Raises
        `OSError` when a worker process cannot be started.
        """
        return all(w.ready.wait(timeout) for w in self._started())

    def running(self) -> bool:
        """Return whether the workers have been started and every one is ready."""
        with self._lock:
            workers = list(self._workers)
        return bool(workers) and all(w.ready.is_set() for w in workers)

    def ready(self) -> bool:
        """Return whether every worker is ready, starting them if none runs.

        A worker takes a moment to start (a new interpreter importing
        govchain), so callers check batches themselves until this is true.
        Raises `OSError` when a worker process cannot be started.
        """
        return all(w.ready.is_set() for w in self._started())

    def submit(
        self,
        datas: list[bytes],
        keys: KeyTable,
        recorded_valid: list[bool] | None = None,
    ) -> Future[list[Check]]:
        """Queue a chunk on the next worker, round robin.

        Raises `CheckWorkerError` when that worker has failed; `close()` then
        lets the next call start new ones.
        """
        workers = self._started()
        with self._lock:
            worker = workers[self._next % len(workers)]
            self._next += 1
        return worker.submit((datas, keys, recorded_valid))

    def run(self, task: Task) -> Future[Any]:
        """Queue `task` on the next worker, round robin; see `submit`."""
        workers = self._started()
        with self._lock:
            worker = workers[self._next % len(workers)]
            self._next += 1
        return worker.submit(task)

    def close(self) -> None:
        with self._lock:
            workers, self._workers = self._workers, []
        for worker in workers:
            worker.close()
        if workers:
            logger.debug("stopped %d signature check processes", len(workers))

    def _started(self) -> list[_Worker]:
        with self._lock:
            if not self._workers:
                workers: list[_Worker] = []
                try:
                    for number in range(self.processes):
                        workers.append(_Worker(number))
                except OSError:
                    for worker in workers:
                        worker.close()
                    raise
                self._workers = workers
                logger.debug("started %d signature check processes", self.processes)
            return self._workers


def serve(stdin: IO[bytes], stdout: IO[bytes]) -> None:
    """Serve check requests from `stdin` with results on `stdout` until `stdin` ends.

    The first frame written tells the node that the worker is ready.
    """
    _write_frame(stdout, True)
    while True:
        try:
            message = _read_frame(stdin)
        except EOFError:
            return
        if isinstance(message, Task):
            _write_frame(stdout, message.run())
            continue
        datas, keys, recorded_valid = message
        _write_frame(stdout, check_transactions(datas, keys, recorded_valid))


if __name__ == "__main__":
    with contextlib.suppress(OSError):
        os.nice(CHECK_NICENESS)
    # Run the module's imported copy: a `Task` arrives pickled as
    # govchain.ledger.sigcheck.Task, a different class from this __main__'s.
    from govchain.ledger import sigcheck

    sigcheck.serve(sys.stdin.buffer, sys.stdout.buffer)
