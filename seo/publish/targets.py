"""Publish targets: one interface, chosen by `type:` in `site.publish` (folder, ssh, wordpress).

Every target answers `publish(built, dry_run, force)` with a TargetReport listing exactly what it
created, updated, removed, left unchanged or skipped (a dry run lists what it would do, having read
the target but written nothing). Targets that keep releases (ssh) also answer `rollback`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..errors import UserError
from ..settings import FolderTarget, SshTarget, WordPressTarget
from ..site import Site
from .source import Built

ACTIONS = ("create", "update", "remove", "unchanged", "skip")
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class Change:
    action: str  # create, update, remove, unchanged, skip
    item: str  # a file (folder, ssh) or a page path (wordpress)
    detail: str = ""

    def line(self, dry_run: bool) -> str:
        verb = {"create": "create", "update": "update", "remove": "remove", "skip": "skip",
                "unchanged": "unchanged"}[self.action]
        if dry_run and self.action in ("create", "update", "remove"):
            verb = f"would {verb}"
        return f"{verb} {self.item}" + (f" ({self.detail})" if self.detail else "")


@dataclass
class TargetReport:
    name: str
    kind: str
    dry_run: bool
    changes: list[Change] = field(default_factory=list)
    requests: int = 0  # requests or commands sent to the target
    writes: int = 0  # page/file writes sent
    release: str = ""  # ssh: the release now current
    previous: str = ""  # ssh: the release it replaced
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what else happened (releases made, removed)
    published: dict[str, str] = field(default_factory=dict)  # page path -> content hash it now holds
    states: dict[str, tuple[str, str]] = field(default_factory=dict)  # path -> (state, detail)
    remote_ids: dict[str, str] = field(default_factory=dict)  # page path -> id at the target
    seconds: float = 0.0
    action: str = "publish"  # or rollback

    def add(self, action: str, item: str, detail: str = "") -> None:
        self.changes.append(Change(action, item, detail))

    def counts(self) -> dict[str, int]:
        c = Counter(ch.action for ch in self.changes)
        return {a: c.get(a, 0) for a in ACTIONS}

    def summary(self) -> str:
        c = self.counts()
        verb = "would " if self.dry_run else ""
        label = self.name if self.name == self.kind else f"{self.name} ({self.kind})"
        if self.action == "rollback":
            done = "would roll back" if self.dry_run else "rolled back"
            text = f"{label}: {done} to release {self.release or '?'}"
        else:
            text = (f"{label}: {verb}create {c['create']}, {verb}update {c['update']}, "
                    f"{verb}remove {c['remove']}, unchanged {c['unchanged']}, skipped {c['skip']}")
            if self.release:
                text += f"; release {self.release}"
        if self.kind != "folder":
            text += f"; {self.requests} request{'s' if self.requests != 1 else ''}"
        return text

    def lines(self, verbose: bool = True) -> list[str]:
        out = [self.summary()]
        for ch in self.changes:
            if ch.action == "unchanged" or (not verbose and ch.action != "skip"):
                continue
            out.append("  " + ch.line(self.dry_run))
        out += [f"  {n}" for n in self.notes]
        out += [f"  warning: {w}" for w in self.warnings]
        return out


class Target(Protocol):
    name: str
    kind: str
    key: str  # "site.publish[0]": where its settings are, for error messages

    def publish(self, built: Built, *, dry_run: bool, force: bool,
                progress: Progress | None = None) -> TargetReport: ...

    def live_base(self) -> str | None:
        """The base URL where visitors see this target's pages (None: not served)."""


def target_key(site: Site, index: int) -> str:
    """Where a target's settings are, for error messages: `site.publish` when there is one."""
    return "site.publish" if len(site.config.site.publish) == 1 else f"site.publish[{index}]"


def make_target(site: Site, index: int, cfg: Any) -> Target:
    key = target_key(site, index)
    if isinstance(cfg, WordPressTarget):
        from .wordpress import WordPress
        return WordPress(site, cfg, key)
    if isinstance(cfg, SshTarget):
        from .ssh import Ssh
        return Ssh(site, cfg, key)
    if isinstance(cfg, FolderTarget):
        from .folder import Folder
        return Folder(site, cfg, key)
    raise UserError(f"unknown publish target type {type(cfg).__name__}", key=key)  # pragma: no cover


def targets_of(site: Site, name: str | None = None) -> list[Target]:
    configured = list(site.config.site.publish)
    all_targets = [make_target(site, i, cfg) for i, cfg in enumerate(configured)]
    if name is None:
        return all_targets
    chosen = [t for t in all_targets if t.name == name]
    if not chosen:
        known = ", ".join(t.name for t in all_targets)
        raise UserError(f"no publish target named {name!r} (configured: {known})", key="--target")
    return chosen


def primary(targets: list[Target]) -> Target:
    """The target whose pages visitors see: the first that is not a plain folder, else the first."""
    return next((t for t in targets if t.kind != "folder"), targets[0])
