"""Unit tests of xai_tutorial.widgets: the HTML rendering, the explorer and the static grid."""
import re

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import pytest

import xai_tutorial  # noqa: F401
from xai_tutorial import data, widgets

SPAN = re.compile(r'<span class="xai-token" style="([^"]*)" title="([^"]*)">(.*?)</span>')


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def texts():
    return data.make_planted_text(12, seq_len=8, min_len=3, seed=0)


@pytest.fixture(scope="module")
def attention(texts):
    """Probabilities and masked, normalised weights for the planted examples."""
    rng = np.random.default_rng(0)
    w = rng.random(texts.token_ids.shape) * texts.padding_mask
    w /= w.sum(axis=1, keepdims=True)
    probs = np.where(texts.labels == 1, 0.9, 0.2)
    probs[:3] = 1 - probs[:3]  # the first three predictions are wrong
    return probs, w


# --------------------------------------------------------------------------- attention_html

def test_attention_html_has_one_escaped_span_per_token_with_its_weight():
    out = widgets.attention_html(["a", "<unk>", "good"], np.array([0.1, 0.2, 0.7]))
    spans = SPAN.findall(out)
    assert [s[2] for s in spans] == ["a", "&lt;unk&gt;", "good"]  # escaped, in order
    assert [s[1] for s in spans] == ["0.100", "0.200", "0.700"]
    assert out.startswith('<div class="xai-attention"') and out.endswith("</div>")
    assert "<unk>" not in out


def test_attention_html_colours_follow_the_colour_map():
    cmap = mpl.colormaps["Oranges"]
    spans = SPAN.findall(widgets.attention_html(["x", "y", "z"], np.array([0.0, 0.25, 0.5])))
    colours = [re.search(r"background-color:(#[0-9a-f]{6})", s[0]).group(1) for s in spans]
    assert colours == [mpl.colors.to_hex(cmap(v)) for v in (0.0, 0.5, 1.0)]  # scaled to the largest weight
    assert "color:white" in spans[2][0] and "color:black" in spans[0][0]  # readable text on dark boxes
    fixed = SPAN.findall(widgets.attention_html(["x", "y"], np.array([0.25, 0.5]), vmax=1.0, cmap="Greys"))
    greys = mpl.colormaps["Greys"]
    assert [re.search(r"background-color:(#[0-9a-f]{6})", s[0]).group(1) for s in fixed] == \
        [mpl.colors.to_hex(greys(v)) for v in (0.25, 0.5)]


def test_attention_html_highlight_and_edge_cases():
    spans = SPAN.findall(widgets.attention_html(["a", "b", "c"], np.zeros(3), highlight=[False, True, False]))
    assert ["underline" in s[0] for s in spans] == [False, True, False]
    assert widgets.attention_html([], np.zeros(0)).count("<span") == 0
    spans = SPAN.findall(widgets.attention_html(["a"], np.array([2.0]), vmax=1.0, decimals=1))
    assert spans[0][1] == "2.0"  # weights above vmax are clipped in colour, not rejected


def test_attention_html_errors():
    with pytest.raises(ValueError, match="tokens and weights must have the same length, got 2 and 3"):
        widgets.attention_html(["a", "b"], np.ones(3))
    with pytest.raises(ValueError, match="weights must be non-negative"):
        widgets.attention_html(["a", "b"], np.array([0.5, -0.1]))
    with pytest.raises(ValueError, match="weights must be finite"):
        widgets.attention_html(["a"], np.array([np.nan]))
    with pytest.raises(ValueError, match="weights must be 1-D, got a 2-D array"):
        widgets.attention_html(["a"], np.ones((1, 1)))
    with pytest.raises(TypeError, match="tokens must be a sequence of str"):
        widgets.attention_html("ab", np.ones(2))
    with pytest.raises(TypeError, match="tokens must all be str, got 1 of type int"):
        widgets.attention_html(["a", 3], np.ones(2))
    with pytest.raises(ValueError, match="highlight must be a bool sequence of length 2"):
        widgets.attention_html(["a", "b"], np.ones(2), highlight=[True])
    with pytest.raises(ValueError, match="vmax must be a positive number, got 0"):
        widgets.attention_html(["a"], np.ones(1), vmax=0)
    with pytest.raises(ValueError, match="cmap must be a matplotlib colour map name, got 'nope'"):
        widgets.attention_html(["a"], np.ones(1), cmap="nope")


# --------------------------------------------------------------------------- example_header_html

