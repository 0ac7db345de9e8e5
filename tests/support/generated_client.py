"""The Python client `openapi-python-client` generates from the committed contract, used as an
integrator would: its `_parse_response` reads every response the test suite receives (issue 13
§1: "its models parse a recorded response of every operation").

The client is generated once per contract (cached under `.quartier/generated-client/`, keyed by
the contract's and the generator configuration's hash; about 12 s) and imported as a package.
A worker that finds no cached client generates it into a temporary directory and renames it into
place, so two pytest-xdist workers never see a half-written client."""

from __future__ import annotations

import hashlib
import importlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[2]
CONTRACT = ROOT / "openapi" / "openapi.json"
CONFIG = ROOT / "openapi" / "client-config.yaml"
CACHE = ROOT / ".quartier" / "generated-client"


def _package_name() -> str:
    digest = hashlib.sha256(CONTRACT.read_bytes() + CONFIG.read_bytes()).hexdigest()[:16]
    return f"quartier_client_{digest}"


def generate(output: Path) -> str:
    """Generate the client into `output` (which must not exist); returns the generator's output."""
    binary = Path(sys.executable).parent / "openapi-python-client"
    environment = {**os.environ, "PATH": f"{binary.parent}{os.pathsep}{os.environ['PATH']}"}
    result = subprocess.run(
        [
            str(binary),
            "generate",
            "--path",
            str(CONTRACT),
            "--meta",
            "none",
            "--config",
            str(CONFIG),
            "--output-path",
            str(output),
        ],
        capture_output=True,
        text=True,
        env=environment,
        check=False,
        timeout=300,
    )
    output_text = result.stdout + result.stderr
    if result.returncode != 0:
        raise RuntimeError(f"openapi-python-client failed:\n{output_text}")
    return output_text


class GeneratedClient:
    """Parses responses with the generated client's operation modules."""

    def __init__(self) -> None:
        name = _package_name()
        target = CACHE / name
        if not (target / "__init__.py").exists():
            CACHE.mkdir(parents=True, exist_ok=True)
            scratch = Path(tempfile.mkdtemp(dir=CACHE, prefix=".generating-"))
            try:
                generate(scratch / name)
                try:
                    (scratch / name).rename(target)
                except OSError:
                    if not (target / "__init__.py").exists():  # not another worker's
                        raise
            finally:
                shutil.rmtree(scratch, ignore_errors=True)
        if str(CACHE) not in sys.path:
            sys.path.insert(0, str(CACHE))
        self.package = importlib.import_module(name)
        self.client = importlib.import_module(f"{name}.client").Client(
            base_url="https://testserver.local", raise_on_unexpected_status=True
        )
        self._modules: dict[str, str] = {}
        for path in (target / "api").rglob("*.py"):
            if path.stem != "__init__":
                relative = path.relative_to(target).with_suffix("")
                key = path.stem.replace("_", "")
                self._modules[key] = f"{name}." + ".".join(relative.parts)

    def module(self, operation_id: str) -> ModuleType | None:
        dotted = self._modules.get(operation_id.lower())
        return importlib.import_module(dotted) if dotted else None

    def problems(
        self, operation: dict[str, Any], status: int, headers: Any, body: bytes, where: str
    ) -> list[str]:
        """What the generated client cannot read of this response (empty: it reads it).

        The generator reads a response in the first media type the contract lists for its
        status and ignores the Content-Type: of the file exports whose media type depends on
        `format`, it reads only the first (application/geo+json); a response in another of
        the declared media types is not given to it (README, "the generated client")."""
        operation_id = operation["operationId"]
        content = operation["responses"].get(str(status), {}).get("content", {})
        media_type = (headers.get("content-type") or "").split(";")[0].strip()
        if len(content) > 1 and media_type != next(iter(content)).split(";")[0]:
            return []
        module = self.module(operation_id)
        if module is None:
            return [f"{where}: the generated client has no operation {operation_id}"]
        # `body` is already decoded: the headers of its transfer go.
        kept = {
            name: value
            for name, value in headers.items()
            if name.lower() not in {"content-encoding", "content-length", "transfer-encoding"}
        }
        response = httpx.Response(status, headers=kept, content=body)
        try:
            module._parse_response(client=self.client, response=response)
        except Exception as error:
            return [f"{where}: generated client: {type(error).__name__}: {error}"[:500]]
        return []
