"""The CLI's watermark commands: a distribution's marked copy leaked as a cropped, re-encoded
excerpt and traced back to its platform and session, and the colluders of a copy averaged from
two, against a service started by scripts/run; keygen, embed, attack and detect on their own,
with a key file and no service."""

from __future__ import annotations

import os
import re
import subprocess

import numpy as np

from tests.helpers.cli import REELLEDGER, created, distributed, registered_work, run


def test_walk_through_distribution_leak_and_trace(running, tmp_path):
    """The issue's acceptance path: a registered video is distributed to a platform, the
    watermarked copy is taken, cropped and re-encoded into an excerpt, and `watermark detect`
    names the distribution and the platform. Footage: skimage.data photographs (pans, zooms,
    cuts) encoded here, with an audio track."""
    from watermark.testvideos import photo_footage
    from watermark.video_attacks import VIDEO_ATTACKS, transcode

    _, _, studio_key = created(run(running, "accounts", "create", "--role", "rights_holder", "--name", "studio3"))
    created(run(running, "accounts", "create", "--role", "platform", "--name", "streamer3"))
    _, _, crawler_key = created(run(running, "accounts", "create", "--role", "crawler", "--name", "crawler3"))
    master = photo_footage(tmp_path / "master.mp4", width=854, height=480, seconds=6, audio=True)
    work_id = registered_work(running, master, "Photographs", studio_key)

    copy = tmp_path / "copy.mp4"
    made = distributed(running, work_id, master, "streamer3", "premiere-42", copy, studio_key)
    assert "ready" in made.stdout and copy.exists()
    dist_id = re.search(r"distribution\s+(\d+)", made.stdout).group(1)
    payload = re.search(r"payload\s+(0x[0-9a-f]{12})", made.stdout).group(1)

    leaked = transcode(copy, tmp_path / "leak.mp4", VIDEO_ATTACKS["crop10+crf30"], start=1.0, seconds=4.0)
    for key in (studio_key, crawler_key):
        traced = run(running, "watermark", "detect", str(leaked), api_key=key)
        assert f"distribution {dist_id}" in traced.stdout and "streamer3" in traced.stdout, traced.stdout
        assert "premiere-42" in traced.stdout and payload in traced.stdout and "matches" in traced.stdout
        assert re.search(r"the record, anchored \d{4}-\d\d-\d\d \d\d:\d\d UTC, matches", traced.stdout), traced.stdout
    clean = run(running, "watermark", "detect", str(master), api_key=crawler_key, ok=False)
    assert clean.returncode == 3 and "no mark" in clean.stdout


def test_detect_names_the_colluders_of_a_mixed_copy(running, tmp_path):
    """Two copies of a still distributed to one platform (sessions c-1, c-2) and averaged pixel
    by pixel: `watermark detect` names a colluder (a distribution of the two) and exits 0; that
    no innocent is named is tests/api/test_distributions.py's. Picture: skimage.data's
    astronaut at 1080p."""
    from tests.helpers.distributions import MASTER, decode, png

    _, _, studio_key = created(run(running, "accounts", "create", "--role", "rights_holder", "--name", "studio4"))
    created(run(running, "accounts", "create", "--role", "platform", "--name", "streamer4"))
    master = tmp_path / "astronaut.png"
    master.write_bytes(MASTER)
    work_id = registered_work(running, master, "Astronaut", studio_key)
    copies, ids = [], {}
    for session in ("c-1", "c-2"):
        out = tmp_path / f"{session}.png"
        made = distributed(running, work_id, master, "streamer4", session, out, studio_key)
        ids[session] = re.search(r"distribution\s+(\d+)", made.stdout).group(1)
        copies.append(decode(out.read_bytes()))
    mixed = tmp_path / "mixed.png"
    mixed.write_bytes(png(np.rint(np.mean(copies, axis=0)).astype(np.uint8)))

    traced = run(running, "watermark", "detect", str(mixed), api_key=studio_key)
    named = set(re.findall(r"colluder: distribution (\d+)", traced.stdout))
    single = re.search(r"^distribution (\d+) of work", traced.stdout, re.MULTILINE)
    if single:
        named.add(single.group(1))
    assert named and named <= set(ids.values()), traced.stdout
    assert "streamer4" in traced.stdout


def test_a_still_filmed_off_a_screen_is_traced_through_the_service_along_the_corners_given(running, tmp_path):
    """A distributed still recorded by a camcorder in a lit room (no dark around the screen,
    so its outline is not found by itself) is traced by the service along the corners given.
    Picture: skimage.data's astronaut at 1080p."""
    from tests.helpers.distributions import MASTER, decode, png
    from watermark.attacks import camcorder, camcorder_screen

    _, _, studio_key = created(run(running, "accounts", "create", "--role", "rights_holder", "--name", "studio5"))
    created(run(running, "accounts", "create", "--role", "platform", "--name", "streamer5"))
    master = tmp_path / "astronaut.png"
    master.write_bytes(MASTER)
    work_id = registered_work(running, master, "Astronaut", studio_key)
    marked = tmp_path / "cinema.png"
    made = distributed(running, work_id, master, "streamer5", "cinema-1", marked, studio_key)
    dist_id = re.search(r"distribution\s+(\d+)", made.stdout).group(1)
    copy = tmp_path / "camcorder.png"
    copy.write_bytes(png(camcorder(decode(marked.read_bytes()), seed=8, surround=128)))
    corners = " ".join(f"{x + 1:.1f},{y - 1:.1f}" for x, y in camcorder_screen((1080, 1920), seed=8))

    blind = run(running, "watermark", "detect", str(copy), api_key=studio_key, ok=False)
    assert blind.returncode == 3 and "no mark" in blind.stdout, blind.stdout
    traced = run(
        running, "watermark", "detect", str(copy), "--screen", corners, "--marked-size", "1920x1080", api_key=studio_key
    )
    assert f"distribution {dist_id}" in traced.stdout and "cinema-1" in traced.stdout, traced.stdout
    refused = run(running, "watermark", "detect", str(copy), "--screen", corners, api_key=studio_key, ok=False)
    assert refused.returncode == 2 and "--marked-size" in refused.stderr


