"""A claim that forgot the L2 term, recognised.

With ``l2 = lambda`` the loss of every sample has ``(lambda/2) sum w**2`` (see
:mod:`symgrad.outputs`), so the derivative by a penalised parameter ``w`` gains
``lambda * w``.  :func:`l2_mistake` names a claim that is right but for that term
(``missing-l2``), or that has it with the wrong sign.
"""

from __future__ import annotations

#: The kind :func:`l2_mistake` returns (a wrong sign on top: ``sign+missing-l2``).
KINDS = ("missing-l2",)


def l2_mistake(case) -> tuple[str, str] | None:
    """``(kind, detail)`` when the claim is the truth without its L2 term, or None.

    ``case`` is a :class:`symgrad.claims.case.Case`.
    """
    net, p = case.net, case.parameter
    if not case.of_loss or p not in net.penalised:
        return None
    term = net.l2 * p
    for sign in (1, -1):
        if case.agree(sign * case.claimed, case.true - term):
            detail = (f"missing the L2 term {case.show(term)}: with l2 = {net.spec.l2:g} the loss "
                      f"has (lambda/2) sum w**2, whose derivative by {case.show(p)} is "
                      f"lambda*{case.show(p)}")
            return ("missing-l2" if sign > 0 else "sign+missing-l2"), detail
    return None
