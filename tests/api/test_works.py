"""Registering and reading works over HTTP: uploads hashed as they stream, registrations by
hash, duplicates, idempotent retries, roles and tenants, and malformed input."""

from __future__ import annotations

import hashlib
import io
import json
import re
import socket

import numpy as np
import pytest
from PIL import Image
from skimage import data
from typer.testing import CliRunner

from api import upload as api_upload
from ledger.cli import app as cli
from ledger.models import Role
from tests.helpers.service import settle
from watermark.frame_hashes import EARLIER_REGISTERED_VARIANTS, REGISTERED_VARIANTS
from watermark.hash_sequence import hash_image


def png_bytes(array: np.ndarray) -> bytes:
    out = io.BytesIO()
    Image.fromarray(array).save(out, format="PNG")
    return out.getvalue()


ASTRONAUT = png_bytes(data.astronaut())  # scikit-image's bundled photograph (NASA, public domain)


def metadata(title: str = "The Long Night", kind: str = "film", **extra) -> str:
    return json.dumps({"title": title, "kind": kind, "parties": [{"name": "Studio A", "role": "producer"}], **extra})


def upload(client, content: bytes, meta: str | None = None, **headers):
    return client.post(
        "/works",
        files={"file": ("master.png", content, "image/png")},
        data={"metadata": meta or metadata()},
        headers=headers,
    )


def by_hash(client, content_hash: str, title: str = "Held by its owner", **extra):
    return client.post("/works", json={"sha256": content_hash, "title": title, "kind": "film", **extra})


