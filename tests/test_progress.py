"""The training progress bar, driven by a fake clock: elapsed time, rate, ETA, and a
last frame at the epoch the run really ended on."""

from __future__ import annotations

import io
import re

import numpy as np

from symgrad import Network, train
from symgrad.training.progress import ProgressBar, duration


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def _frames(stream) -> list:
    return [f.strip().removesuffix("\033[K") for f in stream.getvalue().split("\r") if f]


def test_frames_show_elapsed_rate_and_eta():
    clock, out = Clock(), io.StringIO()
    bar = ProgressBar(out, clock=clock, columns=200)
    for epoch in range(200, 2001, 200):     # 1000 epochs a second for 2 seconds
        clock.now = epoch / 1000
        bar(epoch, 10000, 1.0 / epoch)
    last = _frames(out)[-1]
    assert last.startswith("[####................] 2000/10000 epochs  cost 0.0005")
    # 2 s for 2000 epochs: 1000 epochs/s, 8000 left: 8 s.
    assert last.endswith(" 0:02 1.0k/s ETA 0:08")


def test_a_quick_run_draws_nothing_and_frames_are_rate_limited():
    clock, out = Clock(), io.StringIO()
    bar = ProgressBar(out, clock=clock, columns=200)
    for epoch in range(1, 100):
        clock.now = epoch / 1000                # all within the first 0.1 s
        bar(epoch, 1000, 1.0)
    bar.finish(99, 1000, "converged", 1.0)
    bar.close()
    assert out.getvalue() == ""
    for epoch in range(100, 1001):
        clock.now = epoch / 1000
        bar(epoch, 1000, 1.0)
    assert 4 <= len(_frames(out)) <= 7         # 0.5 s to 1 s at most ten a second, + last


def test_early_stop_ends_on_the_true_epoch_with_a_full_bar():
    clock, out = Clock(), io.StringIO()
    bar = ProgressBar(out, clock=clock, columns=200)
    x = np.linspace(-1, 1, 9)

    def progress(epoch, epochs, cost):
        clock.now += 0.01
        bar(epoch, epochs, cost)

    result = train(Network([1, 1]), x[:, None], 2 * x, epochs=200000, lr=0.5, tol=1e-20,
                   progress=progress, backend="numpy")
    assert result.stop == "converged" and 50 < result.epochs_run < 200000
    bar.finish(result.epochs_run, 200000, result.stop, result.cost)
    bar.close()
    last = _frames(out)[-1]
    n = result.epochs_run
    assert re.fullmatch(rf"\[#{{20}}\] {n} epochs, converged \(of 200000\)  cost \S+  "
                        rf"{re.escape(duration(n * 0.01))}", last), last
    assert out.getvalue().endswith("\n")


def test_frames_never_pass_the_terminal_width():
    clock, out = Clock(), io.StringIO()
    bar = ProgressBar(out, clock=clock, columns=40)
    clock.now = 1.0
    bar(123456789, 1000000000, 1.234567e-300)
    assert all(len(f) <= 39 for f in _frames(out))


def test_durations():
    assert [duration(s) for s in (0, 59.4, 61, 3600, 86399)] == [
        "0:00", "0:59", "1:01", "1:00:00", "23:59:59"]
