"""``nbcds load-examples FHIR_BASE_URL [PATH ...]``: load the example patients into any FHIR R4 server.

Each example is a transaction Bundle of PUTs (``examples/fhir/*.json``: the patient, the neuroblastoma Condition and
the Observations, with fixed ids), so loading twice leaves the same data. Other Bundles (the ``messy/`` collections,
written to test the reader) are skipped with a note. ``--wait`` waits for the server's ``/metadata`` first (a
container starting next to it); a token for a secured server comes from ``FHIR_ACCESS_TOKEN``, never from the
command line (where ``ps`` shows it).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, TextIO

import httpx

TOKEN_VARIABLE = "FHIR_ACCESS_TOKEN"  # noqa: S105 - the name of a variable, not a token
FHIR_JSON = "application/fhir+json"
_REPOSITORY_EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "fhir"


class LoadError(Exception):
    """A Bundle the server refused, or a server that cannot be reached: the message says which and why."""


def add_parser(commands: Any) -> None:
    """Register the sub-command on ``nbcds``'s sub-parsers."""
    parser = commands.add_parser(
        "load-examples", help="load the example patients (transaction Bundles) into a FHIR R4 server",
        description="Load the example patients (transaction Bundles of PUTs: loading twice leaves the same data) "
                    "into a FHIR R4 server. Other Bundles are skipped. A token for a secured server is read from "
                    f"the environment variable {TOKEN_VARIABLE}.")
    parser.add_argument("base_url", metavar="FHIR_BASE_URL", help="e.g. http://127.0.0.1:8081/fhir/R4")
    parser.add_argument("paths", nargs="*", metavar="PATH",
                        help="Bundle files or directories of them (default: the repository's examples/fhir)")
    parser.add_argument("--wait", type=float, default=0.0, metavar="SECONDS",
                        help="wait up to this long for GET FHIR_BASE_URL/metadata to answer (default: no wait)")


def example_files(paths: Sequence[str]) -> list[Path]:
    """The ``*.json`` files named, or directly inside the directories named (sorted); default: examples/fhir."""
    if not paths:
        default = Path("examples") / "fhir"
        directory = default if default.is_dir() else _REPOSITORY_EXAMPLES
        if not directory.is_dir():
            raise LoadError("no examples/fhir directory here: name the example Bundles (PATH ...)")
        paths = [str(directory)]
    files: list[Path] = []
    for name in paths:
        path = Path(name)
        if path.is_dir():
            files += sorted(path.glob("*.json"))
        elif path.is_file():
            files.append(path)
        else:
            raise LoadError(f"{name}: no such file or directory")
    return files


def _headers() -> dict[str, str]:
    headers = {"Accept": FHIR_JSON, "Content-Type": FHIR_JSON}
    token = os.environ.get(TOKEN_VARIABLE)
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return headers


def wait_for_server(client: httpx.Client, base_url: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            if client.get(f"{base_url}/metadata").status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() >= deadline:
            raise LoadError(f"{base_url}/metadata did not answer within {seconds:g} s")
        time.sleep(min(2.0, max(0.1, deadline - time.monotonic())))


def _refusal(response: httpx.Response) -> str:
    """What the server said, bounded: an OperationOutcome's diagnostics, or the start of the body."""
    try:
        body = response.json()
        issues = body.get("issue", []) if isinstance(body, dict) else []
        said = "; ".join(str(i.get("diagnostics") or i.get("details", {}).get("text") or i.get("code"))
                         for i in issues if isinstance(i, dict))
    except ValueError:
        said = response.text
    return f"HTTP {response.status_code}: {said[:300] or '(no explanation)'}"


def load_bundle(client: httpx.Client, base_url: str, bundle: dict[str, Any]) -> int:
    """POST one transaction Bundle; the number of entries the server applied. Raises LoadError otherwise."""
    try:
        response = client.post(base_url, content=json.dumps(bundle).encode("utf-8"))
    except httpx.HTTPError as error:
        raise LoadError(f"{base_url} could not be reached ({type(error).__name__})") from None
    if response.status_code != 200:
        raise LoadError(_refusal(response))
    entries = response.json().get("entry", [])
    failed = [e for e in entries if not str(e.get("response", {}).get("status", "")).startswith("2")]
    if failed or len(entries) != len(bundle.get("entry", [])):
        raise LoadError(f"{len(failed)} of {len(bundle.get('entry', []))} entries were not applied")
    return len(entries)


def _bundles(files: Sequence[Path], out: TextIO) -> Iterator[tuple[Path, dict[str, Any]]]:
    for path in files:
        try:
            bundle = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise LoadError(f"{path}: not readable JSON ({type(error).__name__})") from None
        is_transaction = isinstance(bundle, dict) and (bundle.get("resourceType"), bundle.get("type")) == (
            "Bundle", "transaction")
        if not is_transaction:
            out.write(f"skipped {path.name}: not a transaction Bundle\n")
            continue
        yield path, bundle


def load_examples(base_url: str, paths: Sequence[str], wait: float, out: TextIO) -> int:
    """Load every example; the number of resources loaded. Raises LoadError at the first failure."""
    base_url = base_url.rstrip("/")
    files = example_files(paths)
    loaded = bundles = 0
    with httpx.Client(headers=_headers(), timeout=30.0, follow_redirects=False) as client:
        if wait > 0:
            wait_for_server(client, base_url, wait)
        for path, bundle in _bundles(files, out):
            try:
                count = load_bundle(client, base_url, bundle)
            except LoadError as error:
                raise LoadError(f"{path.name}: {error}") from None
            out.write(f"loaded {path.name} ({count} resources)\n")
            loaded += count
            bundles += 1
    out.write(f"{bundles} example patients ({loaded} resources) loaded into {base_url}\n")
    return loaded


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    try:
        load_examples(args.base_url, args.paths, args.wait, out)
    except LoadError as error:
        err.write(f"nbcds load-examples: {error}\n")
        return 1
    return 0
