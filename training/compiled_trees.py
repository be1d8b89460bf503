"""Tree ensembles as numpy arrays, to score a few rows without the libraries' per-call overhead.

``XGBClassifier.predict_proba`` (and even ``Booster.inplace_predict``) costs about 0.3 ms a call
on this machine whatever the number of rows — the proxy DMatrix, configuration checks, thread
set-up — more than everything else the scoring engine does for one applicant and its occlusion
variants. For up to :data:`MAX_ROWS` rows, :func:`few_rows_npl_probability` evaluates the same trees
with a handful of numpy operations instead: every tree at once, one level per step (a row goes
right when its feature value is ≥ the split condition, XGBoost's rule), the leaf values summed in
float32 in tree order after the base margin, as XGBoost sums them, then XGBoost's logistic
function as XGBoost computes it (``1 / (expf(min(−x, 88.7)) + 1 + 1e-16)`` in float32, with the C
library's ``expf``, the function XGBoost calls: numpy's own float32 ``exp`` differs from it in the
last bit for about a quarter of the values). The result is bit for bit XGBoost's, which matters:
a decision threshold is some validation applicant's exact probability, so one bit could flip a
label. Tests hold them equal on thousands of rows, and :func:`compile_xgboost` checks each model on
probe rows around every split condition and leaves the model to XGBoost if any row differs.
Larger inputs, where XGBoost's multi-threaded C++ is faster, go to XGBoost itself.

Only the shape training produces is compiled: a ``gbtree`` booster with the ``binary:logistic``
objective, one output, numerical splits only, no early-stopping iteration range. Anything else,
and any input with a missing value (XGBoost would follow each node's default direction), goes to
XGBoost unchanged. The arrays are built once per loaded classifier (a few ms) and kept beside it.

A scikit-learn random forest is compiled the same way (:func:`compile_forest`): scikit-learn goes
left when a float32 value is ≤ the float64 threshold, and the forest's probability is the trees'
class-1 values summed in float64 in tree order and divided by the number of trees — bit for bit
:func:`forest_tree_sums`, the loop the scoring path used before, checked on probe rows per forest.
A binary decision tree is compiled as a forest of one tree whose leaf values are the class-1
values ``predict_proba`` returns (:func:`compile_tree`), checked on probe rows against
``predict_proba`` itself. Deep trees need a numpy step per level, so the compiled trees of a forest
or a decision tree are only used when they are faster than scikit-learn on one applicant's rows
(measured once per loaded classifier).

:func:`few_rows_npl_probability` is the one entry point: the compiled trees' probabilities for up
to :data:`MAX_ROWS` rows without a missing value, or ``None`` for the caller's own path.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import json
import logging
import time
import weakref
from dataclasses import dataclass

import numpy as np
from sklearn.ensemble import RandomForestClassifier
from sklearn.tree import DecisionTreeClassifier
from xgboost import XGBClassifier

# Up to this many rows the numpy evaluation is cheaper than a call into XGBoost (measured: about
# 0.07 ms against 0.3 ms for ten rows; equal near 60 rows of a 60-tree model).
MAX_ROWS = 48

logger = logging.getLogger(__name__)
_compiled: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # classifier → CompiledTrees | None


@dataclass(frozen=True)
class CompiledTrees:
    """All trees of an ensemble in flat arrays; node ids are global (tree offset + node).

    ``kind`` ``"xgboost"``: a row goes right when its value is ≥ the float32 condition; the leaf
    values are summed in float32 after the base margin, then XGBoost's logistic function.
    ``kind`` ``"forest"`` (scikit-learn): a row goes right when its float32 value is > the float64
    threshold (scikit-learn goes left when ≤); the mean of the trees' class-1 leaf values, summed
    in float64 in tree order and divided by the number of trees, as the tree-by-tree loop does.
    """

    kind: str
    # Indexed by *slot* = 2 · node id, so that slot + (goes right) picks a child without a multiply:
    feature: np.ndarray  # split feature of each slot's node (0 at leaves)
    threshold: np.ndarray  # split condition of each slot's node
    children: np.ndarray  # [slot] → left child's slot, [slot + 1] → right child's; a leaf points to itself
    leaf_value: np.ndarray  # leaf value of each slot's node (0 at split nodes)
    roots: np.ndarray  # slot of each tree's root, in tree order
    depth: int  # the deepest leaf's depth: steps needed to reach every leaf
    base_margin: np.float32 = np.float32(0.0)

    def npl_probability(self, features: np.ndarray) -> np.ndarray:
        """Probability of the positive class for each row of ``features`` (no NaN)."""
        node = self._leaf_slots(features)
        if self.kind == "forest":
            return np.cumsum(self.leaf_value.take(node), axis=1)[:, -1] / len(self.roots)
        leaves = np.empty((len(node), len(self.roots) + 1), dtype=np.float32)
        leaves[:, 0] = self.base_margin
        leaves[:, 1:] = self.leaf_value.take(node)
        margin = np.cumsum(leaves, axis=1, dtype=np.float32)[:, -1]  # sequential, in tree order
        return _xgboost_sigmoid(margin)

    def _leaf_slots(self, features: np.ndarray) -> np.ndarray:
        """rows × trees: the slot of the leaf each row reaches in each tree."""
        n, width = features.shape
        values = np.ascontiguousarray(features, dtype=np.float32).ravel()
        row_offsets = (np.arange(n) * width)[:, None]
        node = self.roots  # the same for every row: broadcast against the rows by the first step
        right_when_equal = self.kind == "xgboost"
        for _ in range(self.depth):
            value, condition = values.take(row_offsets + self.feature.take(node)), self.threshold.take(node)
            goes_right = value >= condition if right_when_equal else value > condition
            node = self.children.take(node + goes_right)
        return node if node.ndim == 2 else np.broadcast_to(node, (n, len(node)))  # depth 0: every tree a leaf


def _xgboost_sigmoid(margin: np.ndarray) -> np.ndarray:
    """XGBoost's ``common::Sigmoid`` in float32: ``1 / (expf(min(−x, 88.7)) + 1 + 1e-16)``."""
    exponent = np.minimum(-margin, np.float32(88.7)).tolist()
    denominator = np.fromiter(map(_expf, exponent), dtype=np.float32, count=len(exponent))
    denominator += _ONE
    denominator += _EPSILON
    return _ONE / denominator


