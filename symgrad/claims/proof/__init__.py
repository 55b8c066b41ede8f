"""Proofs and points for piecewise (kinked) activations.

:mod:`~symgrad.claims.proof.kinks` finds where the kinked functions of the
activation table switch branch, :mod:`~symgrad.claims.proof.sample` picks points
off those kinks (for decisions, at several magnitudes; for diagnoses, covering
each activation pattern), and :mod:`~symgrad.claims.proof.cases` proves claims on
ReLU-type networks by case analysis over activation patterns.
"""
