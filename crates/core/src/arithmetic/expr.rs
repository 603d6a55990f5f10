//! The expression tree of a problem, its evaluation, its canonical text, and the order
//! in which a solution evaluates it one operation at a time.
//!
//! **Canonical text.** A tree is written with exactly the parentheses its shape needs
//! under the usual rules (`*` binds tighter than `+` and `-`; operators of one precedence
//! group left to right): a child gets parentheses when its operator binds looser than its
//! parent's, or binds the same and it is the right child (`a-(b+c)`, `a*(b*c)`). So
//! parsing the text gives back the same tree, and two texts of one tree (`(2*3)+4` and
//! `2*3+4`) have one canonical form, the problem's key. A negative number (only
//! intermediate results are negative) is written `-7` at the start of an expression or
//! a parenthesised group and `(-7)` anywhere else, so `6*(-7)` never reads as `6*-7`.
//!
//! **Canonical order** (how the reference solution and a class evaluate it): a
//! parenthesised group is evaluated completely when it is reached, innermost first and
//! groups left to right; within a group without parentheses left, every `*` comes first,
//! left to right, then `+` and `-`, left to right. `(37+48)*6-29` is `37+48`, `85*6`,
//! `510-29`; `2+3-4*5` is `4*5`, `2+3`, `5-20`. The step checker accepts any *valid* next
//! operation (one whose operands are both numbers already, [`Expr::ready_operations`]),
//! since any of those keeps the value; the canonical order only fixes the reference.

use std::fmt::{self, Write};

use serde::{Deserialize, Serialize};

/// The task's operators. There is no division: integer division would need a rounding
/// rule, and exact division only a rejection loop; neither teaches anything here.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Operator {
    #[serde(rename = "+")]
    Add,
    #[serde(rename = "-")]
    Subtract,
    #[serde(rename = "*")]
    Multiply,
}

impl Operator {
    pub const ALL: [Operator; 3] = [Operator::Add, Operator::Subtract, Operator::Multiply];

    pub fn symbol(self) -> char {
        match self {
            Operator::Add => '+',
            Operator::Subtract => '-',
            Operator::Multiply => '*',
        }
    }

    pub fn from_symbol(symbol: char) -> Option<Operator> {
        Operator::ALL.into_iter().find(|op| op.symbol() == symbol)
    }

    /// Higher binds tighter.
    pub fn precedence(self) -> u8 {
        match self {
            Operator::Add | Operator::Subtract => 1,
            Operator::Multiply => 2,
        }
    }

    /// Whether `a op b == b op a`, so a step may write the operands either way round.
    pub fn is_commutative(self) -> bool {
        self != Operator::Subtract
    }

    /// `left op right`, or `None` when it does not fit in 64 bits.
    pub fn apply(self, left: i64, right: i64) -> Option<i64> {
        match self {
            Operator::Add => left.checked_add(right),
            Operator::Subtract => left.checked_sub(right),
            Operator::Multiply => left.checked_mul(right),
        }
    }
}

/// Which child of an operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Side {
    Left,
    Right,
}

/// An arithmetic expression: integers joined by binary operators.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Expr {
    Number(i64),
    Operation {
        op: Operator,
        left: Box<Expr>,
        right: Box<Expr>,
    },
}

/// An operation whose operands are both numbers: one that a step may evaluate next.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReadyOperation {
    pub op: Operator,
    pub left: i64,
    pub right: i64,
    /// Where it sits in the tree (left/right turns from the root).
    pub(crate) path: Vec<Side>,
}

impl Expr {
    pub fn operation(op: Operator, left: Expr, right: Expr) -> Expr {
        Expr::Operation {
            op,
            left: Box::new(left),
            right: Box::new(right),
        }
    }

    /// The number, if this expression is one.
    pub fn as_number(&self) -> Option<i64> {
        match self {
            Expr::Number(n) => Some(*n),
            Expr::Operation { .. } => None,
        }
    }

    /// The value, or `None` when some operation overflows 64 bits.
    pub fn value(&self) -> Option<i64> {
        match self {
            Expr::Number(n) => Some(*n),
            Expr::Operation { op, left, right } => op.apply(left.value()?, right.value()?),
        }
    }

    /// How many operations the expression has (the steps of a full solution).
    pub fn operations(&self) -> usize {
        match self {
            Expr::Number(_) => 0,
            Expr::Operation { left, right, .. } => 1 + left.operations() + right.operations(),
        }
    }

    /// The numbers as written, left to right.
    pub fn numbers(&self) -> Vec<i64> {
        let mut out = Vec::new();
        self.visit(&mut |e| {
            if let Expr::Number(n) = e {
                out.push(*n);
            }
        });
        out
    }

