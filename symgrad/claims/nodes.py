r"""Derivative symbols: ``dL/dz11``, ``∂z21/∂a11``, ``\frac{\partial L}{\partial \hat{y}}``.

Private helper of :mod:`symgrad.claims.parse` and :mod:`symgrad.claims.grammar`.  A
derivative names what is differentiated (``L``, ``C``, the output or a node
``z{l}{j}``/``a{l}{j}``) and what by (a parameter, a node, an input ``x{k}`` or the
output).  By a node it is the total derivative through the network with that
node's own inputs cut, which is what backprop computes (see
:func:`symgrad.derive.node_gradients`): ``dL/dz11`` is backprop's delta, a node
that the quantity does not depend on gives 0.

On the right side of a claim a derivative is read as a placeholder symbol named
``∂<key>/∂<by>`` (no network name contains ``∂``) and replaced by its exact value
with :func:`substitute` after the limits have passed.
"""

from __future__ import annotations

import re

import sympy as sp

from symgrad.claims.lexer import fail

LHS_HELP = ("write the left side as a derivative: dz21/dw111, ∂L/∂w111 or "
            "\\frac{\\partial z_{21}}{\\partial w_{111}}")
_MARK = re.compile(r"∂(loss|output|[za]\d+(?:_\d+)*)/∂(\w+)")


def flatten_name(parts) -> str:
    """Fold a WORD/SUB/PRIME token run into one name: ``w``,``{1,10,2}`` -> ``w_1_10_2``."""
    subs = [t for t in parts if t.kind == "SUB"]
    concat = len(subs) == 1 and subs[0].text.isdigit()
    out = []
    for t in parts:
        if t.kind == "SUB":
            out.append(t.text if concat else "_" + t.text.replace(",", "_"))
        else:
            out.append(t.text)
    return "".join(out)


def operand(toks, where, col):
    """``(operator or None, flattened name, column)`` of one side of a derivative."""
    if not toks:
        raise fail(f"empty {where} of the derivative near column {col}; " + LHS_HELP)
    op = None
    if toks[0].kind == "PARTIAL":
        op, toks = "∂", toks[1:]
    bad = [t for t in toks if t.kind not in ("WORD", "SUB", "PRIME")]
    if bad:
        raise fail(f"unexpected {bad[0].text!r} at column {bad[0].col} in the {where} of "
                   "the derivative; " + LHS_HELP)
    flat = flatten_name(toks)
    if op is None and flat.startswith("d") and len(flat) > 1:
        op, flat = "d", flat[1:]
    elif op is None and flat == "d":
        op, flat = "d", ""
    return op, flat, (toks[0].col if toks else col)


def node_name(expr, net):
    """The name of ``expr`` when it is a node ``z{l}{j}``/``a{l}{j}`` (not an input)."""
    if isinstance(expr, sp.Symbol) and expr.name[:1] in ("z", "a") \
            and net.symbols.get(expr.name) is expr and expr not in net.inputs:
        return expr.name
    return None


def node_symbols(net) -> set:
    """Every node ``z{l}{j}``/``a{l}{j}`` (l >= 1) and input of ``net``."""
    return set(net.inputs) | {s for s in net.symbols.values() if node_name(s, net) is not None}


def resolve_by(op, flat, col, names):
    """``(symbol, operator missing?)`` for the denominator: a parameter, node or input."""
    net = names.net
    allowed = set(net.parameters) | node_symbols(net)

    def as_symbol(name):
        hit = names.lookup(name) if name else None
        return hit[1] if hit is not None and hit[0] == "sym" and hit[1] in allowed else None

    if as_symbol(flat) is not None:
        return as_symbol(flat), op is None
    if op == "d" and as_symbol("d" + flat) is not None:   # a name that starts with d
        return as_symbol("d" + flat), True
    if not flat:
        raise fail(f"the denominator at column {col} names nothing to differentiate by; "
                   + LHS_HELP)
    if names.lookup(flat) is None:
        raise fail(names.unknown_message(flat, flat).replace(":", f" at column {col}:", 1))
    raise fail(f"derivatives are taken with respect to a parameter, a node z{{l}}{{j}}/"
               f"a{{l}}{{j}}, an input or the output; {flat!r} at column {col} is none of "
               f"these ({names.known_kinds()})")


