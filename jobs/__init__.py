"""Scheduled job entry points: one thin function per job, each calling the library.

Every job is `run(project, ctx) -> JobResult`, run by `seo.automation.runner` (which takes the
job's lock and records the run); `seo run JOB`, cron lines and the scheduler all go through it.
A job whose integration isn't set up raises NotConfigured: it is skipped and says so.
"""
