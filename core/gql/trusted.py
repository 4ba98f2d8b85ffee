"""Trusted (persisted) documents: a query registered once, then sent by its SHA-256 hash.

Requests use the Apollo shape, ``{"extensions": {"persistedQuery": {"version": 1,
"sha256Hash": "<hex>"}}, "variables": ...}``. A client's first request may carry the text
with its hash; if the hash matches, the text is registered and later requests send only
the hash (unless the allow-list is on).

Settings (environment):

``DOUGONG_TRUSTED_DOCUMENTS``
    a JSON file: a list of documents, or an object mapping their hashes to them, registered
    at boot (the frontend build emits it).
``DOUGONG_TRUSTED_ONLY=1``
    the allow-list: only registered documents run; a raw query whose hash is not registered
    is refused, and clients cannot register new ones. For production, where the frontends
    are known and nobody else should send arbitrary queries.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import OrderedDict
from pathlib import Path
from typing import Any

MAX_REGISTERED = 1024  # documents registered by clients; pre-registered ones are never evicted


class UntrustedDocument(Exception):
    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


def document_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class TrustedDocuments:
    def __init__(self, documents: dict[str, str] | None = None, *, only_trusted: bool = False) -> None:
        self.only_trusted = only_trusted
        self._fixed: dict[str, str] = {}
        self._learned: OrderedDict[str, str] = OrderedDict()
        for digest, text in (documents or {}).items():
            if document_hash(text) != digest:
                raise ValueError(f"trusted document {digest[:12]}… does not hash to its key")
            self._fixed[digest] = text

    @classmethod
    def from_environment(cls) -> TrustedDocuments:
        only = os.environ.get("DOUGONG_TRUSTED_ONLY", "").strip().lower() in ("1", "true", "yes", "on")
        path = os.environ.get("DOUGONG_TRUSTED_DOCUMENTS")
        documents: dict[str, str] = {}
        if path:
            loaded: Any = json.loads(Path(path).read_text(encoding="utf-8"))
            if isinstance(loaded, list):
                documents = {document_hash(text): text for text in loaded}
            elif isinstance(loaded, dict):
                documents = dict(loaded)
            else:
                raise ValueError(f"{path}: trusted documents are a JSON list or object")
        return cls(documents, only_trusted=only)

    def register(self, text: str) -> str:
        """Trust ``text`` from now on (boot time, or a test); returns its hash."""
        digest = document_hash(text)
        self._fixed[digest] = text
        return digest

    def get(self, digest: str) -> str | None:
        return self._fixed.get(digest) or self._learned.get(digest)

    def resolve(self, query: Any, extensions: Any) -> str | None:
        """The document text a request asks for; raises :class:`UntrustedDocument`."""
        persisted = extensions.get("persistedQuery") if isinstance(extensions, dict) else None
        if persisted is None:
            if self.only_trusted and (not isinstance(query, str) or self.get(document_hash(query)) is None):
                raise UntrustedDocument("Only trusted documents run here; send a registered document's hash.", "PERSISTED_QUERY_NOT_ALLOWED")
            return query
        digest = persisted.get("sha256Hash") if isinstance(persisted, dict) else None
        if not isinstance(digest, str) or len(digest) != 64:
            raise UntrustedDocument("persistedQuery needs a sha256Hash of 64 hex digits.", "PERSISTED_QUERY_INVALID")
        digest = digest.lower()
        known = self.get(digest)
        if known is not None:
            if isinstance(query, str) and query != known:
                raise UntrustedDocument("The query does not match its sha256Hash.", "PERSISTED_QUERY_INVALID")
            return known
        if not isinstance(query, str):
            raise UntrustedDocument("PersistedQueryNotFound", "PERSISTED_QUERY_NOT_FOUND")
        if self.only_trusted:
            raise UntrustedDocument("Only trusted documents run here; this one is not registered.", "PERSISTED_QUERY_NOT_ALLOWED")
        if document_hash(query) != digest:
            raise UntrustedDocument("The query does not match its sha256Hash.", "PERSISTED_QUERY_INVALID")
        self._learned[digest] = query
        while len(self._learned) > MAX_REGISTERED:
            self._learned.popitem(last=False)
        return query
