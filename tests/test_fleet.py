"""`seo fleet`: many client folders from one installation, one line each, data never mixed."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sys
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa
from conftest import HERE, MINI, run_seo, use_store
from schedule_support import run_rows, wait_for

from seo.api import Project
from seo.fleet import run as fleet_run
from seo.fleet.clients import clients
from seo.tables import pages

# the child `seo`, with build_pages swapped for a test job (the runner's registry)
LAUNCH = ("import json, os, sys; sys.path.insert(0, " + repr(str(HERE)) + "); "
          "from seo.automation import runner; "
          "runner.REGISTRY.update(json.loads(os.environ.get('SEO_TEST_REGISTRY', '{}'))); "
          "from seo.cli import main; main(args=sys.argv[1:], prog_name='seo')")


def _client(tmp_path: Path, name: str, url: str | None = None, schema: str | None = None) -> Path:
    root = tmp_path / name
    shutil.copytree(MINI, root, ignore=shutil.ignore_patterns("build"))
    if url:
        use_store(root, url)
    if schema:
        site = root / "config/site.yaml"
        site.write_text(site.read_text().replace("  store:", f"  store_schema: {schema}\n  store:"))
    town = root / "content/towns/alpha.md"  # each client's pages say whose they are
    town.write_text(town.read_text() + f"\nClient {name} sees patients here.\n")
    return root


def _paths_and_texts(root: Path) -> tuple[int, set[str]]:
    with Project.open(root).store.engine.connect() as conn:
        count = conn.execute(sa.select(sa.func.count()).select_from(pages)).scalar()
    html = (root / "build/site/alpha/index.html").read_text()
    return int(count or 0), {n for n in ("acme", "smith", "jones") if f"Client {n} " in html}


def test_each_client_runs_in_its_own_store_one_line_each(tmp_path: Path) -> None:
    roots = [_client(tmp_path, n) for n in ("acme", "smith")]
    bad = _client(tmp_path, "jones")
    (bad / "config/site.yaml").write_text((bad / "config/site.yaml").read_text() + "bogus: 1\n")
    proc = run_seo("fleet", "run", "build_pages", "--roots", *map(str, [*roots, bad]),
                   "--concurrency", "1", cwd=tmp_path, timeout=300)
    assert proc.returncode == 1, proc.stderr  # one client failed
    lines = proc.stdout.splitlines()
    assert [line.split(":")[0] for line in lines] == ["acme", "smith", "jones"]
    assert lines[0].startswith("acme: ok in ") and "rendered 11" in lines[0]
    assert lines[2] == "jones: error: config/site.yaml:24: bogus: unknown key (check the spelling)"
    for root, name in zip(roots, ("acme", "smith"), strict=True):
        assert _paths_and_texts(root) == (11, {name})
        [row] = run_rows(Project.open(root).store.engine, "build_pages")
        assert row["trigger"] == "fleet" and row["status"] == "ok"
        assert (root / "build/logs/fleet-build_pages.log").is_file()
    a, b = (run_rows(Project.open(r).store.engine)[0] for r in roots)
    assert a["started_at"] >= b["finished_at"] or b["started_at"] >= a["finished_at"]  # one at a time


def test_two_clients_on_one_store_are_refused_before_anything_runs(tmp_path: Path) -> None:
    acme = _client(tmp_path, "acme")
    smith = _client(tmp_path, "smith", url=f"sqlite:///{acme}/build/seo.sqlite3")
    proc = run_seo("fleet", "run", "build_pages", "--roots", str(acme), str(smith))
    assert proc.returncode == 2
    assert proc.stderr.strip() == (f"error: clients acme and smith share one store (sqlite:{acme}/build/"
                                   "seo.sqlite3); give each its own database, SQLite file or "
                                   "site.store_schema, so that their data never mixes")
    assert not (acme / "build/site").exists() and not (smith / "build/site").exists()
    assert run_seo("fleet", "run", "weekly", "--roots", str(acme), str(acme)).returncode == 2


def test_fleet_file_with_patterns_and_check(tmp_path: Path) -> None:
    for n in ("acme", "smith"):
        _client(tmp_path / "clients", n)
    (tmp_path / "fleet.yaml").write_text("roots: [clients/*]\nconcurrency: 2\n")
    checked = run_seo("fleet", "check", "--config", str(tmp_path / "fleet.yaml"))
    assert checked.returncode == 0, checked.stderr
    assert checked.stdout.splitlines() == [
        f"{n}: ok, store sqlite:{tmp_path}/clients/{n}/build/seo.sqlite3" for n in ("acme", "smith")]
    (tmp_path / "fleet.yaml").write_text("roots: [clients/*]\nconcurency: 2\n")
    bad = run_seo("fleet", "run", "weekly", "--config", str(tmp_path / "fleet.yaml"))
    assert bad.returncode == 2
    assert bad.stderr.strip().startswith("error: ") and "concurency: unknown key" in bad.stderr
    nothing = run_seo("fleet", "run", "weekly")
    assert nothing.returncode == 2 and "give --roots DIR... or --config" in nothing.stderr


def test_clients_in_schemas_of_one_postgresql_database(tmp_path: Path, pg_url: str) -> None:
    """An agency's clients in one database, each in a schema of its own: same tables, no rows in
    common; two clients on one schema are refused."""
    acme = _client(tmp_path, "acme", url=pg_url, schema="client_acme")
    smith = _client(tmp_path, "smith", url=pg_url, schema="client_smith")
    proc = run_seo("fleet", "run", "build_pages", "--roots", str(acme), str(smith), timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert _paths_and_texts(acme) == (11, {"acme"}) and _paths_and_texts(smith) == (11, {"smith"})
    engine = sa.create_engine(pg_url)
    with engine.connect() as conn:
        for schema in ("client_acme", "client_smith"):
            assert conn.execute(sa.text(f"SELECT count(*) FROM {schema}.pages")).scalar() == 11
            assert conn.execute(sa.text(f"SELECT count(*) FROM {schema}.runs")).scalar() == 1
        public = conn.execute(sa.text("SELECT count(*) FROM information_schema.tables "
                                      "WHERE table_schema = 'public'")).scalar()
    engine.dispose()
    assert public == 0  # nothing landed outside the clients' schemas
    jones = _client(tmp_path, "jones", url=pg_url, schema="client_acme")
    refused = run_seo("fleet", "check", str(acme), str(jones))
    assert refused.returncode == 2 and "share one store" in refused.stderr and "schema client_acme" \
        in refused.stderr


def test_store_schema_needs_postgresql(mini: Path) -> None:
    site = mini / "config/site.yaml"
    site.write_text(site.read_text().replace("  store:", "  store_schema: client_a\n  store:"))
    proc = run_seo("pages", "build", "--root", str(mini))
    assert proc.returncode == 2
    assert proc.stderr.strip() == ("error: config/site.yaml: site.store_schema: store_schema "
                                   "'client_a' needs a PostgreSQL store (site.store is sqlite)")


@pytest.fixture
def gated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Children whose build_pages job blocks until the test releases it (schedule_support)."""
    gate = tmp_path / "gate"
    gate.mkdir()
    monkeypatch.setattr(fleet_run, "CHILD", [sys.executable, "-c", LAUNCH])
    monkeypatch.setenv("SEO_TEST_REGISTRY", json.dumps({"build_pages": "schedule_support:blocking_job"}))
    monkeypatch.setenv("SEO_TEST_GATE", str(gate))
    return gate


