"""significance_columns and choose_strategy: ties, plain, and the choice rule."""

import numpy as np
import pandas as pd

from skimbal.model_selection._selection import choose_strategy, significance_columns


def test_ties_and_beating_plain_follow_the_p_values():
    rng = np.random.default_rng(0)
    base = rng.uniform(0.5, 0.6, 10)
    scores = {
        "plain": base,
        "close": base + 0.005 + rng.normal(0, 0.02, 10),
        "best": base + 0.2 + rng.normal(0, 0.005, 10),
    }
    columns = significance_columns(scores, "best", n_train=90, n_test=10)
    assert columns.loc["best", "tied_with_best"] and np.isnan(
        columns.loc["best", "p_vs_best"]
    )
    assert not columns.loc["plain", "tied_with_best"]
    assert columns.loc["plain", "p_vs_best"] < 0.05
    assert columns.loc["best", "beats_plain"]
    assert not columns.loc["close", "beats_plain"]
    assert np.isnan(columns.loc["plain", "p_vs_plain"])


def test_failed_strategies_are_not_tested():
    scores = {"plain": np.array([0.5, 0.6]), "broken": np.array([np.nan, 0.7])}
    columns = significance_columns(scores, "plain", n_train=10, n_test=10)
    assert not columns.loc["broken", "tied_with_best"]
    assert np.isnan(columns.loc["broken", "p_vs_best"])


def test_choice_prefers_the_simplest_close_tied_strategy():
    order = ["plain", "class_weight", "oversample", "focal"]
    means = pd.Series(
        {"plain": 0.70, "class_weight": 0.865, "oversample": 0.87, "focal": 0.872}
    )
    tied = pd.Series(
        {"plain": True, "class_weight": True, "oversample": True, "focal": True}
    )
    # plain is tied but 0.17 behind: too far; class_weight is within 0.01.
    assert choose_strategy(means, tied, order) == "class_weight"
    assert choose_strategy(means, tied, order, tie_tolerance=0.0) == "focal"
    assert choose_strategy(means, tied, order, tie_tolerance=0.5) == "plain"
    not_tied = tied.copy()
    not_tied["class_weight"] = False
    assert choose_strategy(means, not_tied, order) == "oversample"
    nothing = pd.Series({"plain": np.nan})
    assert choose_strategy(nothing, pd.Series({"plain": True}), ["plain"]) is None
