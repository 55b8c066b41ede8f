"""symgrad.budget: work in a worker process under a time and memory budget.

The tasks below are module-level functions (they travel to the worker by name).
Time limits are tested with tasks that sleep far past the deadline (a minute
against a fraction of a second), never by measuring how fast the machine is.
"""

from __future__ import annotations

import os
import pickle
import signal
import time

import pytest

from symgrad import budget
from symgrad.budget import Budget, Pool, report, restart_clock, run, run_here
from symgrad.errors import BudgetExceeded, SpecError, SpecTypeError, SymgradError

pytestmark = pytest.mark.skipif(not budget.limits_available(),
                                reason="no fork/resource here: tasks run in-process")

#: Long enough that only a kill ends it.
FOREVER = 60.0


def sleep_for(seconds):
    time.sleep(seconds)
    return seconds


def allocate(megabytes):
    block = bytearray(megabytes << 20)
    return len(block) >> 20


def fail_with(kind, message):
    raise kind(message)


class Unpicklable(Exception):
    def __init__(self, a, b):           # pickling calls Unpicklable(message): fails
        super().__init__(f"{a} {b}")


def fail_unpicklably():
    raise Unpicklable("cannot", "travel")


def report_then_sleep(n):
    for i in range(n):
        report(("step", i))
    time.sleep(FOREVER)


def prepare_then_work(prepare, work):
    time.sleep(prepare)
    restart_clock()
    time.sleep(work)
    return "done"


def die():
    os.kill(os.getpid(), signal.SIGKILL)


def stop_for_cpu():
    os.kill(os.getpid(), signal.SIGXCPU)


def cpu_limit():
    import resource

    return resource.getrlimit(resource.RLIMIT_CPU)[0]


def nested():
    """A task that asks for a budget itself: it runs in the worker, not in a new one."""
    return os.getpid(), run(os.getpid)


def network_once(spec):
    from symgrad.derive import gradients

    net = budget.network_for(spec)
    return id(net), str(gradients(net, "output")[net.weights[0]])


def test_the_result_comes_back_from_a_warm_reused_worker():
    with Pool(Budget(seconds=30)) as pool:
        assert pool.run(pow, 2, 10) == 1024
        first = pool.pid
        assert first != os.getpid()
        assert pool.run(sleep_for, 0) == 0
        assert pool.pid == first                      # the same worker, reused
    assert pool.pid is None


def test_a_task_past_its_deadline_is_killed_reported_as_time_and_replaced():
    with Pool(Budget(seconds=0.3)) as pool:
        assert pool.run(os.getpid) == pool.pid
        old = pool.pid
        with pytest.raises(BudgetExceeded) as info:
            pool.run(sleep_for, FOREVER)
        assert info.value.limit == "time" and str(info.value) == "ran out of time (0.3 s)"
        assert isinstance(info.value, SymgradError)
        with pytest.raises(ProcessLookupError):     # killed and reaped
            os.kill(old, 0)
        assert pool.run(pow, 3, 3) == 27               # the next task works
        assert pool.pid not in (None, old)


def test_a_task_past_its_memory_limit_is_reported_as_memory_and_replaced():
    with Pool(Budget(seconds=60, memory_mb=100)) as pool:
        assert pool.run(allocate, 20) == 20              # within the limit: fine
        old = pool.pid
        with pytest.raises(BudgetExceeded) as info:
            pool.run(allocate, 4000)
        assert info.value.limit == "memory"
        assert str(info.value) == "ran out of memory (100 MB)"
        assert pool.run(allocate, 20) == 20
        assert pool.pid != old


def test_a_worker_that_dies_is_reported_and_replaced():
    with Pool(Budget(seconds=60)) as pool:
        with pytest.raises(BudgetExceeded) as info:
            pool.run(die)
        assert info.value.limit == "memory"
        assert pool.run(pow, 2, 3) == 8


