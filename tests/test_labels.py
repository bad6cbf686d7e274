"""Labels in, class indices for the network out, and back."""

import numpy as np
import pytest

from skimbal._labels import (
    check_classes,
    classes_for_partial_fit,
    encode_labels,
    learn_labels,
)


def test_check_classes_sorts_and_deduplicates():
    np.testing.assert_array_equal(check_classes([7, 3, 7, 5]), [3, 5, 7])


@pytest.mark.parametrize("classes", [[], [4], ["a", "a"]])
def test_check_classes_needs_two_labels(classes):
    with pytest.raises(ValueError, match="at least 2 labels"):
        check_classes(classes)


def test_encode_labels_gives_positions_in_classes():
    classes = np.array(["cat", "dog", "eel"])
    y = np.array(["eel", "cat", "eel", "dog"])
    np.testing.assert_array_equal(encode_labels(y, classes), [2, 0, 2, 1])
    # Mapping the positions back gives the labels.
    np.testing.assert_array_equal(classes[encode_labels(y, classes)], y)


def test_encode_labels_names_unknown_labels():
    with pytest.raises(ValueError, match=r"labels \['fox'\] that are not in classes_"):
        encode_labels(np.array(["cat", "fox"]), np.array(["cat", "dog"]))


def test_learn_labels_from_y():
    classes, y_encoded = learn_labels(np.array([9, 2, 9, 9]), estimator_name="clf")
    np.testing.assert_array_equal(classes, [2, 9])
    np.testing.assert_array_equal(y_encoded, [1, 0, 1, 1])


def test_learn_labels_with_classes_keeps_absent_ones():
    classes, y_encoded = learn_labels(
        np.array([2, 2]), classes=[5, 2, 9], estimator_name="clf"
    )
    np.testing.assert_array_equal(classes, [2, 5, 9])
    np.testing.assert_array_equal(y_encoded, [0, 0])


def test_learn_labels_errors():
    with pytest.raises(ValueError, match="MyClf needs samples of at least 2 classes"):
        learn_labels(np.array([1, 1]), estimator_name="MyClf")
    with pytest.raises(ValueError, match="Unknown label type"):
        learn_labels(np.array([0.5, 1.5]), estimator_name="clf")
    with pytest.raises(ValueError, match="not in classes_"):
        learn_labels(np.array([0, 3]), classes=[0, 1], estimator_name="clf")


def test_classes_for_partial_fit():
    assert classes_for_partial_fit(None, None) is None
    assert classes_for_partial_fit([0, 1], None) == [0, 1]
    assert classes_for_partial_fit(None, [0, 1]) == [0, 1]
    assert classes_for_partial_fit([1, 0], [0, 1]) == [1, 0]  # same labels
    with pytest.raises(ValueError, match="pass one of them"):
        classes_for_partial_fit([0, 1, 2], [0, 1])