def _c_expf():
    """The C library's ``expf`` (``None`` when it cannot be loaded: then nothing is compiled)."""
    try:
        libm = ctypes.CDLL(ctypes.util.find_library("m") or "libm.so.6")
        expf = libm.expf
    except (OSError, AttributeError):
        return None
    expf.restype, expf.argtypes = ctypes.c_float, [ctypes.c_float]
    return expf


_expf = _c_expf()
_ONE, _EPSILON = np.float32(1.0), np.float32(1e-16)


def few_rows_npl_probability(classifier, features: np.ndarray) -> np.ndarray | None:
    """``classifier``'s class-1 probability of ``features`` from its compiled trees — exactly what
    the library (XGBoost, a decision tree's ``predict_proba``) or the tree-by-tree sums (a random
    forest) give — or ``None`` when there
    are more than :data:`MAX_ROWS` rows, a missing value, or no compiled trees for this classifier."""
    if features.shape[0] > MAX_ROWS or np.isnan(features).any():
        return None
    compiled = _compiled.get(classifier, False)
    if compiled is False:
        compiled = _compiled[classifier] = _compile_for_few_rows(classifier)
    return None if compiled is None else compiled.npl_probability(features)


def _compile_for_few_rows(classifier) -> CompiledTrees | None:
    if type(classifier) is XGBClassifier:
        return compile_xgboost(classifier)
    if type(classifier) is RandomForestClassifier:
        compiled, library = compile_forest(classifier), functools.partial(forest_tree_sums, classifier)
    elif type(classifier) is DecisionTreeClassifier:
        compiled, library = compile_tree(classifier), lambda rows: classifier.predict_proba(rows)[:, 1]
    else:
        return None
    if compiled is not None:
        rows = _probe_rows(compiled, classifier.n_features_in_)[:10]  # one applicant and its variants
        if _best_time(lambda: compiled.npl_probability(rows)) < _best_time(lambda: library(rows)):
            return compiled
    return None


def compile_xgboost(classifier) -> CompiledTrees | None:
    """The classifier's trees as :class:`CompiledTrees`, or ``None`` for a shape this module leaves
    to XGBoost, or when the compiled trees do not give XGBoost's probabilities on probe rows."""
    compiled = _compile(classifier)
    if compiled is None:
        return None
    probes = _probe_rows(compiled, classifier.n_features_in_)
    if not np.array_equal(compiled.npl_probability(probes), classifier.get_booster().inplace_predict(probes)):
        logger.warning("XGBoost model left to XGBoost: its compiled trees differ from it on probe rows")
        return None
    return compiled


def forest_tree_sums(forest, rows: np.ndarray) -> np.ndarray:
    """A binary random forest's class-1 probability of float32 ``rows``: the trees' values summed
    in estimator order, then divided by the number of trees — ``predict_proba(rows)[:, 1]`` without
    joblib (see ``training.trained_model``)."""
    total = np.zeros((rows.shape[0], forest.n_classes_), dtype=np.float64)
    for tree in forest.estimators_:
        total += tree.tree_.predict(rows)[:, : forest.n_classes_]
    total /= len(forest.estimators_)
    return total[:, 1]


def compile_forest(forest) -> CompiledTrees | None:
    """A binary random forest's trees as :class:`CompiledTrees`, or ``None`` when they do not give
    :func:`forest_tree_sums` bit for bit on probe rows around every split."""
    trees = []
    for estimator in forest.estimators_:
        tree = estimator.tree_
        trees.append((tree.feature, tree.threshold, tree.children_left, tree.children_right, tree.value[:, 0, 1]))
    compiled = _flatten("forest", trees, np.float64)
    probes = _probe_rows(compiled, forest.n_features_in_)
    if not np.array_equal(compiled.npl_probability(probes), forest_tree_sums(forest, probes)):
        logger.warning("Random forest left to scikit-learn: its compiled trees differ from it on probe rows")
        return None
    return compiled


