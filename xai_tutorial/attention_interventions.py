"""Is attention an explanation? Experiments that intervene on the attention weights themselves.

All functions work on the text classifier of :mod:`xai_tutorial.models`, whose prediction is

    h = encoder(embedding(token_ids))            (batch, seq_len, hidden)   fixed by the tokens
    a = attention weights                         (batch, seq_len)           sum to 1 over real tokens
    p = sigmoid(w^T sum_t a_t h_t + b)            (batch,)

Because ``h`` does not depend on ``a``, we can hand the model *any* attention distribution and
read the prediction it would give, :func:`predict_with_attention`. On that rest:

* :func:`jensen_shannon`: the divergence between two attention distributions (in nats).
* :func:`uniform_attention`: the uniform baseline of Wiegreffe & Pinter (2019).
* :func:`adversarial_attention`: attention far from the learned one with (almost) the same
  prediction, found by gradient search (Jain & Wallace 2019).
* :func:`erase_and_predict`, :func:`erasure_flips`: zero one weight (or several), renormalise the
  rest, and see whether the decision flips (Serrano & Smith 2019); :func:`attention_gradient`
  gives the gradient ranking they compare with.
* :func:`gradient_x_embedding`: Jain & Wallace's gradient importance, gradient times embedding
  with the attention weights held fixed (as in their released code), or with the gradient flowing
  through attention.

The helpers read ``h`` from a sub-model that ends at the input of the layer ``"attention_pool"``
(:func:`encoded_tokens`), so they work for both encoders of the classifier.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._validation import as_bool_mask, as_float_array, as_int_array, check_int, check_number

import keras  # noqa: E402  (after the package __init__ has set the TF log variables)
import tensorflow as tf  # noqa: E402

from .models import TextAttentionClassifier, _check_clf, _check_ids  # noqa: E402

__all__ = ["jensen_shannon", "uniform_attention", "encoded_tokens", "predict_with_attention",
           "attention_gradient", "gradient_x_embedding", "AdversarialResult", "adversarial_attention",
           "erase_and_predict", "ErasureResult", "erasure_flips"]

_TINY = 1e-30  # below every float32 weight that matters; keeps log() finite


# --------------------------------------------------------------------------- divergences

def jensen_shannon(p: np.ndarray, q: np.ndarray, *, base: float | None = None) -> np.ndarray:
    """Jensen-Shannon divergence between the rows of two arrays of distributions.

    ``JSD(p, q) = KL(p || m) / 2 + KL(q || m) / 2`` with ``m = (p + q) / 2``. It is symmetric,
    0 exactly when ``p == q``, and at most ``log(2)``, reached when the supports are disjoint.
    This is the *divergence*, the square of SciPy's ``scipy.spatial.distance.jensenshannon``.

    Parameters
    ----------
    p, q : arrays of shape (n, k) or (k,)
        Non-negative weights; each row is divided by its sum (as SciPy does), so a row must not
        sum to 0. Zero entries are allowed (``0 log 0 = 0``).
    base : float, optional
        Base of the logarithm. Default ``e`` (nats, bounded by ``ln 2 ~ 0.693``); ``base=2`` gives
        bits, bounded by 1.

    Returns
    -------
    ndarray of shape (n,), or a float for 1-D inputs
    """
    p_ = as_float_array(p, "p", ndim=(1, 2))
    q_ = as_float_array(q, "q", ndim=(1, 2))
    if p_.shape != q_.shape:
        raise ValueError(f"p and q must have the same shape, got {p_.shape} and {q_.shape}")
    for arr, name in ((p_, "p"), (q_, "q")):
        if (arr < 0).any():
            raise ValueError(f"{name} must be non-negative (a probability distribution), got a "
                             f"minimum of {arr.min():.3g}")
        if (arr.sum(axis=-1) <= 0).any():
            raise ValueError(f"every row of {name} must have a positive sum, got a row of zeros")
    if base is not None and check_number(base, "base", low=0, low_open=True) == 1:
        raise ValueError(f"base must be a positive number other than 1, or None, got {base!r}")
    p_ = p_ / p_.sum(axis=-1, keepdims=True)
    q_ = q_ / q_.sum(axis=-1, keepdims=True)
    m = (p_ + q_) / 2

    def kl(a: np.ndarray) -> np.ndarray:  # KL(a || m); a > 0 implies m > 0
        safe = np.where(a > 0, a, 1.0)
        return np.sum(np.where(a > 0, a * np.log(safe / np.where(a > 0, m, 1.0)), 0.0), axis=-1)

    out = np.maximum(0.5 * kl(p_) + 0.5 * kl(q_), 0.0)  # clip round-off below 0
    if base is not None:
        out = out / np.log(base)
    return float(out) if out.ndim == 0 else out


def _jensen_shannon_tf(a: tf.Tensor, b: tf.Tensor) -> tf.Tensor:
    """Per-row JSD in nats of two TensorFlow tensors of distributions (batch, k); differentiable."""
    m = (a + b) / 2

    def kl(x):
        return tf.reduce_sum(tf.where(x > 0, x * (tf.math.log(tf.maximum(x, _TINY))
                                                  - tf.math.log(tf.maximum(m, _TINY))), 0.0), axis=-1)

    return 0.5 * kl(a) + 0.5 * kl(b)


# --------------------------------------------------------------------------- attention in, prediction out

def uniform_attention(mask: np.ndarray) -> np.ndarray:
    """Uniform attention over the real tokens: ``1 / length`` on each, 0 on padding.

    Parameters
    ----------
    mask : bool array of shape (n, seq_len)
        True on real tokens (e.g. ``TextData.padding_mask``).

    Returns
    -------
    ndarray of shape (n, seq_len), float64, each row summing to 1
    """
    m = as_bool_mask(mask, "mask", default=None, meaning="True on real tokens")
    if m is None:
        raise TypeError("mask must be a bool array (True on real tokens), got None")
    if m.ndim != 2:
        raise ValueError(f"mask must be 2-D, shape (n, seq_len), got shape {m.shape}")
    empty = np.flatnonzero(~m.any(axis=1))
    if empty.size:
        raise ValueError(f"every row of mask needs at least one real token; row(s) "
                         f"{empty[:5].tolist()} have none")
    return m / m.sum(axis=1, keepdims=True)


def _encoder_model(clf: TextAttentionClassifier) -> keras.Model:
    """token ids -> h, the input of the attention-pooling layer.

    In Keras 3 ``layer.input`` lists every tensor of the layer's first call, the ``mask``
    keyword included, so the pool's input is ``[h, mask]`` and ``h`` is its first entry.
    """
    pool_input = clf.model.get_layer("attention_pool").input
    h = pool_input[0] if isinstance(pool_input, (list, tuple)) else pool_input
    try:
        return keras.Model(clf.model.input, h)
    except ValueError as exc:  # the pool's first call was not in clf.model's graph
        raise ValueError("could not reach the input of the layer 'attention_pool' from the model's "
                         "token ids; encoded_tokens expects a classifier built by "
                         "models.build_text_attention_classifier") from exc


def encoded_tokens(clf: TextAttentionClassifier, token_ids: np.ndarray) -> np.ndarray:
    """The encoded tokens ``h`` that the attention pooling averages.

    Parameters
    ----------
    clf : TextAttentionClassifier
    token_ids : int array of shape (n, seq_len)

    Returns
    -------
    ndarray of shape (n, seq_len, hidden_dim), float32
    """
    _check_clf(clf)
    ids = _check_ids(token_ids, clf.model)
    return np.asarray(_encoder_model(clf)(ids, training=False))


def _check_weights(weights: np.ndarray, ids: np.ndarray, name: str = "weights") -> np.ndarray:
    w = as_float_array(weights, name, ndim=2)
    if w.shape != ids.shape:
        raise ValueError(f"{name} must have the shape of token_ids {ids.shape}, got {w.shape}")
    if (w < 0).any():
        raise ValueError(f"{name} must be non-negative, got a minimum of {w.min():.3g}")
    real = ids != 0
    if (w[~real] > 1e-6).any():
        raise ValueError(f"{name} must be 0 on padding (token id 0), got up to {w[~real].max():.3g} there")
    sums = w.sum(axis=1)
    if not np.allclose(sums, 1.0, atol=1e-4):
        worst = int(np.argmax(np.abs(sums - 1)))
        raise ValueError(f"each row of {name} must sum to 1 over the real tokens, row {worst} sums "
                         f"to {sums[worst]:.6g}")
    return w


def predict_with_attention(clf: TextAttentionClassifier, token_ids: np.ndarray,
                           weights: np.ndarray) -> np.ndarray:
    """The model's prediction when its attention weights are replaced by ``weights``.

    Computes ``sigmoid(w^T sum_t a_t h_t + b)`` with the model's own encoded tokens ``h`` and
    output layer, and the supplied ``a``. With the model's own weights this is the model.

    Parameters
    ----------
    clf : TextAttentionClassifier
    token_ids : int array of shape (n, seq_len)
    weights : array of shape (n, seq_len)
        Non-negative, 0 on padding, each row summing to 1 (within 1e-4).

    Returns
    -------
    ndarray of shape (n,)
        P(label = 1) under the supplied attention.
    """
    _check_clf(clf)
    ids = _check_ids(token_ids, clf.model)
    w = _check_weights(weights, ids)
    h = encoded_tokens(clf, ids)
    context = np.einsum("nt,nth->nh", w.astype(np.float32), h)
    return np.asarray(clf.model.get_layer("output")(context), dtype=np.float64)[:, 0]


def attention_gradient(clf: TextAttentionClassifier, token_ids: np.ndarray,
                       weights: np.ndarray | None = None) -> np.ndarray:
    """Gradient of P(label = 1) with respect to each attention weight, ``dp / da_t``.

    Serrano & Smith (2019) rank the attended items by this gradient (or by ``a_t dp/da_t``)
    and compare the ranking with the attention weights.

    Parameters
    ----------
    clf : TextAttentionClassifier
    token_ids : int array of shape (n, seq_len)
    weights : array of shape (n, seq_len), optional
        Where to take the gradient; default the model's own attention.

    Returns
    -------
    ndarray of shape (n, seq_len); 0 on padding
    """
    _check_clf(clf)
    ids = _check_ids(token_ids, clf.model)
    w = clf.attention_weights(ids) if weights is None else _check_weights(weights, ids)
    h = tf.constant(encoded_tokens(clf, ids))
    a = tf.constant(w, dtype=tf.float32)
    with tf.GradientTape() as tape:
        tape.watch(a)
        p = clf.model.get_layer("output")(tf.einsum("nt,nth->nh", a, h))[:, 0]
    g = tape.gradient(p, a).numpy().astype(np.float64)
    return np.where(ids != 0, g, 0.0)


def gradient_x_embedding(clf: TextAttentionClassifier, token_ids: np.ndarray, *,
                         detach_attention: bool = True, output: str = "probability") -> np.ndarray:
    """Gradient times embedding per token, with the attention weights held fixed (Jain & Wallace 2019).

    For token ``t`` with embedding ``e_t`` (a row of the embedding layer's output),

        g_t = sum_k  d y / d e_tk  *  e_tk,        y = P(label = 1)  (or its logit)

    where, with ``detach_attention=True``, the derivative treats the attention weights ``a`` as
    constants: ``y = sigmoid(w^T sum_s a_s h_s(e) + b)`` is differentiated through the encoded
    tokens ``h`` only, not through ``a(e)``. This is the "gradient x input" importance of Jain &
    Wallace's released code (successar/AttentionExplanation: ``gradient_mem`` in
    ``model/Binary_Classification.py`` sets ``detach`` so that the decoder calls
    ``attn.detach()``, backpropagates ``sigmoid(predict)`` and keeps ``(grad * embedding).sum(-1)``;
    ``process_grads`` in ``Trainers/PlottingBC.py`` then takes its absolute value). With
    ``detach_attention=False`` the gradient also flows through the attention weights, which is
    :func:`~xai_tutorial.gradient_attribution.gradient_x_input` of ``clf.head`` summed over the
    embedding axis.

    Because ``dp/dz = p (1 - p)`` is one number per example, ``output="logit"`` gives the same
    values divided by ``p (1 - p)``, so the same ranking of tokens; it stays informative when ``p``
    rounds to 0 or 1 in float32.

    Parameters
    ----------
    clf : TextAttentionClassifier
        A classifier of :func:`~xai_tutorial.models.build_text_attention_classifier` (dropout is
        off at inference, as here).
    token_ids : int array of shape (n, seq_len)
    detach_attention : bool, default True
        Hold the attention weights fixed (Jain & Wallace) or let the gradient flow through them.
    output : {"probability", "logit"}, default "probability"
        Explain P(label = 1) (as Jain & Wallace) or its logit ``z``.

    Returns
    -------
    ndarray of shape (n, seq_len), float64
        Signed ``g_t``; 0 on padding. Jain & Wallace rank tokens by ``|g_t|``.
    """
    from ._validation import check_choice

    _check_clf(clf)
    ids = _check_ids(token_ids, clf.model)
    if not isinstance(detach_attention, (bool, np.bool_)):
        raise TypeError(f"detach_attention must be a bool (True or False), got "
                        f"{type(detach_attention).__name__} {detach_attention!r}")
    detach = bool(detach_attention)
    check_choice(output, "output", ("probability", "logit"))
    real = ids != 0
    mask = tf.constant(real)
    emb = tf.constant(np.asarray(clf.embed(ids, training=False), dtype=np.float32))
    encoder = clf.model.get_layer("encoder")
    pool = clf.model.get_layer("attention_pool")
    out = clf.model.get_layer("output")
    with tf.GradientTape() as tape:
        tape.watch(emb)
        # as in models.build_text_attention_classifier: padded embeddings are zeroed before the encoder
        h = encoder(emb * tf.cast(mask, emb.dtype)[..., None])
        _, a = pool(h, mask=mask)
        if detach:
            a = tf.stop_gradient(a)
        z = tf.matmul(tf.einsum("nt,nth->nh", a, h), out.kernel)[:, 0] + out.bias[0]
        y = tf.sigmoid(z) if output == "probability" else z
    grad = tape.gradient(y, emb)
    g = tf.reduce_sum(grad * emb, axis=-1).numpy().astype(np.float64)
    return np.where(real, g, 0.0)


# --------------------------------------------------------------------------- adversarial attention

@dataclass(frozen=True)
class AdversarialResult:
    """What :func:`adversarial_attention` found, one row per example.

    Attributes
    ----------
    weights : ndarray of shape (n, seq_len)
        The adversarial attention (0 on padding, rows summing to 1).
    base_weights : ndarray of shape (n, seq_len)
        The model's learned attention.
    jsd : ndarray of shape (n,)
        Jensen-Shannon divergence (nats) between ``weights`` and ``base_weights``.
    proba : ndarray of shape (n,)
        P(label = 1) under ``weights``.
    base_proba : ndarray of shape (n,)
        The model's own P(label = 1).
    delta_p : ndarray of shape (n,)
        ``|proba - base_proba|``.
    max_delta : float
        The bound the search had to respect.
    """

    weights: np.ndarray
    base_weights: np.ndarray
    jsd: np.ndarray
    proba: np.ndarray
    base_proba: np.ndarray
    delta_p: np.ndarray
    max_delta: float

    @property
    def feasible(self) -> np.ndarray:
        """Bool array (n,): the prediction moved by at most ``max_delta``."""
        return self.delta_p <= self.max_delta

    @property
    def fraction_feasible(self) -> float:
        """Share of examples whose prediction moved by at most ``max_delta``."""
        return float(self.feasible.mean())


def adversarial_attention(clf: TextAttentionClassifier, token_ids: np.ndarray, *,
                          max_delta: float = 0.01, steps: int = 300, lr: float = 0.1,
                          penalty: float = 10.0, init_scale: float = 1.0,
                          seed: int = 0) -> AdversarialResult:
    """Attention as far as possible from the learned one that keeps every prediction.

    For each example, maximise ``JSD(a, a_hat)`` over attention distributions ``a`` subject to
    ``|p(a) - p(a_hat)| <= max_delta`` (Jain & Wallace 2019, one adversary per example). ``a``
    is the masked softmax of free logits ``z``; all examples are optimised at once with Adam on

        loss = sum_i [ -JSD(a_i, a_hat_i) + penalty * relu(|dp_i| - max_delta / 2) / max_delta ]

    (the penalty starts at half the bound, to keep a margin), and for each example the search
    keeps the iterate with the largest JSD among those that satisfy the bound. It starts from
    the learned logits plus Gaussian noise of scale ``init_scale`` (the gradient of the JSD is
    zero at ``a = a_hat``, so the start must be off it); if no iterate satisfies the bound, the
    learned attention itself is returned (JSD 0), so every returned row satisfies the bound.

    Parameters
    ----------
    clf : TextAttentionClassifier
        A trained classifier.
    token_ids : int array of shape (n, seq_len)
        Examples, each with at least one real token.
    max_delta : float, default 0.01
        Largest allowed change of P(label = 1), in (0, 1).
    steps : int, default 300
        Adam steps.
    lr : float, default 0.1
        Adam step size on the logits.
    penalty : float, default 10.0
        Weight of the constraint penalty.
    init_scale : float, default 1.0
        Standard deviation of the noise added to the learned logits at the start.
    seed : int, default 0
        Seed of that noise.

    Returns
    -------
    AdversarialResult
    """
    _check_clf(clf)
    ids = _check_ids(token_ids, clf.model)
    real = ids != 0
    empty = np.flatnonzero(~real.any(axis=1))
    if empty.size:
        raise ValueError(f"every row of token_ids needs at least one real (non-padding) token; row(s) "
                         f"{empty[:5].tolist()} have none")
    max_delta = check_number(max_delta, "max_delta", low=0, high=1, low_open=True, high_open=True)
    steps = check_int(steps, "steps", 1)
    lr = check_number(lr, "lr", low=0, low_open=True)
    penalty = check_number(penalty, "penalty", low=0, low_open=True)
    init_scale = check_number(init_scale, "init_scale", low=0)
    seed = check_int(seed, "seed", 0)

    base_w = clf.attention_weights(ids).astype(np.float64)
    base_p = clf.predict_proba(ids).astype(np.float64)
    h = tf.constant(encoded_tokens(clf, ids))
    out_layer = clf.model.get_layer("output")
    mask = tf.constant(real)
    a_hat = tf.constant(base_w, tf.float32)
    p_hat = tf.constant(base_p, tf.float32)
    bound = float(max_delta)

    rng = np.random.default_rng(seed)
    z0 = np.log(np.maximum(base_w, 1e-12)) + init_scale * rng.normal(size=base_w.shape)
    z = tf.Variable(np.where(real, z0, 0.0).astype(np.float32))
    m = tf.Variable(tf.zeros_like(z))
    v = tf.Variable(tf.zeros_like(z))
    best_w = tf.Variable(a_hat)
    best_jsd = tf.Variable(tf.zeros(len(ids)))
    b1, b2, eps = 0.9, 0.999, 1e-8

    def forward(logits):
        a = tf.nn.softmax(tf.where(mask, logits, -1e9), axis=-1)
        a = tf.where(mask, a, 0.0)
        p = out_layer(tf.einsum("nt,nth->nh", a, h))[:, 0]
        return a, p

    @tf.function
    def step(t):
        with tf.GradientTape() as tape:
            a, p = forward(z)
            jsd = _jensen_shannon_tf(a, a_hat)
            dp = tf.abs(p - p_hat)
            loss = tf.reduce_sum(-jsd + penalty * tf.nn.relu(dp - bound / 2) / bound)
        # keep the best iterate that satisfies the bound (measured before this step's update)
        better = (dp <= bound) & (jsd > best_jsd)
        best_w.assign(tf.where(better[:, None], a, best_w))
        best_jsd.assign(tf.where(better, jsd, best_jsd))
        g = tape.gradient(loss, z)
        m.assign(b1 * m + (1 - b1) * g)
        v.assign(b2 * v + (1 - b2) * g * g)
        m_hat = m / (1 - b1 ** t)
        v_hat = v / (1 - b2 ** t)
        z.assign_sub(lr * m_hat / (tf.sqrt(v_hat) + eps))

    for t in range(1, steps + 1):
        step(tf.constant(float(t)))
    # the final iterate gets its chance too
    a, p = forward(z)
    jsd = _jensen_shannon_tf(a, a_hat)
    better = (tf.abs(p - p_hat) <= bound) & (jsd > best_jsd)
    best_w.assign(tf.where(better[:, None], a, best_w))

    weights = best_w.numpy().astype(np.float64)
    weights = np.where(real, weights, 0.0)
    weights /= weights.sum(axis=1, keepdims=True)
    proba = predict_with_attention(clf, ids, weights)
    delta = np.abs(proba - base_p)
    # float round-off between the search and the re-check could leave a row a hair above the bound
    over = delta > bound
    if over.any():
        weights[over] = base_w[over]
        proba = predict_with_attention(clf, ids, weights)
        delta = np.abs(proba - base_p)
    return AdversarialResult(weights=weights, base_weights=base_w,
                             jsd=jensen_shannon(np.maximum(weights, 0), base_w), proba=proba,
                             base_proba=base_p, delta_p=delta, max_delta=bound)


# --------------------------------------------------------------------------- erasure

def _erase(w: np.ndarray, ids: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """Zero the weights at ``positions`` (ints (n,) or a bool mask (n, seq_len)) and renormalise."""
    n, seq_len = ids.shape
    raw = np.asarray(positions)
    if raw.dtype == bool:
        if raw.shape != ids.shape:
            raise ValueError(f"a bool positions mask must have the shape of token_ids {ids.shape}, "
                             f"got {raw.shape}")
        erase = raw
    else:
        pos = as_int_array(raw, "positions", ndim=1)
        if pos.shape[0] != n:
            raise ValueError(f"positions must have one entry per example ({n}), got {pos.shape[0]}")
        if pos.size and ((pos < 0).any() or (pos >= seq_len).any()):
            raise ValueError(f"positions must lie in [0, {seq_len - 1}], got values in "
                             f"[{pos.min()}, {pos.max()}]")
        erase = np.zeros(ids.shape, dtype=bool)
        erase[np.arange(n), pos] = True
    real = ids != 0
    on_pad = np.flatnonzero((erase & ~real).any(axis=1))
    if on_pad.size:
        raise ValueError(f"positions must point at real tokens; example(s) {on_pad[:5].tolist()} "
                         "point at padding")
    erased = np.where(erase, 0.0, w)
    total = erased.sum(axis=1, keepdims=True)
    empty = np.flatnonzero(total[:, 0] <= 0)
    if empty.size:
        raise ValueError(f"positions erase every weighted real token of example(s) {empty[:5].tolist()}: "
                         "nothing is left to renormalise")
    return erased / total


def erase_and_predict(clf: TextAttentionClassifier, token_ids: np.ndarray, positions: np.ndarray,
                      weights: np.ndarray | None = None) -> np.ndarray:
    """P(label = 1) after zeroing one attention weight per example and renormalising the rest.

    Parameters
    ----------
    clf : TextAttentionClassifier
    token_ids : int array of shape (n, seq_len)
    positions : int array of shape (n,), or bool array of shape (n, seq_len)
        The position to erase in each example, or a mask of the positions to erase; only real
        tokens may be erased, and at least one weighted token must remain.
    weights : array of shape (n, seq_len), optional
        Attention to erase from; default the model's own.

    Returns
    -------
    ndarray of shape (n,)
    """
    _check_clf(clf)
    ids = _check_ids(token_ids, clf.model)
    w = clf.attention_weights(ids).astype(np.float64) if weights is None else _check_weights(weights, ids)
    return predict_with_attention(clf, ids, _erase(w, ids, positions))


@dataclass(frozen=True)
class ErasureResult:
    """Predictions before and after an erasure, one entry per example.

    Attributes
    ----------
    proba_before, proba_after : ndarray of shape (n,)
        P(label = 1) with the full and with the erased attention.
    flipped : ndarray of shape (n,), bool
        The decision (``proba > 0.5``) changed.
    """

    proba_before: np.ndarray
    proba_after: np.ndarray
    flipped: np.ndarray

    @property
    def delta_p(self) -> np.ndarray:
        """``|proba_after - proba_before|``, shape (n,)."""
        return np.abs(self.proba_after - self.proba_before)

    @property
    def flip_rate(self) -> float:
        """Share of examples whose decision flipped."""
        return float(self.flipped.mean())


def erasure_flips(clf: TextAttentionClassifier, token_ids: np.ndarray, positions: np.ndarray,
                  weights: np.ndarray | None = None) -> ErasureResult:
    """Does zeroing one attention weight (and renormalising) flip the decision?

    Serrano & Smith (2019) erase the most-attended item and compare with erasing a random one.

    Parameters
    ----------
    clf, token_ids, positions, weights :
        As in :func:`erase_and_predict`.

    Returns
    -------
    ErasureResult
    """
    _check_clf(clf)
    ids = _check_ids(token_ids, clf.model)
    w = clf.attention_weights(ids).astype(np.float64) if weights is None else _check_weights(weights, ids)
    before = predict_with_attention(clf, ids, w)
    after = predict_with_attention(clf, ids, _erase(w, ids, positions))
    return ErasureResult(before, after, (before > 0.5) != (after > 0.5))
