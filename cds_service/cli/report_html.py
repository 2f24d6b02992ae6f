"""``nbcds report --html FILE``: the override report as one self-contained page for the CDS governance committee.

Three plots (matplotlib, inlined as SVG with text drawn as paths: no font, script or network needed) and the
numbers behind them as tables: acceptance and override rates per week, outcomes by card kind, override
reasons. Each card counts once, with its latest outcome (``cds_service.store.report``). No comment text and no
patient identifier is ever read.
"""

from __future__ import annotations

import html
import io
from typing import Any

from cds_service.store.report import Report, percent, reason_label

_COLOURS = {"accepted": "#1b7837", "overridden": "#b2182b", "none": "#9e9e9e"}  # colour-blind safe pair + grey


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    matplotlib.rcParams.update({"svg.fonttype": "path", "font.size": 10, "svg.hashsalt": "nbcds-report"})
    import matplotlib.pyplot as plt

    return plt


def _svg(figure: Any) -> str:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    _pyplot().close(figure)
    text = buffer.getvalue()
    return text[text.index("<svg"):]  # drop the XML prolog and DOCTYPE: the SVG is inlined in HTML


def _kind_name(kind: str | None) -> str:
    return kind or "unknown card"


def _rates_over_time(report: Report) -> str:
    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(7.5, 3.2))
    weeks = report.weekly()
    for kind in dict.fromkeys(p.card_kind for p in weeks):
        points = [p for p in weeks if p.card_kind == kind]
        axes.plot([p.start for p in points], [100 * p.acceptance_rate for p in points], marker="o",
                  label=f"{_kind_name(kind)}: accepted")
    axes.set_ylim(0, 100)
    axes.set_ylabel("% of cards with feedback")
    axes.set_title("Acceptance rate per week (override rate = 100 − acceptance)")
    if weeks:
        axes.legend(loc="upper center", bbox_to_anchor=(0.5, -0.3), ncol=2, fontsize=8, frameon=False)
    figure.autofmt_xdate()
    return _svg(figure)


def _outcomes_by_kind(report: Report) -> str:
    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(7.5, 0.6 + 0.55 * max(len(report.kinds), 1)))
    names = [_kind_name(k.card_kind) for k in report.kinds]
    accepted = [k.accepted for k in report.kinds]
    overridden = [k.overridden for k in report.kinds]
    silent = [max(k.cards_issued - k.cards_with_feedback, 0) for k in report.kinds]
    axes.barh(names, accepted, color=_COLOURS["accepted"], label="accepted")
    axes.barh(names, overridden, left=accepted, color=_COLOURS["overridden"], label="overridden", hatch="//")
    axes.barh(names, silent, left=[a + o for a, o in zip(accepted, overridden, strict=True)],
              color=_COLOURS["none"], label="no feedback")
    axes.invert_yaxis()
    axes.set_xlabel("cards")
    axes.set_title("Latest outcome per card, by card kind")
    axes.legend(loc="upper center", bbox_to_anchor=(0.5, -0.35 if len(names) < 3 else -0.2), ncol=3, fontsize=8,
                frameon=False)
    return _svg(figure)


def _reasons(report: Report) -> str:
    reasons = [(f"{_kind_name(k.card_kind)}: {r.code or 'no coded reason'}", r.count) for k in report.kinds
               for r in k.reasons]
    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(7.5, 0.6 + 0.45 * max(len(reasons), 1)))
    axes.barh([name for name, _ in reasons], [count for _, count in reasons], color=_COLOURS["overridden"])
    axes.invert_yaxis()
    axes.set_xlabel("overridden cards")
    axes.set_title("Override reasons (latest outcome per card)")
    return _svg(figure)


def _table(report: Report) -> str:
    rows = "".join(
        f"<tr><th scope='row'>{html.escape(_kind_name(k.card_kind))}</th><td>{k.cards_issued}</td>"
        f"<td>{k.cards_with_feedback}</td><td>{k.accepted}</td><td>{k.overridden}</td>"
        f"<td>{percent(k.acceptance_rate)}</td><td>{percent(k.override_rate)}</td><td>{k.changed}</td>"
        f"<td>{k.comments}</td></tr>" for k in report.kinds)
    return ("<table><caption>Cards by kind (each card once, latest outcome)</caption><thead><tr>"
            "<th scope='col'>Card kind</th><th scope='col'>Issued</th><th scope='col'>With feedback</th>"
            "<th scope='col'>Accepted</th><th scope='col'>Overridden</th><th scope='col'>Acceptance</th>"
            "<th scope='col'>Override</th><th scope='col'>Outcome changed</th><th scope='col'>Comments "
            f"(text not shown)</th></tr></thead><tbody>{rows}</tbody></table>")


def _reason_table(report: Report) -> str:
    rows = "".join(
        f"<tr><td>{html.escape(_kind_name(k.card_kind))}</td><td>{html.escape(reason_label(r))}</td>"
        f"<td>{html.escape(r.code or '')}</td><td>{r.count}</td><td>{r.with_comment}</td></tr>"
        for k in report.kinds for r in k.reasons)
    return ("<table><caption>Override reasons</caption><thead><tr><th scope='col'>Card kind</th>"
            "<th scope='col'>Reason</th><th scope='col'>Code</th><th scope='col'>Cards</th>"
            f"<th scope='col'>With comment</th></tr></thead><tbody>{rows}</tbody></table>")


_STYLE = """body{font:15px/1.45 system-ui,sans-serif;color:#1a1a1a;max-width:60rem;margin:1.5rem auto;padding:0 1rem}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem}table{border-collapse:collapse;margin:1rem 0;width:100%}
th,td{border:1px solid #767676;padding:.3rem .5rem;text-align:left}caption{text-align:left;font-weight:600}
figure{margin:1rem 0}svg{max-width:100%;height:auto}p.note{color:#404040}"""


def render_html(report: Report) -> str:
    """The report as one self-contained HTML page (inline CSS and SVG only)."""
    scope = f"service {report.service_id}" if report.service_id else "all services"
    since = f", since {report.since:%Y-%m-%d}" if report.since else ""
    body = ("<p>No cards issued and no feedback received.</p>" if not report.kinds else
            f"<h2>Over time</h2><figure>{_rates_over_time(report)}<figcaption>Share of cards accepted, by the "
            f"week of their latest outcome.</figcaption></figure>"
            f"<h2>By card kind</h2><figure>{_outcomes_by_kind(report)}<figcaption>Cards issued, by latest outcome; "
            f"grey: no feedback (ignored).</figcaption></figure>{_table(report)}"
            f"<h2>Override reasons</h2><figure>{_reasons(report)}<figcaption>Reasons clinicians gave when "
            f"overriding; CDS Hooks 3.0 reason codes are named.</figcaption></figure>{_reason_table(report)}")
    return (f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Neuroblastoma CDS: override "
            f"report</title><meta name='viewport' content='width=device-width,initial-scale=1'>"
            f"<style>{_STYLE}</style></head><body><main><h1>Neuroblastoma CDS: how clinicians responded to the "
            f"cards</h1><p class='note'>Generated {report.generated_at:%Y-%m-%d %H:%M} UTC, {html.escape(scope)}"
            f"{html.escape(since)}. Each card counts once, with its latest outcome (a card is one practitioner's "
            f"view of one chart). Comment text and patient identifiers are never included.</p>{body}</main>"
            "</body></html>\n")