def test_example_header_says_prediction_truth_and_verdict():
    right = widgets.example_header_html(4, 0.9, 1, label_names=("rotten", "fresh"))
    assert "example 4" in right and "predicted <b>fresh</b>" in right and "true <b>fresh</b>" in right
    assert "P(fresh) = 0.900" in right and ">right<" in right
    wrong = widgets.example_header_html(0, 0.3, 1)
    assert "predicted <b>negative</b>" in wrong and ">wrong<" in wrong
    assert ">right<" in widgets.example_header_html(0, 0.3, 1, threshold=0.2)
    with pytest.raises(ValueError, match=r"label must be in \[0, 1\], got 2"):
        widgets.example_header_html(0, 0.5, 2)
    with pytest.raises(ValueError, match="prob must be a probability in"):
        widgets.example_header_html(0, 1.5, 1)


# --------------------------------------------------------------------------- the explorer

def test_explorer_renders_the_selected_example(texts, attention):
    probs, w = attention
    ex = widgets.token_attention_explorer(texts, probs, w)
    subset, slider, out = ex.children
    assert slider.max == len(texts) - 1
    assert "example 0" in out.value
    assert [s[2] for s in SPAN.findall(out.value)] == texts.tokens(0)
    slider.value = 5
    assert "example 5" in out.value
    assert [s[2] for s in SPAN.findall(out.value)] == texts.tokens(5)
    n5 = int(texts.lengths[5])
    assert [s[1] for s in SPAN.findall(out.value)] == [f"{v:.3f}" for v in w[5, :n5]]
    # the planted rationale is underlined
    assert ["underline" in s[0] for s in SPAN.findall(out.value)] == texts.rationale[5, :n5].tolist()


def test_explorer_filters_right_and_wrong_predictions(texts, attention):
    probs, w = attention
    subset, slider, out = widgets.token_attention_explorer(texts, probs, w).children
    subset.value = "wrong"
    assert slider.max == 2 and slider.value == 0
    shown = []
    for k in range(3):
        slider.value = k
        shown.append(int(re.search(r"example (\d+)", out.value).group(1)))
        assert ">wrong<" in out.value
    assert shown == [0, 1, 2]
    subset.value = "correct"
    assert slider.max == len(texts) - 4 and ">right<" in out.value


def test_explorer_errors(texts, attention):
    probs, w = attention
    with pytest.raises(TypeError, match="texts must be a TextData, got ndarray"):
        widgets.token_attention_explorer(texts.token_ids, probs, w)
    with pytest.raises(ValueError, match=r"weights must have shape \(12, 8\)"):
        widgets.token_attention_explorer(texts, probs, w[:, :5])
    with pytest.raises(ValueError, match=r"probs must have one entry per example \(12\), got 11"):
        widgets.token_attention_explorer(texts, probs[:11], w)
    with pytest.raises(ValueError, match="probs must be probabilities in"):
        widgets.token_attention_explorer(texts, probs * 2, w)
    with pytest.raises(ValueError, match="label_names must be two strings"):
        widgets.token_attention_explorer(texts, probs, w, label_names=("a",))


# --------------------------------------------------------------------------- the static grid

def test_static_grid_draws_one_row_per_example(texts, attention):
    probs, w = attention
    fig = widgets.plot_attention_examples(texts, probs[:, None], w, [0, 4, 7], title="finding")
    axes = fig.axes
    assert len(axes) == 3
    for ax, i in zip(axes, [0, 4, 7]):
        assert [t.get_text() for t in ax.texts] == texts.tokens(i)
        assert len(ax.patches) == texts.lengths[i]
        assert ax.get_title(loc="left").startswith(f"#{i}: ")
    assert "WRONG" in axes[0].get_title(loc="left") and "right" in axes[1].get_title(loc="left")
    assert fig._suptitle.get_text() == "finding"
    # underlined rationale: bold labels exactly on the cue tokens
    bold = [t.get_fontweight() == "bold" for t in axes[1].texts]
    assert bold == texts.rationale[4, :texts.lengths[4]].tolist()


def test_static_grid_cuts_long_examples_and_checks_input(texts, attention):
    probs, w = attention
    fig = widgets.plot_attention_examples(texts, probs, w, [0], max_tokens=2)
    assert len(fig.axes[0].texts) == 2
    with pytest.raises(ValueError, match=r"indices must lie in \[0, 11\], got values in \[3, 12\]"):
        widgets.plot_attention_examples(texts, probs, w, [3, 12])
    with pytest.raises(ValueError, match="indices must name at least one example"):
        widgets.plot_attention_examples(texts, probs, w, [])
    with pytest.raises(ValueError, match="vmax must be a positive number or None"):
        widgets.plot_attention_examples(texts, probs, w, [0], vmax=-1)
    with pytest.raises(ValueError, match=r"probs must have shape \(n,\) or \(n, 1\)"):
        widgets.plot_attention_examples(texts, np.stack([probs, probs], 1), w, [0])
