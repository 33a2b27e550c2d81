"""outbox_waiting: a report message has waited in the outbox longer than `hours` (24)."""

from __future__ import annotations

from datetime import UTC, datetime

from ...settings import EmailSettings, OutboxAlert
from ..model import Finding, WatchContext


def check(ctx: WatchContext, cfg: OutboxAlert) -> list[Finding]:
    email = ctx.project.site.config.integrations.email or EmailSettings()
    folder = ctx.project.site.path(email.outbox)
    if not folder.is_dir() or folder.is_symlink():
        return []
    now = ctx.now.timestamp()
    old = []
    for path in sorted(folder.glob("*.eml"))[:10000]:
        try:
            age = now - path.lstat().st_mtime
        except OSError:
            continue
        if age > cfg.hours * 3600 and path.is_file() and not path.is_symlink():
            old.append((age, path.name))
    if not old:
        return []
    old.sort(reverse=True)
    n, oldest = len(old), old[0][0]
    since = datetime.fromtimestamp(now - oldest, UTC)
    host = email.host
    why = "no SMTP host is configured (integrations.email.host)" if not host else \
        "sending failed; `seo report send --outbox` retries and prints why"
    title = f"{n} report message{'s' * (n != 1)} waiting in the outbox for {oldest / 3600:.0f} h"
    detail = [f"{folder}: {', '.join(name for _, name in old[:5])}" + (" ..." if n > 5 else ""),
              why]
    return [Finding("report", title, detail, {"since": since.isoformat()}, "warning")]
