"""The SMART app's routes under ``/app``: launch, callback, the three pages, the worksheet's live preview, the
Questionnaire and its extraction. Thin: each translates HTTP to the modules beside it and renders a template.

Security: pages carry patient data, so they are never cached; a strict CSP (scripts, styles and requests only
from this origin: the page talks to this service alone, never to the FHIR server); ``frame-ancestors`` the
EHR origins (``NBCDS_APP_FRAME_ANCESTORS``); every POST checks the session's CSRF token.
"""

from __future__ import annotations

import html
import logging
import re
import secrets
from typing import Any, NamedTuple

from flask import Blueprint, Flask, Response, abort, g, jsonify, redirect, render_template, request, url_for
from markupsafe import Markup, escape

from cds_service.app.chart import Chart, ChartError, post_transaction, read_chart
from cds_service.app.decision_path import decision_path
from cds_service.app.family import family_page
from cds_service.app.questionnaire import ResponseError, questionnaire, response_answers
from cds_service.app.session import AppNotConfiguredError, AppSession, load_session, save_session, session_cipher
from cds_service.app.smart import LaunchError, authorization_url, checked_server, complete_launch, is_open_server
from cds_service.app.worksheet import Answers, Preview, preview, worksheet_bundle
from cds_service.app.worksheet_fields import SECTIONS
from cds_service.http.client_auth import authenticate_client, public_base_url
from cds_service.http.runtime import runtime
from cds_service.protocol.errors import CdsError
from cds_service.protocol.json_body import decode_json
from neuroblastoma.deciding_tests import tests_for
from neuroblastoma.result_wording import risk_headline, risks_in_order, stage_title
from neuroblastoma.results import Classification

logger = logging.getLogger("nbcds")
smart_app = Blueprint("smart_app", __name__, url_prefix="/app", template_folder="templates", static_folder="static")
VIEWS = {"decision-path": "smart_app.decision_path_page", "worksheet": "smart_app.worksheet_page",
         "family": "smart_app.family"}


def inline_markdown(text: str) -> Markup:
    """The cards' attention lines (the card's markdown) as HTML: plain text again, escaped, bold kept."""
    plain = html.unescape(re.sub(r"\\(.)", r"\1", str(text)))
    parts = [escape(part) for part in plain.split("**")]
    return Markup("").join(Markup("<strong>%s</strong>") % part if i % 2 else part for i, part in enumerate(parts))


@smart_app.record_once
def _filters(state: Any) -> None:
    state.app.jinja_env.filters["inline_markdown"] = inline_markdown


@smart_app.before_request
def _session() -> Response | None:
    settings = runtime().settings
    if request.endpoint in ("smart_app.static", "smart_app.questionnaire_resource", "smart_app.extract"):
        return None
    try:
        g.cipher = session_cipher(settings)
    except AppNotConfiguredError:
        return Response("The app is not configured on this service (NBCDS_APP_SESSION_KEY).", 503)
    g.app_session = load_session(request, g.cipher)
    if request.method == "POST" and request.endpoint != "smart_app.extract":
        sent = request.headers.get("X-CSRF-Token") or request.form.get("csrf")
        if not sent or not secrets.compare_digest(sent, g.app_session.csrf):
            abort(403)
    return None


@smart_app.after_request
def _headers(response: Response) -> Response:
    settings = runtime().settings
    ancestors = " ".join(settings.app_frame_ancestors) or ("*" if settings.profile == "development" else "'self'")
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
        f"base-uri 'none'; object-src 'none'; frame-ancestors {ancestors}")
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    if request.endpoint != "smart_app.static":
        response.headers["Cache-Control"] = "no-store"
    app_session: AppSession | None = g.get("app_session")
    if app_session is not None:
        save_session(response, app_session, g.cipher, secure=request.is_secure)
    return response


def _page(template: str, status: int = 200, **values: Any) -> tuple[str, int]:
    session: AppSession = g.app_session
    return render_template(template, session=session, csrf=session.csrf, **values), status


def _error(message: str, status: int = 400) -> tuple[str, int]:
    return _page("error.html", status, message=message)


def _redirect_uri() -> str:
    return f"{public_base_url(runtime().settings)}{url_for('smart_app.callback')}"


@smart_app.get("/launch")
def launch() -> Any:
    """EHR launch (``iss`` + ``launch``), standalone launch (``iss``), open-server mode (``iss`` + ``patient``)."""
    settings, session = runtime().settings, g.app_session
    view = request.args.get("view", "decision-path")
    if view not in VIEWS:
        view = "decision-path"
    iss = request.args.get("iss")
    if not iss:
        return _page("launch.html", view=view)
    try:
        server = checked_server(settings, iss)
        patient = request.args.get("patient")
        if patient and is_open_server(settings, server) and not request.args.get("launch"):
            session.iss, session.patient, session.view = server, patient, view
            session.access_token = session.scope = None
            return redirect(url_for(VIEWS[view]))
        return redirect(authorization_url(settings, session, server, request.args.get("launch"), view,
                                          _redirect_uri()))
    except LaunchError as error:
        return _error(str(error))


@smart_app.get("/callback")
def callback() -> Any:
    session = g.app_session
    if request.args.get("error"):
        return _error("The sign-in was refused or cancelled. Launch the app again from the EHR.", 401)
    try:
        complete_launch(runtime().settings, session, request.args.get("code"), request.args.get("state"),
                        _redirect_uri())
    except LaunchError as error:
        return _error(str(error), 401)
    return redirect(url_for(VIEWS.get(session.view, VIEWS["decision-path"])))


