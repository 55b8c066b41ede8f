"""The parser's structural limits (symgrad.claims.guards, LIMITS in symgrad.claims.lexer).

Each limit is hit and not hit: a claim right below it still parses, one past it is a
ParseError with one line that names the column and the limit.  Aliases count as their
expression written out.  The explosive claims from the issue run in a real
``python -m symgrad verify`` process under a 1.5 GB address-space limit and a 10 s
timeout, and must end with exit 2 and one line on stderr.
"""

from __future__ import annotations

import math
import re
import resource
import subprocess
import sys
from pathlib import Path

import pytest
import sympy as sp

from symgrad import Network, ParseError
from symgrad.claims.guards import SYMBOL_SIZE
from symgrad.claims.parse import (
    LIMITS,
    parse_claim,
    parse_derivative,
    parse_expression,
    parse_quantity,
)

NET = Network([2, 2, 1])
SUM9 = "x1+x2+w111+w112+w121+w122+w211+w212+y"
SUM5 = "x1 + w211 + x2 + w111 + w112"
BIG = "123456789012345678901234567890"          # a literal of 30 digits, the most allowed


def refused(text, fragment, **kw):
    """Parse ``text`` as an expression; return the one-line message, which has ``fragment``."""
    with pytest.raises(ParseError) as info:
        parse_expression(text, NET, **kw)
    message = str(info.value)
    assert fragment in message, message
    assert "\n" not in message and len(message) < 400
    return message


def parses(text, **kw):
    return parse_expression(text, NET, **kw)


# -- the documented table -----------------------------------------------------------
def test_docs_list_every_limit_with_its_value():
    doc = (Path(__file__).resolve().parent.parent / "docs" / "claims.md").read_text("utf-8")
    section = doc[doc.index("## Limits"):]
    rows = re.findall(r"^\|[^|]+\| `(\w+)` \| ([\d,]+) \|$", section, re.M)
    assert {key: int(value.replace(",", "")) for key, value in rows} == LIMITS


# -- size and nesting, through aliases -----------------------------------------------------
def _sum_of(name: str, count: int) -> str:
    return "+".join([name] * count)


def test_parts_are_counted_with_aliases_written_out():
    # "x1+...+x1" with 50 terms is 51 parts; h2 = k copies of h1 is 51*k + 1 parts.
    h1 = _sum_of("x1", 50)
    fits = (LIMITS["max_nodes"] - 1) // 51
    assert parses("h2", aliases={"h1": h1, "h2": _sum_of("h1", fits)}) == 50 * fits * NET.inputs[0]
    refused("h2", "in alias 'h2': expression too large once its aliases are written out",
            aliases={"h1": h1, "h2": _sum_of("h1", fits + 1)})
    refused("h2 + h2", "once its aliases are written out (more than 2,000 parts)",
            aliases={"h1": h1, "h2": _sum_of("h1", fits)})


def test_nesting_is_counted_with_aliases_written_out():
    limit = LIMITS["max_depth"]
    h1 = "(" * 9 + "x1" + ")" * 9                  # 10 levels: the expression and 9 brackets
    aliases = {"h1": h1}
    # used inside k brackets, h1 reaches 1 + k + 10 levels
    fits = limit - 11
    assert parses("(" * fits + "h1" + ")" * fits, aliases=aliases) == NET.inputs[0]
    message = refused("(" * (fits + 1) + "h1" + ")" * (fits + 1),
                      f"nests the expression {limit + 1} levels deep once written out",
                      aliases=aliases)
    assert f"at column {fits + 2}" in message and f"the limit is {limit}" in message


