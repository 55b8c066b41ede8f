"""Hostile and random input to symgrad.claims.parse: only ParseError comes out, fast, and
with no side effect.

The time bounds here are generous hang detectors (seconds, where the parser takes
milliseconds), not speed measurements.
"""

from __future__ import annotations

import time

import pytest
import sympy as sp
from hypothesis import HealthCheck, assume, example, given, note, settings
from hypothesis import strategies as st

from symgrad import Network, ParseError
from symgrad.claims.parse import LIMITS, Claim, parse_claim, parse_derivative, parse_expression

NET = Network([2, 2, 1], activation="tanh")
HANG = 2.0          # seconds; every call below takes milliseconds
#: Examples per test are shares of the Hypothesis profile's count (tests/conftest.py; 100
#: in the default profile, where these tests run 300, 400 and 150).  The profile sets
#: deadline=None: a hang is caught by HANG, per call.
UNIT = settings.default.max_examples
SLOW_OK = settings(suppress_health_check=[HealthCheck.too_slow])


def _attacks(marker: str) -> dict:
    deep = "(" * 5_000 + "x1" + ")" * 5_000
    return {
        "import-os": f"__import__('os').system('touch {marker}')",
        "globals": "(1).__class__.__new__.__globals__['os'].system('touch " + marker + "')",
        "lambda": "lambda: 0",
        "comprehension": "[c for c in ().__class__.__base__.__subclasses__()]",
        "getattr": f"getattr(__builtins__, 'exec')('open(\"{marker}\", \"w\")')",
        "import-stmt": "import os",
        "latex-input": r"\input{/etc/passwd}",
        "latex-include": r"\include{/etc/passwd}",
        "latex-write18": rf"\write18{{touch {marker}}}",
        "latex-immediate": rf"\immediate\write18{{touch {marker}}}",
        "latex-def": r"\def\x{\x}\x",
        "latex-catcode": r"\catcode`\^^@=11",
        "power-tower": "9**9**9**9",
        "power-tower-latex": "9^{9^{9^{9}}}",
        "factorial": "factorial(10**9)",
        "deep-nesting": deep,
        "deep-nesting-in-limit": "(" * 900 + "x1" + ")" * 900,
        "deep-braces": "{" * 900 + "x1" + "}" * 900,
        "deep-frac": r"\frac{" * 300 + "1" + "}{2}" * 300,
        "power-chain": "x1^" * 600 + "2",
        "sign-chain": "-" * 1_900 + "x1",
        "function-chain": "exp(" * 300 + "x1" + ")" * 300,
        "one-megabyte": "x1+" * 350_000 + "x1",
        "long-word": "x1" * 900,
        "many-tokens": "x1*" * 600 + "x1",
        "sci-notation": "x1**1e308",
        "huge-exponent": "x1**(10**100)",
        "big-exponent": "x1**65",
        "degree": "(x1+x2)**64 * (w111+w112)**64 * (w211 + 1)**64 * (z11+x1)**64 * x2**64",
        "huge-number": "9" * 1_000,
        "number-power": "(10**30)**64",
        "tower": "x1^x1^x1^x1^x1^x1",
        "sum-to-the-64th": "(x1+x2+w111+w112+w121+w122+w211+w212+y)^{-64}",
        "over-sum-to-the-32nd": "x1/(x1+x2+w111+w112+w121+w122+w211+w212+y)^{32}",
        "cosh-tower": "cosh(sinh(cosh(sinh(cosh(x1^64)))))",
        "exponent-tower": "x1^(x2^64)",
        "big-product": "*".join(["123456789012345678901234567890"] * 20),
        "sqrt-minus-one": "sqrt(-1)",
        "log-negative": "log(-2)",
        "indexing": "x1[0]",
        "nul-byte": "x1\x00+x2",
        "escape": "x1\x1b[2J",
        "rtl-override": "x1\u202e+x2",
        "lone-surrogate": "x1\ud800",
        "zero-division": "1/0",
        "zero-power": "0**-1",
        "log-zero": "log(0)",
        "symbol-ctor": "Symbol('x', real=True)",
        "dunder": "x1.__class__",
        "semicolon": "x1; import os",
        "backslash-rows": r"x1 \\ x2",
        "dollar-only": "$$",
        "empty": "",
        "spaces": "   \t  ",
        "unknown-unicode": "x1 ⊕ x2",
        "emoji": "x1 + 🙂",
    }


ATTACK_IDS = list(_attacks("m"))


