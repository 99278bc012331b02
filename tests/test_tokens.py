"""flows.tokens: signed links work once signed, for their purpose, until they expire."""

from __future__ import annotations

import stat
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from extract.errors import TokenError
from flows.settings import load_settings
from flows.tokens import (
    read_payload,
    read_token,
    secret_key,
    sign_payload,
    sign_token,
    signed_link,
)

SECRET = "test-secret"
DAY = 86400.0


def test_token_round_trip_per_purpose() -> None:
    for purpose in ("unsubscribe", "preferences", "confirm"):
        token = sign_token("ana@example.com", purpose, SECRET)
        assert read_token(token, purpose, SECRET, max_age=DAY) == "ana@example.com"


def test_token_for_another_purpose_or_key_is_refused() -> None:
    token = sign_token("ana@example.com", "unsubscribe", SECRET)
    with pytest.raises(TokenError, match="preferences link is not valid"):
        read_token(token, "preferences", SECRET, max_age=DAY)
    with pytest.raises(TokenError, match="unsubscribe link is not valid"):
        read_token(token, "unsubscribe", "another-secret", max_age=DAY)
    with pytest.raises(TokenError, match="not valid"):
        read_token(token[:-2] + "xx", "unsubscribe", SECRET, max_age=DAY)
    with pytest.raises(TokenError, match="not valid"):
        read_token("garbage", "unsubscribe", SECRET, max_age=DAY)
    with pytest.raises(TokenError, match="unknown token purpose"):
        sign_token("ana@example.com", "admin", SECRET)


def test_expired_token_is_refused() -> None:
    # Signed 61 days ago: itsdangerous takes the signing time from its signer's clock, so sign
    # with a signer whose clock is set back (the same key and salt as flows.tokens).
    class PastSigner(TimestampSigner):
        def get_timestamp(self) -> int:
            return super().get_timestamp() - 61 * 86400

    past = URLSafeTimedSerializer(SECRET, salt="basewatch-unsubscribe", signer=PastSigner)
    token = past.dumps("ana@example.com")
    assert read_token(token, "unsubscribe", SECRET, max_age=62 * DAY) == "ana@example.com"
    with pytest.raises(TokenError, match="unsubscribe link has expired"):
        read_token(token, "unsubscribe", SECRET, max_age=60 * DAY)


def test_key_is_made_once_and_kept_private(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path / "data")
    first = secret_key(settings)
    key_file = tmp_path / "data" / "secret.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert len(first) >= 40
    assert settings.resolved_secret_key == first  # read back, not made again
    assert load_settings(data_dir=tmp_path / "data", secret_key="given").resolved_secret_key == (
        "given"
    )


def test_signed_link_points_to_the_web_app(tmp_path: Path) -> None:
    settings = load_settings(
        data_dir=tmp_path / "data", base_url="https://watch.example/", secret_key=SECRET
    )
    link = signed_link(settings, "ana@example.com", "unsubscribe")
    parts = urlsplit(link)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "watch.example", "/unsubscribe")
    [token] = parse_qs(parts.query)["token"]
    assert read_token(token, "unsubscribe", SECRET, settings.token_max_age) == "ana@example.com"
    assert settings.token_max_age == 60 * DAY
    assert urlsplit(signed_link(settings, "a@b.example", "preferences")).path == "/preferences"


def test_payload_tokens_carry_a_dict_for_their_purpose_only() -> None:
    payload = {"email": "ana@example.com", "prefs": {"countries": ["IQ"], "cadence": "weekly"}}
    token = sign_payload(payload, "confirm", SECRET)
    assert read_payload(token, "confirm", SECRET, max_age=DAY) == payload
    with pytest.raises(TokenError, match="preferences link is not valid"):
        read_payload(token, "preferences", SECRET, max_age=DAY)
    with pytest.raises(TokenError, match="confirm link is not valid"):
        read_payload(token, "confirm", "another-secret", max_age=DAY)
    # An address token is no payload token, and the other way round.
    with pytest.raises(TokenError, match="confirm link is not valid"):
        read_payload(sign_token("ana@example.com", "confirm", SECRET), "confirm", SECRET, DAY)
    with pytest.raises(TokenError, match="confirm link is not valid"):
        read_token(token, "confirm", SECRET, max_age=DAY)
