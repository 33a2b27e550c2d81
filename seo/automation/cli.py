"""`seo run JOB` and `seo schedule run|list|cron`: a thin layer over the runner and the service."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import click

from .. import files
from ..api import Project
from ..cli_options import root_option
from .schedule import JOBS, load_schedule

EXIT = {"ok": 0, "skipped": 0, "failed": 1, "interrupted": 143}
JOBS_HELP = """\b
Jobs:
  build_pages     build the site's pages (seo pages build)
  audit_site      audit the live site, or the build while business.url is an example value
  check_rankings  fetch ranks: Search Console and the SERP provider (seo rankings check)
  sync_listing    Business Profile drift and plan; apply too with `apply: true`
  publish_posts   Business Profile posts for new or changed pages (seo listing posts)
  weekly_report   send the weekly report (SMTP, or it waits in the outbox)
  weekly          all of the above in that order (config/schedule.yaml: weekly.steps)
"""


@click.command("run", epilog=JOBS_HELP)
@click.argument("job", metavar="JOB", type=click.Choice(JOBS))
@root_option
@click.option("--trigger", type=click.Choice(["manual", "cron"]), default="manual",
              show_default=True,
              help="How the run was started, recorded with it: the crontab lines from `seo "
                   "schedule cron` pass cron.")
def run(job: str, root: Path, trigger: str) -> None:
    """Run one job now, by hand (`weekly` runs the whole pipeline).

    The run is recorded in the store; if the same job is already running (by hand or on schedule)
    this run is recorded as skipped and exits 1. Steps that are not configured are skipped and
    said so; a step whose credentials were refused fails. Exit 0 when every step is ok or not
    configured, 1 when one failed, 143 when interrupted. SIGTERM lets the running step finish;
    a second SIGTERM or Ctrl-C interrupts it.
    """
    from . import runner
    project = Project.open(root)
    load_schedule(project.site.root)  # a bad schedule is reported before anything runs
    runner.install_signal_handlers()
    try:
        outcome = runner.run_job(job, trigger=trigger, project=project, echo=click.echo)
    except runner.Interrupted:
        click.echo(f"{job}: interrupted", err=True)
        sys.exit(143)
    if job != "weekly" or outcome.status != "ok":
        click.echo(outcome.line(), err=outcome.status == "failed")
    if job != "weekly":
        for line in outcome.lines:
            click.echo(f"  {line}")
    code = EXIT.get(outcome.status, 1)
    if outcome.status == "skipped" and outcome.message.startswith("already running"):
        code = 1
    sys.exit(code)


@click.group()
def schedule() -> None:
    """The job schedule (config/schedule.yaml): run the scheduler, list next runs, print a crontab."""


@schedule.command("run")
@root_option
def schedule_run(root: Path) -> None:
    """Run the scheduler in the foreground until SIGTERM (one per store; see README, Scheduling)."""
    import logging

    from ..redact import redact_logs
    from .service import serve
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    redact_logs()  # job errors quote servers' answers: credentials out before they are logged
    logging.getLogger("apscheduler").setLevel(logging.INFO)
    project = Project.open(root)
    sys.exit(serve(project, load_schedule(project.site.root), lambda m: click.echo(m, err=True)))


@schedule.command("list")
@root_option
def schedule_list(root: Path) -> None:
    """Every job's next run (as the scheduler's store holds it, else from the cron expression)."""
    from .service import next_runs
    project = Project.open(root)
    sched = load_schedule(project.site.root)
    for nr in next_runs(project, sched):
        when = nr.next_run.astimezone(sched.tz).strftime("%a %Y-%m-%d %H:%M %Z") if nr.next_run \
            else "disabled (runs inside weekly)" if not nr.enabled and nr.job != "weekly" else "disabled"
        src = " (scheduler)" if nr.stored else ""
        click.echo(f"{nr.job:15} {nr.cron:16} {when}{src}")


@schedule.command("cron")
@root_option
def schedule_cron(root: Path) -> None:
    """Print the equivalent crontab lines (each calls `seo run JOB`)."""
    from .service import cron_lines
    project_root = files.project_root(root)
    sched = load_schedule(project_root)
    Project.open(project_root)  # validate the config too
    seo = shutil.which("seo") or f"{sys.executable} -m seo"
    for line in cron_lines(sched, project_root, seo):
        click.echo(line)