@pytest.mark.parametrize("kind", ATTACK_IDS)
def test_attack_is_rejected_quickly_without_side_effects(kind, tmp_path):
    marker = tmp_path / "pwned"
    text = _attacks(str(marker))[kind]
    for call in (
        lambda: parse_expression(text, NET),
        lambda: parse_claim("dz21/dw111 = " + text, NET),
        lambda: parse_claim(text + " = x1", NET),
        lambda: parse_derivative(text, NET),
        lambda: parse_expression("h", NET, aliases={"h": text}),
    ):
        start = time.perf_counter()
        with pytest.raises(ParseError) as info:
            call()
        elapsed = time.perf_counter() - start
        assert elapsed < HANG, f"{kind} took {elapsed:.2f} s"
        message = str(info.value)
        assert message and "\n" not in message and len(message) < 1_000
    assert not marker.exists()


def test_limit_messages_name_the_limit():
    cases = {
        "x1+" * 1_000 + "x1": f"limit is {LIMITS['max_chars']:,}",
        "(" * 60 + "x1" + ")" * 60: f"more than {LIMITS['max_depth']} deep",
        "x1**65": "exponent 65",
        "9" * 40: "40 digits",
        "x1*" * 520 + "x1": "too many tokens",
    }
    for text, fragment in cases.items():
        with pytest.raises(ParseError, match=fragment):
            parse_expression(text, NET)


def _run(call):
    """Call and return ``(result or None, seconds)``; anything but ParseError propagates."""
    start = time.perf_counter()
    try:
        result = call()
    except ParseError as exc:
        result = exc
    return result, time.perf_counter() - start


ALPHABET = st.characters(codec="utf-8", exclude_categories=("Cs",)) | st.sampled_from(
    list("0123456789xwyzab_^*/+-()[]{}=' .,$\\∂·×−ŷσ²₁") + ["\x00", "\u0302"])


@settings(SLOW_OK, max_examples=3 * UNIT)
@given(st.text(ALPHABET, max_size=80))
@example("x1**1e308")
@example("e^{81}")
@example(r"\frac{∂C}{w_{111}} = \frac{1}{m} \sum_{i=1}^m (y-y')x_{i1}")
def test_arbitrary_text_gives_an_expression_or_a_parse_error(text):
    for call in (lambda: parse_expression(text, NET), lambda: parse_claim(text, NET)):
        result, elapsed = _run(call)
        note(f"{elapsed * 1e3:.1f} ms -> {result!r}")
        assert elapsed < HANG
        assert isinstance(result, (ParseError, sp.Expr, Claim))
        if isinstance(result, sp.Expr):
            assert result.free_symbols <= set(NET.symbols.values())


PIECES = [
    "x1", "x2", "w111", "w_{211}", "w_{1,2,1}", "z11", "z_{12}", "a11", "yhat", "y'", r"\hat{y}",
    "ŷ", "y", "x_{i1}", "y_i", "L", "C", "m", "e", "2", "0", "10", "0.5", "+", "-", "−", "*", "/",
    "^", "**", "(", ")", "{", "}", "[", "]", r"\left(", r"\right)", r"\frac", r"\partial", "∂",
    "d", r"\cdot", "·", r"\times", r"\sigma", "σ", "tanh", r"\tanh", "exp", r"\exp", "log",
    r"\ln", "sech", "relu", "softplus", r"\sum_{i=1}^{m}", r"\sum", "_", "=", "'", "²", "$",
    r"\mathrm{d}", "sigma'", "z_b", "w311", "9", "**9", r"\\", ",",
]


@settings(SLOW_OK, max_examples=4 * UNIT)
@given(st.lists(st.sampled_from(PIECES), max_size=25), st.lists(st.sampled_from(["", " "]),
                                                                 min_size=25, max_size=25))
def test_grammar_like_token_soup_gives_an_expression_or_a_parse_error(pieces, gaps):
    text = "".join(p + g for p, g in zip(pieces, gaps))
    aliases = {"z_b": "z21"}
    for call in (lambda: parse_expression(text, NET, aliases=aliases),
                 lambda: parse_claim(text, NET, aliases=aliases),
                 lambda: parse_claim("dL/dw111 = " + text, NET, aliases=aliases),
                 lambda: parse_claim(r"\frac{\partial C}{\partial w_{111}} = \frac{1}{m}"
                                     r"\sum_{i=1}^{m}" + text, NET, aliases=aliases)):
        result, elapsed = _run(call)
        note(f"{text!r}: {elapsed * 1e3:.1f} ms -> {result!r}")
        assert elapsed < HANG
        if isinstance(result, sp.Expr):
            assert result.free_symbols <= set(NET.symbols.values())


# -- printed by SymPy, read back by symgrad -----------------------------------------------
LEAVES = [*NET.inputs, *NET.weights, NET.target, NET.z_symbol(1, 1), NET.a_symbol(1, 2),
          NET.a_symbol(2, 1)]


