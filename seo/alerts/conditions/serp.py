"""serp_budget: the SERP provider's monthly request budget is `share` (90%) spent or more."""

from __future__ import annotations

from ...rankings.observations import spent
from ...settings import SerpBudgetAlert
from ..model import Finding, Unavailable, WatchContext


def check(ctx: WatchContext, cfg: SerpBudgetAlert) -> list[Finding]:
    serp = ctx.project.site.config.integrations.serp
    if serp is None:
        raise Unavailable("no SERP provider configured (integrations.serp)")
    if serp.monthly_budget <= 0:
        return []
    month = ctx.today.strftime("%Y-%m")
    used = spent(ctx.project.store, serp.provider, month)
    if used < cfg.share * serp.monthly_budget:
        return []
    share = used / serp.monthly_budget
    title = f"SERP budget {share:.0%} spent for {month}: {used:,} of {serp.monthly_budget:,} requests"
    detail = ["live rank checks and grid scans stop when it runs out (the rest of the month is "
              "\"not measured\")",
              "raise integrations.serp.monthly_budget, or check fewer keywords or towns"]
    return [Finding(f"{serp.provider}:{month}", title, detail, {"spent": used}, "warning")]
