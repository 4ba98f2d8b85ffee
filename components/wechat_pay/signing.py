"""WeChat Pay API v3 cryptography, as plain functions (no I/O, fast tests).

- Our requests carry ``Authorization: WECHATPAY2-SHA256-RSA2048 …``: an RSA-SHA256 (PKCS#1
  v1.5) signature with the merchant's private key over ``METHOD\\nPATH?QUERY\\nTIMESTAMP\\n
  NONCE\\nBODY\\n``.
- WeChat's responses and callbacks carry ``Wechatpay-Signature`` over
  ``TIMESTAMP\\nNONCE\\nBODY\\n``, checked with the platform public key named by
  ``Wechatpay-Serial`` (a ``PUB_KEY_ID_…`` or a platform certificate's serial number).
- Callback resources are encrypted with AEAD_AES_256_GCM under the merchant's APIv3 key.
- ``wx.requestPayment`` needs ``paySign`` over ``APPID\\nTIMESTAMP\\nNONCE\\nprepay_id=…\\n``.
"""

from __future__ import annotations

import base64
import json
import secrets
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

SCHEME = "WECHATPAY2-SHA256-RSA2048"


class SignatureError(Exception):
    """A message that WeChat did not sign, or that was changed after signing."""


def load_private_key(pem: str) -> rsa.RSAPrivateKey:
    key = serialization.load_pem_private_key(_pem(pem, "PRIVATE KEY").encode(), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("the merchant key must be an RSA private key")
    return key


def load_platform_key(pem: str) -> tuple[rsa.RSAPublicKey, str | None]:
    """The platform's public key, from a public key PEM or a platform certificate PEM; for a
    certificate also its serial number in WeChat's spelling (upper-case hex)."""
    text = pem.strip()
    if "BEGIN CERTIFICATE" in text:
        cert = x509.load_pem_x509_certificate(text.encode())
        key, serial = cert.public_key(), format(cert.serial_number, "X")
    else:
        key, serial = serialization.load_pem_public_key(_pem(text, "PUBLIC KEY").encode()), None
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValueError("the platform key must be an RSA public key")
    return key, serial


def _pem(text: str, kind: str) -> str:
    """Accept the PEM as WeChat's merchant platform hands it out, or only its base64 body
    (an environment variable often loses the line breaks)."""
    text = text.strip()
    if text.startswith("-----BEGIN"):
        return text
    body = "".join(text.split())
    lines = "\n".join(body[i : i + 64] for i in range(0, len(body), 64))
    return f"-----BEGIN {kind}-----\n{lines}\n-----END {kind}-----\n"


def rsa_sign(key: rsa.RSAPrivateKey, message: str) -> str:
    return base64.b64encode(key.sign(message.encode(), padding.PKCS1v15(), hashes.SHA256())).decode()


def rsa_verify(key: rsa.RSAPublicKey, message: str, signature: str) -> bool:
    try:
        key.verify(base64.b64decode(signature, validate=True), message.encode(), padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


def nonce() -> str:
    return secrets.token_hex(16).upper()


def authorization(key: rsa.RSAPrivateKey, *, mch_id: str, serial_no: str, method: str, path: str, body: str, timestamp: int, nonce_str: str) -> str:
    """The ``Authorization`` header of one API request (``path`` includes the query string)."""
    message = f"{method.upper()}\n{path}\n{timestamp}\n{nonce_str}\n{body}\n"
    signature = rsa_sign(key, message)
    return f'{SCHEME} mchid="{mch_id}",nonce_str="{nonce_str}",signature="{signature}",timestamp="{timestamp}",serial_no="{serial_no}"'


def response_message(timestamp: str, nonce_str: str, body: str) -> str:
    return f"{timestamp}\n{nonce_str}\n{body}\n"


@dataclass(frozen=True)
class SignedHeaders:
    timestamp: str
    nonce: str
    signature: str
    serial: str

    @classmethod
    def of(cls, headers: Any) -> SignedHeaders:
        """From response or callback headers (any case)."""
        get = {k.lower(): v for k, v in dict(headers).items()}.get
        values = [get("wechatpay-timestamp"), get("wechatpay-nonce"), get("wechatpay-signature"), get("wechatpay-serial")]
        if not all(isinstance(v, str) and v for v in values):
            raise SignatureError("the Wechatpay-Timestamp/Nonce/Signature/Serial headers are missing")
        return cls(*values)  # type: ignore[arg-type]


def verify(keys: dict[str, rsa.RSAPublicKey], headers: Any, body: str) -> SignedHeaders:
    """Check a response's or callback's signature; returns its headers, or raises SignatureError."""
    signed = SignedHeaders.of(headers)
    key = keys.get(signed.serial)
    if key is None:
        raise SignatureError(f"unknown platform key {signed.serial!r}")
    if not rsa_verify(key, response_message(signed.timestamp, signed.nonce, body), signed.signature):
        raise SignatureError("the signature does not match the body")
    return signed


def decrypt_resource(api_v3_key: str, resource: dict[str, Any]) -> dict[str, Any]:
    """A callback's ``resource`` (AEAD_AES_256_GCM) → the JSON object inside."""
    if resource.get("algorithm") != "AEAD_AES_256_GCM":
        raise SignatureError(f"unexpected algorithm {resource.get('algorithm')!r}")
    try:
        plain = AESGCM(api_v3_key.encode()).decrypt(
            str(resource["nonce"]).encode(), base64.b64decode(resource["ciphertext"]), str(resource.get("associated_data") or "").encode()
        )
        found = json.loads(plain)
    except (InvalidTag, KeyError, ValueError, TypeError) as exc:
        raise SignatureError(f"the resource does not decrypt: {type(exc).__name__}") from None
    if not isinstance(found, dict):
        raise SignatureError("the resource is not an object")
    return found


def encrypt_resource(api_v3_key: str, data: dict[str, Any], associated_data: str, nonce_str: str) -> dict[str, Any]:
    """The inverse of :func:`decrypt_resource` (for fakes and tests of WeChat's side)."""
    cipher = AESGCM(api_v3_key.encode()).encrypt(nonce_str.encode(), json.dumps(data).encode(), associated_data.encode())
    return {
        "algorithm": "AEAD_AES_256_GCM",
        "ciphertext": base64.b64encode(cipher).decode(),
        "associated_data": associated_data,
        "nonce": nonce_str,
        "original_type": associated_data,
    }


def request_payment(key: rsa.RSAPrivateKey, *, app_id: str, prepay_id: str, timestamp: int, nonce_str: str) -> dict[str, str]:
    """What the mini-program passes to ``wx.requestPayment`` (JSAPI / mini-program)."""
    package = f"prepay_id={prepay_id}"
    pay_sign = rsa_sign(key, f"{app_id}\n{timestamp}\n{nonce_str}\n{package}\n")
    return {"appId": app_id, "timeStamp": str(timestamp), "nonceStr": nonce_str, "package": package, "signType": "RSA", "paySign": pay_sign}
