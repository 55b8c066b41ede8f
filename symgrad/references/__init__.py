"""The independent references and the three-way check.

:mod:`~symgrad.references.backprop` (a hand-written numpy backprop) and
:mod:`~symgrad.references.finite_diff` (central differences and the complex step)
import no SymPy and share nothing with the symbolic side but the network spec;
:mod:`~symgrad.references.check` compares them with the compiled symbolic gradient.
"""
