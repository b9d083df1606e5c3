import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from xai_tutorial import plotting  # noqa: E402


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def test_book_style_sets_white_backgrounds():
    plotting.use_book_style()
    for key in ("figure.facecolor", "axes.facecolor", "savefig.facecolor"):
        assert matplotlib.rcParams[key] == "white"


def test_token_heatmap_draws_one_box_and_label_per_token():
    ax = plotting.plot_token_heatmap(["a", "good", "film"], np.array([0.1, 0.8, 0.1]),
                                     title="t", highlight=[False, True, False])
    assert len(ax.patches) == 3
    assert [t.get_text() for t in ax.texts] == ["a", "good", "film"]
    assert ax.texts[1].get_fontweight() == "bold"
    assert ax.get_title(loc="left") == "t"


def test_token_heatmap_uses_diverging_colours_for_signed_scores():
    ax = plotting.plot_token_heatmap(["x", "y"], np.array([-1.0, 1.0]))
    neg, pos = (p.get_facecolor() for p in ax.patches)
    assert neg[2] > neg[0] and pos[0] > pos[2]  # blue for negative, red for positive


def test_token_heatmap_errors():
    with pytest.raises(ValueError, match="tokens and scores must have the same length, got 2 and 3"):
        plotting.plot_token_heatmap(["a", "b"], np.zeros(3))
    with pytest.raises(ValueError, match="finite"):
        plotting.plot_token_heatmap(["a"], np.array([np.nan]))
    with pytest.raises(ValueError, match="highlight must have one entry per token"):
        plotting.plot_token_heatmap(["a"], np.zeros(1), highlight=[True, False])


def test_attention_matrix_labels_and_errors():
    w = np.full((2, 3), 1 / 3)
    ax = plotting.plot_attention_matrix(w, x_labels=list("abc"), y_labels=["q1", "q2"], annotate=True)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "b", "c"]
    assert len(ax.texts) == 6
    with pytest.raises(ValueError, match="x_labels must have 3 entries, got 2"):
        plotting.plot_attention_matrix(w, x_labels=["a", "b"])
    with pytest.raises(ValueError, match="weights must be 2-D"):
        plotting.plot_attention_matrix(np.zeros(3))


def test_image_attribution_upsamples_patch_maps():
    ax = plotting.plot_image_attribution(np.zeros((8, 8)), np.arange(16.0).reshape(4, 4) - 8)
    overlay = ax.images[1].get_array()
    assert overlay.shape == (8, 8) and overlay[0, 0] == overlay[1, 1] == -8
    with pytest.raises(ValueError, match="must divide the image shape"):
        plotting.plot_image_attribution(np.zeros((8, 8)), np.zeros((3, 3)))
