"""strategy_grid: the named strategies as a GridSearchCV parameter grid."""

import re

import pytest
from imblearn.over_sampling import RandomOverSampler
from imblearn.under_sampling import RandomUnderSampler
from sklearn.model_selection import ParameterGrid, TunedThresholdClassifierCV

from skimbal import CNNClassifier
from skimbal.callbacks import AutoBalance, DeferredReweighting
from skimbal.model_selection import SIMPLICITY, STRATEGIES, strategy_grid
from skimbal.model_selection._strategies import _PARAMS
from skimbal.model_selection._strategy_names import (
    CANDIDATES,
    IN_ALL,
    REGISTRY,
    THRESHOLD_TUNING,
)

PLAIN_KEYS = {"sampler", "clf__class_weight", "clf__criterion"}


def test_all_lists_every_strategy_but_threshold_tuning_without_estimator():
    grid = strategy_grid()
    in_all = [name for name, strategy in REGISTRY.items() if strategy.in_all]
    assert len(grid) == len(in_all) - 1 == len(IN_ALL)
    assert list(STRATEGIES)[-1] == THRESHOLD_TUNING
    for params in grid:
        assert PLAIN_KEYS <= set(params)
        assert all(isinstance(values, list) for values in params.values())
    # focal tries 3 gammas x 2 alphas, logit_adjusted 2 taus, the others one.
    sizes = {name: len(ParameterGrid(strategy_grid([name]))) for name in SIMPLICITY}
    searched = {"focal": 6, "logit_adjusted": 2}
    assert sizes == {name: searched.get(name, 1) for name in SIMPLICITY}
    assert len(ParameterGrid(grid)) == sum(sizes[name] for name in IN_ALL)


def test_costly_or_redundant_strategies_run_only_when_named():
    assert set(SIMPLICITY) - set(IN_ALL) == {"vs", "autobalance"}
    assert IN_ALL == tuple(name for name in SIMPLICITY if name in IN_ALL)
    [autobalance] = strategy_grid(["autobalance"])
    assert autobalance["clf__criterion"] == ["vs"]


def test_strategies_and_their_settings_come_from_one_registry():
    assert list(STRATEGIES) == list(REGISTRY)
    for name, strategy in REGISTRY.items():
        assert STRATEGIES[name] == strategy.description
        assert strategy.description and "\n" not in strategy.description
        # Only threshold tuning is built from the estimator instead of params.
        assert (strategy.params is None) == (name == THRESHOLD_TUNING)


def test_simplicity_order_is_the_listing_order():
    assert SIMPLICITY == tuple(STRATEGIES)[:-1]
    assert SIMPLICITY[0] == "plain"


def test_candidate_counts_are_those_of_the_grids():
    # The command line counts fits (to size its workers) from CANDIDATES.
    for name in SIMPLICITY:
        [grid] = strategy_grid([name])
        assert CANDIDATES[name] == len(ParameterGrid(grid)), name
    assert set(CANDIDATES) == set(SIMPLICITY)


def test_each_strategy_sets_what_makes_it_and_resets_the_rest():
    named = strategy_grid(list(SIMPLICITY), random_state=0)
    grid = dict(zip(SIMPLICITY, named, strict=True))
    plain, weighted, en = grid["plain"], grid["class_weight"], grid["effective_number"]
    bs, la, focal = grid["balanced_softmax"], grid["logit_adjusted"], grid["focal"]
    under, over, bb = grid["undersample"], grid["oversample"], grid["balanced_batches"]
    ldam = grid["ldam_drw"]
    assert plain == {
        "sampler": ["passthrough"],
        "clf__class_weight": [None],
        "clf__criterion": ["cross_entropy"],
    }
    assert weighted["clf__class_weight"] == ["balanced"]
    assert (
        under["sampler"][0].get_params()
        == RandomUnderSampler(random_state=0).get_params()
    )
    assert isinstance(over["sampler"][0], RandomOverSampler)
    assert focal["clf__criterion"] == ["focal"]
    assert focal["clf__criterion__gamma"] == [1.0, 2.0, 5.0]
    assert focal["clf__class_weight"] == [None, "balanced"]
    assert la["clf__criterion"] == ["logit_adjusted"]
    # tau=1 would be balanced softmax again.
    assert la["clf__criterion__tau"] == [0.5, 2.0]
    assert bs["clf__criterion"] == ["balanced_softmax"]
    assert ldam["clf__criterion"] == ["ldam"]
    assert ldam["clf__criterion__scale"] == [1.0]
    [[(name, callback)]] = ldam["clf__callbacks"]
    assert name == "drw" and isinstance(callback, DeferredReweighting)
    assert en["clf__class_weight"] == ["effective_number"]
    assert bb["clf__balanced_batches"] == [True]
    assert bb["sampler"] == ["passthrough"]
    vs, autobalance = grid["vs"], grid["autobalance"]
    assert vs["clf__criterion"] == ["vs"]
    assert autobalance["clf__criterion"] == ["vs"]
    assert autobalance["clf__validation_fraction"] == [0.2]
    [[(name, callback)]] = autobalance["clf__callbacks"]
    assert name == "autobalance" and isinstance(callback, AutoBalance)
    assert callback.get_params() == AutoBalance().get_params()
    # A new strategy fails here until its settings are checked above.
    assert set(grid) == {
        *("plain", "class_weight", "effective_number", "balanced_softmax"),
        *("logit_adjusted", "undersample", "oversample", "balanced_batches"),
        *("focal", "ldam_drw", "vs", "autobalance"),
    }