    /// The operators as written, left to right.
    pub fn operators(&self) -> Vec<Operator> {
        let mut out = Vec::new();
        self.visit(&mut |e| {
            if let Expr::Operation { op, .. } = e {
                out.push(*op);
            }
        });
        out
    }

    /// In-order traversal: left to right as the text reads.
    fn visit(&self, f: &mut impl FnMut(&Expr)) {
        match self {
            Expr::Number(_) => f(self),
            Expr::Operation { left, right, .. } => {
                left.visit(f);
                f(self);
                right.visit(f);
            }
        }
    }

    /// How deeply parentheses nest in the canonical text (0: none). The parentheses of a
    /// negative number, `(-7)`, do not count: they group no operation.
    pub fn paren_depth(&self) -> usize {
        match self {
            Expr::Number(_) => 0,
            Expr::Operation { op, left, right } => {
                let l = left.paren_depth() + usize::from(needs_parens(*op, Side::Left, left));
                let r = right.paren_depth() + usize::from(needs_parens(*op, Side::Right, right));
                l.max(r)
            }
        }
    }

    /// Every operation whose operands are both numbers, left to right.
    pub fn ready_operations(&self) -> Vec<ReadyOperation> {
        let mut out = Vec::new();
        self.collect_ready(&mut Vec::new(), &mut out);
        out
    }

    fn collect_ready(&self, path: &mut Vec<Side>, out: &mut Vec<ReadyOperation>) {
        let Expr::Operation { op, left, right } = self else {
            return;
        };
        if let (Expr::Number(l), Expr::Number(r)) = (left.as_ref(), right.as_ref()) {
            out.push(ReadyOperation {
                op: *op,
                left: *l,
                right: *r,
                path: path.clone(),
            });
            return;
        }
        for (side, child) in [(Side::Left, left), (Side::Right, right)] {
            path.push(side);
            child.collect_ready(path, out);
            path.pop();
        }
    }

    /// The operation the canonical order evaluates next (see the module docs), or `None`
    /// when the expression is a number.
    pub fn canonical_next(&self) -> Option<ReadyOperation> {
        self.next_in_group(Vec::new())
    }

    fn next_in_group(&self, mut path: Vec<Side>) -> Option<ReadyOperation> {
        let mut groups = Vec::new();
        let mut ready = Vec::new();
        self.scan_group(&mut path, &mut groups, &mut ready);
        // A parenthesised group still to evaluate comes first, the leftmost one.
        if let Some((group, group_path)) = groups.into_iter().next() {
            return group.next_in_group(group_path);
        }
        // Then the leftmost product, else the leftmost sum or difference.
        let pick = ready
            .iter()
            .position(|r| r.op == Operator::Multiply)
            .unwrap_or(0);
        (!ready.is_empty()).then(|| ready.swap_remove(pick))
    }

    /// Walks the part of the tree inside this group's parentheses, left to right,
    /// collecting the parenthesised operations below it (sub-groups) and the ready
    /// operations in it.
    fn scan_group<'a>(
        &'a self,
        path: &mut Vec<Side>,
        groups: &mut Vec<(&'a Expr, Vec<Side>)>,
        ready: &mut Vec<ReadyOperation>,
    ) {
        let Expr::Operation { op, left, right } = self else {
            return;
        };
        let mut child = |side, expr: &'a Expr, path: &mut Vec<Side>, ready: &mut Vec<_>| {
            path.push(side);
            if needs_parens(*op, side, expr) {
                groups.push((expr, path.clone()));
            } else {
                expr.scan_group(path, groups, ready);
            }
            path.pop();
        };
        child(Side::Left, left, path, ready);
        if let (Expr::Number(l), Expr::Number(r)) = (left.as_ref(), right.as_ref()) {
            ready.push(ReadyOperation {
                op: *op,
                left: *l,
                right: *r,
                path: path.clone(),
            });
        }
        child(Side::Right, right, path, ready);
    }

    /// Replaces the node at `path` by a number (a step's result). `false` when the path
    /// leads nowhere.
    pub(crate) fn replace(&mut self, path: &[Side], value: i64) -> bool {
        let mut node = self;
        for side in path {
            match node {
                Expr::Number(_) => return false,
                Expr::Operation { left, right, .. } => {
                    node = match side {
                        Side::Left => left,
                        Side::Right => right,
                    }
                }
            }
        }
        *node = Expr::Number(value);
        true
    }

    fn write(&self, f: &mut impl Write, at_start: bool) -> fmt::Result {
        match self {
            Expr::Number(n) if *n < 0 && !at_start => write!(f, "({n})"),
            Expr::Number(n) => write!(f, "{n}"),
            Expr::Operation { op, left, right } => {
                if needs_parens(*op, Side::Left, left) {
                    f.write_char('(')?;
                    left.write(f, true)?;
                    f.write_char(')')?;
                } else {
                    left.write(f, at_start)?;
                }
                f.write_char(op.symbol())?;
                if needs_parens(*op, Side::Right, right) {
                    f.write_char('(')?;
                    right.write(f, true)?;
                    f.write_char(')')
                } else {
                    right.write(f, false)
                }
            }
        }
    }
}

