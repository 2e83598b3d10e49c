"""A registered photograph distributed to a platform over HTTP: the master as PNG (a 1080p frame of
skimage.data's astronaut), its registration, the distribution asked for, and the copy waited for."""

from __future__ import annotations

import json

import cv2
import numpy as np
from skimage import data

from tests.helpers.service import wait_status, written
from watermark.testimages import full_hd


def png(image: np.ndarray) -> bytes:
    ok, buf = cv2.imencode(".png", cv2.cvtColor(image, cv2.COLOR_RGB2BGR) if image.ndim == 3 else image)
    assert ok
    return buf.tobytes()


def decode(raw: bytes) -> np.ndarray:
    image = cv2.imdecode(np.frombuffer(raw, np.uint8), cv2.IMREAD_UNCHANGED)
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB) if image.ndim == 3 else image


MASTER = png(full_hd(data.astronaut()))  # a 1080p frame: the size the mark is robust at


def register(client, raw: bytes, title: str, service=None) -> str:
    """With `service`, a 202 is settled (its reconciler may be idle) rather than refused."""
    r = client.post(
        "/works",
        files={"file": ("master.png", raw, "image/png")},
        data={"metadata": json.dumps({"title": title, "kind": "film"})},
    )
    if service is not None:
        written(service, r)
    else:
        assert r.status_code == 201, r.text
    return r.json()["work_id"]


def distribute(client, work_id: str, raw: bytes, platform: str, **extra):
    fields = {"platform": platform, **extra.pop("fields", {})}
    return client.post(
        f"/works/{work_id}/distributions",
        files={"file": ("master.png", raw, "image/png")},
        data={"distribution": json.dumps(fields)},
        **extra,
    )


def wait_ready(client, dist_id: int, timeout: float = 60) -> dict:
    return wait_status(client, f"/distributions/{dist_id}", ("ready", "failed"), timeout, every=0.2)
