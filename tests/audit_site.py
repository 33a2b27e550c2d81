"""A small site with exactly one planted instance of each audit defect, served over HTTPS on
127.0.0.1 (a non-default port) by a real HTTP server that can redirect. Used by test_audit.py.

`EXPECTED` lists the (type, page, linking page) each defect must produce, and nothing else.
"""

from __future__ import annotations

import datetime as dt
import http.server
import ipaddress
import json
import ssl
import threading
import urllib.parse
from pathlib import Path

NAME, STREET, LOCALITY, POSTAL, PHONE = ("Example Acupuncture", "1 Test Street", "Alpha", "80000",
                                        "+1-303-555-0100")  # tests/fixtures/mini/config/site.yaml

EXPECTED = {
    ("http_error", "/server-error/", "/"),
    ("broken_link", "/missing/", "/about/"),
    ("redirect_chain", "/old/", "/"),
    ("redirect", "/moved/", "/about/"),
    ("title_missing", "/no-title/", ""),
    ("title_duplicate", "/dup-title/", ""),
    ("title_too_long", "/long-title/", ""),
    ("description_missing", "/no-desc/", ""),
    ("description_duplicate", "/dup-desc/", ""),
    ("description_too_long", "/long-desc/", ""),
    ("h1_missing", "/no-h1/", ""),
    ("h1_multiple", "/two-h1/", ""),
    ("canonical_missing", "/no-canonical/", ""),
    ("canonical_relative", "/relative-canonical/", ""),
    ("canonical_broken", "/canonical-404/", ""),
    ("canonical_noindex", "/canonical-to-noindex/", ""),
    ("noindex_unexpected", "/hidden/", ""),
    ("jsonld_invalid", "/bad-jsonld/", ""),
    ("schema_required_missing", "/no-address-schema/", ""),
    ("schema_recommended_missing", "/no-geo-schema/", ""),
    ("nap_mismatch", "/wrong-phone/", ""),
    ("sitemap_broken_url", "/deleted/", "/sitemap.xml"),
    ("not_in_sitemap", "/unlisted/", ""),
    ("orphan", "/orphan/", ""),
    ("mixed_content", "/mixed/", ""),
    ("img_no_alt", "/no-alt/", ""),
    ("oversized", "/big/", ""),
    ("robots_blocked", "/admin/", "/"),
}


def business(**drop_or_change) -> dict:
    node = {
        "@context": "https://schema.org", "@type": "MedicalClinic", "@id": "/#clinic", "name": NAME,
        "address": {"@type": "PostalAddress", "streetAddress": STREET, "addressLocality": LOCALITY,
                    "addressRegion": "CO", "postalCode": POSTAL, "addressCountry": "US"},
        "geo": {"@type": "GeoCoordinates", "latitude": 39.6, "longitude": -104.8},
        "telephone": PHONE, "url": "https://clinic.test/",
        "openingHoursSpecification": [{"@type": "OpeningHoursSpecification", "dayOfWeek": "Monday",
                                       "opens": "09:00", "closes": "17:00"}],
    }
    for key, value in drop_or_change.items():
        if value is None:
            node.pop(key, None)
        else:
            node[key] = value
    return node


