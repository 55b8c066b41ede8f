"""Printing derivatives for people: text, Markdown and LaTeX.

:mod:`~symgrad.render.printing` prints one expression in each format,
:mod:`~symgrad.render.linebreak` breaks long ones, :mod:`~symgrad.render.tables`
writes gradient tables and :mod:`~symgrad.render.derivation` chain-rule derivations
(laid out by :mod:`~symgrad.render.sections`).
"""