def test_alias_depth_counts_aliases_already_read():
    # Defined in order, every alias is read before the next one uses it: the depth of
    # the chain still counts (the issue's doubling chain got past the limit this way).
    chain = {"h1": "x1+w211"} | {f"h{i}": f"h{i - 1}+h{i - 1}*w111"
                                 for i in range(2, LIMITS["max_alias_depth"] + 1)}
    assert parses(f"h{LIMITS['max_alias_depth']}", aliases=chain) != 0
    n = LIMITS["max_alias_depth"] + 1
    path = " -> ".join(f"h{i}" for i in range(n, 0, -1))
    refused("x1", f"aliases nested too deep ({path})", aliases=chain | {f"h{n}": f"h{n - 1}*2"})


# -- expansion -------------------------------------------------------------------
def _largest_power(terms: int) -> int:
    """The largest n with C(terms + n - 1, n), the terms of (a sum of ``terms``)^n, in the limit."""
    n = 1
    while math.comb(terms + n, n + 1) <= LIMITS["max_terms"]:
        n += 1
    return n


@pytest.mark.parametrize("sign", ["", "-"])
def test_powers_of_long_sums(sign):
    n = _largest_power(9)
    assert parses(f"({SUM9})^{{{sign}{n}}}").is_Pow
    message = refused(f"({SUM9})^{{{sign}{n + 1}}}", f"a sum of 9 terms to the power {sign}{n + 1}")
    assert f"{math.comb(9 + n, n + 1):,} terms" in message and "at column 40" in message


def test_student_powers_of_sums_pass():
    for text in (f"({SUM5})^8", f"({SUM9})^6", f"x1/({SUM9})^4", "(x1 + x2)^64",
                 f"({SUM5})^30"):
        parses(text)


def test_products_of_sums_count_their_terms():
    factors = math.floor(math.log(LIMITS["max_terms"], 9))
    parses("*".join([f"({SUM9})"] * factors))
    refused("*".join([f"({SUM9})"] * (factors + 1)), "terms (sums multiplied together)")


def test_issue_examples_of_expansion_are_refused():
    refused(f"({SUM9})^{{-64}}", "expands to 11,969,016,345 terms")
    refused(f"x1/({SUM9})^{{32}}", "expands to 76,904,685 terms")


# -- constants ------------------------------------------------------------------
def test_digits_of_folded_constants():
    nines = "9" * 25                             # four of them multiply to just under 10**100
    assert parses("*".join([nines] * 4)) == sp.Integer(int(nines) ** 4)
    refused("*".join([nines] * 5), f"the limit is {LIMITS['max_const_digits']} digits")
    refused("*".join([BIG] * 20), "make a constant of")
    # between symbols too: SymPy would fold them into one coefficient
    refused("*".join(f"{BIG}*x1" for _ in range(4)), "make a constant of")
    assert parses("2^64") == 2**64
    refused("(10^30)^4", "too large (more than 100 digits)")


def test_digits_through_aliases():
    h = "*".join([BIG] * 3)
    assert parses("h", aliases={"h": h}) == int(BIG) ** 3
    refused("h*h", "make a constant of", aliases={"h": h})


# -- towers and growth ------------------------------------------------------------
def test_power_towers():
    assert parses("x1^x1^x1") == NET.inputs[0] ** NET.inputs[0] ** NET.inputs[0]
    message = refused("x1^x1^x1^x1", "a power tower 3 high at column 3")   # the outer ^
    assert f"the limit is {LIMITS['max_tower']}" in message
    refused("x1^x1^x1^x1^x1^x1", "power tower")
    refused("x1^h", "power tower", aliases={"h": "x1^x1^x1"})
    refused("h3", "in alias 'h3': a power tower 3 high",
            aliases={"h1": "x1^x1", "h2": "h1^h1", "h3": "h2^h2"})


def _degree_at_limit() -> int:
    """The largest n with x1^n below 10^max_exp_arg_digits for symbols of SYMBOL_SIZE."""
    return math.floor(LIMITS["max_exp_arg_digits"] / math.log10(SYMBOL_SIZE))


@pytest.mark.parametrize("outer", ["exp(exp({}))", "cosh(sinh({}))", "sigma(exp({}))",
                                   r"e^{{e^{{{}}}}}", "tanh(cosh({}))", "exp(x2^{{{}}})"])
