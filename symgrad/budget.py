"""Symbolic work under a time and memory budget, in a worker process that always comes back.

SymPy cannot be interrupted from inside: ``expand`` of a large power or ``evalf``
of a nested ``cosh`` runs until it is done, however long that takes and however
much memory it needs.  So work that user text can make expensive runs in a
worker process with operating-system limits, and the caller waits for it with a
deadline:

* the worker's address space is limited (``RLIMIT_AS``) to its size when the
  task starts (which already holds Python, NumPy and SymPy) plus
  :attr:`Budget.memory_mb`; an allocation beyond that fails in the worker;
* the caller waits at most :attr:`Budget.seconds` for the answer
  (``Connection.poll``); a worker that overruns is killed (``SIGKILL``) and a new
  one is started for the next task.  (A CPU-time limit stops a worker whose
  caller died without killing it.)

Either way the caller gets :class:`~symgrad.errors.BudgetExceeded` saying which
limit ran out, and can carry on.  A :class:`Pool` keeps one warm worker for a
series of tasks (every claim of a file); on Linux it is started with ``fork``, so
it inherits the modules already imported and starts in milliseconds.  A task is
a module-level function with picklable arguments (send what is needed to rebuild
a network, its spec, rather than the network); exceptions it raises come back
as exceptions.  While it runs, a task may :func:`report` what it knows so far;
the caller receives each report through ``on_progress`` and can still use the
last one when the budget runs out.

Without ``fork`` (Windows) the work runs in the calling process, without limits;
where the address-space limit is not enforced (macOS), only the time limit holds.
``SYMGRAD_IN_PROCESS=1`` runs every task in the calling process, without limits,
for debugging (tracebacks, pdb).

>>> run(pow, 2, 10)
1024
>>> try:
...     run(sum, [1, "2"])
... except TypeError as exc:
...     print("the task raised:", exc)
the task raised: unsupported operand type(s) for +: 'int' and 'str'
"""

from __future__ import annotations

import math
import multiprocessing
import os
import pickle
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from symgrad.errors import BudgetExceeded, SpecError, SpecTypeError

try:                                    # POSIX only
    import resource
except ImportError:                     # pragma: no cover - Windows
    resource = None                     # type: ignore[assignment]

#: Default seconds for one task.  Measured: deciding a claim on a three-layer
#: network (3-4-4-2 tanh, 4-5-5-1 sigmoid) takes under a second once the network's
#: derivatives exist (see :func:`restart_clock`); the expanded table of 4-5-5-1
#: sigmoid about 9 s.
DEFAULT_SECONDS = 10.0
#: Default megabytes one task may allocate beyond the worker's size at its start.
#: Measured: those decisions and tables grow the worker by under 10 MB.
DEFAULT_MEMORY_MB = 512
#: Largest accepted values (a day; a terabyte), so that a typo is not a hang.
MAX_SECONDS, MAX_MEMORY_MB = 86_400.0, 1 << 20
#: Set to 1 to run every task in the calling process, without limits.
IN_PROCESS_VARIABLE = "SYMGRAD_IN_PROCESS"
#: Seconds a worker gets to leave by itself when its pool closes.
_GOODBYE_SECONDS = 0.5


@dataclass(frozen=True)
class Budget:
    """How long a task may run (``seconds``) and how much it may allocate (``memory_mb``).

    >>> Budget(seconds=5).describe("time"), Budget().describe("memory")
    ('ran out of time (5 s)', 'ran out of memory (512 MB)')
    """

    seconds: float = DEFAULT_SECONDS
    memory_mb: int = DEFAULT_MEMORY_MB

    def __post_init__(self) -> None:
        for name, value, top in (("seconds", self.seconds, MAX_SECONDS),
                                 ("memory_mb", self.memory_mb, MAX_MEMORY_MB)):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise SpecTypeError(f"Budget {name} must be a number, got "
                                    f"{type(value).__name__}")
            if not (math.isfinite(value) and 0 < value <= top):
                raise SpecError(f"Budget {name} must be above 0 and at most {top:g}, "
                                f"got {value!r}")

    def describe(self, limit: str) -> str:
        """``"ran out of time (5 s)"`` or ``"ran out of memory (1024 MB)"``."""
        if limit == "time":
            return f"ran out of time ({self.seconds:g} s)"
        return f"ran out of memory ({self.memory_mb:g} MB)"

    def exceeded(self, limit: str) -> BudgetExceeded:
        """The exception for ``limit`` (``"time"`` or ``"memory"``) running out."""
        return BudgetExceeded(self.describe(limit), limit, self)


def limits_available() -> bool:
    """Whether tasks run in a worker process with limits (needs ``fork`` and ``resource``)."""
    return (resource is not None and "fork" in multiprocessing.get_all_start_methods()
            and os.environ.get(IN_PROCESS_VARIABLE, "") in ("", "0"))


