"""Hand derivations: read them, decide them, explain them.

The pipeline: :mod:`~symgrad.claims.lexer` -> :mod:`~symgrad.claims.grammar` ->
:mod:`~symgrad.claims.guards` (size limits, before any SymPy) ->
:mod:`~symgrad.claims.names` -> :mod:`~symgrad.claims.build` (our own parser; user
text never reaches ``eval`` or ``sympify``), exposed by :mod:`~symgrad.claims.parse`;
then :mod:`~symgrad.claims.equivalence` (claimed == true, under a budget) with
:mod:`~symgrad.claims.points` (values at points, counterexamples),
:mod:`~symgrad.claims.diagnose` (why not), :mod:`~symgrad.claims.case` (one
claim's decision, run under a budget), :mod:`~symgrad.claims.verify` and
:mod:`~symgrad.claims.compare` (the public entry points ``symgrad.verify`` and
``symgrad.compare``).
"""
