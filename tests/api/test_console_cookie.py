"""The console's session cookie is Secure when the service says it is reached over HTTPS
(REELLEDGER_SECURE_COOKIES, for a TLS-terminating proxy in front of it), and not otherwise
(a browser on plain http://127.0.0.1 would then never send it back)."""

from __future__ import annotations

import pytest

from ledger.models import Role
from tests.helpers.service import running_service


def session_cookie(service) -> str:
    _, _, holder = service.new_account(Role.rights_holder)
    with holder, service.client() as browser:
        response = browser.post(
            "/console/session", json={"api_key": holder.headers["Authorization"].removeprefix("Bearer ")}
        )
    assert response.status_code == 200, response.text
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie
    return cookie


@pytest.mark.parametrize("secure", [True, False])
def test_the_session_cookie_is_secure_behind_a_tls_proxy_and_only_when_told(tmp_path, secure):
    with running_service(tmp_path / "data", secure_cookies=secure) as service:
        assert ("; Secure" in session_cookie(service)) is secure
