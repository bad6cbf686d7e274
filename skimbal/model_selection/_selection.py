"""Which strategies are tied with the best, which beat plain, and which to choose."""

import numpy as np
import pandas as pd

from ._stats import corrected_ttest
from ._strategy_names import SIMPLICITY
from ._tables import candidate_table, strategy_table

__all__ = [
    "choose_strategy",
    "rank_strategies",
    "significance_columns",
    "test_and_choose",
]

#: Default significance level of the one-sided corrected t-tests.
ALPHA = 0.05
#: Default largest mean-score gap at which a simpler tied strategy is chosen.
TIE_TOLERANCE = 0.01


def significance_columns(split_scores, best, *, n_train, n_test, alpha=ALPHA):
    """t-tests of every strategy against the best and against plain.

    Parameters
    ----------
    split_scores : dict
        Strategy -> ndarray of its ranking-metric scores, one per split (the
        same splits for all; NaN where a fit failed).
    best : str
        The strategy with the highest mean score.
    n_train, n_test : float
        Training and test rows per split.
    alpha : float, default=0.05
        Significance level.

    Returns
    -------
    columns : pandas.DataFrame
        Indexed by strategy: ``p_vs_best`` (one-sided p-value of "the best
        is better than this one"; NaN for the best itself),
        ``tied_with_best`` (``p_vs_best >= alpha``, True for the best),
        ``p_vs_plain`` (of "this one is better than plain") and
        ``beats_plain`` (``p_vs_plain < alpha``). Strategies without finite
        scores on every split get NaN and False.
    """
    rows = {}
    plain = split_scores.get("plain")
    for name, scores in split_scores.items():
        row = {
            "p_vs_best": np.nan,
            "tied_with_best": name == best,
            "p_vs_plain": np.nan,
            "beats_plain": False,
        }
        if name != best and _comparable(scores, split_scores[best]):
            _, p = corrected_ttest(
                split_scores[best] - scores, n_train=n_train, n_test=n_test
            )
            row["p_vs_best"] = p
            row["tied_with_best"] = bool(p >= alpha)
        if name != "plain" and plain is not None and _comparable(scores, plain):
            _, p = corrected_ttest(scores - plain, n_train=n_train, n_test=n_test)
            row["p_vs_plain"] = p
            row["beats_plain"] = bool(p < alpha)
        rows[name] = row
    return pd.DataFrame.from_dict(rows, orient="index")


def _comparable(a, b):
    return (
        a is not None
        and b is not None
        and np.isfinite(a).all()
        and np.isfinite(b).all()
    )


def choose_strategy(means, tied, order, *, tie_tolerance=TIE_TOLERANCE):
    """The simplest strategy that is tied with the best and close to it.

    The corrected t-test has little power with a handful of folds and few
    rare samples, so "not significantly worse" alone would nearly always
    hand back the simplest strategy, however far behind it is. The choice
    therefore also bounds what simplicity may cost: a tied strategy is
    chosen over a more involved one only when its mean score is within
    ``tie_tolerance`` of the best.

    Parameters
    ----------
    means : pandas.Series
        Mean ranking score per strategy (NaN for failed ones).
    tied : pandas.Series of bool
        Whether each strategy is statistically tied with the best.
    order : list of str
        Strategies from simplest to most involved.
    tie_tolerance : float, default=0.01
        Largest gap to the best mean at which a simpler strategy is chosen.

    Returns
    -------
    chosen : str or None
        None when no strategy has a finite score.

    Examples
    --------
    >>> import pandas as pd
    >>> from skimbal.model_selection._selection import choose_strategy
    >>> means = pd.Series({"plain": 0.80, "class_weight": 0.875, "focal": 0.88})
    >>> tied = pd.Series({"plain": True, "class_weight": True, "focal": True})
    >>> choose_strategy(means, tied, ["plain", "class_weight", "focal"])
    'class_weight'
    """
    finite = means[np.isfinite(means.to_numpy(dtype=float))]
    if finite.empty:
        return None
    best = finite.idxmax()
    close = [
        name
        for name in order
        if name in finite.index
        and bool(tied.get(name, False))
        and finite[best] - finite[name] <= tie_tolerance + 1e-12
    ]
    return close[0] if close else best


def rank_strategies(evaluation, candidates, named, rank_metric, splits):
    """Candidate and strategy tables, and each strategy's per-split scores."""
    cand_table = candidate_table(candidates, evaluation["scores"], evaluation["errors"])
    table = strategy_table(cand_table, [name for name, _ in named], rank_metric)
    split_scores = pd.DataFrame(
        {
            name: evaluation["scores"][table.loc[name, "candidate"]][rank_metric]
            for name in table.index
        }
    )
    split_scores.index.name = "split"
    return {"candidates": cand_table, "table": table, "split_scores": split_scores}


def test_and_choose(ranking, splits, rank_metric, alpha, tie_tolerance):
    """Add the t-test columns and the ``chosen`` flag; return the chosen name."""
    table, split_scores = ranking["table"], ranking["split_scores"]
    significance = significance_columns(
        {name: split_scores[name].to_numpy() for name in table.index},
        table.index[0],
        n_train=float(np.mean([split.n_train for split in splits])),
        n_test=float(np.mean([len(split.test) for split in splits])),
        alpha=alpha,
    )
    table = table.join(significance)
    names = list(table.index)
    order = [n for n in SIMPLICITY if n in names] + [
        n for n in names if n not in SIMPLICITY
    ]
    chosen = choose_strategy(
        table[f"{rank_metric}_mean"],
        table["tied_with_best"],
        order,
        tie_tolerance=tie_tolerance,
    )
    table.insert(len(table.columns), "chosen", table.index == chosen)
    return table, chosen
