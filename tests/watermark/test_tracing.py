"""Informed detection (`watermark.tracing`) on stills: 1080p frames of skimage.data photographs,
marked for several recipients and mixed; payloads close together, the hard case for scoring
codewords one by one; the null on unmarked and foreign-keyed reads; bad input."""

from __future__ import annotations

import numpy as np
import pytest

from watermark import image, tracing
from watermark.errors import WatermarkError
from watermark.payload import CODED_BITS, symbols
from watermark.testimages import full_hd, photograph

KEY = b"tracing test key: one rights holder"
OTHER = b"tracing test key: another holder"
CLOSE = [0x1, 0x2, 0x3, 0x4]  # codewords share their first ~135 coded bits: the payloads' leading zeros
SPREAD = [int(p) for p in np.random.default_rng(7).integers(1, 2**48, 200)]


def _soft(picture: np.ndarray, key: bytes = KEY) -> np.ndarray:
    soft, _ = image.read(image.fold_candidates(image.residual(image.luma(picture))), key)
    return soft


@pytest.fixture(scope="module")
def frame() -> np.ndarray:
    return full_hd(photograph("coffee"))


@pytest.mark.parametrize("payloads", [CLOSE, SPREAD[:4]], ids=["close", "spread"])
def test_averaged_copies_name_colluders_only(frame, payloads):
    copies = [image.embed(frame, p, KEY) for p in payloads[:3]]
    for n in (2, 3):
        mixed = np.rint(np.mean(copies[:n], axis=0)).astype(np.uint8)
        accused = tracing.accuse([_soft(mixed)], [payloads + SPREAD[4:]])
        assert accused, n
        assert {a.payload for a in accused} <= set(payloads[:n]), (n, accused)
        assert [a.score for a in accused] == sorted((a.score for a in accused), reverse=True)


def test_first_round_scores_close_payloads_together_which_the_projection_separates(frame):
    """Scored one by one, an innocent whose payload is close to the colluders' shares their
    score; named one at a time, it is not named."""
    mixed = np.rint(np.mean([image.embed(frame, p, KEY) for p in CLOSE[:2]], axis=0)).astype(np.uint8)
    soft = _soft(mixed)
    first = tracing.scores(soft, CLOSE)
    assert first[2] > 3 and first[3] > 3  # innocents sharing the colluders' prefix
    assert {a.payload for a in tracing.accuse([soft], [CLOSE])} <= set(CLOSE[:2])


def test_unmarked_and_foreign_keyed_reads_name_nobody(frame):
    marked = image.embed(frame, SPREAD[0], KEY)
    for soft in (_soft(frame), _soft(marked, OTHER)):
        scores = tracing.scores(soft, SPREAD)
        assert scores.max() < tracing.ACCUSE_SCORE and 0.6 < scores.std() < 1.4
        assert tracing.accuse([soft], [SPREAD]) == []
    assert [a.payload for a in tracing.accuse([_soft(marked)], [SPREAD])] == [SPREAD[0]]


def test_bad_input_is_refused():
    with pytest.raises(WatermarkError, match="soft values"):
        tracing.scores(np.ones(10), SPREAD)
    with pytest.raises(WatermarkError, match="lists of candidates"):
        tracing.accuse([np.ones(CODED_BITS)], [SPREAD, SPREAD])
    with pytest.raises(WatermarkError, match="payload"):
        tracing.accuse([np.ones(CODED_BITS)], [[-1]])
    assert tracing.accuse([np.zeros(CODED_BITS)], [SPREAD]) == []
    assert tracing.accuse([np.ones(CODED_BITS)], [[]]) == []


def test_the_threshold_rises_with_the_candidates_so_a_catalogue_names_no_more_innocents():
    """Each candidate is one more chance of a false accusation: a score that names a colluder
    among ten candidates names nobody among twenty thousand."""
    threshold = tracing.accusation_threshold
    assert threshold(0) == threshold(1) == threshold(40) == tracing.ACCUSE_SCORE
    assert tracing.ACCUSE_SCORE < threshold(1_000) < threshold(20_000) < threshold(10**6) < 8
    noise = np.random.default_rng(11).normal(size=CODED_BITS)
    soft = noise + 0.45 * symbols(SPREAD[0])
    score = tracing.scores(soft, [SPREAD[0]])[0]
    assert threshold(10) <= score < threshold(20_000), score
    assert [a.payload for a in tracing.accuse([soft], [SPREAD[:10]])] == [SPREAD[0]]
    many = [SPREAD[0], *(int(p) for p in np.random.default_rng(12).integers(1, 2**48, 20_000))]
    assert tracing.accuse([soft], [many]) == []