def test_a_worker_has_a_cpu_limit_as_a_backstop_and_dying_of_it_is_time():
    """If the caller dies without killing its worker, the CPU limit stops the worker."""
    import resource

    with Pool(Budget(seconds=3)) as pool:
        soft = pool.run(cpu_limit)
        assert soft != resource.RLIM_INFINITY and soft <= 3 * 2 + 2 + 60
        with pytest.raises(BudgetExceeded) as info:
            pool.run(stop_for_cpu)
        assert info.value.limit == "time"
        assert pool.run(pow, 2, 2) == 4


@pytest.mark.parametrize("kind", [ValueError, SpecError, ZeroDivisionError, KeyError])
def test_exceptions_come_back_as_exceptions_and_the_worker_stays(kind):
    with Pool(Budget(seconds=60)) as pool:
        pool.run(pow, 1, 1)
        pid = pool.pid
        with pytest.raises(kind, match="from the task"):
            pool.run(fail_with, kind, "from the task")
        assert pool.run(pow, 2, 2) == 4 and pool.pid == pid


def test_an_exception_that_cannot_travel_is_named():
    with pytest.raises(RuntimeError, match="Unpicklable: cannot travel"):
        run(fail_unpicklably)


def test_progress_reports_arrive_in_order_also_when_the_budget_runs_out():
    seen = []
    with pytest.raises(BudgetExceeded):
        run(report_then_sleep, 3, budget=Budget(seconds=0.5), on_progress=seen.append)
    assert seen == [("step", 0), ("step", 1), ("step", 2)]


@pytest.mark.slow
def test_restart_clock_gives_the_work_after_the_preparation_its_own_budget():
    # 1.5 s + 1.5 s against a 2.5 s budget: fails without the restart
    assert run(prepare_then_work, 1.5, 1.5, budget=Budget(seconds=2.5)) == "done"
    with pytest.raises(BudgetExceeded):
        run(prepare_then_work, 0, FOREVER, budget=Budget(seconds=0.5))


def test_a_task_inside_a_worker_runs_there_rather_than_forking_again():
    worker, inner = run(nested)
    assert worker == inner != os.getpid()


def test_in_process_fallback(monkeypatch):
    monkeypatch.setenv(budget.IN_PROCESS_VARIABLE, "1")
    assert not budget.limits_available()
    assert run(os.getpid) == os.getpid()
    seen = []
    assert run_here(report, "here", on_progress=seen.append) is None
    assert seen == ["here"]
    with pytest.raises(KeyError):
        run(fail_with, KeyError, "in-process too")


def test_report_without_a_listener_is_a_no_op():
    assert report("nobody listens") is None
    assert restart_clock() is None


def test_networks_travel_as_specs_and_are_built_once_per_worker():
    from symgrad.network import Network

    spec = Network([2, 2, 1], activation="tanh").spec
    budget._NETWORKS.pop(spec, None)                   # not inherited: built in the worker
    with Pool(Budget(seconds=60)) as pool:
        first, text = pool.run(network_once, spec)
        again, _ = pool.run(network_once, spec)
    assert first == again and "tanh" in text
    assert spec not in budget._NETWORKS                # the caller built nothing


def test_closing_stops_the_worker():
    pool = Pool()
    pool.run(pow, 2, 2)
    pid = pool.pid
    pool.close()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    pool.close()                                       # twice is fine


@pytest.mark.parametrize("kwargs,error", [
    ({"seconds": 0}, SpecError), ({"seconds": -1}, SpecError),
    ({"seconds": float("nan")}, SpecError), ({"memory_mb": float("inf")}, SpecError),
    ({"seconds": "5"}, SpecTypeError), ({"memory_mb": True}, SpecTypeError),
    ({"seconds": 10 ** 9}, SpecError),
])
def test_budget_values_are_checked(kwargs, error):
    with pytest.raises(error):
        Budget(**kwargs)


def test_budget_describes_its_limits_and_pickles():
    b = Budget(seconds=2.5, memory_mb=300)
    assert b.describe("time") == "ran out of time (2.5 s)"
    assert b.describe("memory") == "ran out of memory (300 MB)"
    assert pickle.loads(pickle.dumps(b)) == b
    exc = pickle.loads(pickle.dumps(b.exceeded("memory")))
    assert isinstance(exc, BudgetExceeded) and exc.limit == "memory" and exc.budget == b
