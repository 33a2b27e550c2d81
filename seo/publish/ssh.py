"""The `ssh` target: rsync over SSH into a new release folder, then an atomic switch of `current`.

On the server, under `path`:

    releases/20261201T101500Z-3f2a9c1b7e40/   one folder per publish, each with .seo-release.json
    current -> releases/20261201T101500Z-...  the web server's document root points here

A publish uploads into `releases/.tmp-<id>` (files that did not change are hard-linked from the
current release by rsync's --link-dest), writes the release's manifest, renames it into place and
switches `current` with one rename (`mv -T`), so visitors see the old release or the new one, never a
mix. The last `keep` releases stay; only folders this tool made (its name pattern and manifest) are
ever removed. A build equal to the current release sends nothing. `rollback` switches `current` to
the release before it in one step.

Keys only (BatchMode, no passwords), host-key checking always on against the `known_hosts` file
from config; one SSH connection shared by every command of a publish (ControlMaster). The server
needs a POSIX shell, GNU coreutils (mv -T) and rsync.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ..errors import ExternalError, UserError
from ..settings import SshTarget
from ..site import Site
from .source import Built
from .targets import Progress, TargetReport
from .wp_client import clean

MANIFEST = ".seo-release.json"
RELEASE = re.compile(r"^\d{8}T\d{6}Z-[0-9a-f]{12}$")
STAMP = "%Y%m%dT%H%M%SZ"


def release_name(existing: list[str], tree_hash: str, now: datetime | None = None) -> str:
    """A new release's folder name: its UTC time and tree. Releases are ordered by name (rollback
    goes to the one before `current`), so a new name always sorts after every existing one: two
    publishes within one second, or a server clock set back, take the last release's time + 1 s."""
    moment = (now or datetime.now(UTC)).replace(microsecond=0)
    for name in sorted(existing, reverse=True):
        try:  # names come from the server: digits in the pattern, not always a real time
            last = datetime.strptime(name[:16], STAMP).replace(tzinfo=UTC)
        except ValueError:
            continue
        moment = max(moment, last + timedelta(seconds=1))
        break
    return moment.strftime(STAMP) + "-" + tree_hash[:12]


MAX_MANIFEST = 64 * 1024 * 1024


@dataclass
class RemoteState:
    exists: bool = False
    current: str = ""  # release id `current` points to ("" when none)
    current_is_link: bool = True
    releases: list[str] = field(default_factory=list)  # this tool's, oldest first
    files: dict[str, str] = field(default_factory=dict)  # the current release's manifest


