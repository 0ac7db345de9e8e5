"""Files uploaded to the workspace's import pages, kept between the steps (upload → mapping →
preview → import).

Why on the server and not re-posted: a city's GeoJSON is tens of megabytes, and a file input
cannot be filled in again by the page, so without JavaScript every step would ask the planner to
choose the file again and send it again. The file is kept instead, bounded and short-lived:

* under `<data dir>/uploads/`, named by a random id (`secrets.token_urlsafe`, 128 bits) that
  only the page links carry; a sidecar JSON records the staff account that uploaded it, and
  any other account asking for the id is told it does not exist;
* at most `MAX_SIZE` bytes (the app's import body limit), at most `PER_OWNER` files per account
  (the oldest go first), and gone after `TTL` (checked on every upload and every read);
* deleted as soon as its import succeeds.

Nothing in these files is personal data of residents: boundaries and population counts.
"""

from __future__ import annotations

import json
import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID

TTL_SECONDS = 3600
PER_OWNER = 5
_ID = re.compile(r"^[A-Za-z0-9_-]{22}$")


@dataclass(frozen=True, slots=True)
class Upload:
    id: str
    kind: str  # "areas" or "population"
    filename: str
    owner: str
    created: float
    path: Path
    charset: str | None = None  # as the upload's Content-Type declared it


class UploadStore:
    def __init__(self, data_dir: Path, *, ttl: float = TTL_SECONDS) -> None:
        self.root = data_dir / "uploads"
        self.ttl = ttl

    def _meta(self, upload_id: str) -> Path:
        return self.root / f"{upload_id}.json"

    def _data(self, upload_id: str) -> Path:
        return self.root / f"{upload_id}.bin"

    def _all(self) -> list[Upload]:
        found: list[Upload] = []
        for meta in self.root.glob("*.json"):
            try:
                values = json.loads(meta.read_text("utf-8"))
                found.append(
                    Upload(
                        id=meta.stem,
                        kind=str(values["kind"]),
                        filename=str(values["filename"]),
                        owner=str(values["owner"]),
                        created=float(values["created"]),
                        path=self._data(meta.stem),
                    )
                )
            except (OSError, ValueError, KeyError, TypeError):
                self.delete(meta.stem)
        return found

    def purge(self) -> None:
        """Delete every upload older than the TTL."""
        now = time.time()
        for upload in self._all():
            if now - upload.created > self.ttl:
                self.delete(upload.id)

    def save(
        self, kind: str, owner: UUID, filename: str, data: bytes, charset: str | None = None
    ) -> Upload:
        self.root.mkdir(parents=True, exist_ok=True)
        self.purge()
        mine = sorted((u for u in self._all() if u.owner == str(owner)), key=lambda u: u.created)
        for old in mine[: max(0, len(mine) - PER_OWNER + 1)]:
            self.delete(old.id)
        upload_id = secrets.token_urlsafe(16)
        self._data(upload_id).write_bytes(data)
        created = time.time()
        name = Path(filename or "upload").name[:200]
        charset = charset[:40] if charset else None
        meta = {
            "kind": kind,
            "filename": name,
            "owner": str(owner),
            "created": created,
            "charset": charset,
        }
        self._meta(upload_id).write_text(json.dumps(meta), "utf-8")
        return Upload(upload_id, kind, name, str(owner), created, self._data(upload_id), charset)

    def get(self, upload_id: str, kind: str, owner: UUID) -> Upload | None:
        """The upload, or None when it does not exist, expired, is of another kind or belongs
        to another account."""
        if not _ID.match(upload_id):
            return None
        try:
            values = json.loads(self._meta(upload_id).read_text("utf-8"))
        except (OSError, ValueError):
            return None
        if values.get("owner") != str(owner) or values.get("kind") != kind:
            return None
        if time.time() - float(values.get("created", 0)) > self.ttl:
            self.delete(upload_id)
            return None
        path = self._data(upload_id)
        if not path.exists():
            return None
        charset = values.get("charset")
        return Upload(
            upload_id,
            kind,
            str(values["filename"]),
            str(owner),
            float(values["created"]),
            path,
            str(charset) if charset else None,
        )

    def delete(self, upload_id: str) -> None:
        for path in (self._meta(upload_id), self._data(upload_id)):
            path.unlink(missing_ok=True)
