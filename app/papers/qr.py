"""The QR payload printed on every paper of a round (PRODUCT.md "Secrecy first", RULES.md B3, P1).

Every paper of a round carries the same payload — there is no per-paper number. Format (version 1),
all characters in the QR alphanumeric set so the code stays small::

    JP1.<election>.<round>.<hash>.<mac>

* ``election``: the election id, decimal, no leading zeros (0 … 999999999);
* ``round``: the round number, decimal, no leading zeros (1 … 9999);
* ``hash``: the first 8 characters of the RFC 4648 base32 form (``A-Z2-7``, no padding) of the
  SHA-256 round-definition hash (``app.papers.definition``), i.e. its first 40 bits;
* ``mac``: the first 16 base32 characters (80 bits) of
  ``HMAC-SHA256(key, b"jipiao-qr-v1\\n" + "JP1.<election>.<round>.<hash>")`` under the
  installation secret (``app.papers.keys``).

Example: key ``bytes(range(32))``, election 7, round 1, definition hash ``"a1" * 32`` give
``JP1.7.1.UGQ2DINB.SCO4XQXGH7C2T5MQ`` (pinned in ``tests/papers/test_qr.py``).

``verify_payload`` checks the MAC first (constant-time), so a payload that merely *claims* another
election is ``Forged``; only an authentic payload is told apart as this round, another round of this
election (which one), another election, or a paper printed from another definition of this round.
"""

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass

PAYLOAD_PREFIX = "JP1"
MAC_DOMAIN = b"jipiao-qr-v1\n"
HASH_PREFIX_CHARS = 8
MAC_CHARS = 16
MAX_ELECTION_ID = 999_999_999
MAX_ROUND_NUMBER = 9_999
MIN_KEY_BYTES = 16

_PAYLOAD = re.compile(
    r"JP1\.(0|[1-9][0-9]{0,8})\.([1-9][0-9]{0,3})"
    rf"\.([A-Z2-7]{{{HASH_PREFIX_CHARS}}})\.([A-Z2-7]{{{MAC_CHARS}}})"
)
_HEX64 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True, slots=True)
class Payload:
    """The fields of a well-formed payload (not yet authenticated)."""

    election_id: int
    round_number: int
    hash_prefix: str
    mac: str

    @property
    def body(self) -> str:
        return f"{PAYLOAD_PREFIX}.{self.election_id}.{self.round_number}.{self.hash_prefix}"


@dataclass(frozen=True, slots=True)
class ThisRound:
    """An authentic paper of the round being counted."""

    message_zh: str = "本轮选票"
    message_en: str = "a paper of this round"


@dataclass(frozen=True, slots=True)
class OtherRound:
    """An authentic paper of another round of the same election (P1): which round it is."""

    round_number: int

    @property
    def message_zh(self) -> str:
        return f"本次选举第 {self.round_number} 轮的选票，不是本轮选票"

    @property
    def message_en(self) -> str:
        return f"a paper of round {self.round_number} of this election, not of this round"


@dataclass(frozen=True, slots=True)
class OtherElection:
    """An authentic paper of another election of this installation (P1)."""

    election_id: int
    round_number: int

    @property
    def message_zh(self) -> str:
        return f"另一项选举（编号 {self.election_id}）第 {self.round_number} 轮的选票"

    @property
    def message_en(self) -> str:
        return f"a paper of another election (id {self.election_id}), round {self.round_number}"


@dataclass(frozen=True, slots=True)
class OtherDefinition:
    """Authentic, this round's number, but printed from a different definition (P1): e.g. papers
    printed offline before the round's candidate list was final."""

    message_zh: str = "本轮编号正确，但印制时的候选人名单或规则与本轮不符"
    message_en: str = "this round's number, but printed from another definition of the round"


@dataclass(frozen=True, slots=True)
class Forged:
    """Not a payload this installation made (P1): unreadable, or the MAC does not match."""

    reason: str  # "malformed" | "bad_mac"

    @property
    def message_zh(self) -> str:
        return (
            "二维码格式不对，不是本系统印制的选票"
            if self.reason == "malformed"
            else ("二维码校验失败：伪造或非本系统印制的选票")
        )

    @property
    def message_en(self) -> str:
        return (
            "not a ballot-paper code"
            if self.reason == "malformed"
            else ("the code's MAC does not match: forged or not printed by this installation")
        )


Verdict = ThisRound | OtherRound | OtherElection | OtherDefinition | Forged


def _b32(data: bytes, chars: int) -> str:
    return base64.b32encode(data).decode("ascii")[:chars]


def hash_prefix(definition_hash: str) -> str:
    """The payload's ``hash`` field for a 64-hex-digit definition hash."""
    if not _HEX64.fullmatch(definition_hash):
        raise ValueError("definition_hash: must be 64 lowercase hex digits (SHA-256)")
    return _b32(bytes.fromhex(definition_hash), HASH_PREFIX_CHARS)


def _mac(key: bytes, body: str) -> str:
    if len(key) < MIN_KEY_BYTES:
        raise ValueError(f"key: must be at least {MIN_KEY_BYTES} bytes")
    digest = hmac.new(key, MAC_DOMAIN + body.encode("ascii"), hashlib.sha256).digest()
    return _b32(digest, MAC_CHARS)


def encode_payload(*, key: bytes, election_id: int, round_number: int, definition_hash: str) -> str:
    """The round's payload text (the same for every paper of the round)."""
    if isinstance(election_id, bool) or not 0 <= election_id <= MAX_ELECTION_ID:
        raise ValueError(f"election_id: must be between 0 and {MAX_ELECTION_ID}")
    if isinstance(round_number, bool) or not 1 <= round_number <= MAX_ROUND_NUMBER:
        raise ValueError(f"round_number: must be between 1 and {MAX_ROUND_NUMBER}")
    body = f"{PAYLOAD_PREFIX}.{election_id}.{round_number}.{hash_prefix(definition_hash)}"
    return f"{body}.{_mac(key, body)}"


def parse_payload(text: str) -> Payload | None:
    """The fields of a scanned text, or None when it is not a version-1 payload.

    Surrounding whitespace (some scanners append a newline) is ignored; nothing else is forgiven.
    """
    match = _PAYLOAD.fullmatch(text.strip())
    if match is None:
        return None
    election, round_number, prefix, mac = match.groups()
    return Payload(int(election), int(round_number), prefix, mac)


def verify_payload(
    text: str, *, key: bytes, election_id: int, round_number: int, definition_hash: str
) -> Verdict:
    """Judge a scanned payload against the round being counted (P1).

    The MAC is checked before anything else and in constant time; a well-formed text with a wrong
    MAC is ``Forged("bad_mac")`` even when it names this very round.
    """
    payload = parse_payload(text)
    if payload is None:
        return Forged("malformed")
    if not hmac.compare_digest(_mac(key, payload.body), payload.mac):
        return Forged("bad_mac")
    if payload.election_id != election_id:
        return OtherElection(payload.election_id, payload.round_number)
    if payload.round_number != round_number:
        return OtherRound(payload.round_number)
    if not hmac.compare_digest(payload.hash_prefix, hash_prefix(definition_hash)):
        return OtherDefinition()
    return ThisRound()