def unique_image(seed: int) -> bytes:
    """A real photograph with a few pixels changed: a different file, the same picture."""
    pixels = data.astronaut().copy()
    pixels[0, 0] = [seed % 256, seed // 256 % 256, 7]
    return png_bytes(pixels)


def test_upload_is_hashed_fingerprinted_and_confirmed_on_chain(service, studio):
    _, address, client = studio
    content = unique_image(1)
    response = upload(client, content)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["work_id"] == "0x" + hashlib.sha256(content).hexdigest()
    assert body["chain"]["status"] == "confirmed" and body["chain"]["tx_hash"]
    assert body["fingerprint"]["kind"] == "image-phash64"
    assert body["size_bytes"] == len(content)

    detail = client.get(f"/works/{body['work_id']}").json()
    assert detail["on_chain"]["owner"] == address
    assert detail["on_chain"]["metadata_hash"] == body["metadata_hash"]
    document = client.get(f"/works/{body['work_id']}/metadata").content
    assert "0x" + hashlib.sha256(document).hexdigest() == body["metadata_hash"]


def test_registration_by_hash_keeps_the_file_with_its_owner(service, studio):
    _, _, client = studio
    content_hash = hashlib.sha256(b"a file that never leaves the studio").hexdigest()
    response = by_hash(client, content_hash)
    assert response.status_code == 201, response.text
    assert response.json()["work_id"] == "0x" + content_hash
    assert response.json()["fingerprint"]["kind"] is None


def test_exact_duplicate_is_409_with_the_existing_work(service, studio):
    _, _, client = studio
    content = unique_image(2)
    first = upload(client, content).json()
    _, _, rival = service.new_account(Role.rights_holder)
    again = upload(rival, content)
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "duplicate_work"
    assert again.json()["error"]["details"]["work_id"] == first["work_id"]


def test_near_duplicate_is_registered_and_flagged(service, studio):
    _, _, client = studio
    original = upload(client, unique_image(3)).json()
    shrunk = np.asarray(Image.fromarray(data.astronaut()).resize((384, 384)))
    copy = upload(client, png_bytes(shrunk), metadata("A re-encoded copy"))
    assert copy.status_code == 201
    assert copy.json()["near_duplicate_of"] is not None
    assert copy.json()["near_duplicate_distance"] <= 10
    assert original["work_id"] != copy.json()["work_id"]


def test_works_register_says_what_a_near_duplicate_means(service, studio, tmp_path):
    """The CLI names the work the fingerprint matches (its title, as the work is the caller's)
    and that the registration went ahead."""
    _, _, client = studio
    original = upload(client, png_bytes(data.coffee()), metadata("Morning Coffee")).json()
    copy = tmp_path / "coffee-small.png"
    Image.fromarray(data.coffee()).resize((300, 200)).save(copy)
    env = {
        "REELLEDGER_URL": service.url,
        "REELLEDGER_API_KEY": client.headers["Authorization"].removeprefix("Bearer "),
        "COLUMNS": "250",
    }
    args = ["works", "register", str(copy), "--title", "Morning Coffee", "--hash-only"]
    printed = CliRunner().invoke(cli, args, env=env)
    assert printed.exit_code == 0, printed.output
    assert re.search(
        rf'its fingerprint matches work {original["work_id"]} \("Morning Coffee"\) at a distance of \d+ bits of 64: '
        r"probably the same footage; registered anyway",
        " ".join(printed.output.split()),  # as a reader reads it, however the terminal wrapped it
    ), printed.output


def test_retry_with_the_same_idempotency_key_makes_one_work_and_one_transaction(service, studio):
    _, _, client = studio
    content = unique_image(4)
    first = upload(client, content, **{"Idempotency-Key": "upload-4"})
    second = upload(client, content, **{"Idempotency-Key": "upload-4"})
    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json()["chain"]["tx_hash"] == second.json()["chain"]["tx_hash"]
    listed = client.get("/works", params={"limit": 500}).json()
    assert [w["work_id"] for w in listed["items"]].count(first.json()["work_id"]) == 1


def test_other_tenants_work_is_not_found_and_listing_shows_only_own(service, studio):
    _, _, client = studio
    mine = by_hash(client, hashlib.sha256(b"mine").hexdigest()).json()
    _, _, other = service.new_account(Role.rights_holder)
    assert other.get(f"/works/{mine['work_id']}").status_code == 404
    assert mine["work_id"] not in [w["work_id"] for w in other.get("/works").json()["items"]]
    _, _, auditor = service.new_account(Role.auditor)
    assert auditor.get(f"/works/{mine['work_id']}").status_code == 200


def test_only_rights_holders_register(service):
    _, _, platform = service.new_account(Role.platform)
    response = by_hash(platform, hashlib.sha256(b"not theirs").hexdigest())
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"


def test_a_platform_is_refused_before_its_upload_is_read(service, monkeypatch):
    """The role is checked first: no byte of the master reaches the upload sink."""
    received: list[int] = []
    monkeypatch.setattr(api_upload._Sink, "put", lambda self, chunk: received.append(len(chunk)))
    _, _, platform = service.new_account(Role.platform)
    response = upload(platform, unique_image(40) + bytes(4 * 2**20))
    assert response.status_code == 403
    assert "only a rights holder registers works" in response.json()["error"]["message"]
    assert received == []


@pytest.mark.parametrize("hash_only", [True, False])
def test_works_register_refuses_a_platform_before_hashing_or_uploading(service, tmp_path, monkeypatch, hash_only):
    """The CLI asks whose key it holds first: a platform learns at once, not after its master
    was hashed here or uploaded."""
    import ledger.cli.client as cli_client

    def touched(*args, **kwargs):
        raise AssertionError("the master was read")

    monkeypatch.setattr(cli_client, "sha256_file", touched)
    monkeypatch.setattr(cli_client, "ProgressReader", touched)
    _, _, platform = service.new_account(Role.platform)
    master = tmp_path / "film.png"
    master.write_bytes(unique_image(41))
    env = {
        "REELLEDGER_URL": service.url,
        "REELLEDGER_API_KEY": platform.headers["Authorization"].removeprefix("Bearer "),
        "COLUMNS": "250",
    }
    args = ["works", "register", str(master), "--title", "Not Theirs"] + (["--hash-only"] if hash_only else [])
    printed = CliRunner().invoke(cli, args, env=env)
    assert printed.exit_code == 1, printed.output
    assert "refused: only a rights holder registers works; REELLEDGER_API_KEY is the key of 'platform-" in (
        printed.output
    )
    assert "a platform: use a rights holder's key" in printed.output
    assert "the master was read" not in printed.output


@pytest.mark.parametrize("path", ["/works", "/works/jobs"])
def test_a_platform_has_its_answer_before_sending_a_large_master(service, path):
    """Over a socket: the headers announce 200 MB and only the first 64 KiB are sent, yet the
    403 arrives, so the service answered without waiting for (or reading) the rest."""
    _, _, platform = service.new_account(Role.platform)
    key = platform.headers["Authorization"].removeprefix("Bearer ")
    boundary = "reelledgerboundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="metadata"\r\n\r\n{metadata()}\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="film.mp4"\r\n'
        "Content-Type: video/mp4\r\n\r\n"
    ).encode() + bytes(64 * 1024)
    request = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {key}\r\n"
        f"Content-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {200 * 2**20}\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", service.settings.port), timeout=30) as sock:
        sock.sendall(request + head)
        answer = b""
        while b"\r\n\r\n" not in answer or not answer.rstrip().endswith(b"}"):
            chunk = sock.recv(65536)
            assert chunk, answer
            answer += chunk
    status_line, _, rest = answer.partition(b"\r\n")
    assert status_line == b"HTTP/1.1 403 Forbidden", answer
    body = json.loads(rest.partition(b"\r\n\r\n")[2])
    assert body["error"]["code"] == "forbidden"
    assert "only a rights holder registers works" in body["error"]["message"]


