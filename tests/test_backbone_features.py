"""BackboneFeatures: images to feature vectors, for a pipeline with a small head."""

import numpy as np
import pytest
from imblearn.over_sampling import RandomOverSampler
from imblearn.pipeline import Pipeline
from PIL import Image

from skimbal import BackboneFeatures, CNNClassifier, save_model
from skimbal.models import LinearHead, MLPHead

pytestmark = pytest.mark.filterwarnings(
    "ignore:freeze=True without pretrained weights:UserWarning"
)
SHAPE = (3, 16, 16)



def features(**params):
    return BackboneFeatures(input_shape=SHAPE, random_state=0, **params)


def test_features_are_the_cached_head_inputs_of_a_frozen_classifier(pixels):
    X, y = pixels
    out = features().fit_transform(X)
    assert out.shape == (60, 512) and out.dtype == np.float32
    clf = CNNClassifier(
        module="resnet18", module__freeze=True, input_shape=SHAPE, random_state=0
    )
    table = clf._feature_table(X, [0, 1])
    np.testing.assert_array_equal(out, table.features[table.find(_keys(X))])


def _keys(X):
    from skimbal._feature_cache import row_keys

    return row_keys(X)


def test_a_pipeline_with_a_sampler_and_a_linear_head(pixels):
    X, y = pixels
    pipe = Pipeline(
        [
            ("features", features()),
            ("sampler", RandomOverSampler(random_state=0)),
            (
                "clf",
                CNNClassifier(
                    module="linear",
                    criterion="focal",
                    class_weight="balanced",
                    min_steps=50,
                    random_state=0,
                ),
            ),
        ]
    )
    pipe.fit(X, y)
    head = pipe[-1]
    assert isinstance(head.module_, LinearHead)
    assert head.module_.linear.in_features == 512
    assert head.class_counts_.tolist() == [48, 48]  # after the sampler
    assert pipe.predict_proba(X).shape == (60, 2)
    # The safe format stores CNNClassifier pipelines only: it says so.
    with pytest.raises(ValueError, match="joblib"):
        save_model(pipe, "unused")


def test_mlp_head_by_name_on_feature_rows_does_not_warn(pixels):
    X, y = pixels
    rows = np.random.RandomState(0).rand(60, 1024).astype(np.float32)  # 32 * 32
    clf = CNNClassifier(
        module="mlp", module__hidden_units=(8,), max_epochs=1, min_steps=0
    )
    clf.fit(rows, y)  # warnings are errors: no "looks like an image" here
    assert isinstance(clf.module_, MLPHead)
    assert clf.module_.layers[0].in_features == 1024


def test_image_paths_and_feature_names(tmp_path, pixels):
    X, y = pixels
    paths = []
    for i, row in enumerate(X[:10].reshape(-1, *SHAPE)):
        path = tmp_path / f"{i}.png"
        Image.fromarray(row.transpose(1, 2, 0)).save(path)
        paths.append(str(path))
    transformer = BackboneFeatures(image_size=16, random_state=0).fit(paths)
    assert transformer.input_kind_ == "paths"
    assert transformer.transform(paths).shape == (10, 512)
    names = transformer.get_feature_names_out()
    assert names[0] == "backbonefeatures0" and len(names) == 512


def test_memory_reads_features_of_the_same_images(pixels, tmp_path, monkeypatch):
    X, _ = pixels
    transformer = features(memory=tmp_path).fit(X)
    first = transformer.transform(X)
    monkeypatch.setattr(
        BackboneFeatures, "_features", lambda *a: pytest.fail("computed again")
    )
    np.testing.assert_array_equal(transformer.transform(X[::-1]), first[::-1])


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"module": "resnet_18"}, "Did you mean 'resnet18'"),
        ({"batch_size": 0}, "'batch_size' parameter"),
        ({"memory": 3}, "memory must be None, a folder path"),
    ],
)
def test_bad_parameters_are_named(pixels, params, message):
    with pytest.raises(ValueError, match=message):
        features(**params).fit(pixels[0])


def test_heads_check_their_arguments():
    with pytest.raises(ValueError, match="in_features=0"):
        LinearHead(in_features=0)
    with pytest.raises(ValueError, match="dropout=1"):
        MLPHead(dropout=1)
