"""A FHIR Bulk Data export, joined by patient in memory bounded independently of its size.

An export is a directory of NDJSON files, any number per resource type (``Observation.ndjson``,
``Observation.002.ndjson.gz`` ...), each holding resources of many patients in any order. The files are
streamed line by line once; every Patient, Condition and Observation (the types the rules read) is
written, parsed, to one of ``buckets`` spill files on disk, chosen by a stable hash of its patient id. A
bucket then holds whole patients and is small (the export's size divided by the bucket count, sized so a
bucket stays near ``BUCKET_TARGET_BYTES``): it is read back on its own and split by patient, so memory
holds one bucket at a time whatever the export's size (``docs/performance.md`` measures it).

A line that is not a JSON object with a ``resourceType`` is reported with its file and line number and
skipped; the rest goes on. A resource of another type, or one without a patient reference, is counted
and skipped.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import marshal
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

READ_TYPES = frozenset({"Patient", "Condition", "Observation"})
BUCKET_TARGET_BYTES = 24 * 1024 * 1024  # of spilled records per bucket: one bucket in memory at a time
MAX_BUCKETS = 1024
GZIP_RATIO = 8  # an NDJSON file shrinks about eight-fold under gzip: for sizing the buckets
_HEADER = struct.Struct("<HI")  # patient id length, record length


@dataclass(frozen=True)
class BadLine:
    path: Path
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: line {self.line}: {self.reason}"


@dataclass
class PartitionStats:
    files: int = 0
    resources: int = 0
    not_read: int = 0  # another resource type, or no patient reference
    bad_lines: list[BadLine] = field(default_factory=list)


def export_files(directory: Path) -> list[Path]:
    """The export's NDJSON files (plain or gzip), in name order."""
    return sorted(p for p in directory.iterdir()
                  if p.is_file() and (p.name.endswith(".ndjson") or p.name.endswith(".ndjson.gz")))


def bucket_count(files: list[Path]) -> int:
    """Enough buckets that one stays near ``BUCKET_TARGET_BYTES`` (a spilled record is about its JSON size)."""
    size = sum(p.stat().st_size * (GZIP_RATIO if p.name.endswith(".gz") else 1) for p in files)
    return max(8, min(MAX_BUCKETS, -(-size // BUCKET_TARGET_BYTES)))


def _lines(path: Path) -> Iterator[bytes]:
    if path.name.endswith(".gz"):
        with gzip.open(path, "rb") as compressed:
            yield from compressed
    else:
        with open(path, "rb", buffering=1 << 20) as plain:
            yield from plain


def patient_of(resource: dict[str, Any]) -> str | None:
    """The patient a resource belongs to: a Patient's id, or the ``Patient/<id>`` its subject (or patient)
    names, relative or absolute. None when it names no patient."""
    if resource.get("resourceType") == "Patient":
        resource_id = resource.get("id")
        return resource_id if isinstance(resource_id, str) and resource_id else None
    for member in ("subject", "patient"):
        target = resource.get(member)
        reference = target.get("reference") if isinstance(target, dict) else None
        if isinstance(reference, str):
            parts = reference.rstrip("/").split("/")
            if len(parts) >= 2 and parts[-2] == "Patient" and parts[-1]:
                return parts[-1]
    return None


def bucket_of(patient: str, buckets: int) -> int:
    return int.from_bytes(hashlib.blake2b(patient.encode("utf-8"), digest_size=8).digest(), "little") % buckets


def partition(directory: Path, spill: Path, buckets: int, on_file: Any = None) -> PartitionStats:
    """Stream every file of the export into ``buckets`` spill files under ``spill`` (one pass)."""
    stats = PartitionStats()
    writers = [open(spill / f"bucket-{i:04d}.bin", "wb", buffering=1 << 16) for i in range(buckets)]  # noqa: SIM115
    try:
        for path in export_files(directory):
            stats.files += 1
            for number, line in enumerate(_lines(path), 1):
                if not line.strip():
                    continue
                try:
                    resource = json.loads(line)
                except (ValueError, UnicodeDecodeError):
                    stats.bad_lines.append(BadLine(path, number, "not valid JSON"))
                    continue
                if not isinstance(resource, dict) or not isinstance(resource.get("resourceType"), str):
                    stats.bad_lines.append(BadLine(path, number, "not a FHIR resource (no resourceType)"))
                    continue
                stats.resources += 1
                patient = patient_of(resource) if resource["resourceType"] in READ_TYPES else None
                if patient is None:
                    stats.not_read += 1
                    continue
                key, record = patient.encode("utf-8"), marshal.dumps(resource)
                writer = writers[bucket_of(patient, buckets)]
                writer.write(_HEADER.pack(len(key), len(record)))
                writer.write(key)
                writer.write(record)
            if on_file is not None:
                on_file(path)
    finally:
        for writer in writers:
            writer.close()
    return stats


def patients_in(bucket: Path) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """One bucket's patients, sorted by id, each with its resources (parsed one patient at a time)."""
    by_patient: dict[str, list[bytes]] = {}
    with open(bucket, "rb") as stream:
        data = stream.read()
    offset = 0
    while offset < len(data):
        key_length, record_length = _HEADER.unpack_from(data, offset)
        offset += _HEADER.size
        patient = data[offset:offset + key_length].decode("utf-8")
        offset += key_length
        by_patient.setdefault(patient, []).append(data[offset:offset + record_length])
        offset += record_length
    del data
    for patient in sorted(by_patient):
        # Our own spill file, written above in this run (never input from elsewhere): marshal is safe here.
        yield patient, [marshal.loads(record) for record in by_patient.pop(patient)]  # noqa: S302