def resolve_of(op, flat, col, names):
    """``(of, of_text, sample index, notes)`` for the numerator."""
    if op is None:
        raise fail(f"the numerator {flat!r} at column {col} has no d or ∂; " + LHS_HELP)
    if not flat:
        raise fail(f"derivative operator without a quantity at column {col}: name what is "
                   "differentiated, as in ∂z11/∂w111 (not ∂/∂w111 (...))")
    if names.notation.canonical(flat) in ("L", "C"):
        return names.notation.canonical(flat), flat, None, ()
    m = re.fullmatch(r"L_([A-Za-z])", flat)
    if m:
        return "L", flat, m.group(1), (f"read {flat} as the per-sample loss L "
                                       f"(sample-indexed names such as x_{{{m.group(1)}1}} "
                                       "are that sample's)",)
    hit = names.lookup(flat)
    if hit is None:
        raise fail(names.unknown_message(flat, flat).replace(":", f" at column {col}:", 1))
    node = node_name(hit[1], names.net) if hit[0] == "sym" else None
    if node is None:
        if hit[0] == "sym" and hit[1] in names.net.targets:
            raise fail(f"{flat!r} at column {col} is the target (a constant, derivative 0); "
                       "for the network output write yhat, y' or \\hat{y}")
        raise fail(f"cannot differentiate {flat!r} (column {col}): the numerator must be "
                   "L (the loss), C (the cost), the output yhat or a node z{l}{j}/a{l}{j}")
    of_text = re.sub(r"^y'", "yhat", flat)
    notes = (f"read {flat} as the network output {node}",) if flat.startswith("y'") else ()
    return node, of_text, None, notes


# -- derivatives inside an expression ----------------------------------------------
def _name_run(toks, i):
    """End of the WORD/SUB/PRIME run starting at ``i`` (after an optional ∂)."""
    j = i + 1 if i < len(toks) and toks[i].kind == "PARTIAL" else i
    if j >= len(toks) or toks[j].kind != "WORD":
        return None
    j += 1
    while j < len(toks) and toks[j].kind in ("SUB", "PRIME"):
        j += 1
    return j


def _braced_run(toks, i):
    """``(inner start, inner end, next)`` when ``toks[i]`` opens ``{∂name}`` or ``{dname}``."""
    if i >= len(toks) or toks[i].kind != "LB":
        return None
    end = _name_run(toks, i + 1)
    if end is None or end >= len(toks) or toks[end].kind != "RB":
        return None
    return i + 1, end, end + 1


def _looks_derivative(toks, a, b, names):
    """Whether ``toks[a:b]`` reads as ``∂name`` or ``d<known name>``."""
    if toks[a].kind == "PARTIAL":
        return True
    flat = flatten_name(toks[a:b])
    rest = names.notation.canonical(flat[1:])
    return flat[:1] == "d" and (rest in ("L", "C") or re.fullmatch(r"L_[A-Za-z]", rest)
                                or (names.lookup(flat) is None
                                    and names.lookup(flat[1:]) is not None))


def match_delta(toks, i, names):
    """``(next index, symbol, of)`` when ``toks[i:]`` starts with a derivative by name:
    a delta (``delta11``, ``δ11``, ``\\delta_{11}``, ``\\delta^{(1)}_1``: dL/dz11 of one
    sample, ``of`` ``"L"``) or another name of the notation (Ng's ``dW^{[1]}_{11}``:
    dJ/dw111, ``of`` ``"C"``); see :attr:`symgrad.claims.notation.Notation.derivatives`."""
    end = _name_run(toks, i)
    if end is None or toks[i].kind != "WORD":
        return None
    flat = flatten_name(toks[i:end])
    found = None
    for prefix, (kind, of) in names.notation.derivatives.items():
        m = re.fullmatch(re.escape(prefix) + r"(?:(\d)(\d)(\d)?|_(\d+)_(\d+)(?:_(\d+))?)", flat)
        if m and (found is None or len(prefix) > len(found[0])):
            found = prefix, kind, of, m
    if found is None or names.lookup(flat) is not None:    # an alias named delta11 wins
        return None
    if end < len(toks) and toks[end].kind == "OP" and toks[end].text == "/":
        return None                                       # dz21/dw111 is a derivative
    prefix, kind, of, m = found
    idx = tuple(int(g) for g in m.groups() if g is not None)
    stem = names.stem if kind == "w" else kind
    sym = names.network_symbol(stem + "".join(f"_{n}" for n in idx)) \
        if len(idx) == (3 if kind == "w" else 2) else None
    if sym is not None:
        return end, sym, of
    net = names.net
    last = (net.depth, net.widths[-1], net.widths[-2])[:len(idx) or 2]
    first = "".join("1" for _ in last)
    of_name = "L" if of == "L" else names.notation.cost
    raise fail(f"{flat!r} at column {toks[i].col} names no {'neuron' if kind in 'za' else kind} "
               f"of the {net.spec.arch} network: its {prefix} names are {prefix}{first}.."
               f"{prefix}{''.join(map(str, last))} ({prefix}{{l}}{{j}}"
               f"{'{k}' if kind == 'w' else ''} = d{of_name}/d{stem}{{l}}{{j}}"
               f"{'{k}' if kind == 'w' else ''})")