def test_sigterm_lets_running_clients_finish_and_starts_no_more(tmp_path: Path, gated: Path) -> None:
    found = clients([_client(tmp_path, n) for n in ("acme", "smith", "jones")])

    def stop_then_release() -> None:
        wait_for(lambda: list(gated.glob("started-*")), what="the first client")
        os.kill(os.getpid(), signal.SIGTERM)  # the fleet's own handler: pass it on, start no more
        (gated / "release").write_text("")

    helper = threading.Thread(target=stop_then_release)
    helper.start()
    results = fleet_run.run_fleet(found, "build_pages", concurrency=1)
    helper.join(30)
    assert [(r.client.name, r.status) for r in results] == [
        ("acme", "ok"), ("smith", "not started"), ("jones", "not started")]
    assert fleet_run.exit_code(results) == 0
    assert len(list(gated.glob("started-*"))) == 1


def test_a_client_past_its_time_limit_is_stopped(tmp_path: Path, gated: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fleet_run, "KILL_GRACE", 0.5)  # never released: SIGTERM, then SIGKILL
    found = clients([_client(tmp_path, "acme")])
    [result] = fleet_run.run_fleet(found, "build_pages", timeout_minutes=0.03)
    assert result.status == "timed out" and result.failed
    assert result.line().startswith("acme: timed out in ") and "(log: " in result.line()
