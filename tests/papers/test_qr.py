"""QR payloads: format, MAC, and the five distinct verdicts (issue "Ballot papers", item 2)."""

import base64
import hashlib
import hmac
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.papers import qr

KEY = bytes(range(32))
HASH = "a1" * 32
OTHER_HASH = "b2" * 32


def payload(election_id: int = 7, round_number: int = 1, definition_hash: str = HASH) -> str:
    return qr.encode_payload(
        key=KEY, election_id=election_id, round_number=round_number, definition_hash=definition_hash
    )


def verify(text: str, *, key: bytes = KEY) -> qr.Verdict:
    return qr.verify_payload(text, key=key, election_id=7, round_number=1, definition_hash=HASH)


def test_known_vector() -> None:
    # Re-implemented from the docstring: base32(definition hash)[:8], base32(HMAC-SHA256)[:16].
    body = "JP1.7.1." + base64.b32encode(bytes.fromhex(HASH)).decode()[:8]
    mac = hmac.new(KEY, b"jipiao-qr-v1\n" + body.encode(), hashlib.sha256).digest()
    expected = f"{body}.{base64.b32encode(mac).decode()[:16]}"
    assert payload() == expected == "JP1.7.1.UGQ2DINB.SCO4XQXGH7C2T5MQ"


def test_payload_uses_only_the_qr_alphanumeric_set_and_is_short() -> None:
    text = payload(999_999_999, 9_999)
    assert re.fullmatch(r"[0-9A-Z $%*+\-./:]+", text)
    assert len(text) <= 48


def test_this_round() -> None:
    assert verify(payload()) == qr.ThisRound()
    assert verify(payload() + "\n") == qr.ThisRound()  # scanners may append a newline


def test_another_round_of_this_election_says_which() -> None:
    verdict = verify(payload(round_number=2))
    assert verdict == qr.OtherRound(2)
    assert "第 2 轮" in verdict.message_zh


def test_another_election() -> None:
    assert verify(payload(election_id=8, round_number=3)) == qr.OtherElection(8, 3)


def test_this_round_printed_from_another_definition() -> None:
    assert verify(payload(definition_hash=OTHER_HASH)) == qr.OtherDefinition()


def test_wrong_key_is_forged_even_when_it_names_this_round() -> None:
    foreign = qr.encode_payload(key=b"x" * 32, election_id=7, round_number=1, definition_hash=HASH)
    assert verify(foreign) == qr.Forged("bad_mac")


def test_a_claim_of_another_election_without_a_valid_mac_is_forged() -> None:
    genuine = payload()
    tampered = genuine.replace("JP1.7.", "JP1.8.", 1)
    assert verify(tampered) == qr.Forged("bad_mac")


@pytest.mark.parametrize(
    "text",
    ["", "hello", "JP2.7.1.UGQ2DINB.SCO4XQXGH7C2T5MQ", "jp1.7.1.ugq2dinb.sco4xqxgh7c2t5mq",
     "JP1.07.1.UGQ2DINB.SCO4XQXGH7C2T5MQ", "JP1.7.0.UGQ2DINB.SCO4XQXGH7C2T5MQ",
     "JP1.7.1.UGQ2DINB.SCO4XQXGH7C2T5M", "JP1.7.1.UGQ2DIN1.SCO4XQXGH7C2T5MQ"],
)  # fmt: skip
def test_malformed_texts_are_refused_as_forged(text: str) -> None:
    assert verify(text) == qr.Forged("malformed")


def test_verdicts_are_all_distinct_and_explained() -> None:
    verdicts = [
        verify(payload()),
        verify(payload(round_number=2)),
        verify(payload(election_id=8)),
        verify(payload(definition_hash=OTHER_HASH)),
        verify(payload(), key=b"y" * 32),
        verify("nonsense"),
    ]
    assert len({type(v).__name__ + repr(v) for v in verdicts}) == len(verdicts)
    for verdict in verdicts:
        assert verdict.message_zh
        assert verdict.message_en


def test_bad_arguments_are_bugs() -> None:
    with pytest.raises(ValueError, match="definition_hash"):
        payload(definition_hash="ABC")
    with pytest.raises(ValueError, match="key"):
        qr.encode_payload(key=b"short", election_id=1, round_number=1, definition_hash=HASH)
    with pytest.raises(ValueError, match="round_number"):
        payload(round_number=0)
    with pytest.raises(ValueError, match="election_id"):
        payload(election_id=-1)


@given(
    election_id=st.integers(0, qr.MAX_ELECTION_ID),
    round_number=st.integers(1, qr.MAX_ROUND_NUMBER),
    digest=st.binary(min_size=32, max_size=32),
)
def test_round_trip(election_id: int, round_number: int, digest: bytes) -> None:
    text = qr.encode_payload(
        key=KEY, election_id=election_id, round_number=round_number, definition_hash=digest.hex()
    )
    parsed = qr.parse_payload(text)
    assert parsed is not None
    assert (parsed.election_id, parsed.round_number) == (election_id, round_number)
    assert (
        qr.verify_payload(
            text,
            key=KEY,
            election_id=election_id,
            round_number=round_number,
            definition_hash=digest.hex(),
        )
        == qr.ThisRound()
    )
