"""Notation presets (--notation): claims in each course's own names, answers shown in them.

Truth: sympy.diff of the 2-2-1 network's loss, written out here (linear, no bias):
z11 = w111 x1 + w112 x2, z12 = w121 x1 + w122 x2, z21 = w211 z11 + w212 z12,
L = (y - z21)^2 / 2.  Each preset's claim is that derivative printed in the
preset's names by the test itself.
"""

from __future__ import annotations

import re

import pytest
import sympy as sp

from symgrad import Network
from symgrad.claims.compare import compare
from symgrad.claims.notation import NOTATIONS, get_notation
from symgrad.claims.parse import parse_claim, parse_expression
from symgrad.claims.steps import verify_derivation
from symgrad.claims.verify import verify
from symgrad.errors import ParseError, SpecError

NET = Network([2, 2, 1])
x1, x2, y = sp.symbols("x1 x2 y", real=True)
W = {n: sp.Symbol(n, real=True) for n in ("w111", "w112", "w121", "w122", "w211", "w212")}
Z11 = W["w111"] * x1 + W["w112"] * x2
Z12 = W["w121"] * x1 + W["w122"] * x2
Z21 = W["w211"] * Z11 + W["w212"] * Z12
LOSS = (y - Z21) ** 2 / 2

# each preset's name for symgrad's w{l}{j}{k} and inputs, as the course writes them
SPELL = {
    "nielsen": lambda l, j, k: f"w^{l + 1}_{{{j}{k}}}",
    "ng": lambda l, j, k: f"W^{{[{l}]}}_{{{j}{k}}}",
    "goodfellow": lambda l, j, k: f"W^{{({l})}}_{{{j}{k}}}",
}
INPUT = {"nielsen": "a^1_{}", "ng": "A^{{[0]}}_{}", "goodfellow": "h^{{(0)}}_{}"}
COST = {"nielsen": "C", "ng": "J", "goodfellow": "J"}


def spelled(expr, preset: str) -> str:
    """``expr`` (in w111.., x1, x2, y) printed in the preset's names."""
    text = sp.sstr(expr)
    text = re.sub(r"\bw(\d)(\d)(\d)\b",
                  lambda m: "(" + SPELL[preset](*map(int, m.groups())) + ")", text)
    return re.sub(r"\bx(\d)\b", lambda m: "(" + INPUT[preset].format(m.group(1)) + ")", text)


def real(expr):
    """A claim's parsed side in the test's own symbols (intermediates written out)."""
    return expr.xreplace(NET.intermediate_definitions).xreplace(
        {NET.symbols[n]: s for n, s in {**W, "x1": x1, "x2": x2, "y": y}.items()})


@pytest.mark.parametrize("preset", ["nielsen", "ng", "goodfellow"])
@pytest.mark.parametrize("w", ["w111", "w122", "w211", "w212"])
def test_a_true_derivative_written_in_the_preset_verifies(preset, w):
    l, j, k = map(int, w[1:])
    truth = sp.diff(LOSS, W[w])
    claim = (f"\\frac{{\\partial {COST[preset]}}}{{\\partial {SPELL[preset](l, j, k)}}} = "
             + spelled(truth, preset))
    parsed = parse_claim(claim, NET, notation=preset)
    assert parsed.parameter == NET.symbols[w]
    assert sp.expand(real(parsed.rhs) - truth) == 0
    [v] = verify(NET, claim, notation=preset)
    assert v.correct is True
    wrong = claim + " * 2"
    [v] = verify(NET, wrong, notation=preset)
    assert v.correct is False
    # the answer is shown in the preset's names and reads back as the truth
    shown = parse_expression(v.true, NET, notation=preset)
    assert sp.expand(real(shown) - truth) == 0


def test_nielsen_bare_superscript_is_a_layer_there_and_a_power_elsewhere():
    truth = sp.diff(LOSS, W["w111"])
    in_nielsen = parse_claim("dC/dw^2_{11} = 0", NET, notation="nielsen")
    assert in_nielsen.parameter == NET.symbols["w111"]
    # symgrad's own notation: the same text is w11 squared, no weight of the network
    with pytest.raises(ParseError):
        parse_claim("dC/dw^2_{11} = 0", NET)
    # powers stay powers where no layer can be meant
    e = parse_expression("x_1^2 + (w^2_{11})^2", NET, notation="nielsen")
    assert sp.expand(real(e) - (x1 ** 2 + W["w111"] ** 2)) == 0
    assert truth != 0


def test_nielsen_deltas_and_activations_use_his_layer_numbers():
    # delta^3_1 is dC/dz^3_1, the output's delta: yhat - y
    [v] = verify(NET, "\\delta^3_1 = a^3_1 - y", notation="nielsen")
    assert v.correct is True
    # his a^1_j are the inputs
    d = sp.diff(LOSS, W["w211"])
    assert sp.expand(d - (Z21 - y) * Z11) == 0
    [v] = verify(NET, "dC/dw^3_{11} = \\delta^3_1 a^2_1", notation="nielsen")
    assert v.correct is True
    with pytest.raises(ParseError, match="input layer is 1"):
        parse_claim("dC/dw^1_{11} = 0", NET, notation="nielsen")


