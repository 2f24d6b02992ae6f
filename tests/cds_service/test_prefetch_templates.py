"""Prefetch template rendering: tokens, user tokens, encoding, and no way out of the FHIR base."""

from __future__ import annotations

import posixpath
from urllib.parse import parse_qsl, unquote, urljoin, urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cds_service.protocol.prefetch import (
    InvalidTemplateError,
    UnsafeTokenValueError,
    UserTokens,
    render_template,
    validate_template,
)

CONTEXT = {"patientId": "123", "userId": "Practitioner/abc", "encounterId": "enc-9"}


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("Patient/{{context.patientId}}", "Patient/123"),
        ("Condition?patient={{context.patientId}}", "Condition?patient=123"),
        (
            "Observation?patient={{context.patientId}}&code=http://loinc.org|21889-1&_sort=-date&_count=10",
            "Observation?patient=123&code=http://loinc.org|21889-1&_sort=-date&_count=10",
        ),
        ("Encounter/{{ context.encounterId }}", "Encounter/enc-9"),
        ("{{context.userId}}", "Practitioner/abc"),  # a reference used as a read path (notes §1.4 P6)
        ("Practitioner/{{userPractitionerId}}", "Practitioner/abc"),
        ("MedicationRequest?requester={{context.userId}}", "MedicationRequest?requester=Practitioner/abc"),
        ("Patient", "Patient"),
    ],
)
def test_renders_context_and_user_tokens(template, expected):
    assert render_template(template, CONTEXT) == expected


@pytest.mark.parametrize(
    ("user_id", "token", "expected"),
    [
        ("Practitioner/p1", "userPractitionerId", "p1"),
        ("PractitionerRole/r1", "userPractitionerRoleId", "r1"),
        ("Patient/pt1", "userPatientId", "pt1"),
        ("RelatedPerson/rp1", "userRelatedPersonId", "rp1"),
    ],
)
def test_user_tokens_follow_the_user_type(user_id, token, expected):
    context = {"patientId": "1", "userId": user_id}
    assert render_template(f"X/{{{{{token}}}}}", context) == f"X/{expected}"
    others = {"userPractitionerId", "userPractitionerRoleId", "userPatientId", "userRelatedPersonId"} - {token}
    for other in others:
        assert render_template(f"X/{{{{{other}}}}}", context) is None


def test_explicit_user_tokens_override_the_context():
    tokens = UserTokens(practitioner_id="given")
    assert render_template("Practitioner/{{userPractitionerId}}", CONTEXT, tokens) == "Practitioner/given"


@pytest.mark.parametrize(
    "context",
    [
        {"patientId": "1"},  # field missing
        {"patientId": "1", "encounterId": None},
        {"patientId": "1", "encounterId": ""},
        {"patientId": "1", "encounterId": {"id": "x"}},  # not primitive
        {"patientId": "1", "encounterId": ["x"]},
    ],
)
def test_a_token_without_a_value_makes_the_template_unresolvable(context):
    assert render_template("Encounter/{{context.encounterId}}", context) is None


@pytest.mark.parametrize("user_id", [None, "", "Practitioner/", "Device/1", "abc", 42])
def test_no_user_token_without_a_usable_user_id(user_id):
    assert render_template("Practitioner/{{userPractitionerId}}", {"userId": user_id}) is None


def test_primitive_values_are_rendered():
    context = {"a": 7, "b": True, "c": 1.5}
    assert render_template("X?a={{context.a}}&b={{context.b}}&c={{context.c}}", context) == "X?a=7&b=true&c=1.5"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-01-01T00:00:00+01:00", "2024-01-01T00:00:00%2B01:00"),
        ("a=b", "a%3Db"),
        ("100%", "100%25"),
        ("é", "%C3%A9"),
        ("a,b", "a%2Cb"),
    ],
)
def test_query_values_are_url_encoded(value, expected):
    assert render_template("X?v={{context.v}}", {"v": value}) == f"X?v={expected}"