class Ssh:
    kind = "ssh"

    def __init__(self, site: Site, cfg: SshTarget, key: str) -> None:
        self.site, self.cfg, self.key = site, cfg, key
        self.name = cfg.label
        self.commands = 0
        self._control: Path | None = None

    def live_base(self) -> str | None:
        return self.cfg.url or self.site.config.business.url

    # -- the connection ----------------------------------------------------------------------------

    def _files(self) -> tuple[Path, Path | None]:
        known = self.site.path(os.path.expanduser(self.cfg.known_hosts))
        if not known.is_file():
            raise UserError(f"known_hosts file {known} not found: add the server's host key (ssh-keyscan "
                            f"-p {self.cfg.port} {self.cfg.host}, then check its fingerprint with the "
                            "host)", file="config/site.yaml", key=f"{self.key}.known_hosts")
        identity = self.site.path(os.path.expanduser(self.cfg.key)) if self.cfg.key else None
        if identity is not None and not identity.is_file():
            raise UserError(f"private key {identity} not found", file="config/site.yaml",
                            key=f"{self.key}.key")
        return known, identity

    def ssh_command(self) -> list[str]:
        known, identity = self._files()
        if self._control is None:
            self._control = Path(tempfile.mkdtemp(prefix="seo-ssh-"))
        args = ["ssh", "-p", str(self.cfg.port), "-o", "BatchMode=yes",
                "-o", "StrictHostKeyChecking=yes", "-o", f"UserKnownHostsFile={known}",
                "-o", "GlobalKnownHostsFile=/dev/null", "-o", "PasswordAuthentication=no",
                "-o", "KbdInteractiveAuthentication=no", "-o", f"ConnectTimeout={self.cfg.connect_timeout}",
                "-o", "ServerAliveInterval=15", "-o", "ServerAliveCountMax=4",
                "-o", "ControlMaster=auto", "-o", f"ControlPath={self._control}/cm",
                "-o", "ControlPersist=60", "-l", self.cfg.user]
        if identity is not None:
            args += ["-i", str(identity), "-o", "IdentitiesOnly=yes"]
        return args

    def run(self, script: str, *, stdin: bytes | None = None, timeout: float = 120) -> str:
        self.commands += 1
        try:
            out = subprocess.run([*self.ssh_command(), "--", self.cfg.host, script], input=stdin,
                                 capture_output=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise ExternalError(f"ssh to {self.cfg.host}: no answer within {timeout:.0f} s") from None
        if out.returncode != 0:
            raise self._failure(out.returncode, out.stderr.decode("utf-8", "replace"))
        return out.stdout.decode("utf-8", "replace")

    def _failure(self, code: int, stderr: str) -> Exception:
        text = clean(" ".join(stderr.split()), limit=240)
        where = f"{self.cfg.user}@{self.cfg.host}:{self.cfg.port}"
        if "Host key verification failed" in stderr or "REMOTE HOST IDENTIFICATION HAS CHANGED" in stderr:
            return UserError(f"the host key of {where} is not the one in {self.cfg.known_hosts} "
                             "(missing, or changed): check the server's fingerprint before you "
                             "trust it", file="config/site.yaml", key=f"{self.key}.known_hosts")
        if "Permission denied" in stderr:
            return UserError(f"{where} refused the key{' ' + self.cfg.key if self.cfg.key else ''} "
                             "(Permission denied): add its public key to the user's "
                             "authorized_keys", file="config/site.yaml", key=f"{self.key}.key")
        if code == 255:
            return ExternalError(f"ssh to {where} failed: {text}")
        return ExternalError(f"on {where}: {text or f'exit {code}'}")

    def close(self) -> None:
        if self._control is not None:
            if (self._control / "cm").exists():
                subprocess.run([*self.ssh_command(), "-O", "exit", "--", self.cfg.host],
                               capture_output=True, timeout=30)
            shutil.rmtree(self._control, ignore_errors=True)
            self._control = None

    # -- the server's state ------------------------------------------------------------------------

    def state(self) -> RemoteState:
        base = shlex.quote(self.cfg.path)
        script = (
            f"cd {base} 2>/dev/null || {{ echo NOFOLDER; exit 0; }}\n"
            "if [ -L current ]; then printf 'CURRENT %s\\n' \"$(readlink current)\";\n"
            "elif [ -e current ]; then echo CURRENT-NOT-LINK; fi\n"
            "if [ -d releases ]; then for d in releases/*/; do\n"
            "  [ -f \"${d}" + MANIFEST + "\" ] && printf 'RELEASE %s\\n' \"$(basename \"$d\")\"; done; fi\n"
            "echo MANIFEST\n"
            "if [ -L current ] && [ -f current/" + MANIFEST + " ]; then cat current/" + MANIFEST + "; fi\n")
        out = self.run(script)
        state = RemoteState()
        if out.startswith("NOFOLDER"):
            return state
        state.exists = True
        head, _, manifest = out.partition("MANIFEST\n")
        for line in head.splitlines():
            if line.startswith("CURRENT "):
                target = line.removeprefix("CURRENT ").strip().rstrip("/")
                state.current = target.removeprefix("releases/") if target.startswith("releases/") \
                    else "?" + target
            elif line == "CURRENT-NOT-LINK":
                state.current_is_link = False
            elif line.startswith("RELEASE "):
                name = line.removeprefix("RELEASE ").strip()
                if RELEASE.match(name):
                    state.releases.append(name)
        state.releases.sort()
        if manifest.strip() and state.current in state.releases:
            state.files = _manifest_files(manifest, self.cfg.host)
        return state

    def _check_layout(self, state: RemoteState) -> None:
        if not state.current_is_link:
            raise UserError(f"{self.cfg.path}/current on {self.cfg.host} is a real folder, not a "
                            "symlink this tool made: move it away (and point the web server at "
                            f"{self.cfg.path}/current)", file="config/site.yaml", key=f"{self.key}.path")
        if state.current and state.current not in state.releases:
            raise UserError(f"{self.cfg.path}/current on {self.cfg.host} points at "
                            f"{state.current.lstrip('?')}, not at a release this tool made: move it away",
                            file="config/site.yaml", key=f"{self.key}.path")

    # -- publish -----------------------------------------------------------------------------------

    def publish(self, built: Built, *, dry_run: bool, force: bool,
                progress: Progress | None = None) -> TargetReport:
        started = time.monotonic()
        report = TargetReport(self.name, self.kind, dry_run)
        try:
            state = self.state()
            self._check_layout(state)
            report.previous = state.current
            for rel in sorted(built.files):
                if rel not in state.files:
                    report.add("create", rel)
                elif state.files[rel] != built.files[rel]:
                    report.add("update", rel)
                else:
                    report.add("unchanged", rel)
            for rel in sorted(set(state.files) - set(built.files)):
                report.add("remove", rel)
            changed = any(c.action != "unchanged" for c in report.changes)
            release = ""
            if changed:
                release = release_name(state.releases, built.tree_hash())
                expired = self._expired([*state.releases, release])
                verb = "would " if dry_run else ""
                report.notes.append(f"{verb}switch current from {state.current or '(nothing)'} to the "
                                    f"new release {release}")
                report.notes += [f"{verb}remove release {name} (keeping the last {self.cfg.keep})"
                                 for name in expired]
                if not dry_run:
                    self._upload(built, state, release, report)
                    manifest = json.dumps({"tool": "seo", "release": release, "tree": built.tree_hash(),
                                           "files": built.files}, sort_keys=True).encode()
                    self._switch(release, expired, manifest)
                    report.release = release
            else:
                report.release = state.current
            for page in built.pages.values():
                report.published[page.path] = page.content_hash
                report.remote_ids[page.path] = report.release
        finally:
            report.requests = self.commands
            self.close()
            report.seconds = time.monotonic() - started
        return report

    def _expired(self, releases: list[str]) -> list[str]:
        ordered = sorted(set(releases))
        return ordered[:-self.cfg.keep] if len(ordered) > self.cfg.keep else []

    def _upload(self, built: Built, state: RemoteState, release: str, report: TargetReport) -> None:
        """rsync into releases/.tmp-<release> (leftovers of an interrupted publish cleared first)."""
        releases = shlex.quote(self.cfg.path + "/releases")
        prepare = (f"mkdir -p {releases} && (cd {releases} && for d in .tmp-*; do case \"$d\" in "
                   ".tmp-[0-9]*T[0-9]*Z-*) rm -rf -- \"$d\";; esac; done) && rsync")
        # size and modification time decide what is sent (the build rewrites only changed files, and
        # -t keeps their times on the server): --checksum would read every file on both sides
        rsync = ["rsync", "-rlt", "--delete", "--chmod=D0755,F0644",
                 "--exclude", f"/{MANIFEST}", "--out-format=%i %n", f"--rsync-path={prepare}",
                 "-e", shlex.join(self.ssh_command())]
        if state.current:
            rsync.append(f"--link-dest=../{state.current}/")
        rsync += [f"{built.root}/", f"{self.cfg.host}:{self.cfg.path}/releases/.tmp-{release}/"]
        self.commands += 1
        try:
            out = subprocess.run(rsync, capture_output=True, timeout=self.cfg.timeout)
        except subprocess.TimeoutExpired:
            raise ExternalError(f"rsync to {self.cfg.host}: not done within {self.cfg.timeout:.0f} s "
                                f"({self.key}.timeout)") from None
        if out.returncode != 0:
            raise self._failure(out.returncode, out.stderr.decode("utf-8", "replace"))
        report.writes = sum(1 for line in out.stdout.decode("utf-8", "replace").splitlines()
                            if line.startswith(("<f", ">f")))

    def _switch(self, release: str, expired: list[str], manifest: bytes | None = None) -> None:
        """(The uploaded release's manifest written and the folder renamed into place, then)
        `current` -> the release in one rename; then the expired releases go. One command."""
        script = f"cd {shlex.quote(self.cfg.path)}"
        if manifest is not None:
            script += (f" && cat > releases/.tmp-{release}/{MANIFEST} && "
                       f"mv -- releases/.tmp-{release} releases/{release}")
        link = f".current.tmp-{release}"
        script += (f" && [ -f releases/{release}/{MANIFEST} ] && "
                   f"ln -sfn releases/{release} {link} && mv -Tf {link} current && "
                   f"[ \"$(readlink current)\" = releases/{release} ]")
        for name in expired:
            assert RELEASE.match(name)
            script += f" && rm -rf -- releases/{name}"
        self.run(script, stdin=manifest)

    def rollback(self, *, dry_run: bool) -> TargetReport:
        report = TargetReport(self.name, self.kind, dry_run, action="rollback")
        try:
            state = self.state()
            self._check_layout(state)
            if not state.current:
                raise UserError(f"nothing published on {self.cfg.host}:{self.cfg.path} yet",
                                key="--rollback")
            earlier = [r for r in state.releases if r < state.current]
            if not earlier:
                raise UserError(f"no release before {state.current} on {self.cfg.host} to roll back "
                                "to", key="--rollback")
            back = earlier[-1]
            report.previous, report.release = state.current, back
            report.notes.append(f"{'would switch' if dry_run else 'switched'} current from "
                                f"{state.current} back to {back}")
            if not dry_run:
                self._switch(back, [])
                files = _manifest_files(self.run(f"cat {shlex.quote(self.cfg.path)}/current/{MANIFEST}"),
                                        self.cfg.host)
                for rel, sha in files.items():
                    if rel.endswith("index.html"):
                        path = "/" + rel.removesuffix("index.html")
                        report.published[path] = sha
                        report.remote_ids[path] = back
        finally:
            report.requests = self.commands
            self.close()
        return report


def _manifest_files(text: str, host: str) -> dict[str, str]:
    if len(text) > MAX_MANIFEST:
        raise ExternalError(f"the release manifest on {host} is too large")
    try:
        data = json.loads(text)
        files = data["files"]
        if not isinstance(files, dict):
            raise ValueError
        return {str(k): str(v) for k, v in files.items()}
    except (ValueError, KeyError, TypeError):
        raise ExternalError(f"the current release's {MANIFEST} on {host} is unreadable") from None
