"""A real WordPress on loopback: Debian's `wordpress` package, MariaDB and PHP's built-in server.

    server = WordPressServer().start()        # once per test session (a few seconds)
    site = server.fresh_site()                # a new, empty WordPress database for one test
    site.url, site.user, site.password        # the site and an application password for the REST API
    site.php("...")                           # run PHP inside WordPress (wp-load.php loaded)
    server.stop()

Debian's package needs care: it replaces bundled libraries with relative symlinks (the tree is copied
with link targets resolved), its wp-config.php picks a file under /etc/wordpress by Host header (we
write our own), and the themes come from separate packages (twentytwentythree). The companion plugin
from the repository's `wordpress/` folder is copied in and activated on every fresh site.
WP_ENVIRONMENT_TYPE is `local`, so application passwords work over plain http; outgoing HTTP from
WordPress is blocked (WP_HTTP_BLOCK_EXTERNAL), so nothing leaves the machine.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

DEBIAN_WORDPRESS = Path("/usr/share/wordpress")
THEME = "twentytwentythree"
REPO = Path(__file__).resolve().parent.parent.parent
PLUGIN = REPO / "wordpress" / "seo-publish"
ADMIN, ADMIN_PASSWORD = "clinic-admin", "admin-login-password-not-used"


def _tool(name: str, *dirs: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    for d in dirs:
        if Path(d, name).exists():
            return str(Path(d, name))
    return None


def missing_tools() -> list[str]:
    """What this machine lacks to run WordPress here (empty: all present)."""
    missing = []
    if not (DEBIAN_WORDPRESS / "wp-settings.php").exists():
        missing.append("wordpress (Debian package)")
    if not (DEBIAN_WORDPRESS / "wp-content/themes" / THEME / "style.css").exists():
        missing.append(f"wordpress-theme-{THEME}")
    for name, where in (("mariadbd", ("/usr/sbin",)), ("mariadb-install-db", ("/usr/bin",)),
                        ("mariadb", ("/usr/bin",)), ("php", ("/usr/bin",))):
        if _tool(name, *where) is None:
            missing.append(name)
    if not missing:
        mods = subprocess.run(["php", "-m"], capture_output=True, text=True, timeout=30).stdout
        if "mysqli" not in mods.split():
            missing.append("php-mysql")
        if "SimpleXML" not in mods.split():
            missing.append("php-xml")
    return missing


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


WP_CONFIG = """<?php
// Written by tests/servers/wordpress.py (Debian's own wp-config.php reads /etc/wordpress by Host).
define('DB_NAME', trim(file_get_contents(__DIR__ . '/../current-db')));
define('DB_USER', 'root');
define('DB_PASSWORD', '');
define('DB_HOST', 'localhost:{socket}');
define('DB_CHARSET', 'utf8mb4');
define('DB_COLLATE', '');
{salts}
define('WP_HOME', '{url}');
define('WP_SITEURL', '{url}');
define('WP_ENVIRONMENT_TYPE', 'local');
define('DISABLE_WP_CRON', true);
define('AUTOMATIC_UPDATER_DISABLED', true);
define('WP_AUTO_UPDATE_CORE', false);
define('DISALLOW_FILE_MODS', true);
define('WP_HTTP_BLOCK_EXTERNAL', true);
define('WP_DEBUG', false);
$table_prefix = 'wp_';
if (!defined('ABSPATH')) {{ define('ABSPATH', __DIR__ . '/'); }}
require_once ABSPATH . 'wp-settings.php';
"""

# PHP's built-in server: real files are served as they are, everything else goes to WordPress
# (pretty permalinks and /wp-json/ included), as Apache's rewrite rules would do.
ROUTER = """<?php
$root = $_SERVER['DOCUMENT_ROOT'];
$path = urldecode(parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH));
if ($path !== '/' && strpos($path, '..') === false && is_file($root . $path)) {
    return false;
}
$_SERVER['SCRIPT_NAME'] = '/index.php';
$_SERVER['SCRIPT_FILENAME'] = $root . '/index.php';
require $root . '/index.php';
"""

INSTALL = """<?php
define('WP_INSTALLING', true);
$_SERVER['HTTP_HOST'] = parse_url($argv[2], PHP_URL_HOST);
function wp_new_blog_notification($title, $url, $user_id, $password) {}
require $argv[1] . '/wp-load.php';
require_once ABSPATH . 'wp-admin/includes/upgrade.php';
require_once ABSPATH . 'wp-admin/includes/plugin.php';
add_filter('pre_wp_mail', '__return_false');
$result = wp_install('Acupuncture Test Clinic', $argv[3], 'admin@clinic.test', true, '', $argv[4]);
update_option('permalink_structure', '/%postname%/');
switch_theme('twentytwentythree');
$activated = activate_plugin('seo-publish/seo-publish.php');
if (is_wp_error($activated)) { fwrite(STDERR, $activated->get_error_message()); exit(1); }
$item = WP_Application_Passwords::create_new_application_password($result['user_id'], array('name' => 'seo'));
echo json_encode(array('user_id' => $result['user_id'], 'password' => $item[0]));
"""


@dataclass
class WordPressSite:
    """One fresh WordPress database behind the shared server."""

    server: WordPressServer
    db: str
    user: str
    password: str  # an application password (what `seo publish` uses)

    @property
    def url(self) -> str:
        return self.server.url

    def php(self, code: str, timeout: float = 60) -> str:
        """Run PHP with WordPress loaded (as the admin user); returns what it printed."""
        return self.server.php(code, timeout)

    def get(self, path: str) -> tuple[int, str]:
        return self.server.get(path)

    def add_user(self, login: str, role: str) -> str:
        """A second user with `role` and an application password; returns the password."""
        out = self.php(
            f"$id = wp_insert_user(array('user_login' => {json.dumps(login)}, 'user_pass' => "
            f"wp_generate_password(), 'user_email' => {json.dumps(login + '@clinic.test')}, "
            f"'role' => {json.dumps(role)}));"
            "$item = WP_Application_Passwords::create_new_application_password($id, "
            "array('name' => 'seo')); echo $item[0];")
        return out.strip()


class WordPressServer:
    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="seo-wp-"))  # short: a socket path must fit 108 bytes
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.docroot = self.dir / "wp"
        self.socket = self.dir / "mysql.sock"
        self._db: subprocess.Popen[bytes] | None = None
        self._php: subprocess.Popen[bytes] | None = None
        self._sites = 0

    # -- start and stop ---------------------------------------------------------------------------

    def start(self) -> WordPressServer:
        try:
            self._copy_wordpress()
            self._start_mariadb()
            self._start_php()
        except BaseException:
            self.stop()
            raise
        return self

    def _copy_wordpress(self) -> None:
        # Debian's relative symlinks break in a copy: copy what they point to (-L)
        subprocess.run(["cp", "-rL", str(DEBIAN_WORDPRESS), str(self.docroot)], check=True,
                       timeout=120)
        for name in ("wp-config.php", ".htaccess"):
            (self.docroot / name).unlink(missing_ok=True)
        shutil.copytree(PLUGIN, self.docroot / "wp-content/plugins/seo-publish")
        salts = "\n".join(f"define('{k}', '{k.lower()}-{os.urandom(8).hex()}');" for k in (
            "AUTH_KEY", "SECURE_AUTH_KEY", "LOGGED_IN_KEY", "NONCE_KEY", "AUTH_SALT",
            "SECURE_AUTH_SALT", "LOGGED_IN_SALT", "NONCE_SALT"))
        (self.docroot / "wp-config.php").write_text(WP_CONFIG.format(
            socket=self.socket, salts=salts, url=self.url.rstrip("/")))
        (self.dir / "router.php").write_text(ROUTER)
        (self.dir / "install.php").write_text(INSTALL)
        (self.dir / "current-db").write_text("none")

    def _start_mariadb(self) -> None:
        datadir = self.dir / "db"
        as_root = ["--user=root"] if os.geteuid() == 0 else []
        subprocess.run([_tool("mariadb-install-db", "/usr/bin") or "mariadb-install-db",
                        "--no-defaults", f"--datadir={datadir}", "--auth-root-authentication-method=normal",
                        "--skip-test-db", "--skip-name-resolve", *as_root],
                       check=True, capture_output=True, timeout=120)
        log = open(self.dir / "mariadb.log", "wb")  # noqa: SIM115  (closed with the process)
        self._db = subprocess.Popen(
            [_tool("mariadbd", "/usr/sbin") or "mariadbd", "--no-defaults", f"--datadir={datadir}",
             f"--socket={self.socket}", "--skip-networking", f"--pid-file={self.dir}/mariadb.pid",
             "--innodb-buffer-pool-size=64M", "--skip-log-bin", "--innodb-flush-log-at-trx-commit=0",
             *as_root], stdout=log, stderr=log)
        log.close()
        deadline = time.monotonic() + 60
        while not self.socket.exists():
            if self._db.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("MariaDB did not start: " + self._log_tail("mariadb.log"))
            time.sleep(0.05)

    def _start_php(self) -> None:
        env = {**os.environ, "PHP_CLI_SERVER_WORKERS": "4"}
        log = open(self.dir / "php.log", "wb")  # noqa: SIM115
        self._php = subprocess.Popen(
            ["php", "-d", "memory_limit=512M", "-S", f"127.0.0.1:{self.port}", "-t", str(self.docroot),
             str(self.dir / "router.php")], stdout=log, stderr=log, env=env, start_new_session=True)
        log.close()
        deadline = time.monotonic() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                if self._php.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("PHP server did not start: " + self._log_tail("php.log")) \
                        from None
                time.sleep(0.05)

    def _log_tail(self, name: str) -> str:
        try:
            return (self.dir / name).read_text(errors="replace")[-600:]
        except OSError:
            return ""

    def stop(self) -> None:
        if self._php is not None and self._php.poll() is None:
            os.killpg(self._php.pid, signal.SIGTERM)  # the server and its workers (its own group)
        for proc in (self._php, self._db):
            if proc is not None and proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=10)
        self._php = self._db = None
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> WordPressServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- sites ------------------------------------------------------------------------------------

    def sql(self, statement: str) -> None:
        subprocess.run(["mariadb", "--no-defaults", f"--socket={self.socket}", "-uroot", "-e", statement],
                       check=True, capture_output=True, timeout=60)

    def fresh_site(self) -> WordPressSite:
        """A new database with WordPress installed, the theme and the companion plugin active, an
        admin user and an application password; the server switches to it."""
        self._sites += 1
        db = f"wp{self._sites}"
        self.sql(f"CREATE DATABASE {db} CHARACTER SET utf8mb4")
        (self.dir / "current-db").write_text(db)
        out = subprocess.run(["php", str(self.dir / "install.php"), str(self.docroot), self.url, ADMIN,
                              ADMIN_PASSWORD], capture_output=True, text=True, timeout=120)
        if out.returncode != 0:
            raise RuntimeError(f"WordPress install failed: {out.stderr[-600:]}{out.stdout[-300:]}")
        info = json.loads(out.stdout.strip().splitlines()[-1])
        return WordPressSite(self, db, ADMIN, info["password"])

    def php(self, code: str, timeout: float = 60) -> str:
        script = self.dir / "snippet.php"
        script.write_text("<?php\n$_SERVER['HTTP_HOST'] = '127.0.0.1';\n"
                          f"require {json.dumps(str(self.docroot / 'wp-load.php'))};\n"
                          "wp_set_current_user(1);\n" + code + "\n")
        out = subprocess.run(["php", str(script)], capture_output=True, text=True, timeout=timeout)
        if out.returncode != 0:
            raise RuntimeError(f"PHP failed: {out.stderr[-600:]}{out.stdout[-600:]}")
        return out.stdout

    def get(self, path: str, timeout: float = 30) -> tuple[int, str]:
        """GET a path from the site as a visitor: (status, body)."""
        try:
            with urllib.request.urlopen(self.url + path.lstrip("/"), timeout=timeout) as resp:
                return resp.status, resp.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode("utf-8", "replace")
