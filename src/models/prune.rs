//! Minimal cost-complexity pruning (`ccp_alpha`), as scikit-learn 1.9.1's
//! `_cost_complexity_prune` and `_build_pruned_tree` do it, step for step: the weakest link
//! (smallest `(R(t) - R(T_t)) / (|T_t| - 1)`, the first in node order on ties) is pruned
//! while its effective alpha is at most `ccp_alpha`; sums bubble up to the ancestors in
//! scikit-learn's order, so they round as its do. The pruned tree is copied depth first,
//! left child first, with the pruned nodes' own values as leaves.

use super::tree::{GrownNode, Node};

/// The tree `nodes` (with what growing knew of each, and each node's value) pruned at `alpha`.
pub(super) fn prune(
    nodes: &[Node],
    grown: &[GrownNode],
    values: &[Vec<f64>],
    alpha: f64,
) -> (Vec<Node>, Vec<GrownNode>) {
    let leaves = pruned_leaves(nodes, grown, alpha);
    let (mut kept, mut kept_grown) = (Vec::new(), Vec::new());
    let mut stack: Vec<(usize, Option<(usize, bool)>)> = vec![(0, None)];
    while let Some((at, parent)) = stack.pop() {
        let id = kept.len();
        if let Some((p, is_left)) = parent {
            if let Node::Split { left, right, .. } = &mut kept[p] {
                *(if is_left { left } else { right }) = id;
            }
        }
        kept_grown.push(grown[at]);
        match &nodes[at] {
            Node::Split { feature, threshold, left, right } if !leaves[at] => {
                kept.push(Node::Split { feature: *feature, threshold: *threshold, left: 0, right: 0 });
                stack.push((*right, Some((id, false))));
                stack.push((*left, Some((id, true))));
            }
            _ => kept.push(Node::Leaf(values[at].clone())),
        }
    }
    (kept, kept_grown)
}

/// `_cost_complexity_prune` with `_AlphaPruner`: which nodes are the pruned tree's leaves.
fn pruned_leaves(nodes: &[Node], grown: &[GrownNode], alpha: f64) -> Vec<bool> {
    let n = nodes.len();
    let total = grown[0].weight;
    let r_node: Vec<f64> = grown.iter().map(|g| g.weight * g.impurity / total).collect();
    let mut parent = vec![None; n];
    let mut is_leaf = vec![false; n];
    for (i, node) in nodes.iter().enumerate() {
        match node {
            Node::Split { left, right, .. } => {
                parent[*left] = Some(i);
                parent[*right] = Some(i);
            }
            Node::Leaf(_) => is_leaf[i] = true,
        }
    }
    // Each branch's leaf count and impurity (the sum of its leaves' r_node, leaf by leaf).
    let mut n_leaves = vec![0usize; n];
    let mut r_branch = vec![0.0f64; n];
    for leaf in (0..n).filter(|&i| is_leaf[i]) {
        r_branch[leaf] = r_node[leaf];
        let mut at = leaf;
        while let Some(p) = parent[at] {
            r_branch[p] += r_node[leaf];
            n_leaves[p] += 1;
            at = p;
        }
    }
    let mut candidate: Vec<bool> = is_leaf.iter().map(|&l| !l).collect();
    while candidate[0] {
        let (mut effective, mut weakest) = (f64::MAX, 0);
        for i in (0..n).filter(|&i| candidate[i]) {
            let subtree_alpha = (r_node[i] - r_branch[i]) / (n_leaves[i] as f64 - 1.0);
            if subtree_alpha < effective {
                (effective, weakest) = (subtree_alpha, i);
            }
        }
        if alpha < effective {
            break;
        }
        let mut below = vec![weakest];
        while let Some(at) = below.pop() {
            candidate[at] = false;
            is_leaf[at] = false;
            if let Node::Split { left, right, .. } = &nodes[at] {
                below.extend([*left, *right]);
            }
        }
        is_leaf[weakest] = true;
        let pruned_leaves = n_leaves[weakest] - 1;
        n_leaves[weakest] = 0;
        let r_diff = r_node[weakest] - r_branch[weakest];
        r_branch[weakest] = r_node[weakest];
        let mut at = parent[weakest];
        while let Some(p) = at {
            n_leaves[p] -= pruned_leaves;
            r_branch[p] += r_diff;
            at = parent[p];
        }
    }
    is_leaf
}
