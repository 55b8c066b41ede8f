"""The parts of a chain-rule derivation, printed in one format (text or LaTeX).

:class:`~symgrad.render.derivation.Derivation` holds the mathematics (forward
equations, paths, deltas); :class:`Sections` turns it into headed groups of
aligned rows ``(lhs, op, rhs)``, and :func:`align_body` writes rows as the body
of a LaTeX ``align``.
"""

from __future__ import annotations

import sympy as sp

from symgrad.derive import delta_symbol
from symgrad.network import loss_expr
from symgrad.render import linebreak, printing
from symgrad.softmax import softmax_jacobian

_L = sp.Symbol("L")


def align_body(rows) -> str:
    """Rows ``(lhs, op, rhs)`` as ``align`` lines: ``lhs &= rhs``, ``&\\quad + rhs``."""
    lines = []
    for lhs, op, rhs in rows:
        if lhs:
            lines.append(f"{lhs} &{op} {rhs}")
        elif op == "=":
            lines.append(f"&= {rhs}")
        else:
            lines.append(rf"&\quad {op} {rhs}".replace("  ", " "))
    return " \\\\\n".join(lines)


class Sections:
    """Print a derivation's parts in one format (text or LaTeX math)."""

    #: Factors per line in a long product.
    PER_LINE = 5

    def __init__(self, d, latex):
        self.d, self.latex = d, latex
        self.names = printing.names(d.net, latex=latex, template=d.template, alias=d.alias)
        self.key = printing.rank_key(d.net)

    def sym(self, s) -> str:
        return self.names.get(s, s.name)

    def math(self, text) -> str:  # inline math in a heading
        return f"${text}$" if self.latex else text

    def expr(self, e) -> str:
        show = printing.to_latex if self.latex else printing.to_text
        return show(e, self.names, self.key)

    def factor(self, e) -> str:
        show = printing.parenthesized_latex if self.latex else printing.parenthesized_text
        return show(e, self.names, self.key)

    def partial(self, top, bottom) -> str:
        if self.latex:
            return rf"\frac{{\partial {self.sym(top)}}}{{\partial {self.sym(bottom)}}}"
        return f"∂{self.sym(top)}/∂{self.sym(bottom)}"

    def product(self, op, items) -> list:
        """Rows for a product of ``items``, at most PER_LINE factors a row."""
        dot = r" \cdot " if self.latex else " · "
        rows = []
        for i in range(0, len(items), self.PER_LINE):
            chunk = dot.join(items[i:i + self.PER_LINE])
            rows.append(("", op, chunk) if i == 0 else ("", "", dot.strip() + " " + chunk))
        return rows

    def long(self, lhs, op, rhs) -> list:
        """One equation, broken at top-level signs when long."""
        if self.latex:
            return [(lhs, op, linebreak.latex_lines(rhs, 56))]
        parts = linebreak.break_text(rhs, 72)
        return [(lhs, op, parts[0])] + [("", "", "  " + part) for part in parts[1:]]

    def build(self) -> list:
        d = self.d
        head = self.partial(sp.Symbol("C") if d.of == "cost" else d.top, d.param)
        notes = d.net.describe() + "; " + printing.convention(d.template, self.latex)
        cell = d.table.latex_cell(d.param) if self.latex else d.table.text_cell(d.param)
        return [(f"Chain rule for {self.math(head)} ({notes})", []),
                (f"Forward pass: the equations {self.math(self.sym(d.param))} enters and "
                 "every layer above it:", self.forward_rows()),
                self.chain_section(),
                ("Result (the row of the gradient table):", self.long(head, "=", cell))]

    def forward_rows(self) -> list:
        d, net = self.d, self.d.net
        rows = []
        for lhs, rhs in d.forward:
            rows += self.long(self.sym(lhs), "=", self.expr(rhs))
        if d.of != "output":
            outs = [net.a_symbol(net.depth, o) for o in range(1, net.widths[-1] + 1)]
            rows += self.long("L", "=", self.expr(loss_expr(net.loss_name, outs, net.targets)))
            if net.penalised:
                lam = self.expr(net.l2)
                over = "parameters" if net.spec.l2_bias else "weights"
                rows.append(("", "+", rf"\frac{{\lambda}}{{2}} \sum w^2, \quad \lambda = {lam}"
                             if self.latex else f"(λ/2) Σ w²,  λ = {lam}  (L2 over the {over})"))
            for y, value in net.target_definitions.items():
                rows.append((self.sym(y), "=", self.expr(value)))
        if d.of == "cost":
            rows.append(("C", "=", r"\frac{1}{m} \sum_{i=1}^{m} L_i" if self.latex
                         else "(1/m) Σ_i L_i   (L_i: the loss of sample i)"))
        return rows

    def chain_section(self):
        d = self.d
        n = d.path_count
        what, to = self.math(self.sym(d.param)), self.math(self.sym(d.top))
        rows = []
        if d.of == "cost":
            mean = r"\frac{1}{m} \sum_{i=1}^{m} " if self.latex else "(1/m) Σ_i "
            rows.append((self.partial(sp.Symbol("C"), d.param), "=",
                         mean + self.partial(sp.Symbol("L_i"), d.param)))
        if d.paths is None:
            delta = (r"\delta_{lj} = \partial %s / \partial z_{lj}" if self.latex
                     else "delta_lj = ∂%s/∂z_lj") % self.sym(d.top)
            heading = (f"Chain rule: {n} paths lead from {what} to {to}, so the sum over "
                       f"paths is written as backprop's recursion, with {self.math(delta)}:")
            if d.softmax:
                heading = (f"Chain rule: the softmax couples the outputs, so it is written as "
                           f"backprop's recursion, with {self.math(delta)}; the top step is "
                           "the softmax Jacobian:")
            return heading, rows + self.recursion_rows() + self.penalty_rows()
        heading = (f"Chain rule: {n} path{'s' if n > 1 else ''} from {what} to {to}, "
                   f"{'one product per path' if n > 1 else 'a product of local derivatives'}:")
        for i, path in enumerate(d.paths):
            part = self.product("=" if i == 0 else "+",
                                [self.partial(f.top, f.bottom) for f in path])
            if i == 0:
                part[0] = (self.partial(d.top, d.param),) + part[0][1:]
            rows += part
        for i, path in enumerate(d.paths):
            rows += self.product("=" if i == 0 else "+", [self.factor(f.value) for f in path])
        return heading, rows + self.penalty_rows()

    def penalty_rows(self) -> list:
        """``+ lambda * w``: the derivative of the L2 term, when the parameter has one."""
        if self.d.penalty == 0:
            return []
        return [("", "+", self.expr(self.d.penalty))]

    def softmax_rows(self) -> list:
        """The softmax Jacobian step, in the textbook form, for each top adjoint."""
        net = self.d.net
        L, K = net.depth, net.widths[-1]
        if self.latex:
            rows = [(rf"\frac{{\partial a_{{{L}j}}}}{{\partial z_{{{L}k}}}}", "=",
                     rf"a_{{{L}j}} \left(\delta_{{jk}} - a_{{{L}k}}\right)")]
        else:
            rows = [(f"∂a{L}j/∂z{L}k", "=", f"a{L}j (δjk - a{L}k)   (softmax Jacobian)")]
        outs = [net.a_symbol(L, j) for j in range(1, K + 1)]
        loss = loss_expr(net.loss_name, outs, net.targets)
        for k in range(1, K + 1):
            z = net.z_symbol(L, k)
            parts = [(sp.diff(loss, a), softmax_jacobian(net, L, j, k))
                     for j, a in enumerate(outs, 1)]
            dot = r" \cdot " if self.latex else " · "
            sum_ = " + ".join(self.factor(g) + dot + self.factor(jac) for g, jac in parts)
            rows += self.long(self.sym(delta_symbol(L, k)), "=",
                              " + ".join(self.partial(_L, a) + dot + self.partial(a, z)
                                         for a in outs))
            rows += self.long("", "=", sum_)
            total = sp.Add(*[g * jac for g, jac in parts])
            rows += self.long("", "=", self.expr(total))
            rows += self.long("", "=", self.expr(outs[k - 1] - net.targets[k - 1]))
        return rows

    def recursion_rows(self) -> list:
        """``delta = ...`` top down, then ``d(top)/d(param) = delta * dz/d(param)``."""
        d, rows = self.d, []
        tops = {delta_symbol(d.net.depth, k) for k in range(1, d.net.widths[-1] + 1)}
        if d.softmax and d.of != "output":
            rows += self.softmax_rows()
        for sym, expr in d.deltas:
            if d.softmax and sym in tops and d.of != "output":
                continue                    # written out by softmax_rows
            rows += self.long(self.sym(sym), "=", self.expr(expr))
        l, j = d.index[:2]
        z, delta = d.net.z_symbol(l, j), delta_symbol(l, j)
        rows += self.product("=", [self.sym(delta), self.partial(z, d.param)])
        rows[-1] = (self.partial(d.top, d.param),) + rows[-1][1:]
        last = (d.net.a_symbol(l - 1, d.index[2]).xreplace(d._rename)
                if len(d.index) == 3 else sp.S.One)
        return rows + self.product("=", [self.sym(delta), self.factor(last)])
