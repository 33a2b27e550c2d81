"""Helpers for the report tests: a store seeded with a realistic week, and a local SMTP server.

The week is 2026-W47 (Mon 16 - Sun 22 Nov 2026). Rankings, Search Console rows, pages and audits
are written with the stages' own library functions; listing rows and job runs are inserted into
their tables with fixed times (their library calls stamp the real clock).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import socket
import ssl
import threading
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import yaml
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from seo import api
from seo.rankings.keywords import build_keywords
from seo.rankings.observations import Observation, save_observations, save_sc_rows
from seo.store import runs

WEEK = "2026-W47"
MONDAY = date(2026, 11, 16)
FIRST = MONDAY - timedelta(weeks=10)
USER, PASSWORD = "marketing", "s3cret-Pa55word"


def configure(root: Path, email: dict[str, Any] | None = None, **integrations: Any) -> None:
    path = root / "config/site.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    section = data.get("integrations") or {}
    section.update(integrations)
    if email is not None:
        section["email"] = email
    data["integrations"] = section
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


def _series(before: float, now: float | str, wobble: float = 1.0) -> list[float | str]:
    """10 weeks around `before` (alternating wobble) then a week at `now` (or "fail")."""
    days = [before + (wobble if i % 2 else 0.0) for i in range(70)]
    return [*days, *([now] * 7)]


SERIES = {  # (keyword, town): positions before -> this week
    ("knee pain acupuncture alpha", "alpha"): (8, 2),  # up, new top 3
    ("wrist pain acupuncture alpha", "alpha"): (5, 15),  # down, out of the top 10
    ("knee pain acupuncture beta springs", "beta-springs"): (12, 12),  # steady
    ("wrist pain acupuncture beta springs", "beta-springs"): (20, "fail"),  # not measured
    ("acupuncture alpha co", "alpha"): (14, 9),  # up, new top 10
}


def seed_week(root: Path) -> api.Project:
    """Configure rankings and listing, then fill the store with W47 and the weeks before it."""
    configure(root, search_console={"property": "sc-domain:clinic.test"},
              serp={"provider": "dataforseo"}, gbp={"account": "accounts/1"})
    project = api.Project.open(root)
    known = {(k.text, k.town) for k in build_keywords(project.site)}
    obs = []
    for (kw, town), (before, now) in SERIES.items():
        assert (kw, town) in known, kw
        for i, v in enumerate(_series(before, now)):
            day = FIRST + timedelta(days=i)
            if v == "fail":
                obs.append(Observation("dataforseo", "organic", kw, town, "desktop", day, False,
                                       reason="provider timed out"))
            else:
                obs.append(Observation("dataforseo", "organic", kw, town, "desktop", day, True, float(v)))
    save_observations(project.store, obs)
    rows = []
    for i in range(77):
        day = FIRST + timedelta(days=i)
        week_no = i // 7
        rows.append({"day": day, "query": "knee pain acupuncture alpha",
                     "page": "https://clinic.test/alpha/knee-pain/",
                     "clicks": 3 + week_no // 5 + (1 if i >= 70 else 0),
                     "impressions": 100 + 10 * week_no, "ctr": 0.03, "position": 6.0,
                     "provisional": i >= 75})
        rows.append({"day": day, "query": "acupuncture alpha co", "page": "https://clinic.test/alpha/",
                     "clicks": 1, "impressions": 40, "ctr": 0.025, "position": 11.0, "provisional": i >= 75})
    save_sc_rows(project.store, rows)
    api.build(project, today=MONDAY + timedelta(days=2))  # pages "created" on Wed 18 Nov
    _seed_audits(project)
    _seed_listing(project)
    _seed_runs(project)
    return project


def _seed_audits(project: api.Project) -> None:
    from seo.audit.catalog import Finding
    from seo.audit.history import audits, save_audit
    first = save_audit(project.store, run_id=None, target="built", pages=9, truncated=False, findings=[
        Finding("img_no_alt", "/alpha/"), Finding("title_too_long", "/beta-springs/knee-pain/")])
    second = save_audit(project.store, run_id=None, target="built", pages=9, truncated=False, findings=[
        Finding("img_no_alt", "/alpha/"), Finding("broken_link", "/old-page/", "/alpha/knee-pain/")])
    with project.store.begin() as conn:
        for audit_id, when in ((first, datetime(2026, 11, 10, 15)), (second, datetime(2026, 11, 17, 15))):
            conn.execute(audits.update().where(audits.c.id == audit_id).values(started_at=when))


def _seed_listing(project: api.Project) -> None:
    from seo.tables import listing_changes, listing_drift, listing_posts
    at = datetime(2026, 11, 18, 17, 0)
    with project.store.begin() as conn:
        conn.execute(listing_changes.insert().values(
            run_id=1, action="apply", location="main", gbp_name="locations/1", fields="hours, description",
            update_mask="regularHours,profile.description", before="{}", after="{}", status="verified",
            at=at))
        conn.execute(listing_drift.insert().values(
            run_id=2, location="main", field="phone", kind="google", policy="report",
            google_value="(303) 555-0199", our_value="+1-303-555-0100", at=at))
        for key, page, state in (("k1", "/alpha/knee-pain/", "LIVE"), ("k2", "/beta-springs/", "REJECTED")):
            conn.execute(listing_posts.insert().values(
                key=key, location="main", page=page, content_hash="h", reason="new", summary="s",
                page_text="", post_name=None, state=state, search_url="", created_on=date(2026, 11, 18),
                updated_at=at))


def _seed_runs(project: api.Project) -> None:
    rows = []
    for d in range(7):
        start = datetime(2026, 11, 16 + d, 13, 0)
        rows.append({"job": "rankings:serp", "started_at": start, "finished_at": start + timedelta(minutes=5),
                     "status": "ok", "counts": "{}", "error": "", "trigger": "schedule"})
    rows.append({"job": "listing-drift", "started_at": datetime(2026, 11, 19, 14), "finished_at": None,
                 "status": "failed", "counts": "{}", "error": "HTTP 403: quota is 0 for this project\nmore",
                 "trigger": "schedule"})
    rows.append({"job": "audit", "started_at": datetime(2026, 10, 20, 14),
                 "finished_at": datetime(2026, 10, 20, 14, 5), "status": "ok", "counts": "{}", "error": "",
                 "trigger": "schedule"})
    with project.store.begin() as conn:
        conn.execute(runs.insert(), rows)
        conn.execute(sa.text("SELECT 1"))


# -- a local SMTP server with STARTTLS and AUTH -------------------------------------------------

def make_cert(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (and localhost); returns (cert.pem, key.pem)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes
    login: str


@dataclass
class Handler:
    """Collects messages; `fail_data` answers the next N DATA commands with a 4xx."""

    received: list[Received] = field(default_factory=list)
    fail_data: int = 0
    fail_code: str = "451 4.3.0 Mailbox temporarily unavailable, try later"
    attempts: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            self.attempts += 1
            if self.fail_data > 0:
                self.fail_data -= 1
                return self.fail_code
            login = session.auth_data.login.decode() if isinstance(session.auth_data, LoginPassword) else ""
            self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos),
                                          envelope.original_content, login))
        return "250 OK"


def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and auth_data.login == USER.encode() \
        and auth_data.password == PASSWORD.encode()
    return AuthResult(success=ok, handled=False, auth_data=auth_data)


def smtp_server(handler: Handler, cert: Path, key: Path, implicit_tls: bool = False) -> Controller:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    with socket.socket() as probe:  # aiosmtpd's Controller cannot start on port 0
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    kwargs: dict[str, Any] = dict(hostname="127.0.0.1", port=port, authenticator=authenticator,
                                  auth_require_tls=True)
    if implicit_tls:  # aiosmtpd only counts STARTTLS as TLS for auth_require_tls
        kwargs.update(ssl_context=ctx, auth_require_tls=False)
    else:
        kwargs.update(tls_context=ctx, require_starttls=True)
    controller = Controller(handler, **kwargs)
    controller.start()
    return controller


def serve_report(report: Any, folder: Path) -> tuple[Any, str]:
    """Serve a built report over HTTP as a browser would see the mail: its charts as files beside
    index.html (their cid: references pointed at them). Returns (server, url); shut the server down."""
    from seo.pages.preview import serve_in_thread
    folder.mkdir()
    html = report.html
    for cid, chart in report.content_ids().items():
        (folder / chart.name).write_bytes(chart.png)
        html = html.replace(f'src="cid:{cid}"', f'src="{chart.name}"')
    (folder / "index.html").write_text(html, encoding="utf-8")
    server, _thread = serve_in_thread(folder, "127.0.0.1", 0)
    return server, f"http://127.0.0.1:{server.server_address[1]}/index.html"