# ------------------------------------------------------------------ the task side

#: In a worker: the pipe to the caller.  In the caller: None.
_CHANNEL: Any = None
#: In the caller, while a task runs in-process: where :func:`report` goes.
_LISTENER: Callable[[Any], None] | None = None


def report(snapshot: Any) -> None:
    """From inside a task: what is known so far (picklable), for ``on_progress``."""
    if _CHANNEL is not None:
        _CHANNEL.send(("progress", snapshot))
    elif _LISTENER is not None:
        _LISTENER(snapshot)


def restart_clock() -> None:
    """From inside a task: the preparation is done; the task's time budget starts now.

    A task that first builds something reusable (a network's exact derivatives,
    kept in the worker for the next tasks) calls this once that is built, so the
    decision itself gets the whole budget.  The preparation is limited by the
    same number of seconds.
    """
    if _CHANNEL is not None:
        _CHANNEL.send(("clock", None))


#: Networks by spec, in the caller and (inherited, then extended) in the worker.
_NETWORKS: dict[Any, Any] = {}
_MAX_NETWORKS = 8


def remember(net: Any) -> None:
    """Keep ``net`` for :func:`network_for` (a worker started later inherits it)."""
    _NETWORKS.pop(net.spec, None)
    _NETWORKS[net.spec] = net
    while len(_NETWORKS) > _MAX_NETWORKS:
        del _NETWORKS[next(iter(_NETWORKS))]


def network_for(spec: Any) -> Any:
    """The :class:`~symgrad.network.Network` of a spec, built once per process.

    Tasks take the spec (small, picklable) and call this; the network and the
    derivatives cached on it are reused by every later task in the same worker.
    """
    net = _NETWORKS.get(spec)
    if net is None:
        from symgrad.network import Network

        hidden = list(spec.activations[:-1]) or "linear"
        net = Network(spec.widths, activation=hidden, output_activation=spec.activations[-1],
                      bias=spec.bias, loss=spec.loss, l2=spec.l2, l2_bias=spec.l2_bias)
        remember(net)
    return net


