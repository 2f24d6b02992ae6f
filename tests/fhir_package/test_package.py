"""`make package`: a FHIR NPM package per the FHIR package specification, every resource valid (fhir.resources,
R4B models), its .index.json files true to the files beside them, and its contents found from the live tables
(docs/fhir-package.md, "How it is checked")."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B import get_fhir_model_class

from fhir_mappings.results_codes import RISK_CODINGS, STAGE_CODINGS
from fhir_mappings.terminology.build import generated_files
from fhir_mappings.terminology.observation_kinds import ObservationKind
from fhir_mappings.terminology.observation_shapes import SHAPES
from fhir_mappings.terminology.systems import NBCDS_FHIR_BASE
from fhir_package.__main__ import main
from fhir_package.contents import PackageContents, package_contents
from fhir_package.input_profiles import profile_id
from fhir_package.npm import INDEX_MEMBERS, package_files, read_package, tarball
from tests.fhir_mappings.test_canonical_base import codes_under_example_org

ROOT = Path(__file__).resolve().parents[2]
Json = dict[str, Any]


@pytest.fixture(scope="module")
def contents() -> PackageContents:
    return package_contents()


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """The package as ``python -m fhir_package --out`` (``make package``) writes it, read back from the tarball."""
    out = tmp_path_factory.mktemp("package") / "package.tgz"
    assert main(["package", "--out", str(out)]) == 0
    return read_package(out)


def _resources(files: dict[str, bytes]) -> dict[str, Json]:
    return {name: json.loads(data) for name, data in files.items()
            if not name.endswith(("/package.json", "/.index.json"))}


def test_the_tarball_has_one_package_folder_with_the_specified_files(built: dict[str, bytes]) -> None:
    assert all(name.startswith("package/") for name in built)
    assert {"package/package.json", "package/.index.json", "package/example/.index.json"} <= built.keys()
    folders = {name.rpartition("/")[0] for name in built}
    assert folders == {"package", "package/example"}
    for name, resource in _resources(built).items():
        assert name.rpartition("/")[2] == f"{resource['resourceType']}-{resource['id']}.json"


def test_package_json_says_what_the_specification_asks(built: dict[str, bytes]) -> None:
    manifest = json.loads(built["package/package.json"])
    assert manifest["name"] == "nbcds.fhir.neuroblastoma" and manifest["name"] == manifest["name"].lower()
    assert manifest["version"] == json.loads(built["package/ImplementationGuide-nbcds.fhir.neuroblastoma.json"])[
        "version"]
    assert manifest["canonical"] == NBCDS_FHIR_BASE == "https://neuroblastoma-cds.github.io/fhir"
    assert manifest["fhirVersions"] == ["4.0.1"]
    assert manifest["dependencies"]["hl7.fhir.r4.core"] == "4.0.1"
    assert manifest["dependencies"]["hl7.fhir.us.mcode"] == "4.0.0"  # the stage profile derives from CancerStage
    assert manifest["type"] == "fhir.ig" and manifest["license"] == "Apache-2.0"
    assert manifest["title"] and manifest["description"] and manifest["author"] and manifest["url"]


@pytest.mark.parametrize("folder", ["package", "package/example"])
def test_each_index_lists_exactly_the_files_beside_it(built: dict[str, bytes], folder: str) -> None:
    index = json.loads(built[f"{folder}/.index.json"])
    assert index["index-version"] == 2
    beside = {name.rpartition("/")[2]: json.loads(data) for name, data in built.items()
              if name.rpartition("/")[0] == folder and not name.endswith(("package.json", ".index.json"))}
    assert sorted(entry["filename"] for entry in index["files"]) == sorted(beside)
    for entry in index["files"]:
        resource = beside[entry["filename"]]
        assert entry["resourceType"] == resource["resourceType"]
        for member in INDEX_MEMBERS:
            assert entry.get(member) == (resource[member] if isinstance(resource.get(member), str) else None), member


def test_every_resource_validates_with_fhir_resources(built: dict[str, bytes]) -> None:
    problems = {}
    for name, resource in _resources(built).items():
        try:
            get_fhir_model_class(resource["resourceType"]).model_validate(resource)
        except Exception as error:  # every invalid file is reported, not only the first
            problems[name] = str(error)[:300]
    assert not problems
    assert len(_resources(built)) > 600


def test_the_tarball_is_reproducible(contents: PackageContents, built: dict[str, bytes]) -> None:
    again = tarball(package_files(contents))
    assert again == tarball(package_files(contents))
    with tarfile.open(fileobj=io.BytesIO(again), mode="r:gz") as archive:
        assert {m.mtime for m in archive.getmembers()} == {1735689600}
        assert {(m.uid, m.gid, m.uname) for m in archive.getmembers()} == {(0, 0, "")}
    assert package_files(contents) == built


# ---- the contents are found from the live tables, not listed -------------------------------------------------

def _ids(built: dict[str, bytes], resource_type: str, folder: str = "package") -> set[str]:
    return {r["id"] for n, r in _resources(built).items()
            if r["resourceType"] == resource_type and n.rpartition("/")[0] == folder}


def test_the_terminology_is_in_the_package_as_committed(built: dict[str, bytes]) -> None:
    for name, text in generated_files().items():
        assert json.loads(built[f"package/{name}"]) == json.loads(text), name


def test_there_is_a_profile_per_result_and_per_input_kind(built: dict[str, bytes]) -> None:
    profiles = _ids(built, "StructureDefinition")
    assert {f"{system}-stage" for system in STAGE_CODINGS} | {f"{schema}-risk-group" for schema in RISK_CODINGS} \
        | {"risk-group"} | {profile_id(kind) for kind in ObservationKind} == profiles
    stage = json.loads(built["package/StructureDefinition-inrgss-stage.json"])
    assert stage["baseDefinition"] == "http://hl7.org/fhir/us/mcode/StructureDefinition/mcode-cancer-stage"
    assert stage["derivation"] == "constraint" and stage["type"] == "Observation"


def test_every_observation_kind_has_its_shape() -> None:
    """A kind without a row in observation_shapes.SHAPES gets a profile that constrains its code only."""
    missing = {kind.value for kind in ObservationKind} - {kind.value for kind in SHAPES}
    assert not missing, f"add a row to SHAPES in fhir_mappings/terminology/observation_shapes.py for {missing}"


def test_the_questionnaire_and_the_shells_code_systems_are_in(built: dict[str, bytes]) -> None:
    questionnaire = json.loads(built["package/Questionnaire-idrf-worksheet.json"])
    assert questionnaire["url"] == f"{NBCDS_FHIR_BASE}/Questionnaire/idrf-worksheet"
    assert {"worksheet-answer", "card-topic"} <= _ids(built, "CodeSystem")


def test_every_example_patient_is_in_with_its_results(contents: PackageContents, built: dict[str, bytes]) -> None:
    names = sorted(path.stem for path in (ROOT / "examples" / "fhir").glob("*.json"))
    assert [patient.name for patient in contents.patients] == names
    examples = _resources({n: d for n, d in built.items() if n.startswith("package/example/")})
    for patient in contents.patients:
        bundle = json.loads((ROOT / "examples" / "fhir" / f"{patient.name}.json").read_text(encoding="utf-8"))
        for entry in bundle["entry"]:
            resource = entry["resource"]
            shipped = examples[f"package/example/{resource['resourceType']}-{resource['id']}.json"]
            assert {k: v for k, v in shipped.items() if k != "meta"} == {k: v for k, v in resource.items() if k != "meta"}
    assert sum(len(patient.results) for patient in contents.patients) >= len(contents.patients)


def test_the_implementation_guide_lists_every_resource(built: dict[str, bytes]) -> None:
    guide = json.loads(built["package/ImplementationGuide-nbcds.fhir.neuroblastoma.json"])
    listed = {entry["reference"]["reference"] for entry in guide["definition"]["resource"]}
    present = {f"{r['resourceType']}/{r['id']}" for r in _resources(built).values()} - {
        f"ImplementationGuide/{guide['id']}"}
    assert listed == present
    assert {d["packageId"] for d in guide["dependsOn"]} == {"hl7.fhir.us.mcode", "hl7.fhir.uv.sdc"}


def test_nothing_in_the_package_is_under_example_org(built: dict[str, bytes]) -> None:
    found = {name: codes_under_example_org(resource) for name, resource in _resources(built).items()}
    assert not {name: codes for name, codes in found.items() if codes}
    assert b"example.org" not in b"".join(built.values())
