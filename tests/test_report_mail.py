"""Delivery through a local aiosmtpd server (STARTTLS or implicit TLS, AUTH, a self-signed
certificate made at test time): what arrives, every failure mode retried then kept in the outbox,
`--outbox` resending, header injection refused, and no host at all."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from conftest import run_seo
from report_support import PASSWORD, USER, WEEK, Handler, configure, make_cert, seed_week, smtp_server

from seo.api import Project
from seo.errors import UserError
from seo.report import build_report, flush_outbox, send_report
from seo.report.mail import parse_address, safe_header

PW_ENV = "SEO_TEST_SMTP_PASSWORD"
TO = ["marketing@clinic.test", "owner@clinic.test"]


@pytest.fixture(scope="module")
def cert(tmp_path_factory) -> tuple[Path, Path]:
    return make_cert(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def handler() -> Handler:
    return Handler()


@pytest.fixture
def server(handler, cert) -> Iterator[int]:
    controller = smtp_server(handler, *cert)
    yield controller.port
    controller.stop()


@pytest.fixture
def seeded(mini):
    return seed_week(mini)


def email_config(root: Path, port: int, cert: Path, **extra) -> Project:
    cfg = {"host": "127.0.0.1", "port": port, "security": "starttls", "username": USER,
           "password_env": PW_ENV, "from": "seo@clinic.test", "to": TO, "ca_file": str(cert),
           "timeout": 2, "retries": 2, "backoff": 1, **extra}
    configure(root, email=cfg)
    return Project.open(root)


def outbox(project: Project) -> list[Path]:
    return sorted(project.site.path("build/outbox").glob("*.eml"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def check_arrived(data: bytes, report) -> None:
    msg = message_from_bytes(data, policy=policy.SMTP)
    assert msg["Subject"].strip() == report.subject  # folded after "Subject:" when long
    assert msg["From"].addresses[0].addr_spec == "seo@clinic.test"
    assert msg["From"].addresses[0].display_name == "Example Acupuncture"
    assert [a.addr_spec for a in msg["To"].addresses] == TO
    assert msg["Message-ID"] and msg["Date"] and msg["X-SEO-Report-Week"] == WEEK
    assert msg.get_content_type() == "multipart/alternative"
    text, related = msg.get_payload()
    assert text.get_content_type() == "text/plain" and related.get_content_type() == "multipart/related"
    html, *images = related.get_payload()
    assert html.get_content_type() == "text/html"
    assert images and all(p.get_content_type() == "image/png" for p in images)
    assert all(p.get_content_disposition() == "inline" for p in images)
    by_cid = {p["Content-ID"].strip("<>"): p.get_payload(decode=True) for p in images}
    body = html.get_content().replace("\r\n", "\n")
    referenced = set(__import__("re").findall(r'src="cid:([^"]+)"', body))
    assert referenced and referenced == set(by_cid)
    for cid, chart in report.content_ids().items():
        assert by_cid[cid] == chart.png
    plain = text.get_content().replace("\r\n", "\n")
    assert plain == report.text
    for number in ("49", "1,680", "+40%", "provider timed out"):
        assert number in plain
    assert PASSWORD not in data.decode("utf-8", "replace")


def test_send_over_starttls_with_auth_arrives_whole(seeded, server, handler, cert, monkeypatch):
    monkeypatch.setenv(PW_ENV, PASSWORD)
    project = email_config(seeded.site.root, server, cert[0])
    sleeps: list[float] = []
    delivery = send_report(project, WEEK, sleep=sleeps.append)
    assert delivery.ok and len(delivery.sent) == 1 and sleeps == []
    assert outbox(project) == []  # removed once accepted
    (got,) = handler.received
    assert got.login == USER and got.mail_from == "seo@clinic.test" and got.rcpt_tos == TO
    check_arrived(got.data, build_report(project, WEEK))


def test_send_over_implicit_tls(seeded, handler, cert, monkeypatch):
    monkeypatch.setenv(PW_ENV, PASSWORD)
    controller = smtp_server(handler, *cert, implicit_tls=True)
    try:
        project = email_config(seeded.site.root, controller.port, cert[0], security="ssl")
        delivery = send_report(project, WEEK, sleep=lambda s: None)
    finally:
        controller.stop()
    assert delivery.ok and len(handler.received) == 1, delivery.failures


def test_temporary_failure_is_retried_and_then_sent(seeded, server, handler, cert, monkeypatch):
    monkeypatch.setenv(PW_ENV, PASSWORD)
    project = email_config(seeded.site.root, server, cert[0])
    handler.fail_data = 1
    sleeps: list[float] = []
    delivery = send_report(project, WEEK, sleep=sleeps.append)
    assert delivery.ok and sleeps == [1.0] and handler.attempts == 2 and len(handler.received) == 1


def silent_server() -> tuple[socket.socket, int]:
    """Accepts TCP connections (the kernel's backlog) but never says a word: a timeout."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    return sock, sock.getsockname()[1]


@pytest.mark.parametrize("mode", ["refused", "4xx", "auth", "timeout"])
def test_failures_are_retried_then_kept_in_the_outbox(mode, seeded, server, handler, cert, monkeypatch):
    monkeypatch.setenv(PW_ENV, "wrong password" if mode == "auth" else PASSWORD)
    port, silent = server, None
    if mode == "refused":
        port = free_port()
    elif mode == "timeout":
        silent, port = silent_server()
    elif mode == "4xx":
        handler.fail_data = 99
    project = email_config(seeded.site.root, port, cert[0], timeout=0.5)
    sleeps: list[float] = []
    try:
        delivery = send_report(project, WEEK, sleep=sleeps.append)
    finally:
        if silent:
            silent.close()
    assert not delivery.ok and sleeps == [1.0, 2.0]  # 3 attempts, doubling backoff
    (line,) = delivery.failures
    expect = {"refused": "connection refused", "4xx": "451", "auth": "authentication failed",
              "timeout": "timed out"}[mode]
    assert expect in line and "after 3 attempts" in line
    assert "wrong password" not in line and PASSWORD not in line
    (waiting,) = outbox(project)
    assert delivery.waiting == [waiting]
    assert any("seo report send --outbox" in x for x in delivery.lines())
    assert handler.received == []
    # the server comes back (right password, no failures): the waiting message goes out
    handler.fail_data = 0
    monkeypatch.setenv(PW_ENV, PASSWORD)
    project = email_config(seeded.site.root, server, cert[0])
    again = flush_outbox(project, sleep=sleeps.append)
    assert again.ok and again.sent == [waiting.name] and outbox(project) == []
    check_arrived(handler.received[0].data, build_report(project, WEEK))


def test_permanent_failure_is_not_retried_but_kept(seeded, server, handler, cert, monkeypatch):
    monkeypatch.setenv(PW_ENV, PASSWORD)
    project = email_config(seeded.site.root, server, cert[0])
    handler.fail_data, handler.fail_code = 99, "554 5.7.1 Message rejected"
    sleeps: list[float] = []
    delivery = send_report(project, WEEK, sleep=sleeps.append)
    assert not delivery.ok and sleeps == [] and "554" in delivery.failures[0]
    assert len(outbox(project)) == 1


def test_missing_password_env_keeps_the_message(seeded, server, cert, monkeypatch):
    monkeypatch.delenv(PW_ENV, raising=False)
    project = email_config(seeded.site.root, server, cert[0])
    delivery = send_report(project, WEEK, sleep=lambda s: None)
    assert f"${PW_ENV} is not set" in delivery.failures[0] and len(outbox(project)) == 1


def test_cli_send_failure_then_outbox_resend(seeded, server, handler, cert):
    root = seeded.site.root
    email_config(root, server, cert[0], retries=0)
    handler.fail_data = 99
    env = {PW_ENV: PASSWORD}
    out = run_seo("report", "send", "--root", str(root), "--week", WEEK, env=env)
    assert out.returncode == 1, out.stderr
    assert "451" in out.stdout and "wait in" in out.stdout and str(root / "build/outbox") in out.stdout
    handler.fail_data = 0
    out = run_seo("report", "send", "--root", str(root), "--outbox", env=env)
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.startswith("sent ") and len(handler.received) == 1
    assert PASSWORD not in out.stdout + out.stderr
    out = run_seo("report", "send", "--root", str(root), "--outbox", env=env)
    assert out.returncode == 0 and "nothing to send" in out.stdout


def test_no_smtp_host_writes_the_eml_and_says_where(seeded):
    out = run_seo("report", "send", "--root", str(seeded.site.root), "--week", WEEK)
    assert out.returncode == 0, out.stderr
    (path,) = outbox(seeded)
    assert "no SMTP host configured" in out.stdout and str(path) in out.stdout
    msg = message_from_bytes(path.read_bytes(), policy=policy.SMTP)
    assert msg.get_content_type() == "multipart/alternative" and "week 2026-W47" in msg["Subject"]
    assert flush_outbox(seeded).waiting == [path]  # still no host: it keeps waiting


@pytest.mark.parametrize("value", ["a@clinic.test\r\nBcc: evil@x.test", "a@clinic.test, evil@x.test",
                                   "Evil <evil@x.test>", "not an address", "a@clinic.test\nX: y"])
def test_addresses_cannot_inject_headers(value):
    with pytest.raises(UserError):
        parse_address(value, "to")


def test_subject_from_data_cannot_inject_headers(mini):
    path = mini / "config/site.yaml"
    path.write_text(path.read_text().replace("name: Example Acupuncture\n",
                                             'name: "Example\\r\\nBcc: evil@x.test"\n', 1))
    with pytest.raises(UserError, match=r"business\.name: must be one line"):  # refused at load
        Project.open(mini)
    with pytest.raises(UserError, match="line breaks"):  # and again where the header is made
        safe_header("Example\r\nBcc: evil@x.test", "subject")
    with pytest.raises(UserError):
        safe_header("fine\x00", "subject")


def test_rerun_replaces_the_weeks_waiting_message(seeded):
    """No SMTP host: the message waits in the outbox; three runs leave one message per week and
    recipient list (the latest), and a message for other recipients is kept beside it."""
    configure(seeded.site.root, email={"to": ["owner@clinic.test"]})
    project = Project.open(seeded.site.root)
    for _ in range(3):
        delivery = send_report(project, WEEK)
        assert len(delivery.waiting) == 1
    (only,) = outbox(project)
    assert only.name.startswith(f"{WEEK}-")
    legacy = only.parent / f"20261123T120000-{WEEK}-0123456789.eml"  # an older version's name
    legacy.write_bytes(only.read_bytes())
    configure(seeded.site.root, email={"to": ["owner@clinic.test", "staff@clinic.test"]})
    other = send_report(Project.open(seeded.site.root), WEEK)
    assert len(outbox(project)) == 3  # a second recipient list is a second message
    configure(seeded.site.root, email={"to": ["owner@clinic.test"]})
    send_report(Project.open(seeded.site.root), WEEK)
    names = sorted(p.name for p in outbox(project))
    assert names == sorted([only.name, other.waiting[0].name]) and not legacy.exists()
    assert "1 message(s) wait in" in "\n".join(send_report(project, WEEK).lines())