@pytest.mark.parametrize(
    "send, field",
    [
        (lambda c: c.post("/works", content=b"{not json", headers={"content-type": "application/json"}), "body"),
        (lambda c: c.post("/works", json={"title": "no hash", "kind": "film"}), None),
        (lambda c: c.post("/works", json={"sha256": "abc", "title": "short", "kind": "film"}), "sha256"),
        (lambda c: c.post("/works", json={"sha256": "0x" + "ab" * 32, "title": "t", "kind": "opera"}), None),
        (lambda c: c.post("/works", json={"sha256": "ab" * 32, "title": 5, "kind": "film"}), None),
        (lambda c: upload(c, b""), "file"),
        (lambda c: upload(c, b"x", meta="{broken"), "metadata"),
    ],
    ids=[
        "malformed-json",
        "missing-hash",
        "short-hash",
        "unknown-kind",
        "title-not-string",
        "empty-upload",
        "bad-metadata",
    ],
)
def test_bad_input_is_a_clear_4xx(service, studio, send, field):
    _, _, client = studio
    response = send(client)
    assert 400 <= response.status_code < 500, response.text
    error = response.json()["error"]
    assert error["code"] in ("invalid_input", "invalid_request")
    if field:
        assert error["details"]["field"] == field


def test_truncated_upload_is_refused_and_nothing_is_registered(service, studio):
    _, _, client = studio
    boundary = "cut-here"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="metadata"\r\n\r\n{metadata()}\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="m.bin"\r\n\r\n'
    ).encode() + b"partial bytes and then the connection ends"
    before = client.get("/works").json()["total"]
    response = client.post(
        "/works", content=body, headers={"content-type": f"multipart/form-data; boundary={boundary}"}
    )
    assert response.status_code == 422
    assert "truncated" in response.json()["error"]["message"]
    assert client.get("/works").json()["total"] == before


def test_unknown_work_is_404(service, studio):
    _, _, client = studio
    response = client.get("/works/0x" + "00" * 32)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_missing_wrong_or_revoked_api_key_is_401(service, admin):
    assert service.client().get("/works").status_code == 401
    assert service.client("rlk_000000000000_forged").get("/works").status_code == 401
    account_id, _, client = service.new_account(Role.rights_holder)
    assert client.get("/accounts/me").status_code == 200
    assert admin.delete(f"/accounts/{account_id}/key").status_code == 200
    response = client.get("/accounts/me")
    assert response.status_code == 401 and response.json()["error"]["code"] == "unauthenticated"


def test_work_registered_on_chain_by_other_means_is_409_and_leaves_no_row(service, studio):
    _, address, client = studio
    content_hash = hashlib.sha256(b"registered straight on chain").digest()
    signer = service.ledger.chain.signer
    service.ledger.registries.register_work(
        "outside-the-api",
        signer,
        work_id=content_hash,
        owner=signer,
        fingerprint=b"\0" * 32,
        metadata_hash=b"\0" * 32,
        metadata_uri="",
    )
    response = by_hash(client, content_hash.hex())
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "WorkAlreadyRegistered"
    assert client.get(f"/works/0x{content_hash.hex()}").status_code == 404


