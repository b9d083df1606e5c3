"""Assertions on the Feedback of the exercise checkers, shared by tests/exercises/test_chNN.py."""


def rejected(fb, words, *hidden):
    """fb is a "Not yet" whose message contains ``words`` and none of the ``hidden`` texts."""
    assert not fb, fb
    assert str(fb).startswith("Not yet: ")
    assert words in fb.message, (words, fb.message)
    for text in hidden:
        assert text not in fb.message, (text, fb.message)
    return True


def not_yet(fb):
    """fb is a "Not yet" (an answer the checker could not use, or a wrong one)."""
    assert not fb and str(fb).startswith("Not yet"), fb
    return True