def test_nested_exponentials_over_a_large_argument(outer):
    n = _degree_at_limit()
    parses(outer.format(f"x1^{n}"))
    message = refused(outer.format(f"x1^{n + 1}"), "can pass 10^")
    assert f"10^{LIMITS['max_exp_arg_digits']}" in message


def test_deep_exponentials_over_small_arguments_pass():
    parses("exp(exp(exp(exp(exp(x1)))))")
    parses("cosh(sinh(cosh(exp(w211))))*exp(x1)^64")
    parses("cosh(x1^64)")                                   # one level: no nesting
    parses("sigma(w211 sigma(w111 x1 + w112 x2) + w212 sigma(w121 x1 + w122 x2))")
    parses("exp(-(x1 - w111)^2/2) exp(-(x2 - w112)^2/2)")


def test_issue_cosh_tower_and_alias_exponentials():
    refused("cosh(sinh(cosh(sinh(cosh(x1^64)))))", "sinh(...) at column 16 is nested")
    refused("exp(h)", "exp(...) at column 1 is nested", aliases={"h": "cosh(x1^64)"})
    chain = {"h1": "exp(x1)"} | {f"h{i}": f"exp(h{i - 1})" for i in range(2, 50)}
    refused("h49", "aliases nested too deep", aliases=chain)


def test_non_constant_exponents_are_bounded():
    n = _degree_at_limit()
    parses(f"x1^(x2^{n})")
    refused(f"x1^(x2^{n + 1})", "a non-constant exponent is limited to 10^4")


# -- real numbers only -------------------------------------------------------------------
@pytest.mark.parametrize("text,fragment", [
    ("sqrt(-1)", "sqrt(-1) at column 1 is not a real number"),
    ("x1 sqrt(1 - 2)", "sqrt(-1) at column 4 is not a real number"),
    ("log(-2)", "log(-2) at column 1 is not a real number"),
    (r"\ln(-1/2)", "ln(-1/2) at column 1 is not a real number"),
    ("log(0)", "log(0) at column 1 is -infinity"),
    ("(-8)^{1/3}", "(-8)^(1/3) at column 5 is not a real number"),
    ("(-2)^x1", "a negative number to a non-constant power"),
])
def test_constants_must_be_real(text, fragment):
    refused(text, fragment)


def test_real_constants_pass():
    assert parses("sqrt(4) + (-2)^3 + (-8)^2 + log(1)") == 58
    assert parses("sqrt(x1) + log(x1)") == sp.sqrt(NET.inputs[0]) + sp.log(NET.inputs[0])
    refused("sqrt(h)", "is not a real number", aliases={"h": "-1"})


def test_a_non_real_claim_is_an_error_not_a_wrong_claim():
    with pytest.raises(ParseError, match="not a real number"):
        parse_claim("dz21/dw111 = sqrt(-1)*w211*x1", NET)


# -- square brackets ---------------------------------------------------------------------
@pytest.mark.parametrize("text,name", [("w211[x1]", "w211"), ("x1[0]", "x1"),
                                       ("2 yhat[1]", "yhat"), ("x_1[2]", "x1")])
def test_square_brackets_after_a_name_are_not_indexing(text, name):
    refused(text, f"right after {name!r} looks like indexing")


@pytest.mark.parametrize("text", ["w211 [x1]", "w211*[x1]", "2[x1]w211", "[x1] w211",
                                  r"w211\left[x1\right]", "(x1)[w211]", "tanh[z11]",
                                  "[w211 (x1 + 0)]"])
def test_square_brackets_still_group(text):
    x1, w211 = NET.inputs[0], NET.weights[4]
    assert parses(text) in (w211 * x1, 2 * w211 * x1, sp.tanh(NET.z_symbol(1, 1)))