def test_upload_of_other_content_is_hashed_without_a_fingerprint(service, studio):
    _, _, client = studio
    content = b"%PDF-1.7 a contract, not a picture " * 1000
    response = client.post(
        "/works",
        files={"file": ("contract.pdf", content, "application/pdf")},
        data={"metadata": metadata("Screenplay")},
    )
    assert response.status_code == 201, response.text
    assert response.json()["work_id"] == "0x" + hashlib.sha256(content).hexdigest()
    assert response.json()["fingerprint"]["kind"] is None
    assert list((service.settings.data_dir / "uploads").iterdir()) == []  # nothing left behind


def test_own_address_account_registers_once_it_approves_the_service_on_chain(service):
    ledger = service.ledger
    wallet = ledger.keys.ensure(
        f"their-own-wallet-{hashlib.sha256(b'w').hexdigest()[:6]}"
    )  # stands in for the user's wallet
    ledger.chain.fund(wallet)
    _, address, client = service.new_account(Role.rights_holder, address=wallet)
    assert client.get("/accounts/me").json()["custodial"] is False
    content_hash = hashlib.sha256(b"self-custodied studio").hexdigest()

    refused = by_hash(client, content_hash)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "WorkUnauthorized"

    operator = service.client().get("/health").json()["operator"]
    assert f"WorkRegistry.setOperator({operator}, true)" in refused.json()["error"]["message"]  # how to approve
    ledger.registries.set_operator("wallet-approves-service", wallet, operator, True)  # signed by the wallet
    accepted = by_hash(client, content_hash)
    assert accepted.status_code == 201
    assert client.get(f"/works/0x{content_hash}").json()["on_chain"]["owner"] == address


def test_ids_out_of_range_are_422_not_500(service, admin):
    assert admin.get(f"/licences/{10**20}").status_code == 422
    assert admin.delete(f"/accounts/{10**20}/key").status_code == 422
    assert admin.get("/works", params={"limit": 10**6}).status_code == 422


def test_a_page_of_episodes_names_their_series_without_a_query_per_work(service, studio):
    """GET /works reads the series of a whole page of episodes in one query, not one per episode."""
    from sqlalchemy import event

    client = studio[2]
    series = by_hash(client, "0x" + hashlib.sha256(b"a series of its own").hexdigest(), "The Series", kind="series")
    assert series.status_code in (201, 202), series.text
    series_id = series.json()["work_id"]
    for n in range(5):
        content = hashlib.sha256(f"episode {n}".encode()).hexdigest()
        episode = by_hash(client, content, f"Episode {n}", kind="episode", parent=series_id)
        assert episode.status_code in (201, 202), episode.text
    settle(service.ledger.chain.outbox)

    one_by_one = []

    def count(conn, cursor, statement, parameters, context, executemany):
        if "FROM work" in statement and "WHERE work.id = " in statement:
            one_by_one.append(statement)

    event.listen(service.ledger.engine, "before_cursor_execute", count)
    try:
        listed = client.get("/works", params={"kind": "episode"})
    finally:
        event.remove(service.ledger.engine, "before_cursor_execute", count)
    assert listed.status_code == 200, listed.text
    items = listed.json()["items"]
    assert len(items) == 5 and {w["parent"] for w in items} == {series_id}
    assert one_by_one == []


@pytest.mark.parametrize(
    ("variants", "status"),
    [(REGISTERED_VARIANTS, 201), *[(v, 201) for v in EARLIER_REGISTERED_VARIANTS], (("whole",), 422)],
)
def test_frames_hashed_by_this_or_an_earlier_client_are_taken_and_others_refused(
    service, studio, tmp_path, variants, status
):
    _, _, client = studio
    still = tmp_path / "still.png"
    still.write_bytes(unique_image(90 + len(variants)))
    frames = hash_image(still, variants).to_json()
    response = by_hash(client, hashlib.sha256(still.read_bytes()).hexdigest(), frames=frames)
    assert response.status_code == status, response.text
    if status == 422:
        assert response.json()["error"]["details"]["field"] == "frames"
