"""The hall's certificate authority (CA) and the server certificate it signs.

* ``<data_dir>/secrets/hall-ca.pem`` (0600, with the other keys): the CA's private key and its
  certificate, made at the first ``--hall`` start and then kept for 10 years: a tablet that
  trusts it goes on trusting the service across restarts, a new address of the laptop and a
  restored backup (``jipiao keys backup`` carries it, ``app.keys``).
* ``<data_dir>/secrets/hall-server.pem`` (0600): the server's key and certificate, signed by the
  CA, for the hall address and ``localhost``/127.0.0.1. Made anew (same CA) at a start whose
  address is not in it, when the CA there did not sign it, or when it ends within
  ``RENEW_BEFORE``. It lasts 397 days: Apple's devices refuse a server certificate of more than
  825 days, public ones more than 398.

Keys are ECDSA P-256 (every tablet browser accepts them; certificates signed with SHA-256).
One file holds a key with its certificate, so the two are always written together (atomically,
``app.keyfiles.write_private``): never a certificate whose key was lost halfway.
"""

import datetime
import hashlib
import ipaddress
import re
import socket
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from app.keyfiles import KeyFileError, write_private

CA_PATH = Path("secrets") / "hall-ca.pem"
SERVER_PATH = Path("secrets") / "hall-server.pem"
CA_LIFETIME = datetime.timedelta(days=3650)
SERVER_LIFETIME = datetime.timedelta(days=397)
RENEW_BEFORE = datetime.timedelta(days=30)
# A tablet whose clock runs a little behind the laptop's must still accept a new certificate.
_BACKDATE = datetime.timedelta(days=1)
_PEM_BLOCK = re.compile(rb"-----BEGIN ([A-Z ]+)-----.+?-----END \1-----\r?\n?", re.DOTALL)


class HallCaError(KeyFileError):
    """The hall CA file exists but is not a CA key with its certificate (the message says why)."""


def fingerprint(der: bytes, algorithm: str = "sha256") -> str:
    """``AB:CD:…``: how iPadOS, Android, Windows and macOS show a certificate's fingerprint."""
    return ":".join(f"{byte:02X}" for byte in hashlib.new(algorithm, der).digest())


@dataclass(frozen=True, slots=True)
class HallCa:
    key: ec.EllipticCurvePrivateKey
    certificate: x509.Certificate

    def der(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.DER)

    def sha256(self) -> str:
        return fingerprint(self.der())

    def sha1(self) -> str:
        """Windows shows the SHA-1 thumbprint first (指纹 / Thumbprint)."""
        return fingerprint(self.der(), "sha1")

    def certificate_pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    def pem(self) -> bytes:
        """The key and the certificate (the CA file's content, and a keys backup's)."""
        return _key_and_certificate(self.key, self.certificate)


def _key_and_certificate(key: ec.EllipticCurvePrivateKey, certificate: x509.Certificate) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ) + certificate.public_bytes(serialization.Encoding.PEM)


def _split(content: bytes) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    """The key and the certificate of a file this module wrote; ValueError if it is not one."""
    blocks = {match.group(1): match.group(0) for match in _PEM_BLOCK.finditer(content)}
    if set(blocks) != {b"PRIVATE KEY", b"CERTIFICATE"}:
        raise ValueError("not a key and a certificate")
    key = serialization.load_pem_private_key(blocks[b"PRIVATE KEY"], password=None)
    certificate = x509.load_pem_x509_certificate(blocks[b"CERTIFICATE"])
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.public_key() != (
        certificate.public_key()
    ):
        raise ValueError("the key is not the certificate's")
    return key, certificate


def parse_ca(content: bytes, source: str) -> HallCa:
    """A CA key with its certificate (``HallCaError`` if ``content`` is not one)."""
    try:
        key, certificate = _split(content)
        constraints = certificate.extensions.get_extension_for_class(x509.BasicConstraints)
        if not constraints.value.ca:
            raise ValueError("not a CA")
    except (ValueError, TypeError, x509.ExtensionNotFound):
        raise HallCaError(
            f"{source}: 不是会场证书颁发机构（CA）的密钥与证书 / not the hall CA's key and "
            "certificate"
        ) from None
    return HallCa(key, certificate)


