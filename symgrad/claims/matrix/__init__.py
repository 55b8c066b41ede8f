"""Claims about whole layers: backprop in matrix form (``dL/dW2 = delta2 a1^T``).

Reading: :mod:`~symgrad.claims.matrix.tokens` (the lexer's matrix mode),
:mod:`~symgrad.claims.matrix.layers` (the layer names, their shapes and entries,
and the batch layouts), :mod:`~symgrad.claims.matrix.reader` (the grammar of
matrix expressions, numpy calls included, into the trees of
:mod:`~symgrad.claims.matrix.tree`) and :mod:`~symgrad.claims.matrix.algebra` (their values, shapes
checked first).  Deciding:
:mod:`~symgrad.claims.matrix.sides` (the left side and the truth, entry by entry),
:mod:`~symgrad.claims.matrix.repairs` (which single change makes a wrong claim
right) and :mod:`~symgrad.claims.matrix.check` (verdicts, :func:`verify_matrix`).
The text of the four backprop equations is in :mod:`~symgrad.claims.matrix.equations`.
"""
