"""``symgrad compare ARCH w111 w211``: the seed question "must w111 equal w211?" answered.

Truth: sympy.diff on the 2-2-1 loss written out here.
"""

from __future__ import annotations

import sympy as sp

from symgrad import Network
from symgrad.claims.compare import compare

NET = Network([2, 2, 1])
S = {n: sp.Symbol(n, real=True) for n in
     ("x1", "x2", "y", "w111", "w112", "w121", "w122", "w211", "w212")}
Z11 = S["w111"] * S["x1"] + S["w112"] * S["x2"]
Z12 = S["w121"] * S["x1"] + S["w122"] * S["x2"]
Z21 = S["w211"] * Z11 + S["w212"] * Z12
LOSS = (S["y"] - Z21) ** 2 / 2


def test_weights_in_different_layers_are_not_forced_equal():
    c = compare(NET, "w111", "w211")
    # the sides are the two gradients, not the weights themselves
    assert (c.first, c.second) == ("dL/dw111", "dL/dw211")
    d111, d211 = sp.diff(LOSS, S["w111"]), sp.diff(LOSS, S["w211"])
    assert c.equal is False and sp.expand(d111 - d211) != 0
    # the counterexample holds for the test's own derivatives
    point = {S[k]: v for k, v in c.counterexample["values"].items()}
    assert (d111.subs(point), d211.subs(point)) == (c.counterexample["first"],
                                                    c.counterexample["second"])
    # the conditions: d111 - d211 = (z21 - y)(w211 x1 - z11)
    assert sp.expand(d111 - d211 - (Z21 - S["y"]) * (S["w211"] * S["x1"] - Z11)) == 0
    assert c.conditions == ["z11 = x1*w211", "the prediction is exact (y = z21)"]
    assert c.difference == "(x1*w211 - z11)*(z21 - y)"
    text = c.to_text()
    assert "no symmetry of the network exchanges w111 and w211" in text
    assert "different layers" in text
    assert "symgrad train 2-2-1 --synthetic --split 0.3" in text
    assert c.symmetry is None


def test_sibling_weights_are_interchangeable_and_the_symmetry_is_shown():
    c = compare(NET, "w111", "w121")
    d111, d121 = sp.diff(LOSS, S["w111"]), sp.diff(LOSS, S["w121"])
    tie = {S["w121"]: S["w111"], S["w122"]: S["w112"], S["w212"]: S["w211"]}
    assert sp.expand(d111.subs(tie) - d121.subs(tie)) == 0      # tied neurons stay tied
    assert sp.expand(d111 - d121) != 0                          # untied, they differ
    assert c.equal is False
    assert c.answer[0].startswith("interchangeable: yes")
    assert "--init symmetric" in c.answer[1]
    assert c.symmetry and "proved symbolically" in c.symmetry


def test_cost_derivatives_across_layers_carry_the_mean_note_and_read_well(cli):
    r = cli("compare", "2-2-1", "dC/dw111", "dC/dw211")
    assert r.returncode == 1
    assert "difference:     (x1*w211 - z11)*(z21 - y)" in r.stdout
    assert "dC/dw = (1/m) sum_i dL_i/dw" in r.stdout
    r = cli("compare", "2-2-1", "w111", "w211")
    assert r.returncode == 1 and "interchangeable: no symmetry" in r.stdout