def _exprs():
    leaf = st.sampled_from(LEAVES) | st.integers(-9, 9).map(sp.Integer) \
        | st.fractions(min_value=-5, max_value=5, max_denominator=7).map(
            lambda f: sp.Rational(f.numerator, f.denominator))
    return st.recursive(leaf, lambda inner: st.one_of(
        st.lists(inner, min_size=2, max_size=3).map(lambda a: sp.Add(*a)),
        st.lists(inner, min_size=2, max_size=3).map(lambda a: sp.Mul(*a)),
        st.tuples(inner, st.integers(-3, 4)).map(lambda t: sp.Pow(t[0], t[1])),
        st.tuples(st.sampled_from([sp.tanh, sp.exp, sp.sech]), inner).map(lambda t: t[0](t[1])),
    ), max_leaves=8)


def _nested_exponentials(expr) -> bool:
    """Whether an exp, tanh or sech has another one inside its argument."""
    kinds = (sp.exp, sp.tanh, sp.sech)
    return any(isinstance(e, kinds) and any(isinstance(i, kinds) for a in e.args
                                            for i in sp.preorder_traversal(a))
               for e in sp.preorder_traversal(expr))


def _within_limits(expr) -> bool:
    """Whether SymPy's own simplification kept ``expr`` inside the documented parse
    limits (LIMITS' max_exponent and max_int_digits): powers of powers combine
    (``(x1^4)^3^... = x1^72``) and integer powers of numbers grow (3^64 has 31
    digits), and refusing those is the limits' job (tests/test_parse_limits.py)."""
    for e in sp.preorder_traversal(expr):
        if isinstance(e, sp.Pow) and e.exp.is_Integer and abs(int(e.exp)) > 64:
            return False
        if isinstance(e, sp.Rational) and max(len(str(abs(e.p))), len(str(e.q))) > 30:
            return False
    return True


@settings(SLOW_OK, max_examples=UNIT * 3 // 2)
@given(_exprs())
@example(sp.exp(sp.Integer(81)))
@example(sp.exp(sp.exp((NET.inputs[0] * NET.weights[0]) ** 4)))
def test_sympy_printed_expressions_read_back_equal(expr):
    """SymPy's plain and LaTeX printers are independent writers of our syntax.

    The one refusal allowed: exponentials nested over a large argument (LIMITS'
    max_exp_arg_digits), and only where the expression has them.
    """
    if expr.has(sp.zoo, sp.nan, sp.oo):
        return
    assume(_within_limits(expr))
    plain = sp.sstr(expr)
    latex = sp.latex(expr, symbol_names=NET.latex_names)
    note(f"plain: {plain}\nlatex: {latex}")
    for text in (plain, latex):
        try:
            got = parse_expression(text, NET)
        except ParseError as exc:
            assert "is nested over an exponential" in str(exc) and _nested_exponentials(expr)
            continue
        assert sp.simplify(got - expr) == 0


ALIAS_STEPS = ["{p}+{p}*w111", "{p}^{p}", "exp({p})", "cosh({p}^8)", "({p}+x1+x2+y)^6",
               "{p}*{p}*123456789012345678901234567890", "x1^({p})", "sqrt({p})",
               "({p})^{{-3}}", "tanh({p})w211", "{p}[x1]", "(((({p}))))"]


@settings(SLOW_OK, max_examples=UNIT)
@given(st.sampled_from(["x1", "x1+w211", "x1 w211", "x1^2", "(x1+x2)(w111-y)", "e^{x1}"]),
       st.lists(st.sampled_from(ALIAS_STEPS), min_size=1, max_size=6))
@example("x1+w211", ["{p}+{p}*w111"] * 7)
@example("x1", ["exp({p})"] * 6)
def test_alias_chains_are_read_or_refused_quickly(first, steps):
    """Each alias built on the one before: limits hold through aliases, fast."""
    aliases = {"h0": first} | {f"h{i}": step.format(p=f"h{i - 1}")
                               for i, step in enumerate(steps, 1)}
    last = f"h{len(steps)}"
    for call in (lambda: parse_expression(last, NET, aliases=aliases),
                 lambda: parse_claim(f"dz21/dw111 = {last} + {last}", NET, aliases=aliases)):
        result, elapsed = _run(call)
        note(f"{aliases}: {elapsed * 1e3:.1f} ms -> {str(result)[:200]!r}")
        assert elapsed < HANG
        assert isinstance(result, (ParseError, sp.Expr, Claim))
        if isinstance(result, ParseError):
            assert "\n" not in str(result)
