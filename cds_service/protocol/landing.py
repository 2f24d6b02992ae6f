"""``GET /``: what this endpoint is, as data (the HTML page and the JSON answer are rendered from it).

Public on purpose: the name, version, rule set and the declared services (ids, hooks, titles; no prefetch
templates), and where to go next. Nothing about a patient, a client or the configuration.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from cds_service.protocol.registry import ServiceRegistry

TITLE = "Neuroblastoma CDS Hooks service"
SUMMARY = ("INRG stage (INRGSS) and pretreatment risk group (INRG 2009, COG 2021) of neuroblastoma from FHIR R4 "
           "data, answered as CDS Hooks 2.0 cards. Decision support: every result is preliminary until a "
           "clinician accepts it.")


class LandingService(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    hook: str
    title: str


class LandingLink(BaseModel):
    """A link by its relation: ``discovery``, ``openapi``, ``app`` (when the SMART app is served), ``docs``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rel: str
    href: str
    title: str


class Landing(BaseModel):
    """The landing page's content (``GET /`` with ``Accept: application/json``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    title: str
    summary: str
    version: str
    ruleset: str
    cdsHooks: str  # noqa: N815 - the JSON member name
    services: tuple[LandingService, ...]
    links: tuple[LandingLink, ...]

    def link(self, rel: str) -> LandingLink | None:
        return next((link for link in self.links if link.rel == rel), None)


def landing(registry: ServiceRegistry, *, version: str, ruleset: str, base: str, app: bool,
            docs_url: str | None) -> Landing:
    """The landing content; ``base`` is prefixed to this service's own links ("" for root-relative ones)."""
    links = [LandingLink(rel="discovery", href=f"{base}/cds-services", title="CDS Hooks discovery"),
             LandingLink(rel="openapi", href=f"{base}/openapi.json", title="OpenAPI 3.1 description")]
    if app:
        links.append(LandingLink(rel="app", href=f"{base}/app/launch",
                                 title="SMART app: decision path, IDRF worksheet, family page"))
    if docs_url:
        links.append(LandingLink(rel="docs", href=docs_url, title="Documentation"))
    services = tuple(LandingService(id=s.id, hook=s.hook, title=s.title) for s in registry)
    return Landing(name="neuroblastoma-cds", title=TITLE, summary=SUMMARY, version=version, ruleset=ruleset,
                   cdsHooks="2.0", services=services, links=tuple(links))