class PlantedSite:
    """Routes: path -> (status, headers, body). Mutable, so a test can fix a defect between audits."""

    def __init__(self) -> None:
        self.routes: dict[str, tuple[int, dict[str, str], bytes]] = {}
        self.requested: list[str] = []
        self.origin = ""

    # -- pages ----------------------------------------------------------------------------------
    def page(self, path: str, *, title: str | None = None, desc: str | None = None, h1: int = 1,
             canonical: str | tuple[str, ...] | None = "self", robots: str = "index, follow",
             extra: str = "", jsonld: list[str] | None = None, phone: str = PHONE,
             links: tuple[str, ...] = (), headers: dict[str, str] | None = None) -> None:
        slug = path.strip("/") or "home"
        title = f"Page {slug} | {NAME}" if title is None else title
        desc = f"All about {slug} at our clinic." if desc is None else desc
        head = [f"<title>{title}</title>" if title else ""]
        if desc:
            head.append(f'<meta name="description" content="{desc}">')
        head.append(f'<meta name="robots" content="{robots}">')
        if canonical == "self":
            head.append(f'<link rel="canonical" href="{self.origin}{path}">')
        elif canonical:
            for href in (canonical,) if isinstance(canonical, str) else canonical:
                head.append(f'<link rel="canonical" href="{href}">')
        for block in jsonld if jsonld is not None else [json.dumps(business())]:
            head.append(f'<script type="application/ld+json">{block}</script>')
        body = "".join(f"<h1>Heading {i} of {slug}</h1>" for i in range(h1))
        body += "".join(f'<p><a href="{href}">to {href}</a></p>' for href in links)
        body += extra
        body += (f'<footer><address><strong>{NAME}</strong><br>{STREET}<br>{LOCALITY}, CO {POSTAL}'
                 f'<br><a href="tel:{phone}">{phone}</a></address></footer>')
        html = (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">{"".join(head)}</head>'
                f'<body><main>{body}</main></body></html>')
        self.routes[path] = (200, {"Content-Type": "text/html; charset=utf-8", **(headers or {})},
                             html.encode())

    def status(self, path: str, code: int, location: str = "") -> None:
        headers = {"Content-Type": "text/html"}
        if location:
            headers["Location"] = location
        self.routes[path] = (code, headers, f"<html><body>HTTP {code}</body></html>".encode())

    def build(self) -> None:
        o = self.origin
        linked_from_home = [
            "/about/", "/server-error/", "/old/", "/no-title/", "/dup-title/", "/long-title/",
            "/no-desc/", "/dup-desc/", "/long-desc/", "/no-h1/", "/two-h1/", "/no-canonical/",
            "/relative-canonical/", "/canonical-404/", "/canonical-to-noindex/", "/private/",
            "/hidden/", "/bad-jsonld/", "/no-address-schema/", "/no-geo-schema/", "/wrong-phone/",
            "/unlisted/", "/mixed/", "/no-alt/", "/big/", "/admin/", "/contact/",
            "mailto:front@clinic.test", "https://elsewhere.invalid/page/", "#top",
        ]
        self.page("/", links=tuple(linked_from_home), title=f"{NAME}: acupuncture in Alpha")
        self.page("/about/", links=("/missing/", "/moved/", "/contact/#map", "../"),
                  title="About us", desc="Who we are.")
        self.page("/contact/")
        self.status("/server-error/", 500)
        self.status("/missing/", 404)
        self.status("/old/", 301, "/older/")
        self.status("/older/", 302, f"{o}/contact/")
        self.status("/moved/", 301, "/contact/")
        self.page("/no-title/", title="")
        self.page("/dup-title/", title="About us")
        self.page("/long-title/", title="A title that goes on and on well past sixty characters, "
                                        "which search results cut off")
        self.page("/no-desc/", desc="")
        self.page("/dup-desc/", desc="Who we are.")
        self.page("/long-desc/", desc="word " * 40)
        self.page("/no-h1/", h1=0)
        self.page("/two-h1/", h1=2)
        self.page("/no-canonical/", canonical=None)
        self.page("/relative-canonical/", canonical="/relative-canonical/")
        self.page("/canonical-404/", canonical=f"{o}/gone/")
        self.page("/canonical-to-noindex/", canonical=f"{o}/private/")
        self.page("/private/", robots="noindex, follow")
        self.page("/hidden/", robots="noindex")
        self.page("/bad-jsonld/", jsonld=[json.dumps(business()), '{"@context": "https://schema.org",'])
        self.page("/no-address-schema/", jsonld=[json.dumps(business(address=None))])
        self.page("/no-geo-schema/", jsonld=[json.dumps(business(geo=None))])
        self.page("/wrong-phone/", phone="+1-720-555-0199")
        self.page("/unlisted/")
        self.page("/orphan/")
        self.page("/mixed/", extra=f'<img src="http://127.0.0.1:{o.rsplit(":", 1)[1]}/pic.png" alt="x">')
        self.page("/no-alt/", extra='<img src="/pic.png"><img src="/deco.png" alt="">')
        self.page("/big/", extra="<p>" + "lorem ipsum " * 45_000 + "</p>")
        self.page("/admin/")
        sitemap = [p for p, (code, _, _) in self.routes.items() if code == 200
                   and p not in ("/unlisted/", "/private/", "/admin/")] + ["/deleted/"]
        xml = ('<?xml version="1.0" encoding="UTF-8"?>'
               '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
               + "".join(f"<url><loc>{o}{p}</loc></url>" for p in sorted(sitemap)) + "</urlset>")
        self.routes["/sitemap.xml"] = (200, {"Content-Type": "application/xml"}, xml.encode())
        robots = f"User-agent: *\nDisallow: /admin/\n\nSitemap: {o}/sitemap.xml\n"
        self.routes["/robots.txt"] = (200, {"Content-Type": "text/plain"}, robots.encode())


def self_signed(folder: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=7))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def serve(site: PlantedSite, folder: Path) -> http.server.HTTPServer:
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            path = urllib.parse.unquote(self.path.split("?", 1)[0])
            site.requested.append(path)
            code, headers, body = site.routes.get(path, (404, {"Content-Type": "text/html"},
                                                         b"<html><body>not found</body></html>"))
            self.send_response(code)
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(*self_signed(folder))
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    site.origin = f"https://127.0.0.1:{server.server_address[1]}"
    site.build()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server
