"""assert_backprop_matches(..., timeout=): a function that never returns fails the assertion.

A call that hangs leaves a thread behind that Python cannot stop, so the hanging
cases run in a child process (its memory capped with RLIMIT_AS, its run with a
timeout): the child must finish, print what the assertion raised and exit 0.
The options and what a timed call keeps (exceptions, notes, the caller's numpy
error state) are checked in this process with functions that return.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading

import numpy as np
import pytest

from symgrad import Network, SpecError
from symgrad.references.backprop import backprop_function
from symgrad.testing import BackpropMismatch, assert_backprop_matches
from symgrad.testing.assertions import TIMEOUT, BackpropTimeout

#: The child's address space: several times what it needs (about 330 MB).
MEMORY = 2 << 30
NET = Network([2, 2, 1])


def _limit_memory():
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))


def run_child(body: str) -> subprocess.CompletedProcess:
    code = textwrap.dedent("""
        import threading, time
        import numpy as np
        from symgrad import Network
        from symgrad.references.backprop import backprop_function
        from symgrad.testing.assertions import assert_backprop_matches
        net = Network([2, 2, 1])
    """) + textwrap.dedent(body)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, preexec_fn=_limit_memory)


HANGS = {
    "waits forever": "threading.Event().wait()",
    "loops forever": "while True: pass",
}


@pytest.mark.slow
@pytest.mark.parametrize("how", list(HANGS))
def test_a_function_that_never_returns_fails_the_assertion(how):
    out = run_child(f"""
        def stuck(weights, biases, X, y):
            {HANGS[how]}
        try:
            assert_backprop_matches(stuck, net, timeout=0.5)
        except AssertionError as exc:
            print(type(exc).__name__)
            print(exc)
    """)
    assert out.returncode == 0, out.stderr
    name, message = out.stdout.splitlines()
    assert name == "BackpropTimeout" and out.stderr == ""
    assert message.startswith("your function did not return within 0.5 s on batch 1 of 4 "
                              f"(m=5, layout 'matrices', {NET.describe()}); ")
    assert "timeout=None" in message


@pytest.mark.slow
def test_a_hang_while_shrinking_ends_the_search_not_the_report():
    out = run_child("""
        right = backprop_function(net)
        calls = []
        def wrong_then_stuck(params, X, y):
            calls.append(len(X))
            if len(calls) > 4:                  # the four batches return; shrinking hangs
                threading.Event().wait()
            return -right(params, X, y)[1]
        try:
            assert_backprop_matches(wrong_then_stuck, net, layout="vector", timeout=0.5)
        except AssertionError as exc:
            print(type(exc).__name__, exc.diagnoses, exc.minimal, len(calls))
            print(str(exc).splitlines()[-1])
    """)
    assert out.returncode == 0, out.stderr
    first, last = out.stdout.splitlines()
    assert first == "BackpropMismatch ['sign'] None 5"        # one call of the search, no more
    assert last.startswith("the search for a smaller failing case stopped: your function did "
                           "not return within 0.5 s on a call while searching for a smaller "
                           "case (m=")


@pytest.mark.parametrize("bad", [0, -1, float("nan"), float("inf"), "5", True, [1]])
def test_timeout_must_be_positive_seconds_or_none(bad):
    with pytest.raises(SpecError, match="timeout must be a number of seconds > 0, or None"):
        assert_backprop_matches(backprop_function(NET), NET, layout="vector", timeout=bad)


def test_the_default_is_documented_and_a_call_that_returns_in_time_passes():
    assert TIMEOUT == 60.0
    assert_backprop_matches(backprop_function(NET), NET, layout="vector", timeout=5)
    assert issubclass(BackpropTimeout, AssertionError)


@pytest.mark.parametrize("timeout", [None, 30])
def test_the_timed_call_keeps_the_callers_numpy_state_and_none_runs_here(timeout):
    seen = []
    right = backprop_function(NET)

    def vector(params, X, y):
        seen.append((threading.current_thread() is threading.main_thread(),
                     np.geterr()["divide"]))
        return right(params, X, y)

    with np.errstate(divide="raise"):
        assert_backprop_matches(vector, NET, layout="vector", timeout=timeout)
    assert seen and all(divide == "raise" for _, divide in seen)
    assert all(here == (timeout is None) for here, _ in seen)


def test_what_the_function_raises_in_its_thread_comes_out_with_its_note():
    def broken(params, X, y):
        raise KeyError("w999")

    with pytest.raises(KeyError) as info:
        assert_backprop_matches(broken, NET, layout="vector", timeout=30)
    assert any("raised by your function on batch 1 of 4" in n for n in info.value.__notes__)
    assert info.traceback[-1].name == "broken"            # its own frame, not ours


def test_a_wrong_function_still_fails_with_the_diagnosis_under_a_timeout():
    right = backprop_function(NET)
    with pytest.raises(BackpropMismatch) as info:
        assert_backprop_matches(lambda p, X, y: 2 * right(p, X, y)[1], NET, layout="vector",
                                timeout=30)
    assert info.value.diagnoses == ["loss-factor"]