# -- text that is not text --------------------------------------------------------------
@pytest.mark.parametrize("call", [
    lambda: parse_expression(5, NET), lambda: parse_expression(None, NET),
    lambda: parse_expression(["x1"], NET), lambda: parse_claim(b"dz21/dw111 = x1", NET),
    lambda: parse_derivative(3.5, NET), lambda: parse_quantity(5, NET),
])
def test_non_strings_are_parse_errors(call):
    with pytest.raises(ParseError, match="must be a string, got"):
        call()


# -- names ------------------------------------------------------------------------------
def test_run_together_indices_suggest_the_separated_name():
    net = Network([2, 10, 1])
    for text in ("dz21/dw1102 = 0", "dz21/dw111 = w1102"):
        with pytest.raises(ParseError) as info:
            parse_claim(text, net)
        message = str(info.value)
        assert "did you mean 'w_1_10_2'?" in message and "w112" not in message
    with pytest.raises(ParseError, match="did you mean 'z_1_10'"):
        parse_expression("z110", net)
    with pytest.raises(ParseError, match="its digits are no indices of the 2-10-1 network"):
        parse_expression("w9102", net)
    # w{l}{k}{j}: the second index is the input
    with pytest.raises(ParseError, match="did you mean 'w_1_2_10'"):
        parse_expression("w1210", net, weight_template="w{l}{k}{j}")


def test_several_outputs_ask_for_one():
    net = Network([2, 2])
    for text, stem in (("dyhat/dw111 = 0", "yhat"), ("dy'/dw111 = 0", "yhat"),
                       ("dz11/dw111 = y", "y")):
        with pytest.raises(ParseError) as info:
            parse_claim(text, net)
        message = str(info.value)
        assert f"2 outputs, so name one: {stem}1 or {stem}2" in message, message
        assert "did you mean" not in message


# -- in a real process, under limits -----------------------------------------------------
def _limits():
    resource.setrlimit(resource.RLIMIT_AS, (1_500_000_000, 1_500_000_000))


def _chain(first: str, step: str, count: int) -> list[str]:
    args = ["--alias", f"h1={first}"]
    for i in range(2, count + 1):
        args += ["--alias", f"h{i}=" + step.format(p=f"h{i - 1}")]
    return args


ISSUE = {
    "doubling-aliases": [*_chain("x1+w211", "{p}+{p}*w111", 20), "dz21/dw111 = h20"],
    "power-aliases": [*_chain("x1^x1", "{p}^{p}", 5), "dz21/dw111 = h5"],
    "exp-aliases": [*_chain("exp(x1)", "exp({p})", 49), "dz21/dw111 = h49"],
    "tower": ["dz21/dw111 = x1^x1^x1^x1^x1^x1"],
    "sum-to-the-64th": [f"dz21/dw111 = ({SUM9})^{{-64}}"],
    "over-sum-to-the-32nd": [f"dz21/dw111 = x1/({SUM9})^{{32}}"],
    "cosh-tower": ["dz21/dw111 = cosh(sinh(cosh(sinh(cosh(x1^64)))))"],
    "big-product": ["dz21/dw111 = " + "*".join([BIG] * 20)],
    "sqrt-minus-one": ["dz21/dw111 = sqrt(-1)*w211*x1"],
    "indexing": ["dz21/dw111 = w211[x1]"],
}


#: Run in the quick loop too (the rest are marked slow: each is a fresh process).
QUICK = ("doubling-aliases", "tower", "cosh-tower")


@pytest.mark.parametrize("kind", [k if k in QUICK else pytest.param(k, marks=pytest.mark.slow)
                                  for k in ISSUE])
def test_issue_inputs_exit_2_in_a_limited_process(kind):
    r = subprocess.run([sys.executable, "-m", "symgrad", "verify", "2-2-1", *ISSUE[kind]],
                       capture_output=True, text=True, encoding="utf-8", timeout=10,
                       preexec_fn=_limits)
    assert r.returncode == 2, (r.returncode, r.stderr[-500:])
    lines = r.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("symgrad: claim 1: "), r.stderr
    assert "Traceback" not in r.stderr and r.stdout == ""