def local(*args: str, ok: bool = True) -> subprocess.CompletedProcess:
    """The CLI run on its own: no service, no REELLEDGER_ variables."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("REELLEDGER_")}
    result = subprocess.run(
        [str(REELLEDGER), *args], env=dict(env, COLUMNS="200"), capture_output=True, text=True, timeout=300
    )
    if ok:
        assert result.returncode == 0, result.stdout + result.stderr
    return result


def test_standalone_keygen_embed_and_detect_need_no_service(tmp_path):
    key, other = tmp_path / "studio.key", tmp_path / "other.key"
    local("watermark", "keygen", str(key))
    local("watermark", "keygen", str(other))
    assert oct(key.stat().st_mode & 0o777) == "0o600"
    assert local("watermark", "keygen", str(key), ok=False).returncode == 2  # never overwritten
    video = tmp_path / "in.mp4"
    assert (
        "854x480"
        in local("watermark", "footage", str(video), "--seconds", "3", "--width", "854", "--height", "480").stdout
    )
    marked = tmp_path / "out.mp4"
    embedded = local(
        "watermark", "embed", str(video), str(marked), "--payload", "0xabcdef012345", "--key-file", str(key)
    )
    assert "PSNR" in embedded.stdout and marked.exists()
    found = local("watermark", "detect", str(marked), "--key-file", str(other), "--key-file", str(key))
    assert "payload 0xabcdef012345 (key 2 of 2)" in found.stdout
    leaked = tmp_path / "leak.mp4"
    local("watermark", "attack", str(marked), str(leaked), "--attack", "crop10", "--start", "1", "--seconds", "2")
    found = local("watermark", "detect", str(leaked), "--key-file", str(key))
    assert "payload 0xabcdef012345" in found.stdout and "50 frames" in found.stdout
    unknown = local("watermark", "attack", str(marked), str(leaked), "--attack", "crop99", ok=False)
    assert unknown.returncode == 2 and "crop10+crf30" in unknown.stderr
    assert local("watermark", "detect", str(video), "--key-file", str(key), ok=False).returncode == 3
    too_long = local(
        "watermark", "embed", str(video), str(marked), "--payload", hex(2**48), "--key-file", str(key), ok=False
    )
    assert too_long.returncode == 1 and "48" in too_long.stderr
    junk = tmp_path / "notes.txt"
    junk.write_text("not media")
    refused = local("watermark", "detect", str(junk), "--key-file", str(key), ok=False)
    assert refused.returncode == 1 and "not an image or a video" in refused.stderr


def test_a_still_filmed_off_a_screen_reads_along_the_corners_given(tmp_path):
    """A marked 1080p still recorded by a camcorder (keystone, lens, blur, 480 lines, JPEG)
    in a lit room reads nothing as it is, and its payload along the screen's corners as an
    investigator clicks them (1 px off). Picture: skimage.data's rocket."""
    from PIL import Image

    from watermark.attacks import camcorder, camcorder_screen
    from watermark.testimages import full_hd, photograph

    key, master, marked, copy = (tmp_path / name for name in ("studio.key", "master.png", "marked.png", "copy.png"))
    local("watermark", "keygen", str(key))
    Image.fromarray(full_hd(photograph("rocket"))).save(master)
    local("watermark", "embed", str(master), str(marked), "--payload", "0xabcdef012345", "--key-file", str(key))
    Image.fromarray(camcorder(np.asarray(Image.open(marked).convert("RGB")), seed=8, surround=128)).save(copy)
    corners = " ".join(f"{x + 1:.1f},{y - 1:.1f}" for x, y in camcorder_screen((1080, 1920), seed=8))

    assert local("watermark", "detect", str(copy), "--key-file", str(key), ok=False).returncode == 3
    found = local(
        "watermark", "detect", str(copy), "--key-file", str(key), "--screen", corners, "--marked-size", "1920x1080"
    )
    assert "payload 0xabcdef012345" in found.stdout, found.stdout
    refused = local("watermark", "detect", str(copy), "--key-file", str(key), "--screen", "1,2 3,4", ok=False)
    assert refused.returncode == 2 and "--marked-size" in refused.stderr
    refused = local(
        "watermark",
        "detect",
        str(copy),
        "--key-file",
        str(key),
        "--screen",
        "1,2 3,4",
        "--marked-size",
        "1920x1080",
        ok=False,
    )
    assert refused.returncode == 2 and "four corners" in refused.stderr
