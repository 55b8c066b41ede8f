"""Tokenizer for claims: plain text, LaTeX and Unicode in one token stream.

Private helper of :mod:`symgrad.claims.parse`.  It turns untrusted text into a list of
:class:`Token` and enforces the cheap limits (length, characters, nesting depth,
token count, literal size) before anything else looks at the text.  It imports no
SymPy: nothing here can evaluate anything.

Unicode copied from web pages is mapped first, one character at a time so that
error columns still point into the original text: ``∂`` is ``\\partial``, ``·`` and
``×`` are ``*``, ``−`` is ``-``, ``ŷ`` is ``yhat``, ``σ`` is ``\\sigma``, a run of
superscripts ``²`` is ``^{2}``; other characters go through NFKC (so ``w₁₁₁`` is
``w111`` and full-width brackets are brackets) and must come out as ASCII.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from typing import NamedTuple

from symgrad.claims.matrix import tokens as matrix_tokens
from symgrad.claims.notation import DEFAULT, Notation
from symgrad.claims.notation.characters import normalize
from symgrad.errors import ParseError
from symgrad.spec import ACTIVATIONS

#: Limits checked before any SymPy object is built.  Text beyond them is rejected
#: with one line naming the limit.  The tree limits (from max_nodes down) hold through
#: aliases: an alias counts as its whole expression written out.
LIMITS = {
    "max_chars": 2_000,        # characters in one claim or expression
    "max_tokens": 1_000,       # tokens after lexing
    "max_depth": 40,           # nesting of brackets, braces, fractions, powers, calls
    "max_nodes": 2_000,        # nodes of the parsed tree
    "max_int_digits": 30,      # digits of one number literal
    "max_const_digits": 100,   # digits of a folded constant (2**64, a product of numbers)
    #                            and of the coefficients of an expanded power
    "max_exponent": 64,        # |n| in x**n when n is a number
    "max_degree": 256,         # polynomial degree bound of the whole expression
    "max_terms": 100_000,      # terms once every power and product of sums is expanded
    #                            (a bound; a 5-term sum to the 8th has 495, to the 30th
    #                            46,376; a 9-term sum to the 64th twelve billion)
    "max_tower": 2,            # non-constant exponents stacked: x1^(x1^x1) is 2
    "max_exp_arg_digits": 4,   # digits of the argument of exp, cosh, sinh, sigmoid, tanh
    #                            or a non-constant power nested in another one, and of a
    #                            non-constant exponent, every symbol of size 4:
    #                            exp(exp(x1^6)) passes, cosh(sinh(x1^7)), x1^(x2^7) do not
    "max_word_chars": 200,     # letters and digits written without a break
    "max_aliases": 50,         # entries of the aliases mapping
    "max_alias_depth": 4,      # aliases defined through aliases (a -> b -> c -> d)
}

#: LaTeX commands and what they become.
_COMMANDS = {
    "frac": ("FRAC", "frac"), "dfrac": ("FRAC", "frac"), "tfrac": ("FRAC", "frac"),
    "partial": ("PARTIAL", "∂"), "sum": ("SUM", "sum"),
    "cdot": ("OP", "*"), "times": ("OP", "*"), "ast": ("OP", "*"), "div": ("OP", "/"),
}
#: Commands read as the word of the same name (``\delta`` is a delta by name, delta11).
_FUNCTION_COMMANDS = {"sigma", "tanh", "exp", "log", "ln", "sinh", "cosh", "sech", "sqrt",
                      "delta"}
_SKIPPED = {
    "left", "right", "big", "Big", "bigg", "Bigg", "bigl", "bigr", "Bigl", "Bigr",
    "biggl", "biggr", "Biggl", "Biggr", "displaystyle", "textstyle", "nonumber",
    "notag", "limits", "quad", "qquad",
}
_TEXT_COMMANDS = {"mathrm", "operatorname", "text", "textrm", "mathit", "mathbf", "rm"}
_HATS = {"hat", "widehat"}
_MEANS = {"bar", "overline", "mathbb", "langle"}
_RELATIONS = {"neq", "ne", "approx", "leq", "geq", "le", "ge", "equiv", "sim"}
_KNOWN_COMMANDS = sorted(set(_COMMANDS) | _FUNCTION_COMMANDS | _SKIPPED | _TEXT_COMMANDS
                         | _HATS)


class Token(NamedTuple):
    """One token: ``kind`` (NUM WORD SUB PRIME OP LP RP LB RB FRAC PARTIAL SUM END),
    its normalized ``text``, its 1-based ``col`` in the original text, and whether it is
    ``glued`` to the token before (nothing, not even a skipped command, between them)."""

    kind: str
    text: str
    col: int
    glued: bool = False


def fail(message: str) -> ParseError:
    """Return a :class:`ParseError` (callers ``raise fail(...)``)."""
    return ParseError(message)


def check_text(text: object, what: str = "claim") -> str:
    """Type, length and control-character checks on raw user text."""
    if not isinstance(text, str):
        raise fail(f"{what} must be a string, got {type(text).__name__}")
    limit = LIMITS["max_chars"]
    if len(text) > limit:
        raise fail(f"{what} is {len(text):,} characters long; the limit is {limit:,} "
                   "(give one claim per line)")
    for i, c in enumerate(text):
        if unicodedata.category(c) in ("Cc", "Cs", "Co", "Cn") and c not in "\t\n\r":
            raise fail(f"control or invalid character U+{ord(c):04X} at column {i + 1}; "
                       "remove it")
    if not text.strip():
        example = "dz21/dw111 = w211*x1" if what == "claim" else "w211*x1"
        raise fail(f"empty {what}; write for example {example}")
    return text


_SUB_BRACED = re.compile(r"\{([A-Za-z0-9, =]{1,30})\}")
_SUB_BARE = re.compile(r"\d+|[A-Za-z]\d*")
_NUMBER = re.compile(r"\d+(?:\.\d+)?|\.\d+")
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9]*")
_SCIENTIFIC = re.compile(r"[eE]([+-]?\d+)(?![A-Za-z_])")
#: Activation names with an underscore, read as one word (not a subscript).
_UNDERSCORED = tuple(a for a in ACTIVATIONS if "_" in a)
# w^{(2)}_{11}, w^{[2]}_{11}, w^(2)_11 (a layer in brackets)
_LAYER = re.compile(r"\^(?:\{\s*[(\[]\s*(\d{1,3})\s*[)\]]\s*\}|[(\[]\s*(\d{1,3})\s*[)\]])")
# w^2_{11}, w^{2}_{11}: a bare layer (only in notations such as Nielsen's)
_BARE_LAYER = re.compile(r"\^(?:\{\s*(\d{1,3})\s*\}|(\d))")


def _with_layer(layer: str, sub: str) -> str:
    """Subscript of ``w^{(layer)}_{sub}``: ``("2", "11")`` -> ``"211"``."""
    parts = sub.split(",") if "," in sub else list(sub) if sub.isdigit() and len(sub) <= 2 \
        else [sub]
    idx = [layer] + parts
    return ",".join(idx) if any(len(p) > 1 for p in idx) else "".join(idx)


class _Lexer:
    def __init__(self, text: str, notation: Notation = DEFAULT, matrix: bool = False):
        self.notation, self.matrix = notation, matrix
        self.s, self.cols = normalize(text)
        self.s = _strip_trailing(self.s)
        self.toks: list[Token] = []
        self.depth = 0
        # A pending w^{(l)}: the position of its superscript and the layer index, waiting
        # for _{jk}.
        self.layer: int | None = None
        self.layer_index = ""
        self.last_end = -1          # where the last token-making step ended

    def col(self, i: int) -> int:
        return self.cols[min(i, len(self.cols) - 1)] if self.cols else 1

    def add(self, kind: str, text: str, i: int) -> None:
        if self.layer is not None and kind != "SUB":
            raise fail(f"layer superscript at column {self.col(self.layer)} needs a subscript "
                       "right after it, as in w^{(2)}_{11}")
        if len(self.toks) >= LIMITS["max_tokens"]:
            raise fail(f"too many tokens (more than {LIMITS['max_tokens']}) at column "
                       f"{self.col(i)}; split the claim into smaller ones")
        if kind in ("LP", "LB"):
            self.depth += 1
            if self.depth > LIMITS["max_depth"]:
                raise fail(f"brackets nested more than {LIMITS['max_depth']} deep at column "
                           f"{self.col(i)}; simplify the expression")
        elif kind in ("RP", "RB"):
            self.depth -= 1
        self.toks.append(Token(kind, text, self.col(i), i == self.last_end))

    def run(self) -> list[Token]:
        s, i = self.s, 0
        while i < len(s):
            count = len(self.toks)
            j = self.step(s, i)
            if len(self.toks) > count:
                self.last_end = j
            i = j
        if self.layer is not None:
            self.add("END", "", len(s))
        self.toks.append(Token("END", "", (self.cols[-1] + 1) if self.cols else 1))
        return self.toks

    def step(self, s: str, i: int) -> int:
        c = s[i]
        if c.isspace() or c in "$&~":
            return i + 1
        if c.isdigit() or (c == "." and s[i + 1:i + 2].isdigit()):
            m = _NUMBER.match(s, i)
            assert m is not None            # s[i] is a digit, or a '.' before one
            sci = _SCIENTIFIC.match(s, m.end())
            if sci:
                power = f"10**{sci.group(1).lstrip('+')}"
                shown = power if m.group() == "1" else f"{m.group()}*{power}"
                raise fail(f"scientific notation {m.group()}{sci.group()} at column "
                           f"{self.col(i)} is not read (e could be Euler's number); write "
                           f"{shown}")
            digits = len(m.group().replace(".", ""))
            if digits > LIMITS["max_int_digits"]:
                raise fail(f"number with {digits} digits at column {self.col(i)}; the limit "
                           f"is {LIMITS['max_int_digits']} digits")
            self.add("NUM", m.group(), i)
            end = m.end()
            if self.matrix and s[end:end + 1] == "." and not s[end + 1:end + 2].isalnum():
                end += 1                    # numpy code's float literal 1. (as in 1./m)
            return end
        if c.isalpha():
            for name in _UNDERSCORED:                  # activation names with '_'
                if s.startswith(name, i):
                    self.add("WORD", name, i)
                    return i + len(name)
            m = _WORD.match(s, i)
            assert m is not None            # normalize() left only ASCII, so s[i] is a letter
            if m.end() - i > LIMITS["max_word_chars"]:
                raise fail(f"a name of {m.end() - i} characters at column {self.col(i)}; "
                           "separate factors with '*' or spaces")
            self.add("SUM" if m.group() == "sum" else "WORD", m.group(), i)
            return m.end()
        if c == "_":
            return self.subscript(s, i)
        if c == "\\":
            return self.command(s, i)
        return self.punct(s, i)

    def subscript(self, s: str, i: int) -> int:
        prev = self.toks[-1].kind if self.toks else None
        if prev not in ("WORD", "SUB", "PRIME", "SUM"):
            raise fail(f"unexpected '_' at column {self.col(i)}: a subscript must follow a "
                       "name, as in w_{111} or x_1")
        m = _SUB_BRACED.match(s, i + 1) or _SUB_BARE.match(s, i + 1)
        if not m:
            raise fail(f"bad subscript at column {self.col(i)}: write x_1, w_{{111}} or "
                       "w_{1,10,2}")
        text = (m.group(1) if m.re is _SUB_BRACED else m.group()).replace(" ", "")
        if self.layer is not None:
            text, self.layer = _with_layer(self.layer_index, text), None
        self.add("SUB", text, i)
        return m.end()

    def layer_superscript(self, s: str, i: int) -> int | None:
        """``w^{(2)}_{11}`` / ``w_{11}^{[2]}``: the superscript is the layer, not a power.

        Returns the position after it, or None when ``^`` here is a power.
        """
        toks = self.toks
        word = toks[-1] if toks and toks[-1].kind == "WORD" else \
            toks[-2] if len(toks) > 1 and toks[-1].kind == "SUB" else None
        if word is None or word.kind != "WORD":
            return None
        bracketed = _LAYER.match(s, i)
        m = bracketed or (_BARE_LAYER.match(s, i) if self.notation.bare_layer else None)
        if not m:
            return None
        stems = self.notation.stems()
        stem = re.fullmatch(r"(?:.*\d|d)?(" + "|".join(sorted(stems, key=len, reverse=True))
                            + r")", word.text)
        if stem is None and (bracketed is None or word.text[-1] not in "wbza"):
            return None
        if bracketed is None and toks[-1].kind != "SUB" and s[m.end():m.end() + 1] != "_":
            return None                            # z^2 alone stays a power
        layer = self.notation.layer(int(m.group(1) or m.group(2)))
        letter = self.notation.canonical((stem.group(1) if stem else word.text[-1]) + "1")
        if layer < 0 or (layer == 0 and letter != "a1"):
            raise fail(f"layer {m.group(1) or m.group(2)} at column {self.col(i)} has no "
                       f"{word.text}: in {self.notation.describe()}, the input layer is "
                       f"{self.notation.first_layer}")
        if toks[-1].kind == "SUB":
            toks[-1] = toks[-1]._replace(text=_with_layer(str(layer), toks[-1].text))
        else:
            self.layer, self.layer_index = i, str(layer)
        return m.end()

    def command(self, s: str, i: int) -> int:
        m = re.compile(r"[A-Za-z]+").match(s, i + 1)
        if not m:
            nxt = s[i + 1:i + 2]
            if nxt in ",;:! []()":
                return i + 2
            if nxt in "{}":
                self.add("LP" if nxt == "{" else "RP", nxt, i)
                return i + 2
            if nxt == "\\":
                raise fail(f"'\\\\' (a new row) at column {self.col(i)}: give one claim at a "
                           "time, or use --file for several")
            raise fail(f"unexpected {s[i:i + 2]!r} at column {self.col(i)}")
        name, end = m.group(), m.end()
        if name in matrix_tokens.COMMANDS:
            if not self.matrix:
                raise fail(f"'\\{name}' (⊙, the elementwise product) at column {self.col(i)} "
                           "belongs to a matrix claim, whose left side is a whole layer: "
                           "dL/dW2, dL/db2, delta2 (also W^{(2)}, \\delta^2); see "
                           "docs/matrix.md")
            self.add("OP", matrix_tokens.COMMANDS[name], i)
        elif name in _COMMANDS:
            kind, text = _COMMANDS[name]
            self.add(kind, text, i)
        elif name in _FUNCTION_COMMANDS:
            self.add("WORD", name, i)
        elif name in _SKIPPED:
            if name in ("left", "right") and s[end:end + 1] == ".":
                end += 1
        elif name in _TEXT_COMMANDS or name in _HATS:
            group = re.compile(r"\s*\{([A-Za-z0-9 ]{1,30})\}|\s*([A-Za-z])").match(s, end)
            if not group:
                raise fail(f"\\{name} at column {self.col(i)} needs a braced name, "
                           f"e.g. \\{name}{{{'y' if name in _HATS else 'd'}}}")
            content = (group.group(1) or group.group(2)).strip()
            if name in _HATS:
                if content != "y":
                    raise fail(f"\\{name}{{{content}}} at column {self.col(i)}: only "
                               "\\hat{y} (the output) is understood")
                content = "yhat"
            for word in content.split():
                self.add("WORD", word, i)
            end = group.end()
        elif name in _MEANS:
            raise fail(f"\\{name} at column {self.col(i)}: a mean over samples is written "
                       "\\frac{1}{m}\\sum_{i=1}^{m} ... with sample-indexed names (x_{i1}, "
                       "y_i, \\hat{y}_i), on the right side of a claim about C (the cost)")
        elif name in _RELATIONS:
            raise fail(f"\\{name} at column {self.col(i)}: a claim is an equation; "
                       "use '=' (symgrad then says whether it holds)")
        else:
            close = difflib.get_close_matches(name, _KNOWN_COMMANDS, n=1, cutoff=0.6)
            hint = f"; did you mean '\\{close[0]}'?" if close else ""
            raise fail(f"unknown LaTeX command '\\{name}' at column {self.col(i)}{hint} "
                       "(supported: \\frac, \\partial, \\cdot, \\times, \\left, \\right, "
                       "\\sigma, \\tanh, \\exp, \\log, \\ln, \\sqrt, \\hat, \\mathrm, \\sum, "
                       "\\delta)")
        return end

    def punct(self, s: str, i: int) -> int:
        c, two = s[i], s[i:i + 2]
        found = self.matrix and matrix_tokens.scan(s, i, self.toks[-1] if self.toks else None)
        if found:
            self.add("SUB" if found[0] == "SUBT" else found[0], found[1], i)
            if found[0] == "SUBT":
                self.add("TRANSPOSE", "T", i)
            return found[2]
        if c == "^":
            end = self.layer_superscript(s, i)
            if end is not None:
                return end
        if two == "**":
            self.add("OP", "^", i)
            return i + 2
        if two == "==":
            self.add("OP", "=", i)
            return i + 2
        if c in "+-*/^=":
            self.add("OP", c, i)
        elif c in "([":
            self.add("LP", c, i)
        elif c in ")]":
            self.add("RP", c, i)
        elif c == "{":
            self.add("LB", c, i)
        elif c == "}":
            self.add("RB", c, i)
        elif c == "'":
            prev = self.toks[-1].kind if self.toks else None
            if prev not in ("WORD", "SUB", "PRIME"):
                raise fail(f"unexpected quote at column {self.col(i)}: a prime must follow "
                           "a name, as in y'")
            self.add("PRIME", "'", i)
        else:
            raise fail(f"unexpected character {c!r} at column {self.col(i)}; allowed are "
                       "names, numbers, + - * / ^ ** ( ) = and LaTeX")
        return i + 1


def _strip_trailing(s: str) -> str:
    """Drop sentence punctuation after a formula: ``$...$,`` or ``\\]``-ended text."""
    t = s.rstrip()
    if t.endswith("\\\\"):                        # an align row's closing \\
        t = t[:-2].rstrip()
    while t and t[-1] in ",.;" and (t[:-1].rstrip().endswith(("$", "\\]", "\\)"))):
        t = t[:-1].rstrip()
    return t + " " * (len(s) - len(t))


def tokenize(text: object, what: str = "claim", notation: Notation = DEFAULT,
             matrix: bool = False) -> list[Token]:
    """Check ``text`` and return its tokens (the last one has kind ``END``).

    ``notation`` decides what a superscript on a weight means (a layer in Nielsen's
    ``w^2_{11}``) and how layers are numbered.  ``matrix`` adds the tokens of
    matrix claims (:mod:`symgrad.claims.matrix.tokens`: ``^T``, ``@``, ``\\odot``).

    >>> [t.text for t in tokenize("x_1w_{211}")]
    ['x', '1', 'w', '211', '']
    >>> [t.kind for t in tokenize("∂z²")]
    ['PARTIAL', 'WORD', 'OP', 'LB', 'NUM', 'RB', 'END']
    """
    return _Lexer(check_text(text, what), notation, matrix).run()