def _address_space() -> int | None:
    """This process's virtual size in bytes (Linux), or None."""
    try:
        with open("/proc/self/statm", encoding="ascii") as handle:
            pages = int(handle.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return pages * os.sysconf("SC_PAGE_SIZE")


def _limit(kind: int, soft: int) -> None:
    """Set the soft limit ``kind`` to ``soft`` (at most the hard limit), if allowed."""
    _, hard = resource.getrlimit(kind)
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    try:
        resource.setrlimit(kind, (soft, hard))
    except (ValueError, OSError):       # not enforced here (macOS): time limit only
        pass


def _limit_task(memory_mb: float, seconds: float) -> None:
    """Address space: the current size plus ``memory_mb``.  CPU time: what is used
    plus twice ``seconds`` (preparation and work) and a margin, so that a worker
    whose caller died without killing it stops by itself (SIGXCPU)."""
    size = _address_space()
    if size is not None:
        _limit(resource.RLIMIT_AS, size + int(memory_mb * (1 << 20)))
    used = resource.getrusage(resource.RUSAGE_SELF)
    _limit(resource.RLIMIT_CPU, int(used.ru_utime + used.ru_stime + 2 * seconds) + 2)


def _portable(exc: BaseException) -> BaseException:
    """``exc`` if it survives pickling, else a RuntimeError that names it."""
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:
        return RuntimeError(f"{type(exc).__name__}: {exc}")
    return exc


def _serve(conn, other_end) -> None:
    """The worker's loop: run ``(func, args, memory_mb, seconds)`` messages until ``None``."""
    global _CHANNEL
    other_end.close()                   # so that the caller's exit ends recv() with EOF
    signal.signal(signal.SIGINT, signal.SIG_IGN)   # Ctrl-C is the caller's to handle
    _CHANNEL = conn
    start = _address_space()
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        func, args, memory_mb, seconds = message
        _limit_task(memory_mb, seconds)
        try:
            answer = ("ok", func(*args))
        except MemoryError:
            answer = ("memory", None)
        except BaseException as exc:    # noqa: B036 - everything goes back to the caller
            answer = ("error", _portable(exc))
        # A worker that hit its limit, or grew by more than one budget (caches), retires.
        size = _address_space()
        retire = answer[0] == "memory" or (
            size is not None and start is not None and size - start > memory_mb * (1 << 20))
        try:
            conn.send((*answer, retire))
        except MemoryError:
            conn.send(("memory", None, True))
        except Exception as exc:        # the result does not pickle
            conn.send(("error", RuntimeError(f"the task's result cannot be sent back: "
                                             f"{type(exc).__name__}: {exc}"), retire))
        if retire:
            return


# ---------------------------------------------------------------- the caller side

class Pool:
    """One warm worker process for a series of tasks, each under ``budget``.

    Use it as a context manager (the worker is stopped at the end) or call
    :meth:`close`.  The worker starts on the first :meth:`run`; a worker that
    overruns is killed and the next task starts a new one.

    >>> with Pool(Budget(seconds=30)) as pool:
    ...     [pool.run(abs, n) for n in (-1, -2)]
    [1, 2]
    """

    def __init__(self, budget: Budget | None = None):
        self.budget = budget if budget is not None else Budget()
        self._process: Any = None
        self._conn: Any = None
        self._lock = threading.Lock()

    def __enter__(self) -> Pool:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def run(self, func: Callable[..., Any], *args: Any,
            on_progress: Callable[[Any], None] | None = None,
            budget: Budget | None = None) -> Any:
        """``func(*args)`` under the budget; its result, or its exception re-raised.

        Raises :class:`~symgrad.errors.BudgetExceeded` when a limit runs out.
        ``on_progress`` receives every :func:`report` of the task, in order.
        """
        budget = budget if budget is not None else self.budget
        if not limits_available() or _CHANNEL is not None:   # (nested: already limited)
            return _in_process(func, args, on_progress)
        with self._lock:
            return self._run(budget, func, args, on_progress)

    def _run(self, budget, func, args, on_progress):
        conn = self._worker()
        try:
            conn.send((func, args, budget.memory_mb, budget.seconds))
        except (OSError, EOFError):     # the idle worker went away: start another
            self._kill()
            conn = self._worker()
            conn.send((func, args, budget.memory_mb, budget.seconds))
        deadline = time.monotonic() + budget.seconds
        busy = True
        try:
            while True:
                left = deadline - time.monotonic()
                if left <= 0 or not conn.poll(left):
                    raise budget.exceeded("time")
                try:
                    kind, payload, *retire = conn.recv()
                except (EOFError, OSError):     # the worker died: past its CPU time, or
                    raise budget.exceeded(self._cause_of_death()) from None  # memory
                if kind == "progress":   # (progress and clock: (kind, payload))
                    if on_progress is not None:
                        on_progress(payload)
                elif kind == "clock":
                    deadline = time.monotonic() + budget.seconds
                elif kind == "memory":
                    raise budget.exceeded("memory")
                else:
                    busy = False
                    if retire and retire[0]:
                        self._kill()
                    if kind == "ok":
                        return payload
                    raise payload
        finally:
            if busy:                    # out of budget, dead, or interrupted (Ctrl-C)
                self._kill()

    def _cause_of_death(self) -> str:
        """``"time"`` for a worker stopped by its CPU limit, else ``"memory"`` (an
        allocation that failed in C code, where Python cannot raise MemoryError)."""
        self._process.join(_GOODBYE_SECONDS)
        return "time" if self._process.exitcode == -signal.SIGXCPU else "memory"

    def _worker(self):
        if self._process is None or not self._process.is_alive():
            self._kill()
            context = multiprocessing.get_context("fork")
            here, there = context.Pipe()
            process = context.Process(target=_serve, args=(there, here), daemon=True,
                                      name="symgrad-budget-worker")
            process.start()
            there.close()
            self._process, self._conn = process, here
        return self._conn

    def _kill(self) -> None:
        process, conn = self._process, self._conn
        self._process = self._conn = None
        if conn is not None:
            conn.close()
        if process is not None:
            if process.is_alive():
                os.kill(process.pid, signal.SIGKILL)
            process.join()

    def close(self) -> None:
        """Stop the worker (it is asked to leave, then killed if it does not)."""
        with self._lock:
            if self._process is not None and self._process.is_alive():
                try:
                    self._conn.send(None)
                    self._process.join(_GOODBYE_SECONDS)
                except (OSError, EOFError):
                    pass
            self._kill()

    @property
    def pid(self) -> int | None:
        """The worker's process id (None before the first task or after a kill)."""
        return self._process.pid if self._process is not None else None


def run_here(func: Callable[..., Any], *args: Any,
             on_progress: Callable[[Any], None] | None = None) -> Any:
    """``func(*args)`` in this process, without limits; reports go to ``on_progress``."""
    return _in_process(func, args, on_progress)


def _in_process(func, args, on_progress):
    global _LISTENER
    previous, _LISTENER = _LISTENER, on_progress
    try:
        return func(*args)
    finally:
        _LISTENER = previous


def run(func: Callable[..., Any], *args: Any, budget: Budget | None = None,
        on_progress: Callable[[Any], None] | None = None) -> Any:
    """``func(*args)`` in a fresh worker under ``budget`` (default :class:`Budget`).

    For one task; a series of tasks should share a :class:`Pool`.
    """
    with Pool(budget) as pool:
        return pool.run(func, *args, on_progress=on_progress)


__all__ = ["DEFAULT_MEMORY_MB", "DEFAULT_SECONDS", "Budget", "Pool", "limits_available",
           "network_for", "remember", "report", "restart_clock", "run", "run_here"]
