"""docs/testing-your-backprop.md: its code runs, its tests pass, its output is real.

Every ```python block is executed in order in one namespace, then every function
named ``test_*`` it defined is called, as pytest would.  A ```text block right after
a python block is output that block prints: its lines (except ``...``) must appear
in the printed output in the same order.
"""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

PAGE = Path(__file__).resolve().parent.parent / "docs" / "testing-your-backprop.md"
FENCE = re.compile(r"^```(\w+)\n(.*?)^```", re.M | re.S)


def _blocks():
    return [(m.group(1), m.group(2)) for m in FENCE.finditer(PAGE.read_text())]


@pytest.fixture(scope="module")
def page():
    namespace = {"__name__": "docs_page"}
    outputs = []
    for lang, code in _blocks():
        if lang == "python":
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                exec(compile(code, str(PAGE), "exec"), namespace)  # our own docs
            outputs.append([code, out.getvalue(), None])
        elif lang == "text" and outputs:
            outputs[-1][2] = code
    return namespace, outputs


def test_page_has_code_and_output():
    langs = [lang for lang, _ in _blocks()]
    assert langs.count("python") >= 4 and "text" in langs


def test_shown_output_is_what_the_code_prints(page):
    _, outputs = page
    shown = [(printed, text) for _, printed, text in outputs if text is not None]
    assert shown
    for printed, text in shown:
        lines = printed.splitlines()
        at = 0
        for want in text.splitlines():
            if want == "...":
                continue
            assert want in lines[at:], f"docs show {want!r}, the code does not print it"
            at = lines.index(want, at) + 1


def test_the_pages_tests_pass(page):
    namespace, _ = page
    tests = [v for k, v in namespace.items() if k.startswith("test_") and callable(v)]
    assert len(tests) >= 3
    for test in tests:
        test()


def test_the_buggy_example_really_fails(page):
    namespace, _ = page
    from symgrad import Network
    from symgrad.testing import BackpropMismatch, assert_backprop_matches

    net = Network([2, 3, 3, 1], activation="sigmoid", bias=True)
    with pytest.raises(BackpropMismatch) as info:
        assert_backprop_matches(namespace["backprop_buggy"], net)
    assert "activation-derivative" in info.value.diagnoses


def test_the_stuck_example_times_out_and_leaves_no_thread_behind(page):
    import threading

    namespace, outputs = page
    printed = next(out for code, out, _ in outputs if "backprop_stuck" in code)
    assert printed.startswith("your function did not return within 0.5 s on batch 1 of 4")
    assert namespace["never"].is_set()                 # the page releases its stuck call
    for thread in threading.enumerate():
        if thread.name == "symgrad-backprop-call":
            thread.join(30)
            assert not thread.is_alive()