def match_derivative(toks, i, names):
    """``(next index, numerator tokens, denominator tokens)`` of a derivative at ``toks[i]``,
    or None when the tokens there are not one."""
    delta = match_delta(toks, i, names)
    if delta is not None:
        return delta[0], None, delta[1]
    if toks[i].kind == "FRAC":
        num = _braced_run(toks, i + 1)
        den = _braced_run(toks, num[2]) if num else None
        if num and den and _looks_derivative(toks, num[0], num[1], names) \
                and _looks_derivative(toks, den[0], den[1], names):
            return den[2], toks[num[0]:num[1]], toks[den[0]:den[1]]
        return None
    end = _name_run(toks, i)
    if end is None or not _looks_derivative(toks, i, end, names):
        return None
    if end < len(toks) and toks[end].kind == "OP" and toks[end].text == "/":
        end2 = _name_run(toks, end + 1)
        if end2 is not None and _looks_derivative(toks, end + 1, end2, names):
            return end2, toks[i:end], toks[end + 1:end2]
    return None


def derivative_symbol(num, den, names, col):
    """The placeholder symbol of the derivative with numerator/denominator tokens
    (``num`` None: ``den`` is the z symbol of a delta by name)."""
    if num is None:
        return sp.Symbol(f"∂loss/∂{den.name}", real=True)
    n_op, n_flat, n_col = operand(num, "numerator", col)
    d_op, d_flat, d_col = operand(den, "denominator", col)
    of, _, _, _ = resolve_of(n_op, n_flat, n_col, names)
    by, missing = resolve_by(d_op, d_flat, d_col, names)
    if missing:
        raise fail(f"the denominator at column {d_col} needs a d or ∂, as in d{n_flat}/d{by}")
    key = "loss" if of in ("L", "C") else of
    return sp.Symbol(f"∂{key}/∂{by.name}", real=True)


def prime_symbol(z, net, col):
    """The placeholder of ``f'(z{l}{j})``: ``da{l}{j}/dz{l}{j}``, that neuron's own f'."""
    if z is None or node_name(z, net) is None or z.name[0] != "z":
        raise fail(f"f' at column {col} takes a neuron's z, as in f'(z11) (the "
                   "derivative of that neuron's activation)")
    return sp.Symbol(f"∂a{z.name[1:]}/∂{z.name}", real=True)


def derivative_value(net, key: str, by: sp.Symbol) -> sp.Expr:
    """Exact ``d(key)/d(by)`` in intermediate names (``key``: loss, output or a node)."""
    from symgrad.derive import node_gradients, reverse_program

    if by in net.parameters:
        prog = reverse_program(net, key)
        return prog.grads[by].xreplace(prog.delta_values())
    return node_gradients(net, key)[by]


def node_derivative(net, key: str, by: sp.Symbol) -> sp.Expr:
    """``d(key)/d(by)`` for a node or input, as it is shown: one chain-rule step deep if long.

    Written out in full while it is short (as the compact gradient rows are); a
    longer one, on a deep network, is written in the deltas of the layer above:
    by ``z{l}{j}`` that delta's recursion, by ``a{l}{j}`` or an input
    ``sum_i w{l+1}{i}{j} * delta{l+1}{i}``.
    """
    from symgrad import derive


    full = derive.node_gradients(net, key)[by]
    if derive.tree_size(full) <= derive.MAX_INLINE_SIZE:
        return full
    where = _node_position(net, by)
    if where is None:
        return full
    kind, l, j = where
    if kind == "z":
        return dict(derive.reverse_program(net, key).deltas)[derive.delta_symbol(l, j)]
    return sp.Add(*[net.weight(l + 1, i, j) * derive.delta_symbol(l + 1, i)
                    for i in range(1, net.widths[l + 1] + 1)])