def test_path_values_outside_the_fhir_id_set_are_encoded():
    assert render_template("Patient/{{context.patientId}}", {"patientId": "a:b%2e"}) == "Patient/a%3Ab%252e"


@pytest.mark.parametrize(
    "value",
    [
        "../Patient",
        "..",
        ".",
        "1/../../admin",
        "1?x=1",
        "1#frag",
        "1&b=2",
        "1 2",
        "1\n2",
        "1\t",
        "Patient/..",
        "/etc/passwd",
        "http://evil.example/x",
        "a\x00b",
    ],
)
def test_values_that_would_change_the_path_are_rejected(value):
    with pytest.raises(UnsafeTokenValueError) as raised:
        render_template("Patient/{{context.patientId}}", {"patientId": value})
    assert value not in str(raised.value) or value in (".", "..")  # the message names the token only
    assert raised.value.token == "context.patientId"


@pytest.mark.parametrize("value", ["1&code=x", "1#x", "1?x", "1 2", "1\r\nX-Evil: 1"])
def test_values_that_would_change_the_query_are_rejected(value):
    with pytest.raises(UnsafeTokenValueError):
        render_template("Condition?patient={{context.patientId}}", {"patientId": value})


def test_malformed_user_id_used_in_a_path_is_rejected():
    with pytest.raises(UnsafeTokenValueError):
        render_template("Practitioner/{{userPractitionerId}}", {"userId": "Practitioner/a/../../b"})


@pytest.mark.parametrize(
    "template",
    [
        "",
        "/Patient/{{context.patientId}}",
        "http://evil.example/Patient",
        "//evil.example/Patient",
        "Patient/../{{context.patientId}}",
        "Patient/{{context.patient.id}}",  # nested paths are invalid in 2.0
        "Observation?date=ge{{today() - 90 days}}",  # 3.0 FHIRPath: not supported
        "Patient/{{context.patientId}",
        "Patient/{{patientId}}",  # 1.0-era token without "context."
        "Patient/ 1",
        "Patient/1#x",
    ],
)
def test_malformed_templates_are_refused(template):
    with pytest.raises(InvalidTemplateError):
        validate_template(template)
    with pytest.raises(InvalidTemplateError):
        render_template(template, CONTEXT)


# -- property: a rendered template never leaves the FHIR base -----------------------------------
BASE = "https://fhir.example.org/r4/"
TEMPLATES = [
    "Patient/{{context.patientId}}",
    "Condition?patient={{context.patientId}}",
    "Observation?patient={{context.patientId}}&_count=10",
    "{{context.userId}}",
    "Practitioner/{{userPractitionerId}}",
]
hostile_text = st.one_of(
    st.text(max_size=30),
    st.text(alphabet="./%?&#=:@\\ \t\nAPatient0", max_size=20),
    st.sampled_from(["..", ".", "../..", "%2e%2e", "%2E%2E/", "..%2f", "Patient/..", "Practitioner/..", "//x"]),
)


@settings(max_examples=400, deadline=None)
@given(template=st.sampled_from(TEMPLATES), patient_id=hostile_text, user_id=hostile_text)
def test_rendering_never_leaves_the_fhir_base(template, patient_id, user_id):
    try:
        rendered = render_template(template, {"patientId": patient_id, "userId": user_id})
    except UnsafeTokenValueError:
        return
    if rendered is None:
        return
    url = urljoin(BASE, rendered)
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc) == ("https", "fhir.example.org")
    assert parts.fragment == ""
    decoded_segments = unquote(parts.path).split("/")  # what a server sees after decoding once
    assert "." not in decoded_segments and ".." not in decoded_segments
    assert posixpath.normpath(unquote(parts.path)).startswith("/r4/")
    assert len(parts.path.split("/")) <= 4  # base (2) + at most Type/id
    if "?" in template:
        params = parse_qsl(parts.query, keep_blank_values=True)
        assert params[0] == ("patient", patient_id)  # the value arrives intact, as one parameter
        assert len(params) == template.count("&") + 1