def load_ca(data_dir: Path) -> HallCa | None:
    """The hall CA of ``data_dir``, or None if there is none (never made here)."""
    path = data_dir / CA_PATH
    if not path.exists():
        return None
    return parse_ca(path.read_bytes(), str(path))


def _key_usage(*, signs_certificates: bool) -> x509.KeyUsage:
    """Signatures (the TLS handshake), and for the CA also certificates (and revocation lists)."""
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=signs_certificates,
        crl_sign=signs_certificates,
        encipher_only=False,
        decipher_only=False,
    )


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _make_ca(now: datetime.datetime) -> HallCa:
    key = ec.generate_private_key(ec.SECP256R1())
    # The name a tablet shows in its list of certificates: which laptop, made when.
    common_name = f"jipiao 计票 会场 CA {socket.gethostname()[:24]} {now:%Y-%m-%d}"
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "jipiao"),
        ]
    )
    public = key.public_key()
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _BACKDATE)
        .not_valid_after(now + CA_LIFETIME)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(signs_certificates=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )
    return HallCa(key, certificate)


def ensure_ca(data_dir: Path) -> tuple[HallCa, bool]:
    """The hall CA of ``data_dir``, made if there is none yet; True if made now."""
    existing = load_ca(data_dir)
    if existing is not None:
        return existing, False
    made = _make_ca(_now())
    written = write_private(data_dir / CA_PATH, made.pem())
    if not written:  # another start was first: keep its CA
        found = load_ca(data_dir)
        assert found is not None
        return found, False
    return made, True


def _subject_alternative_name(address: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(address))
    except ValueError:
        return x509.DNSName(address)


def _server_names(address: str) -> list[x509.GeneralName]:
    names = [
        _subject_alternative_name(address),
        x509.DNSName("localhost"),
        x509.IPAddress(ipaddress.IPv4Address("127.0.0.1")),
    ]
    return list(dict.fromkeys(names))


def _fits(content: bytes, ca: HallCa, address: str, now: datetime.datetime) -> bool:
    """The server file holds a certificate for ``address`` that ``ca`` signed and that does not
    end within ``RENEW_BEFORE``."""
    try:
        _key, certificate = _split(content)
        certificate.verify_directly_issued_by(ca.certificate)
        names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except (ValueError, TypeError, InvalidSignature, x509.ExtensionNotFound):
        return False
    return (
        _subject_alternative_name(address) in names.value
        and certificate.not_valid_after_utc - RENEW_BEFORE > now
    )


def _make_server_certificate(ca: HallCa, address: str, now: datetime.datetime) -> bytes:
    key = ec.generate_private_key(ec.SECP256R1())
    public = key.public_key()
    certificate = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, address[:64])]))
        .issuer_name(ca.certificate.subject)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _BACKDATE)
        .not_valid_after(now + SERVER_LIFETIME)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(signs_certificates=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName(_server_names(address)), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()),
            critical=False,
        )
        .sign(ca.key, hashes.SHA256())
    )
    return _key_and_certificate(key, certificate)


@dataclass(frozen=True, slots=True)
class HallCertificates:
    ca: HallCa
    ca_made: bool
    server_path: Path  # key and certificate: uvicorn's ssl_keyfile and ssl_certfile
    server_made: bool


def ensure_certificates(data_dir: Path, address: str) -> HallCertificates:
    """The CA (made once) and a server certificate for ``address`` signed by it (made anew
    only when the one there does not fit, ``_fits``)."""
    ca, ca_made = ensure_ca(data_dir)
    path = data_dir / SERVER_PATH
    now = _now()
    if path.exists() and _fits(path.read_bytes(), ca, address, now):
        return HallCertificates(ca, ca_made, path, server_made=False)
    write_private(path, _make_server_certificate(ca, address, now), replace=True)
    return HallCertificates(ca, ca_made, path, server_made=True)