def _node_position(net, node: sp.Symbol) -> tuple[str, int, int] | None:
    """``("z" | "a", l, j)`` of a node (an input ``x{k}`` is ``("a", 0, k)``), else None."""
    for l in range(net.depth + 1):
        for j in range(1, net.widths[l] + 1):
            if l and node == net.z_symbol(l, j):
                return ("z", l, j)
            if node == net.a_symbol(l, j) or (l == 0 and node == net.inputs[j - 1]):
                return ("a", l, j)
    return None


def substitute(expr: sp.Expr, net) -> sp.Expr:
    """``expr`` with every derivative placeholder replaced by its exact value."""
    values = {}
    for s in expr.free_symbols:
        m = _MARK.fullmatch(s.name)
        if m:
            values[s] = derivative_value(net, m.group(1), net.symbols[m.group(2)])
    return expr.xreplace(values) if values else expr


def has_derivatives(expr: sp.Expr) -> bool:
    """Whether ``expr`` holds derivative placeholders (see :func:`substitute`)."""
    return any(_MARK.fullmatch(s.name) for s in expr.free_symbols)


# -- the chain rule as written --------------------------------------------------
def _shown(name: str) -> str:
    return "L" if name == "loss" else name


def _link_text(link) -> str:
    return f"d{_shown(link[0])}/d{link[1]}"


def chain_diagnosis(net, of_key: str, parameter, written):
    """``(kind, detail)`` for a wrong claim written as a product of derivatives, or None.

    ``written`` is the right side with its derivative placeholders.  Factors that
    do not connect give ``broken-chain`` (which link); a connected chain that follows
    one path where ``parameter`` reaches ``of`` through several neurons gives
    ``missing-path`` (through which).  Anything else is left to the other diagnoses.
    """
    if written is None:
        return None
    links = []
    for f in sp.Mul.make_args(written):
        m = _MARK.fullmatch(f.name) if isinstance(f, sp.Symbol) else None
        if m is None:
            return None
        links.append((m.group(1), m.group(2)))
    if len(links) < 2:
        return None
    cur = f"a{net.depth}1" if of_key == "output" else of_key
    remaining = list(links)
    path: list[tuple[str, str]] = []
    while remaining:
        nxt = [k for k in remaining if k[0] == cur]
        if not nxt:
            after = f"after {_link_text(path[-1])}" if path else "at the start"
            return ("broken-chain",
                    f"the chain breaks {after}: the next factor must be d{_shown(cur)}/d..., "
                    f"but the factors left are {', '.join(map(_link_text, remaining))}")
        path.append(nxt[0])
        remaining.remove(nxt[0])
        cur = nxt[0][1]
    if cur != parameter.name:
        return ("broken-chain", f"the chain ends at {cur}, not at {parameter.name}: add "
                                f"d{cur}/d{parameter.name}")
    start = path[0][0]
    missing: dict[str, str] = {}
    for _, node in path[:-1]:
        sym = net.symbols[node]
        m = re.fullmatch(r"([za])(\d+)_?(\d+)", node)
        if m is None:
            continue
        for other in sorted(node_symbols(net), key=lambda s: s.name):
            if other == sym or other.name[0] != node[0] or other in net.inputs:
                continue
            om = re.fullmatch(r"([za])(\d+)_?(\d+)", other.name)
            if om is None or om.group(2) != m.group(2):
                continue
            if derivative_value(net, start, other) != 0 \
                    and derivative_value(net, other.name, parameter) != 0:
                missing.setdefault(other.name[1:], other.name)   # one name per neuron
    if not missing:
        return None
    return ("missing-path",
            f"the chain follows one path, but {parameter.name} also reaches "
            f"{_shown(start)} through {', '.join(missing.values())}: add the product along "
            "each of those paths (the chain rule sums over every path)")
