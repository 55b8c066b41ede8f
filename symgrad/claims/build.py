"""From a checked tree to SymPy, and user aliases (private helper of :mod:`symgrad.claims.parse`).

Only this module and :mod:`symgrad.claims.parse` create SymPy objects from user text, and
they do it with ``Rational``, ``Add``, ``Mul``, ``Pow`` and the network's own
symbols and activations after every limit has passed.  Aliases (``z_b=z21``) are
parsed with the same parser, lazily, with cycle detection; each keeps what the
limits need (:class:`~symgrad.claims.guards.Alias`), so a claim that uses it is
checked as if the alias were written out.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

import sympy as sp

from symgrad import activations
from symgrad.activations import CLAIM_NAMES
from symgrad.claims.grammar import Parser, flatten_name, walk
from symgrad.claims.guards import Alias, Shape, measure
from symgrad.claims.lexer import LIMITS, Token, fail, tokenize
from symgrad.claims.names import RESERVED, Names
from symgrad.claims.notation import DEFAULT, Notation, get_notation
from symgrad.errors import ParseError

if TYPE_CHECKING:
    from symgrad.network import Network


class AliasError(ParseError):
    """A ParseError inside an alias: its message is complete and passes through."""


# -- aliases ------------------------------------------------------------------
class _Aliases(Mapping[str, Alias]):
    """``{flat name: Alias}``, each alias parsed on first use.

    ``raw`` maps each flat name to ``(name as written, expression text)``.
    """

    def __init__(self, raw: dict[str, tuple[str, str]], net: Network, template: str,
                 notation: Notation = DEFAULT):
        self.raw, self.net, self.template = raw, net, template
        self.done: dict[str, Alias] = {}
        self.visiting: list[str] = []
        self.names = Names(net, template, self, notation)

    def __getitem__(self, key: str) -> Alias:
        if key in self.done:
            return self.done[key]
        if key in self.visiting:
            loop = " -> ".join(self.visiting[self.visiting.index(key):] + [key])
            raise AliasError(f"alias cycle {loop}: an alias cannot refer to itself")
        if len(self.visiting) >= LIMITS["max_alias_depth"]:
            _too_deep(tuple(self.visiting + [key]))
        self.visiting.append(key)
        try:
            tree, parser, shape = parse_tree(self.raw[key][1], self.names,
                                             f"alias {self.raw[key][0]!r}")
            chain = (key, *parser.chain)
            if len(chain) > LIMITS["max_alias_depth"]:
                _too_deep(chain)
            self.done[key] = Alias(build(tree), shape, parser.count, parser.deepest, chain)
        except AliasError:
            raise
        except ParseError as exc:
            raise AliasError(f"in alias {self.raw[key][0]!r}: {exc}") from None
        finally:
            self.visiting.pop()
        return self.done[key]

    def __contains__(self, key: object) -> bool:
        return key in self.raw

    def __iter__(self) -> Iterator[str]:
        return iter(self.raw)

    def __len__(self) -> int:
        return len(self.raw)


def _too_deep(chain: tuple[str, ...]) -> None:
    raise AliasError(f"aliases nested too deep ({' -> '.join(chain)}); at most "
                     f"{LIMITS['max_alias_depth']} levels, write the deeper ones out")


def _alias_table(aliases: object, net: Network, template: str,
                 notation: Notation = DEFAULT) -> Names:
    if aliases is None:
        return Names(net, template, notation=notation)
    if not isinstance(aliases, Mapping):
        raise fail(f"aliases must be a mapping of name to expression text, got "
                   f"{type(aliases).__name__}")
    if len(aliases) > LIMITS["max_aliases"]:
        raise fail(f"{len(aliases)} aliases; the limit is {LIMITS['max_aliases']}")
    plain = Names(net, template, notation=notation)
    raw: dict[str, tuple[str, str]] = {}
    for name, text in aliases.items():
        if not isinstance(name, str) or not isinstance(text, str):
            raise fail(f"alias {name!r}: name and expression must both be text "
                       "(NAME=EXPR, e.g. z_b=z21)")
        toks = tokenize(name, "alias name", notation)[:-1]
        if not toks or toks[0].kind != "WORD" or any(t.kind not in ("WORD", "SUB", "PRIME")
                                                     for t in toks[1:]) \
                or sum(t.kind == "WORD" for t in toks) != 1:
            raise fail(f"bad alias name {name!r}: use a letter then letters, digits or "
                       "a subscript, e.g. z_b or h1")
        flat = flatten_name(toks)
        clash = plain.lookup(flat)
        if flat in RESERVED or clash is not None:
            raise fail(f"alias name {name!r} is already a name here ({flat}); pick another, "
                       "e.g. z_b or h1")
        raw[flat] = (name, text)
    table = _Aliases(raw, net, template, notation)
    for key in raw:                    # check every alias now, used or not
        table[key]
    return table.names


# -- text -> tree -> SymPy ------------------------------------------------------
def tree_of(text_or_tokens: object, names: Names, what: str = "expression",
            sample_vars: Iterable[str] = (), allow_mean: bool = False) -> tuple[Any, ...]:
    """Tokenize (unless given tokens), parse and check a tree; no SymPy yet."""
    return parse_tree(text_or_tokens, names, what, sample_vars, allow_mean)[0]


def parse_tree(text_or_tokens: object, names: Names, what: str = "expression",
               sample_vars: Iterable[str] = (),
               allow_mean: bool = False) -> tuple[tuple[Any, ...], Parser, Shape]:
    """:func:`tree_of`, the parser (its ``count``, ``deepest``, ``chain``) and the shape."""
    if isinstance(text_or_tokens, list) and all(isinstance(t, Token) for t in text_or_tokens):
        toks: list[Token] = text_or_tokens
    else:
        toks = tokenize(text_or_tokens, what, names.notation)   # checks that it is a string
    for t in toks:
        if t.kind == "OP" and t.text == "=":
            raise fail(f"'=' at column {t.col}: this is an {what.split()[0]}, not a claim; "
                       "give only one side (or use parse_claim / symgrad verify)")
    parser = Parser(toks, names, sample_vars)
    tree = parser.parse()
    if not allow_mean:
        reject_means(tree)
    return tree, parser, measure(tree)


def reject_means(tree: tuple[Any, ...]) -> None:
    """Raise when a sum over samples or the batch size ``m`` is left in ``tree``."""
    for node in walk(tree):
        if node[0] in ("sum", "batch"):
            where = node[4] if node[0] == "sum" else node[2]
            what = "the sum" if node[0] == "sum" else repr(node[1])
            raise fail(f"{what} at column {where}: a mean over samples, (1/m) "
                       "\\sum_{i=1}^{m} ..., can only be the whole right side of a claim "
                       "about C")


_ELEMENTARY = {"exp": sp.exp, "log": sp.log, "ln": sp.log, "sech": sp.sech, "cosh": sp.cosh,
               "sinh": sp.sinh, "sqrt": sp.sqrt}


def _fn(name: str, z):
    base = name.rstrip("'")
    act = CLAIM_NAMES.get(base)
    if name.endswith("'"):
        if act is None:          # exp' = exp; the names module allows no other prime
            return sp.exp(z)
        return activations.derivative(act, z, activations.forward(act, z))
    if act is not None:
        return activations.forward(act, z)
    return _ELEMENTARY[base](z)


def build(node: tuple[Any, ...]) -> sp.Expr:
    """SymPy expression of a (limit-checked) tree."""
    kind = node[0]
    if kind == "num":
        return sp.Rational(node[1].numerator, node[1].denominator)
    if kind == "sym":
        return node[1]
    if kind == "e":
        return sp.E
    if kind == "add":
        return sp.Add(*[build(n) for n in node[1]])
    if kind == "neg":
        return sp.Mul(sp.S.NegativeOne, build(node[1]))
    if kind == "mul":
        return sp.Mul(*[build(n) for n in node[1]])
    if kind == "inv":
        return sp.Pow(build(node[1]), sp.S.NegativeOne)
    if kind == "pow":
        exponent = build(node[2])
        return sp.exp(exponent) if node[1][0] == "e" else sp.Pow(build(node[1]), exponent)
    if kind == "fn":
        return _fn(node[1], build(node[2]))
    raise fail(f"{kind} cannot be used here")


def finish(expr: sp.Expr, what: str = "expression") -> sp.Expr:
    if expr.has(sp.zoo, sp.nan, sp.oo, -sp.oo):
        raise fail(f"the {what} divides by zero or is infinite ({sp.sstr(expr)[:60]}); "
                   "check the denominators")
    if expr.has(sp.I):
        raise fail(f"the {what} is not real ({sp.sstr(expr)[:60]}); a claim must be real: "
                   "check square roots, logarithms and powers of negative numbers")
    return expr


def name_table(net: Network, aliases: object, weight_template: str,
               notation: object = None) -> Names:
    if not hasattr(net, "spec") or not hasattr(net, "parameters"):
        raise fail(f"net must be a symgrad Network, got {type(net).__name__}")
    return _alias_table(aliases, net, weight_template, get_notation(notation))
