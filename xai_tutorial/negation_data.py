"""Planted negation: synthetic reviews whose label needs two tokens to interact.

Each sentence holds exactly one cue word (from :data:`xai_tutorial.data.POSITIVE_CUES` or
:data:`xai_tutorial.data.NEGATIVE_CUES`). With probability ``negation_rate`` the token right
before the cue is a negator (:data:`NEGATORS`), which flips the cue's polarity: "great" is
positive, "not great" negative, "never boring" positive. So

    label = polarity(cue) XOR negated

No additive model of the tokens can fit this label (XOR is the textbook interaction), and a
faithful explanation of a negated sentence must credit *both* the cue and its negator: the
ground-truth rationale marks the two. A *distractor* negator placed anywhere else (not right
before the cue) does not negate it, so a model must also read the order of the words, not just
whether a negator occurs; distractors are not part of the rationale.

The result is a :class:`NegationText`, a :class:`xai_tutorial.data.TextData` with the positions of
the cue, negator and distractor of every sentence, so that it works with every helper that takes
a ``TextData`` (``data.split_text``, the agreement metrics through ``rationale``).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ._validation import as_int_array, check_fraction, check_int
from .data import NEGATIVE_CUES, NEUTRAL_WORDS, PAD, POSITIVE_CUES, UNK, TextData

__all__ = ["NEGATORS", "NegationText", "make_negation_text", "negation_vocab"]

#: Words that flip the polarity of the cue right after them.
NEGATORS: tuple[str, ...] = ("not", "never", "hardly")


def negation_vocab() -> tuple[str, ...]:
    """The vocabulary of :func:`make_negation_text`: padding, unknown, cues, negators, neutral words.

    ``vocab[0] == "<pad>"`` and ``vocab[1] == "<unk>"``, as in :mod:`xai_tutorial.data`.
    """
    return (PAD, UNK) + POSITIVE_CUES + NEGATIVE_CUES + NEGATORS + NEUTRAL_WORDS


@dataclass(frozen=True)
class NegationText(TextData):
    """Planted-negation sentences: a :class:`~xai_tutorial.data.TextData` with the planted positions.

    Attributes
    ----------
    token_ids, labels, vocab, rationale
        As in :class:`~xai_tutorial.data.TextData`; ``rationale`` marks the cue and, in a negated
        sentence, its negator.
    polarity : ndarray of shape (n_samples,), int64
        1 if the cue word is a positive one, 0 if negative (the label before negation).
    negated : ndarray of shape (n_samples,), bool
        Whether the cue is negated; ``labels == polarity ^ negated``.
    cue_position : ndarray of shape (n_samples,), int64
        Position of the cue word (at least 1, so that every cue could be negated).
    negator_position : ndarray of shape (n_samples,), int64
        ``cue_position - 1`` in a negated sentence, -1 otherwise.
    distractor_position : ndarray of shape (n_samples,), int64
        Position of a negator that does not negate the cue, or -1.
    """

    polarity: np.ndarray = field(kw_only=True)
    negated: np.ndarray = field(kw_only=True)
    cue_position: np.ndarray = field(kw_only=True)
    negator_position: np.ndarray = field(kw_only=True)
    distractor_position: np.ndarray = field(kw_only=True)

    def __post_init__(self) -> None:
        super().__post_init__()
        n, seq_len = np.shape(self.token_ids)
        if self.rationale is None:
            raise ValueError("rationale must be given for planted negation (True on the cue and its negator)")
        as_int_array(self.polarity, "polarity", ndim=1, low=0, high=1)
        for name in ("polarity", "negated", "cue_position", "negator_position", "distractor_position"):
            if np.shape(getattr(self, name)) != (n,):
                raise ValueError(f"{name} must have one entry per sequence ({n},), got shape "
                                 f"{np.shape(getattr(self, name))}")
        if np.asarray(self.negated).dtype != bool:
            raise TypeError(f"negated must be a bool array, got dtype {np.asarray(self.negated).dtype}")
        as_int_array(self.cue_position, "cue_position", low=1, high=seq_len - 1)
        as_int_array(self.negator_position, "negator_position", low=-1, high=seq_len - 2)
        as_int_array(self.distractor_position, "distractor_position", low=-1, high=seq_len - 1)
        want = np.asarray(self.polarity) ^ np.asarray(self.negated)
        if not np.array_equal(np.asarray(self.labels), want):
            raise ValueError("labels must equal polarity XOR negated")

    def subset(self, index: np.ndarray | list[int] | slice) -> "NegationText":
        """A new :class:`NegationText` with the examples selected by ``index`` (see ``TextData.subset``)."""
        base = TextData.subset(self, index)
        # the same selection on the per-example arrays: TextData.subset has already checked index
        sel = index if isinstance(index, slice) else np.asarray(index)
        return NegationText(base.token_ids, base.labels, base.vocab, base.rationale,
                            polarity=self.polarity[sel], negated=self.negated[sel],
                            cue_position=self.cue_position[sel], negator_position=self.negator_position[sel],
                            distractor_position=self.distractor_position[sel])


def make_negation_text(n_samples: int = 3000, seq_len: int = 10, *, min_len: int = 5,
                       negation_rate: float = 0.3, distractor_rate: float = 0.0,
                       seed: int = 0) -> NegationText:
    """Synthetic reviews with one cue word whose polarity a preceding negator flips.

    Each example gets a balanced random label, a length between ``min_len`` and ``seq_len``,
    neutral words (:data:`xai_tutorial.data.NEUTRAL_WORDS`) everywhere, one cue word at a random
    position ``c >= 1`` and, with probability ``negation_rate``, a negator at ``c - 1``; the cue's
    polarity is then chosen so that ``label = polarity XOR negated``. With probability
    ``distractor_rate`` a further negator goes to a random position that is neither ``c`` nor
    ``c - 1`` (so it negates nothing; it may stand right after the cue: "great not").

    Parameters
    ----------
    n_samples : int, default 3000
        Number of examples, at least 2.
    seq_len : int, default 10
        Padded length, at least 3.
    min_len : int, default 5
        Shortest real length, in [3, seq_len] (room for a negator, the cue and a distractor).
    negation_rate : float, default 0.3
        Probability that the cue is negated, in [0, 1]. Below 0.5 the cue alone already predicts
        the label better than chance, a first step that gradient descent finds quickly; at 0.5
        the label is a pure XOR of two tokens, and a small transformer sits longer at chance
        before it finds both at once.
    distractor_rate : float, default 0.0
        Probability of a distractor negator, in [0, 1]. With distractors only the negator right
        before the cue counts, so the model must read word order; the 2-layer transformer of
        :mod:`xai_tutorial.transformer` then needs far more than a few seconds of training
        (about 0.82 test accuracy after 10 epochs at ``distractor_rate=0.25``).
    seed : int, default 0
        Seed of the generator; the same seed gives the same data.

    Returns
    -------
    NegationText
        ``token_ids`` (n_samples, seq_len) int32 (0 = padding, after the last real token),
        ``labels`` (n_samples,), ``rationale`` (n_samples, seq_len) True on the cue and its
        negator, and the planted positions.

    Examples
    --------
    >>> d = make_negation_text(4, seq_len=6, min_len=4, seed=1)
    >>> bool(((d.polarity ^ d.negated) == d.labels).all())
    True
    """
    n_samples = check_int(n_samples, "n_samples", 2)
    seq_len = check_int(seq_len, "seq_len", 3)
    min_len = check_int(min_len, "min_len", 3, seq_len)
    negation_rate = check_fraction(negation_rate, "negation_rate", inclusive=True)
    distractor_rate = check_fraction(distractor_rate, "distractor_rate", inclusive=True)
    seed = check_int(seed, "seed", 0)
    rng = np.random.default_rng(seed)

    vocab = negation_vocab()
    index = {w: i for i, w in enumerate(vocab)}
    cue_ids = (np.array([index[w] for w in NEGATIVE_CUES]), np.array([index[w] for w in POSITIVE_CUES]))
    negator_ids = np.array([index[w] for w in NEGATORS])
    neutral_ids = np.array([index[w] for w in NEUTRAL_WORDS])

    labels = rng.permutation(np.arange(n_samples) % 2).astype(np.int64)
    negated = rng.random(n_samples) < negation_rate
    polarity = labels ^ negated
    lengths = rng.integers(min_len, seq_len + 1, size=n_samples)
    has_distractor = rng.random(n_samples) < distractor_rate

    token_ids = np.zeros((n_samples, seq_len), dtype=np.int32)
    rationale = np.zeros((n_samples, seq_len), dtype=bool)
    cue_position = np.zeros(n_samples, dtype=np.int64)
    negator_position = np.full(n_samples, -1, dtype=np.int64)
    distractor_position = np.full(n_samples, -1, dtype=np.int64)
    for i in range(n_samples):
        length = lengths[i]
        token_ids[i, :length] = rng.choice(neutral_ids, size=length)
        c = int(rng.integers(1, length))
        token_ids[i, c] = rng.choice(cue_ids[polarity[i]])
        cue_position[i] = c
        rationale[i, c] = True
        if negated[i]:
            token_ids[i, c - 1] = rng.choice(negator_ids)
            negator_position[i] = c - 1
            rationale[i, c - 1] = True
        if has_distractor[i]:
            free = np.setdiff1d(np.arange(length), [c - 1, c])
            p = int(rng.choice(free))
            token_ids[i, p] = rng.choice(negator_ids)
            distractor_position[i] = p
    return NegationText(token_ids, labels, vocab, rationale, polarity=polarity, negated=negated,
                        cue_position=cue_position, negator_position=negator_position,
                        distractor_position=distractor_position)
