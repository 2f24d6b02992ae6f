"""The ``nbcds`` command: classify case files or FHIR data, serve the CDS Hooks service, report feedback, load the
example patients into a FHIR server, write a self-signed certificate for the local TLS proxy."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import TextIO

from cds_service.cli import load_examples, tls_cert
from cds_service.cli.classify import classify_files
from cds_service.settings import Settings


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="nbcds", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    classify_cmd = commands.add_parser("classify", help="stage and risk-classify case files or FHIR data")
    classify_cmd.add_argument("paths", nargs="+", metavar="PATH",
                              help="case JSON, FHIR Bundle JSON, NDJSON of FHIR resources, or a FHIR Bulk Data "
                                   "export directory (*.ndjson / *.ndjson.gz files of any resource types)")
    classify_cmd.add_argument("--json", action="store_true", help="one JSON object per patient")
    classify_cmd.add_argument("--workers", type=int, default=1, metavar="N",
                              help="worker processes for a Bulk Data export (default 1)")
    classify_cmd.add_argument("--fhir-out", metavar="DIR",
                              help="for a Bulk Data export: write the determinate stage and risk Observations "
                                   "as DIR/Observation.ndjson, ready to load into a FHIR server")

    serve_cmd = commands.add_parser("serve", help="run the CDS Hooks service under gunicorn")
    serve_cmd.add_argument("--host", help="bind address (NBCDS_HOST, default 127.0.0.1)")
    serve_cmd.add_argument("--port", type=int, help="port (NBCDS_PORT, default 8080)")
    serve_cmd.add_argument("--workers", type=int, help="worker processes (NBCDS_WORKERS, default 2)")
    serve_cmd.add_argument("--profile", choices=("production", "development"),
                           help="NBCDS_PROFILE; development relaxes JWT checks and may trust the sandbox")

    report_cmd = commands.add_parser("report", help="acceptance and override rates per card kind, from the store "
                                                    "(each card once, its latest outcome)")
    report_cmd.add_argument("--html", metavar="FILE", help="also write a self-contained HTML page with plots")
    load_examples.add_parser(commands)
    tls_cert.add_parser(commands)
    return parser


def _serve(args: argparse.Namespace) -> int:
    """Command-line options become NBCDS_* variables so that every gunicorn worker reads the same settings."""
    for name in ("host", "port", "workers", "profile"):
        value = getattr(args, name)
        if value is not None:
            os.environ[f"NBCDS_{name.upper()}"] = str(value)
    from cds_service.server import serve
    from cds_service.settings import ProductionConfigError

    try:
        serve(Settings())
    except ProductionConfigError as error:
        print(f"nbcds serve: {error}", file=sys.stderr)
        return 2
    return 0


def _report(out: TextIO, html_file: str | None = None) -> int:
    from cds_service.store import open_store, override_report, render_report

    store = open_store(Settings().database_url)
    try:
        report = override_report(store)
    finally:
        store.dispose()
    out.write(render_report(report) + "\n")
    if html_file:
        from cds_service.cli.report_html import render_html

        with open(html_file, "w", encoding="utf-8") as page:
            page.write(render_html(report))
        out.write(f"HTML report written to {html_file}\n")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "classify":
        return classify_files(args.paths, args.json, sys.stdout, sys.stderr, workers=max(1, args.workers),
                               fhir_out=args.fhir_out)
    if args.command == "serve":
        return _serve(args)
    if args.command == "report":
        return _report(sys.stdout, args.html)
    if args.command == "load-examples":
        return load_examples.run(args, sys.stdout, sys.stderr)
    if args.command == "tls-cert":
        return tls_cert.run(args, sys.stdout)
    raise AssertionError(f"unhandled command {args.command}")  # pragma: no cover - argparse guards


if __name__ == "__main__":
    raise SystemExit(main())