/// Whether `child`, as the `side` operand of `parent`, is written in parentheses: when
/// it is an operation that binds looser, or as tightly on the right (left to right means
/// `a-b+c` is `(a-b)+c`, so `a-(b+c)` needs them).
fn needs_parens(parent: Operator, side: Side, child: &Expr) -> bool {
    match child {
        Expr::Number(_) => false,
        Expr::Operation { op, .. } => {
            op.precedence() < parent.precedence()
                || (side == Side::Right && op.precedence() == parent.precedence())
        }
    }
}

/// The canonical text: no spaces, only the parentheses the tree needs.
impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write(f, true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(v: i64) -> Expr {
        Expr::Number(v)
    }
    fn op(o: char, l: Expr, r: Expr) -> Expr {
        Expr::operation(Operator::from_symbol(o).expect("operator"), l, r)
    }

    #[test]
    fn text_has_exactly_the_parentheses_the_shape_needs() {
        let cases = [
            (
                op('-', op('*', op('+', n(37), n(48)), n(6)), n(29)),
                "(37+48)*6-29",
            ),
            (op('+', op('*', n(2), n(3)), n(4)), "2*3+4"),
            (op('+', n(1), op('+', n(2), n(3))), "1+(2+3)"),
            (op('*', n(1), op('*', n(2), n(3))), "1*(2*3)"),
            (op('-', op('-', n(1), n(2)), n(3)), "1-2-3"),
            (op('*', n(6), n(-7)), "6*(-7)"),
            (op('*', n(-7), n(6)), "-7*6"),
            (op('+', n(5), op('*', n(-7), n(2))), "5+(-7)*2"),
            (op('*', op('+', n(-7), n(3)), n(2)), "(-7+3)*2"),
        ];
        for (expr, text) in cases {
            assert_eq!(expr.to_string(), text);
        }
    }

    #[test]
    fn canonical_order_groups_first_then_products_then_sums() {
        let order = |mut e: Expr| {
            let mut steps = Vec::new();
            while let Some(r) = e.canonical_next() {
                let v = r.op.apply(r.left, r.right).expect("small");
                steps.push(format!("{}{}{}={v}", r.left, r.op.symbol(), r.right));
                assert!(e.replace(&r.path, v));
            }
            steps
        };
        // 2+3-4*5: the product first, then left to right.
        let e = op('-', op('+', n(2), n(3)), op('*', n(4), n(5)));
        assert_eq!(order(e), ["4*5=20", "2+3=5", "5-20=-15"]);
        // (1+2*3)+(4*5): the first group completely, then the second.
        let e = op('+', op('+', n(1), op('*', n(2), n(3))), op('*', n(4), n(5)));
        assert_eq!(e.to_string(), "1+2*3+4*5");
        let e = op('*', op('+', n(1), op('*', n(2), n(3))), op('+', n(4), n(5)));
        assert_eq!(e.to_string(), "(1+2*3)*(4+5)");
        assert_eq!(order(e), ["2*3=6", "1+6=7", "4+5=9", "7*9=63"]);
        // 2*3+(4+5): the group before the product outside it.
        let e = op('+', op('*', n(2), n(3)), op('+', n(4), n(5)));
        assert_eq!(order(e), ["4+5=9", "2*3=6", "6+9=15"]);
    }

    #[test]
    fn ready_operations_are_those_with_two_number_operands() {
        let e = op('-', op('+', n(2), n(3)), op('*', n(4), n(5)));
        let ready: Vec<_> = e
            .ready_operations()
            .into_iter()
            .map(|r| (r.left, r.op, r.right))
            .collect();
        assert_eq!(ready, [(2, Operator::Add, 3), (4, Operator::Multiply, 5)]);
        assert!(n(4).ready_operations().is_empty());
        assert_eq!(n(4).canonical_next(), None);
    }

    #[test]
    fn overflow_is_none_not_a_panic() {
        let e = op('*', n(i64::MAX), n(2));
        assert_eq!(e.value(), None);
        assert_eq!(op('-', n(i64::MIN), n(1)).value(), None);
    }
}
