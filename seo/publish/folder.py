"""The `folder` target: the build copied into a folder on this machine (a web server's document root).

The project-wide safety rules apply (`seo.safety`): a folder that is, holds or sits inside the project,
config/, content/, templates/, .git, the build output, the store or the outbox is refused with one line;
a manifest in the folder (`.seo-manifest.json`) lists every file this tool wrote there, and only those
are ever removed (a file changed since it was written is left); a file the build would replace that
the tool did not write stops the publish (`--force` replaces it and takes it into the manifest).

The whole change is assembled beside the folder and swapped in at once (seo.pages.write.SiteWriter,
which also holds the folder's lock), so visitors never see half a publish.
"""

from __future__ import annotations

import time

from .. import safety
from ..errors import UserError
from ..pages.write import SiteWriter
from ..settings import FolderTarget
from ..site import Site
from .source import Built
from .targets import Progress, TargetReport


class Folder:
    kind = "folder"

    def __init__(self, site: Site, cfg: FolderTarget, key: str) -> None:
        self.site, self.cfg, self.key = site, cfg, key
        self.name = cfg.label
        self.folder = site.path(cfg.path)

    def live_base(self) -> str | None:
        return self.cfg.url or self.site.config.business.url

    def publish(self, built: Built, *, dry_run: bool, force: bool,
                progress: Progress | None = None) -> TargetReport:
        started = time.monotonic()
        safety.check_target(self.site, self.folder, f"{self.key}.path")
        report = TargetReport(self.name, self.kind, dry_run)
        with SiteWriter(self.folder, dry_run=dry_run) as writer:  # one publish of a folder at a time
            manifest = safety.Manifest.load(self.folder)
            current = safety.current_hashes(self.folder, set(manifest.files) | set(built.files))
            plan = safety.plan_deletions(manifest, built.files, current)
            if plan.conflicts and not force:
                raise UserError(f"publish refused: {self.folder / plan.conflicts[0]} exists and was "
                                f"not written by seo publish ({len(plan.conflicts)} such file(s)); move "
                                "them away, or publish with --force to replace them",
                                file="config/site.yaml", key=f"{self.key}.path")
            for n, rel in enumerate(sorted(built.files), start=1):
                if current.get(rel) == built.files[rel]:
                    report.add("unchanged", rel)
                else:
                    report.add("update" if current.get(rel) is not None else "create", rel)
                    writer.put(rel, built.read(rel))
                if progress and n % 500 == 0:
                    progress("folder", n, len(built.files))
            for rel in plan.kept:
                report.add("skip", rel, "no longer published, but changed since seo wrote it; left")
            for rel in plan.delete:
                report.add("remove", rel)
                writer.delete(rel)
            owned = safety.Manifest({**{rel: manifest.files[rel] for rel in plan.kept}, **built.files})
            if owned.files != manifest.files:
                writer.put(safety.MANIFEST, owned.dumps())
            report.writes = len(writer.changed) + len(writer.deleted)
            writer.commit()
        for page in built.pages.values():
            report.published[page.path] = page.content_hash
        report.seconds = time.monotonic() - started
        return report