def test_ng_gradient_names_and_matrix_letters():
    truth = sp.diff(LOSS, W["w111"])
    claim = "dW^{[1]}_{11} = " + spelled(truth, "ng")
    parsed = parse_claim(claim, NET, notation="ng")
    assert (parsed.of, parsed.of_text, parsed.parameter) == ("C", "J", NET.symbols["w111"])
    [v] = verify(NET, claim, notation="ng")
    assert v.correct is True
    [v] = verify(NET, "dW^{[1]}_{11} = dZ^{[1]}_1 A^{[0]}_1", notation="ng")
    assert v.correct is True
    [v] = verify(NET, "dZ^{[2]}_1 = \\hat{y} - y", notation="ng")
    assert v.correct is True
    [v] = verify(NET, "dZ^{[2]}_1 = y - \\hat{y}", notation="ng")
    assert v.correct is False
    # dz21/dw111 is still a derivative, not the delta dz21 divided by something
    [v] = verify(NET, "dZ21/dW111 = W211 x1", notation="ng")
    assert v.correct is True


def test_goodfellow_a_is_the_pre_activation_and_h_the_activation():
    net = Network([2, 2, 1], activation="tanh")
    z11 = net.symbols["z11"]
    parsed = parse_claim("dJ/da^{(1)}_1 = 0", net, notation="goodfellow")
    assert parsed.parameter == z11
    e = parse_expression("h^{(1)}_1", net, notation="goodfellow")
    assert e == net.symbols["a11"]


def test_the_preset_reaches_derivations_and_compare():
    truth = sp.diff(LOSS, W["w211"])
    text = "dC/dw^3_{11} = (a^3_1 - y) a^2_1\n= " + spelled(truth, "nielsen")
    result = verify_derivation(NET, text, notation="nielsen")
    assert [s.status for s in result.steps] == ["correct", "correct"]
    c = compare(NET, "dJ/dW^{[1]}_{11}", "dJ/dW^{[1]}_{21}", notation="ng")
    assert c.equal is False and c.first.startswith("dJ/dW^[1]_11")


def test_notation_is_checked():
    with pytest.raises(SpecError, match="nielsen"):
        get_notation("bishop-ish")
    assert set(NOTATIONS) >= {"default", "nielsen", "ng", "goodfellow"}


def test_cli_notation(cli):
    truth = sp.diff(LOSS, W["w111"])
    r = cli("verify", "2-2-1", "--notation", "nielsen",
            "dC/dw^2_{11} = " + spelled(truth, "nielsen"))
    assert r.returncode == 0, r.stderr
    r = cli("verify", "2-2-1", "--notation", "nielsen", "dC/dw^2_{11} = (a^3_1 - y) a^1_1")
    assert r.returncode == 1
    assert "w^3_11" in r.stdout          # the missing factor, in Nielsen's names


def test_the_delta_name_is_configurable(cli):
    import dataclasses

    # dL/dz11 = (z21 - y) w211 on the seed network (linear)
    d = sp.diff(LOSS, W["w111"]) / x1
    assert sp.expand(d - (Z21 - y) * W["w211"]) == 0
    mine = dataclasses.replace(get_notation("default"), derivatives={"e": ("z", "L")})
    [v] = verify(NET, "e11 = (yhat - y) w211", notation=mine)
    assert v.correct is True
    r = cli("verify", "2-2-1", "--delta-name", "e", "e11 = (yhat - y) w211",
            "dL/dw111 = e11 x1")
    assert r.returncode == 0, r.stderr
    r = cli("verify", "2-2-1", "--delta-name", "e", "delta11 = (yhat - y) w211")
    assert r.returncode == 2                     # delta is no longer a delta
    r = cli("verify", "2-2-1", "--delta-name", "w", "w11 = 0")
    assert r.returncode == 2 and "--delta-name" in r.stderr


def test_the_single_sample_note_names_the_presets_cost():
    net = Network([2, 2, 1])
    # The seed net's dL/dw111 written by hand: x1*w211*(yhat - y), with yhat = z21.
    [v] = verify(net, "dJ/dW^{[1]}_{11} = x_1 W^{[2]}_{11} (ŷ - y)", notation="ng")
    assert v.correct is True
    assert any(n.startswith("J read as the cost of one sample") and "dJ/dw" in n
               for n in v.notes), v.notes
    [v] = verify(net, "dC/dw111 = x1*w211*(yhat - y)")
    assert any(n.startswith("C read as the cost of one sample") for n in v.notes)
