"""How an epoch splits the training sequences into minibatches."""

import numpy as np
from numpy.testing import assert_array_equal
from sklearn.utils import gen_batches, shuffle

from sklearn_lstm._training import minibatch_indices

N_SAMPLES, BATCH_SIZE = 103, 10


def _ragged_mask(lengths):
    return np.arange(max(lengths)) < np.asarray(lengths)[:, None]


def _assert_partition(batches):
    """Every sample once, in minibatches of BATCH_SIZE but one."""
    assert_array_equal(np.sort(np.concatenate(batches)), np.arange(N_SAMPLES))
    sizes = sorted(len(b) for b in batches)
    assert sizes == [N_SAMPLES % BATCH_SIZE] + [BATCH_SIZE] * (N_SAMPLES // BATCH_SIZE)


def test_without_shuffle_the_batches_are_in_order():
    mask = _ragged_mask(np.random.RandomState(0).randint(1, 50, size=N_SAMPLES))
    for m in [None, mask]:
        batches = minibatch_indices(N_SAMPLES, BATCH_SIZE, m, None)
        expected = [np.arange(N_SAMPLES)[b] for b in gen_batches(N_SAMPLES, BATCH_SIZE)]
        assert len(batches) == len(expected)
        for b, e in zip(batches, expected):
            assert_array_equal(b, e)


def test_sequences_of_equal_lengths_are_shuffled_as_a_whole():
    """No mask: the batches of one shuffle, as sklearn's MLP takes them."""
    batches = minibatch_indices(N_SAMPLES, BATCH_SIZE, None, np.random.RandomState(0))
    idx = shuffle(np.arange(N_SAMPLES), random_state=np.random.RandomState(0))
    for b, batch in zip(batches, gen_batches(N_SAMPLES, BATCH_SIZE)):
        assert_array_equal(b, idx[batch])


def test_ragged_sequences_go_into_batches_of_similar_lengths():
    lengths = np.random.RandomState(0).randint(1, 200, size=N_SAMPLES)
    mask = _ragged_mask(lengths)
    rng = np.random.RandomState(1)
    epochs = [minibatch_indices(N_SAMPLES, BATCH_SIZE, mask, rng) for _ in range(5)]
    longest = [sum(lengths[b].max() * len(b) for b in batches) for batches in epochs]
    random_batches = minibatch_indices(N_SAMPLES, BATCH_SIZE, None, rng)
    shuffled = sum(lengths[b].max() * len(b) for b in random_batches)
    for batches, steps in zip(epochs, longest):
        _assert_partition(batches)
        # the steps computed: 1.16 to 1.17 times the real ones here
        assert steps < 1.3 * lengths.sum()
    assert shuffled > 1.5 * lengths.sum()  # random minibatches: 1.77 times
    # the minibatches change from one epoch to the next, and so does their order
    first = {tuple(np.sort(b)) for b in epochs[0]}
    assert all({tuple(np.sort(b)) for b in e} != first for e in epochs[1:])
    starts = [lengths[batches[0]].max() for batches in epochs]
    assert len(set(starts)) > 1
