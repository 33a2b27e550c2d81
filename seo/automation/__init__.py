"""Scheduled automation: the schedule (config/schedule.yaml), the job runner (runs table, per-job
file locks, SIGTERM) and the one APScheduler service (`seo schedule run`).

schedule.py  config/schedule.yaml -> Schedule, validated at load
runner.py    run one job or the weekly pipeline: lock, record, skip what isn't configured
service.py   the APScheduler service: job store in the project's database, one scheduler per store
cli.py       `seo run JOB`, `seo schedule run|list|cron`
"""