def _chart() -> Chart | tuple[str, int]:
    session: AppSession = g.app_session
    if not session.signed_in:
        return _error("No patient is open. Launch the app from the patient's chart in the EHR.", 401)
    try:
        return read_chart(runtime().dependencies.resolver, session)
    except ChartError as error:
        return _error(str(error), 502)


@smart_app.get("", strict_slashes=False)
def index() -> Any:
    return redirect(url_for(VIEWS.get(g.app_session.view, VIEWS["decision-path"])))


class Diagnosed(NamedTuple):
    """An open chart with its neuroblastoma classification (what every page of the app is about)."""

    chart: Chart
    result: Classification


def _diagnosed_chart() -> Diagnosed | tuple[str, int]:
    """The open chart and its classification, or the page to show instead: not signed in, the FHIR server
    failed, or no neuroblastoma diagnosis on record."""
    chart = _chart()
    if not isinstance(chart, Chart):
        return chart
    if chart.assessment.classification is None:
        return _error("This patient has no neuroblastoma diagnosis on record.", 404)
    return Diagnosed(chart, chart.assessment.classification)


@smart_app.get("/decision-path")
def decision_path_page() -> Any:
    found = _diagnosed_chart()
    if not isinstance(found, Diagnosed):
        return found
    chart, result = found
    primary = runtime().settings.primary_schema
    path = decision_path(result, chart.assessment.reading, chart.evidence, primary)
    return _page("decision_path.html", path=path, saved=request.args.get("saved"),
                 stage_title=stage_title(result.stage),
                 risk_titles=[risk_headline(r) for r in risks_in_order(result, primary)])


@smart_app.get("/family")
def family() -> Any:
    found = _diagnosed_chart()
    if not isinstance(found, Diagnosed):
        return found
    return _page("family.html", page=family_page(found.result, runtime().settings.primary_schema))


def _live(shown: Preview) -> dict[str, Any]:
    """The worksheet's stage panel: the stage, each risk group and what is still missing (page and JSON alike)."""
    result = shown.classification
    primary = runtime().settings.primary_schema
    return {"stage": stage_title(result.stage), "risks": [risk_headline(r) for r in risks_in_order(result, primary)],
            "missing": [test.short for test, _ in tests_for(m.fact for m in result.missing)]}


def _worksheet(chart: Chart, answers: Answers, status: int = 200, message: str | None = None) -> tuple[str, int]:
    shown = preview(chart.assessment.reading.case, answers)
    return _page("worksheet.html", status, sections=SECTIONS, answers=answers.values, shown=shown,
                 live=_live(shown), message=message)


@smart_app.get("/worksheet")
def worksheet_page() -> Any:
    found = _diagnosed_chart()
    if not isinstance(found, Diagnosed):
        return found
    return _worksheet(found.chart, Answers.of({}))


@smart_app.post("/worksheet")
def worksheet_submit() -> Any:
    """Without JavaScript, "Show the stage" posts here too; "Save" writes the Observations and a Provenance."""
    found = _diagnosed_chart()
    if not isinstance(found, Diagnosed):
        return found
    chart = found.chart
    answers = Answers.of(request.form.to_dict())
    if request.form.get("action") != "save":
        return _worksheet(chart, answers)
    session: AppSession = g.app_session
    if answers.problems:
        return _worksheet(chart, answers, 400, "Nothing was saved: " + "; ".join(answers.problems))
    if not session.can_write:
        return _worksheet(chart, answers, 403, "Nothing was saved: this launch may only read. Open the worksheet "
                                               "from the EHR's worksheet link, which asks to create Observations.")
    bundle = worksheet_bundle(answers, str(session.patient), author=session.fhir_user)
    if not bundle["entry"]:
        return _worksheet(chart, answers, 400, "Nothing was saved: the worksheet is empty.")
    try:
        post_transaction(session, bundle)
    except ChartError as error:
        return _worksheet(chart, answers, 502, str(error))
    return redirect(url_for("smart_app.decision_path_page", saved=len(bundle["entry"]) - 1))


@smart_app.post("/api/preview")
def preview_api() -> Any:
    """The worksheet's live preview: the rules' verdict on each IDRF and the stage and risk groups."""
    chart = _chart()
    if not isinstance(chart, Chart):
        return jsonify({"error": "no patient is open"}), 401
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or chart.assessment.classification is None:
        return jsonify({"error": "expected the worksheet's answers as a JSON object"}), 400
    shown = preview(chart.assessment.reading.case, Answers.of(body))
    return jsonify({"idrfs": {code: {"presence": p, "reason": r} for code, (p, r) in shown.idrfs.items()},
                    **_live(shown), "problems": list(shown.problems)})


@smart_app.get("/Questionnaire/idrf-worksheet")
def questionnaire_resource() -> Any:
    response = jsonify(questionnaire(public_base_url(runtime().settings)))
    response.headers["Content-Type"] = "application/fhir+json"
    return response


@smart_app.post("/QuestionnaireResponse/$extract")
def extract() -> Any:
    """SDC extraction: a completed QuestionnaireResponse → the worksheet's transaction Bundle (nothing stored)."""
    service_runtime = runtime()
    authenticate_client(service_runtime.settings, service_runtime.verifier)
    try:
        patient, raw = response_answers(decode_json(request.get_data(cache=False), request.mimetype))
    except ResponseError as error:
        raise CdsError(400, "invalid", str(error)) from None
    answers = Answers.of(raw)
    if answers.problems:
        raise CdsError(400, "invalid", "; ".join(answers.problems)[:500])
    response = jsonify(worksheet_bundle(answers, patient, author=None))
    response.headers["Content-Type"] = "application/fhir+json"
    return response


def init_smart_app(app: Flask) -> None:
    """Register the app's blueprint (``create_app`` calls this)."""
    app.register_blueprint(smart_app)
