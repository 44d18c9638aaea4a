"""The figures of the memorization and RUM chapters: each test checks what the figure shows, not merely that it
draws."""

import numpy as np
import pytest

from rum_core import plots

NAMES = ("zero", "one", "two")


def _images(n):
    return np.linspace(0, 1, n * 4 * 4).reshape(n, 4, 4, 1)


def test_labelled_images_titles_each_image_with_its_class_name_and_score():
    """Guards against titles that show the label index instead of the class name, a score with the wrong
    rounding, or images and titles out of step."""
    images = _images(3)
    fig = plots.labelled_images(images, np.array([2, 0, 1]), [0.934, 0.5, -0.25], class_names=NAMES, ncols=2,
                                suptitle="least memorized")
    axes = [ax for ax in fig.axes if ax.get_images()]
    assert [ax.get_title() for ax in axes] == ["two  0.93", "zero  0.50", "one  -0.25"]
    for ax, image in zip(axes, images, strict=True):
        assert np.array_equal(ax.get_images()[0].get_array(), image[..., 0])
    assert fig._suptitle.get_text() == "least memorized"


def test_labelled_images_shows_the_prediction_after_the_label():
    fig = plots.labelled_images(_images(2), [1, 2], np.array([0.9, 0.85]), class_names=NAMES,
                                predictions=np.array([1, 0]))
    titles = [ax.get_title() for ax in fig.axes if ax.get_images()]
    assert titles == ["one→one  0.90", "two→zero  0.85"]


@pytest.mark.parametrize("kwargs, match", [
    ({"labels": [0, 3]}, "labels"),
    ({"labels": [0]}, "labels"),
    ({"predictions": [0, -1]}, "predictions"),
    ({"scores": [0.5]}, "scores"),
    ({"scores": [0.5, np.nan]}, "scores"),
])
def test_labelled_images_refuses_labels_scores_or_predictions_that_do_not_fit(kwargs, match):
    args = {"labels": [0, 1], "scores": [0.5, 0.6], "predictions": None, **kwargs}
    with pytest.raises(ValueError, match=match):
        plots.labelled_images(_images(2), args["labels"], args["scores"], class_names=NAMES,
                              predictions=args["predictions"])