def test_subset_in_the_order_given():
    grid = strategy_grid(["oversample", "plain"], random_state=3)
    assert grid[0]["sampler"][0].random_state == 3
    assert grid[1]["sampler"] == ["passthrough"]


def test_samplers_and_callbacks_are_fresh_copies_of_the_templates():
    first = strategy_grid(["oversample", "ldam_drw"], random_state=1)
    second = strategy_grid(["oversample", "ldam_drw"], random_state=1)
    assert first[0]["sampler"][0] is not second[0]["sampler"][0]
    assert (
        first[1]["clf__callbacks"][0][0][1]
        is not _PARAMS["ldam_drw"]["clf__callbacks"][0][1]
    )
    assert _PARAMS["oversample"]["sampler"].random_state is None


def test_custom_strategies_start_from_plain_and_keep_their_seed():
    grid = strategy_grid(
        {
            "plain": None,
            "seeded_over": {"sampler": RandomOverSampler(random_state=7)},
            "unseeded_over": {"sampler": RandomOverSampler()},
            "two_lrs": [{"clf__lr": 0.01}, {"clf__lr": [0.1, 0.2]}],
        },
        random_state=0,
    )
    assert len(grid) == 5
    assert grid[1]["sampler"][0].random_state == 7
    assert grid[2]["sampler"][0].random_state == 0
    assert grid[3]["clf__lr"] == [0.01] and grid[4]["clf__lr"] == [0.1, 0.2]
    assert all(PLAIN_KEYS <= set(params) for params in grid)


def test_threshold_tuning_wraps_a_plain_copy_of_the_estimator():
    clf = CNNClassifier(class_weight="balanced", criterion="focal", random_state=0)
    [params] = strategy_grid(
        ["threshold_tuning"], estimator=clf, pos_label="cat", random_state=0
    )
    assert params["sampler"] == ["passthrough"]
    [tuned] = params["clf"]
    assert isinstance(tuned, TunedThresholdClassifierCV)
    assert tuned.cv == 0.25 and tuned.refit is True and tuned.random_state == 0
    assert tuned.estimator.class_weight is None
    assert tuned.estimator.criterion == "cross_entropy"
    assert tuned.scoring._kwargs == {"pos_label": "cat"}
    assert clf.class_weight == "balanced"  # the caller's estimator is untouched
    assert len(strategy_grid(estimator=clf)) == len(IN_ALL) + 1


def test_threshold_tuning_needs_the_estimator():
    with pytest.raises(ValueError, match="threshold_tuning.*estimator="):
        strategy_grid(["plain", "threshold_tuning"])


@pytest.mark.parametrize(
    ("strategies", "message"),
    [
        ("focul", "Unknown strategy 'focul'. Did you mean 'focal'?"),
        (["plain", "oversampling"], "Did you mean 'oversample'?"),
        (["plain", "plain"], "'plain' is named twice"),
        ([], "non-empty list"),
        (42, "got strategies=42"),
        ({"mine": "sampler"}, "parameters of strategy 'mine' must be a dict"),
        ([3], "names must be strings"),
    ],
)
def test_invalid_strategies_name_the_problem(strategies, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        strategy_grid(strategies)