def compile_tree(tree_classifier) -> CompiledTrees | None:
    """A binary decision tree as :class:`CompiledTrees` (a forest of one tree whose leaf values are
    the class-1 values ``predict_proba`` returns), or ``None`` when they do not give ``predict_proba``
    bit for bit on probe rows around every split."""
    if tree_classifier.n_outputs_ != 1 or tree_classifier.n_classes_ != 2:
        return None
    tree = tree_classifier.tree_
    compiled = _flatten(
        "forest",
        [(tree.feature, tree.threshold, tree.children_left, tree.children_right, tree.value[:, 0, 1])],
        np.float64,
    )
    probes = _probe_rows(compiled, tree_classifier.n_features_in_)
    if not np.array_equal(compiled.npl_probability(probes), tree_classifier.predict_proba(probes)[:, 1]):
        logger.warning("Decision tree left to scikit-learn: its compiled tree differs from it on probe rows")
        return None
    return compiled


def _best_time(function, repeats: int = 7) -> float:
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - started)
    return best


def _probe_rows(compiled: CompiledTrees, width: int, count: int = 512) -> np.ndarray:
    """Rows whose every feature sits on, just below or just above one of its split conditions."""
    rng = np.random.default_rng(0)
    split = compiled.children[::2] != np.arange(0, len(compiled.children), 2)  # a leaf points to itself
    features, conditions = compiled.feature[::2][split], compiled.threshold[::2][split]
    rows = np.zeros((count, width), dtype=np.float32)
    for column in range(width):
        own = conditions[features == column]
        if len(own):
            values = rng.choice(own, size=count)
            nudge = rng.integers(-1, 2, size=count)
            towards = np.where(nudge < 0, np.float32(-np.inf), np.float32(np.inf))
            rows[:, column] = np.where(nudge == 0, values, np.nextafter(values, towards))
    return rows


def _compile(classifier) -> CompiledTrees | None:
    if _expf is None:
        return None
    booster = classifier.get_booster()
    if booster.attr("best_iteration") is not None:
        return None
    learner = json.loads(booster.save_raw("json"))["learner"]
    parameters = learner["learner_model_param"]
    gradient_booster = learner["gradient_booster"]
    if (
        learner["objective"]["name"] != "binary:logistic"
        or gradient_booster["name"] != "gbtree"
        or int(parameters.get("num_target", "1")) != 1
        or int(parameters.get("num_class", "0")) > 1
    ):
        return None
    trees = gradient_booster["model"]["trees"]
    if not trees or any(any(tree["split_type"]) for tree in trees):
        return None
    base_score = np.float32(float(str(parameters["base_score"]).strip("[]")))
    one = np.float32(1.0)
    return _flatten(
        "xgboost",
        [
            (
                tree["split_indices"],
                tree["split_conditions"],
                tree["left_children"],
                tree["right_children"],
                tree["split_conditions"],
            )
            for tree in trees  # a leaf's value is its split condition
        ],
        np.float32,
        base_margin=np.float32(-np.log(one / base_score - one)),  # XGBoost's logistic ProbToMargin
    )


def _flatten(kind: str, trees, dtype, base_margin: float = 0.0) -> CompiledTrees:
    """:class:`CompiledTrees` from ``[(feature, threshold, left, right, value)]`` node arrays per
    tree, where ``left`` is −1 at a leaf and ``value`` matters only at leaves."""
    features, thresholds, children, leaf_values, roots, depth, offset = [], [], [], [], [], 0, 0
    for feature, threshold, left, right, value in trees:
        left, right = np.asarray(left, dtype=np.intp), np.asarray(right, dtype=np.intp)
        is_leaf, own = left == -1, np.arange(len(left))
        features.append(np.where(is_leaf, 0, np.asarray(feature, dtype=np.intp)))
        thresholds.append(np.where(is_leaf, 0, np.asarray(threshold, dtype=dtype)).astype(dtype))
        leaf_values.append(np.where(is_leaf, np.asarray(value, dtype=dtype), 0).astype(dtype))
        children.append(np.column_stack([np.where(is_leaf, own, left), np.where(is_leaf, own, right)]) + offset)
        roots.append(offset)
        depth = max(depth, _tree_depth(left, right))
        offset += len(left)
    return CompiledTrees(
        kind=kind,
        feature=np.repeat(np.concatenate(features), 2),
        threshold=np.repeat(np.concatenate(thresholds), 2),
        children=2 * np.concatenate(children).ravel(),
        leaf_value=np.repeat(np.concatenate(leaf_values), 2),
        roots=2 * np.asarray(roots, dtype=np.intp),
        depth=depth,
        base_margin=np.float32(base_margin),
    )


def _tree_depth(left: np.ndarray, right: np.ndarray) -> int:
    """Depth of the deepest node below the root (node 0); −1 marks a leaf's missing children."""
    depth, level = 0, [0]
    while True:
        level = [child for node in level for child in (left[node], right[node]) if child != -1]
        if not level:
            return depth
        depth += 1
