"""A one-line progress bar for training, on a terminal's stderr.

``symgrad train`` passes a :class:`ProgressBar` as the ``progress`` callback of
:func:`symgrad.training.train.train`.  A frame shows the bar, the epoch, the cost,
the time so far, the rate and the time left::

    [######..............] 61234/200000 epochs  cost 0.0123  0:04 15.3k/s ETA 0:09

The bar stays silent for the first half second (a quick run shows nothing) and
redraws at most ten times a second.  When training stops, :meth:`ProgressBar.finish`
draws the last frame at the epoch the run really ended on, full, with the reason::

    [####################] 4065 epochs, converged (of 200000)  cost 1.2e-05  0:01

A frame never runs past the terminal's width (it would wrap and break the redraw).
The clock is a parameter, so tests can drive the bar without waiting.
"""

from __future__ import annotations

import shutil
import sys
import time

#: Seconds before the first frame, and between frames.
QUIET_START = 0.5
REDRAW_EVERY = 0.1


def duration(seconds: float) -> str:
    """``m:ss``, or ``h:mm:ss`` from an hour on.

    >>> duration(4.2), duration(75), duration(3725)
    ('0:04', '1:15', '1:02:05')
    """
    whole = int(seconds + 0.5)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def rate(per_second: float) -> str:
    """Epochs per second with a k/M suffix: ``15.3k``.

    >>> rate(15321.0), rate(2.5), rate(3.2e6)
    ('15.3k', '2.5', '3.2M')
    """
    for factor, suffix in ((1e6, "M"), (1e3, "k")):
        if per_second >= factor:
            return f"{per_second / factor:.1f}{suffix}"
    return f"{per_second:.3g}"


class ProgressBar:
    """Progress of a training run on ``stream`` (stderr); see the module docstring."""

    def __init__(self, stream=None, width: int = 20, clock=time.monotonic,
                 columns: int | None = None):
        self.stream, self.width, self.clock = stream or sys.stderr, width, clock
        self.columns = columns or shutil.get_terminal_size().columns
        self.start = self.last = clock()
        self.drawn = False

    def _timing(self, epoch: int, now: float) -> tuple:
        elapsed = now - self.start
        speed = epoch / elapsed if elapsed > 0 else 0.0
        return elapsed, speed

    def __call__(self, epoch: int, epochs: int, cost: float) -> None:
        now = self.clock()
        if epoch < epochs and (now - self.start < QUIET_START or now - self.last < REDRAW_EVERY):
            return
        self.last = now
        elapsed, speed = self._timing(epoch, now)
        left = f" ETA {duration((epochs - epoch) / speed)}" if speed > 0 else ""
        done = int(self.width * epoch / max(epochs, 1))
        self._write(f"[{'#' * done}{'.' * (self.width - done)}] {epoch}/{epochs} epochs  "
                    f"cost {cost:.4g}  {duration(elapsed)} {rate(speed)}/s" + left)

    def finish(self, epoch: int, epochs: int, stop: str, cost: float) -> None:
        """The last frame: the epoch the run ended on and why (only after a frame)."""
        if not self.drawn:
            return
        elapsed, _ = self._timing(epoch, self.clock())
        words = {"epochs": "done", "converged": "converged", "diverged": "diverged",
                 "stationary": "stuck", "interrupted": "interrupted"}.get(stop, stop)
        of = f" (of {epochs})" if epoch != epochs else ""
        self._write(f"[{'#' * self.width}] {epoch} epoch{'s' if epoch != 1 else ''}, "
                    f"{words}{of}  cost {cost:.4g}  {duration(elapsed)}")

    def _write(self, text: str) -> None:
        self.drawn = True       # before writing: Ctrl-C may land during the write
        self.stream.write(f"\r{text[:max(self.columns - 1, 1)]}\033[K")
        self.stream.flush()

    def close(self) -> None:
        if self.drawn:
            self.stream.write("\n")
            self.stream.flush()
            self.drawn = False


__all__ = ["ProgressBar", "duration", "rate"]
