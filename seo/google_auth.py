"""Google credentials: an installed-app OAuth token stored outside the repo, or a service account.

The token lives at $SEO_GOOGLE_TOKEN or ~/.config/seo/google-token.json (mode 0600); the OAuth
client secrets file at $SEO_GOOGLE_CLIENT_SECRETS. Credentials are always created with explicit
scopes: the Business Profile v1 discovery documents declare none, and an unscoped credential
sends no token. Secrets are never logged or printed.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from .atomic import atomic_write
from .errors import NotConfigured, UserError

SCOPE_BUSINESS = "https://www.googleapis.com/auth/business.manage"
SCOPE_SEARCH_CONSOLE = "https://www.googleapis.com/auth/webmasters.readonly"
ALL_SCOPES = [SCOPE_BUSINESS, SCOPE_SEARCH_CONSOLE]
DEFAULT_TOKEN_URI = "https://oauth2.googleapis.com/token"


def token_path() -> Path:
    env = os.environ.get("SEO_GOOGLE_TOKEN")
    return Path(env) if env else Path.home() / ".config/seo/google-token.json"


def save_token(creds: Any, path: Path | None = None) -> Path:
    path = path or token_path()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    atomic_write(path, creds.to_json().encode())
    os.chmod(path, 0o600)
    return path


def load_credentials(scopes: list[str], *, token_uri: str | None = None,
                     service_account_file: str | None = None) -> Any:
    """User credentials from the stored token (refreshed as needed), or a service account.

    Raises NotConfigured with the command that fixes it when nothing usable is stored.
    """
    sa_file = service_account_file or os.environ.get("SEO_GOOGLE_SERVICE_ACCOUNT")
    if sa_file:
        from google.oauth2 import service_account
        try:
            info = json.loads(Path(sa_file).read_text(encoding="utf-8"))
            return service_account.Credentials.from_service_account_info(
                info, scopes=scopes, **({"token_uri": token_uri} if token_uri else {}))
        except (OSError, ValueError, KeyError) as exc:
            raise UserError(f"service-account key unreadable: {type(exc).__name__}",
                            file=str(sa_file)) from None
    path = token_path()
    if not path.exists():
        raise NotConfigured(f"no Google credentials at {path}; run `seo auth google`")
    from google.oauth2.credentials import Credentials
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except ValueError:
        raise UserError("Google token file is not valid JSON; run `seo auth google` again",
                        file=str(path)) from None
    if token_uri:
        info["token_uri"] = token_uri
    missing = [s for s in scopes if s not in (info.get("scopes") or [])]
    if missing:
        raise NotConfigured(f"stored Google token lacks scope {missing[0]}; run `seo auth google`")
    try:
        creds = Credentials.from_authorized_user_info(info, scopes=scopes)
        # google-auth 2.62 ignores the stored token_uri ("always overrides"): set it explicitly,
        # from config, else from the token file, so a proxy or a local test server is honoured
        uri = token_uri or info.get("token_uri")
        return creds.with_token_uri(uri) if uri and uri != creds.token_uri else creds
    except ValueError as exc:
        raise UserError(f"Google token file incomplete ({exc}); run `seo auth google` again",
                        file=str(path)) from None


def run_oauth_flow(client_secrets: Path, scopes: list[str] | None = None, port: int = 0,
                   open_browser: bool = True) -> Path:
    """Google's installed-app flow in the user's browser; stores the token with mode 0600.

    The token URI is the client secrets file's own `token_uri` (edit it to go through a proxy).
    """
    from google_auth_oauthlib.flow import InstalledAppFlow
    if not client_secrets.exists():
        raise UserError("OAuth client secrets file not found (download it from the Google Cloud "
                        "console, APIs & Services > Credentials)", file=str(client_secrets))
    flow = InstalledAppFlow.from_client_secrets_file(str(client_secrets), scopes or ALL_SCOPES)
    creds = flow.run_local_server(port=port, access_type="offline", prompt="consent",
                                  open_browser=open_browser)
    return save_token(creds)
