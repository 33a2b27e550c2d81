"""A real OpenSSH server on loopback for the `ssh` publish target's tests.

    server = SshServer().start()      # once per test session
    server.port, server.user          # log in as the current user, with the key below
    server.user_key, server.known_hosts
    server.run("ls /srv")             # a command on the "remote" side (it is this machine)
    server.stop()

A temporary host key and user key, a config in a temporary folder, a free high port, StrictModes off
(the temporary folder's permissions don't matter), no PAM, public keys only. Runs as the current user,
root or not; as root, sshd insists on its privilege-separation folder (/run/sshd), which the Debian
service would create: it is created here when missing.
"""

from __future__ import annotations

import getpass
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

SSHD = "/usr/sbin/sshd"


def missing_tools() -> list[str]:
    missing = []
    if not Path(SSHD).exists():
        missing.append("openssh-server")
    for name, package in (("ssh", "openssh-client"), ("ssh-keygen", "openssh-client"), ("rsync", "rsync")):
        if shutil.which(name) is None:
            missing.append(package)
    return sorted(set(missing))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class SshServer:
    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="seo-sshd-"))
        self.port = _free_port()
        self.user = getpass.getuser()
        self.host_key = self.dir / "host_key"
        self.user_key = self.dir / "user_key"
        self.known_hosts = self.dir / "known_hosts"
        self.other_key = self.dir / "other_key"  # a key the server does not accept
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self) -> SshServer:
        try:
            for key in (self.host_key, self.user_key, self.other_key):
                subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", key.name, "-f",
                                str(key)], check=True, timeout=30)
            (self.dir / "authorized_keys").write_bytes(self.user_key.with_suffix(".pub").read_bytes())
            host_pub = self.host_key.with_suffix(".pub").read_text().split()
            self.known_hosts.write_text(f"[127.0.0.1]:{self.port} {host_pub[0]} {host_pub[1]}\n")
            config = self.dir / "sshd_config"
            config.write_text(
                f"Port {self.port}\nListenAddress 127.0.0.1\nHostKey {self.host_key}\n"
                f"AuthorizedKeysFile {self.dir}/authorized_keys\nPidFile {self.dir}/sshd.pid\n"
                "StrictModes no\nUsePAM no\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n"
                "PubkeyAuthentication yes\nPermitRootLogin prohibit-password\nAllowTcpForwarding no\n"
                "X11Forwarding no\nMaxStartups 50:30:100\nMaxSessions 50\n"
                "Subsystem sftp internal-sftp\nLogLevel ERROR\n")
            if os.geteuid() == 0 and not Path("/run/sshd").is_dir():
                Path("/run/sshd").mkdir(mode=0o755, parents=True, exist_ok=True)
            log = open(self.dir / "sshd.log", "wb")  # noqa: SIM115  (closed with the process)
            self._proc = subprocess.Popen([SSHD, "-D", "-e", "-f", str(config)], stdout=log, stderr=log)
            log.close()
            deadline = time.monotonic() + 20
            while True:
                try:
                    with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                        break
                except OSError:
                    if self._proc.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError("sshd did not start: " + (self.dir / "sshd.log").read_text(
                            errors="replace")[-500:]) from None
                    time.sleep(0.05)
        except BaseException:
            self.stop()
            raise
        return self

    def ssh_args(self) -> list[str]:
        return ["ssh", "-p", str(self.port), "-i", str(self.user_key), "-o", "IdentitiesOnly=yes",
                "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes",
                "-o", f"UserKnownHostsFile={self.known_hosts}", f"{self.user}@127.0.0.1"]

    def run(self, command: str) -> str:
        out = subprocess.run([*self.ssh_args(), command], capture_output=True, text=True, timeout=60)
        if out.returncode != 0:
            raise RuntimeError(f"ssh {command!r} failed: {out.stderr.strip()}")
        return out.stdout

    def stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(timeout=10)
        self._proc = None
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> SshServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
