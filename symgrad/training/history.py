"""The record of a training run, in bounded memory however long the run.

:class:`Record` keeps values (costs, parameter vectors) at evenly spaced epochs:
every ``every``-th epoch, the first (epoch 0) always, and the last one added by
:meth:`Record.finish`.  When it holds more than ``limit`` points it drops every
other one and doubles ``every``, so a run of 10**9 epochs keeps at most
``limit + 1`` points, still evenly spaced, while the epoch count stays exact.

>>> r = Record(limit=4)
>>> for epoch in range(11):
...     r.add(epoch, float(epoch))
>>> r.finish(10, 10.0)
>>> r.epochs, r.every
([0, 4, 8, 10], 4)
"""

from __future__ import annotations

from typing import Any


class Record:
    """Values at evenly spaced epochs, at most ``limit`` (+ the last) of them."""

    def __init__(self, limit: int, every: int = 1):
        self.limit = max(2, int(limit))
        self.every = max(1, int(every))
        self.epochs: list[int] = []
        self.values: list[Any] = []

    def wants(self, epoch: int) -> bool:
        """True when :meth:`add` would keep a value for ``epoch`` (skip building it if not)."""
        return epoch % self.every == 0

    def add(self, epoch: int, value: Any) -> None:
        """Keep ``value`` if ``epoch`` is one of the recorded epochs (call for every epoch,
        in order, from 0)."""
        if epoch % self.every:
            return
        self.epochs.append(epoch)
        self.values.append(value)
        if len(self.epochs) > self.limit:
            # Entries are the consecutive multiples of `every` from 0: keeping the even
            # positions keeps the multiples of 2*every, the first point included.
            self.epochs, self.values = self.epochs[::2], self.values[::2]
            self.every *= 2

    def finish(self, epoch: int, value: Any) -> None:
        """Add the last epoch if it is not recorded yet (or replace a stale last value)."""
        if self.epochs and self.epochs[-1] == epoch:
            self.values[-1] = value
        else:
            self.epochs.append(epoch)
            self.values.append(value)

    def __len__(self) -> int:
        return len(self.epochs)
