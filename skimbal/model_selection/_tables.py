"""The comparison's tables: one row per candidate, and per strategy."""

import numpy as np
import pandas as pd

__all__ = ["candidate_table", "strategy_table"]


def candidate_table(candidates, split_scores, errors):
    """One row per (strategy, parameters) candidate: mean and std over splits.

    Parameters
    ----------
    candidates : list of (str, dict)
        Strategy name and parameters of each candidate.
    split_scores : list of pandas.DataFrame
        Per candidate, one row per split, one column per metric.
    errors : list of list of str
        Per candidate, the distinct errors of its failed fits.

    Returns
    -------
    table : pandas.DataFrame
        ``strategy``, ``<metric>_mean`` / ``<metric>_std`` (``ddof=0``, as
        scikit-learn's ``cv_results_``), ``candidate``, ``params``, ``note``.
    """
    varying = _varying_keys(candidates)
    records = []
    for index, ((owner, params), scores, errs) in enumerate(
        zip(candidates, split_scores, errors, strict=True)
    ):
        record = {"strategy": owner}
        for metric in scores.columns:
            values = scores[metric].to_numpy(dtype=float)
            finite = np.isfinite(values).all()
            record[f"{metric}_mean"] = float(values.mean()) if finite else np.nan
            record[f"{metric}_std"] = float(values.std()) if finite else np.nan
        record["candidate"] = index
        record["params"] = _describe(params, varying[owner])
        record["note"] = ("error: " + "; ".join(errs)) if errs else ""
        records.append(record)
    return pd.DataFrame.from_records(records)


def strategy_table(candidates_table, names, rank_metric):
    """Each strategy's best candidate, best strategy first.

    For a strategy with several candidates the row is the one with the best
    mean ``rank_metric``, chosen on the same splits it is scored on: like
    ``GridSearchCV.best_score_``, slightly optimistic (``n_candidates``
    says how many were tried).
    """
    picks, sizes = [], []
    for name in names:
        group = candidates_table[candidates_table["strategy"] == name]
        scores = group[f"{rank_metric}_mean"].to_numpy()
        pick = int(np.nanargmax(scores)) if np.isfinite(scores).any() else 0
        picks.append(group.index[pick])
        sizes.append(len(group))
    table = candidates_table.loc[picks].set_index("strategy")
    table.insert(len(table.columns) - 3, "n_candidates", sizes)
    # Stable sort: ties keep the order the strategies were given in.
    order = np.argsort(-table[f"{rank_metric}_mean"].fillna(-np.inf), kind="stable")
    table = table.iloc[order]
    first = [f"{rank_metric}_mean", f"{rank_metric}_std"]
    return table[first + [c for c in table.columns if c not in first]]


def _varying_keys(candidates):
    """Per strategy, the parameters whose value differs between candidates."""
    seen = {}
    for owner, params in candidates:
        for key, value in params.items():
            seen.setdefault(owner, {}).setdefault(key, set()).add(_value_text(value))
    return {
        owner: sorted(key for key, texts in keys.items() if len(texts) > 1)
        for owner, keys in seen.items()
    }


def _describe(params, keys):
    return ", ".join(
        f"{key.split('__')[-1]}={_value_text(params[key])}" for key in keys
    )


def _value_text(value):
    if hasattr(value, "get_params"):
        return type(value).__name__
    if isinstance(value, list):
        return "[" + ", ".join(_value_text(v) for v in value) + "]"
    if isinstance(value, tuple):
        return "(" + ", ".join(_value_text(v) for v in value) + ")"
    return str(value)
