"""Training the network by gradient descent.

:mod:`~symgrad.training.train` runs it (``symgrad.train``),
:mod:`~symgrad.training.report` explains the result,
:mod:`~symgrad.training.symmetry` sets the start and watches sibling neurons,
:mod:`~symgrad.training.data`
reads and makes data sets and :mod:`~symgrad.training.plots` draws them (matplotlib).
"""
