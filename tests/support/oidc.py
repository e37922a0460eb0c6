"""oidc.py - a real OpenID provider for the tests: Debian's glewlwyd,
started as the current user on a free 127.0.0.1 port.

Provider builds everything in a temporary directory: a glewlwyd config
file, a sqlite3 database initialised from the SQL the package ships
(/usr/share/doc/glewlwyd/database/init.sqlite3.sql.gz), an RSA key made with
openssl and given to the OIDC plugin as a private JWKS (RS256, one kid).
Once glewlwyd answers, it is configured through its own administration API
as the package's default administrator, the way an IT department would
through the admin page:

- the user module's data format gains department, site, groups (several
  values) and employee_id;
- the scope openid needs the password;
- an OIDC plugin instance "oidc" (issuer http://127.0.0.1:PORT/api/oidc,
  PKCE required, S256 only) puts name, email, preferred_username,
  department, site, groups and employee_id in every ID token;
- the test's users (with passwords, e-mail, display name, department, site,
  groups and an employee id) and a confidential client for the node, with
  its redirect URIs, authenticated by client_secret_basic or
  client_secret_post.

update_user() changes a user afterwards, as the company's IT would.

sign_in() goes through the provider's login as a browser does over HTTP:
glewlwyd's login API (POST /api/auth/ sets its session cookie), the consent
(PUT /api/auth/grant/<client>), then the authorization endpoint, which
answers with a redirect to the client's redirect URI carrying the code.
Browser tests use the real login page instead (static files served from a
directory with a config.json naming this instance).

Readiness is polled with a deadline, never slept for. Used as a context
manager the process is stopped and the directory removed whatever
happened; RUCHE_TEST_KEEP=1 keeps the directory (and glewlwyd's log).

Only the Python standard library and openssl(1) are used here.
"""

import base64
import gzip
import http.client
import http.cookies
import json
import os
import shutil
import socket
import sqlite3
import subprocess
import tempfile
import time
import urllib.parse

GLEWLWYD = "/usr/bin/glewlwyd"
INIT_SQL = "/usr/share/doc/glewlwyd/database/init.sqlite3.sql.gz"
WEBAPP = "/usr/share/glewlwyd/webapp"
WEBAPP_CONFIG = "/usr/share/glewlwyd/templates/config.json"
ADMIN = ("admin", "password")  # the package's default administrator
START_TIMEOUT = 30.0
REQUEST_TIMEOUT = 30.0
KID = "ruche-test-rs256"


class ProviderError(Exception):
    """The provider could not be set up or did not answer as expected."""


def _free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def b64url_uint(value):
    """An unsigned integer as JWK wants it: big-endian, base64url, unpadded."""
    raw = value.to_bytes((value.bit_length() + 7) // 8 or 1, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _rsa_numbers(pem_path):
    """(n, e, d, p, q, dp, dq, qi) of an RSA private key file, read with
    openssl rsa -text (no Python crypto library needed)."""
    text = subprocess.run(["openssl", "rsa", "-in", pem_path, "-noout", "-text"],
                          check=True, capture_output=True, text=True).stdout
    fields, name, hexdigits = {}, None, []
    for line in text.splitlines():
        if line.startswith(" ") and name:
            hexdigits.append(line.strip().replace(":", ""))
            continue
        if name:
            fields[name] = int("".join(hexdigits), 16)
        name, hexdigits = None, []
        head = line.split(":")[0]
        if head.startswith("publicExponent"):
            fields["e"] = int(line.split()[1])
        elif head in ("modulus", "privateExponent", "prime1", "prime2", "exponent1",
                      "exponent2", "coefficient"):
            name = head
    if name:
        fields[name] = int("".join(hexdigits), 16)
    return fields


def rsa_private_jwk(pem_path, kid, alg="RS256"):
    """The private JWK (RFC 7518 6.3) of an RSA key file."""
    f = _rsa_numbers(pem_path)
    names = {"n": "modulus", "d": "privateExponent", "p": "prime1", "q": "prime2",
             "dp": "exponent1", "dq": "exponent2", "qi": "coefficient"}
    jwk = {"kty": "RSA", "kid": kid, "alg": alg, "use": "sig", "e": b64url_uint(f["e"])}
    for k, v in names.items():
        jwk[k] = b64url_uint(f[v])
    return jwk


class Session:
    """HTTP to one host with a cookie jar, redirects not followed."""

    def __init__(self, host, port):
        self.host, self.port = host, port
        self.cookies = {}

    def request(self, method, path, body=None, headers=None):
        hdrs = dict(headers or {})
        if self.cookies:
            hdrs["Cookie"] = "; ".join("%s=%s" % kv for kv in self.cookies.items())
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
            hdrs.setdefault("Content-Type", "application/json")
        conn = http.client.HTTPConnection(self.host, self.port, timeout=REQUEST_TIMEOUT)
        try:
            conn.request(method, path, body=body, headers=hdrs)
            resp = conn.getresponse()
            raw = resp.read()
            for value in resp.headers.get_all("Set-Cookie") or []:
                jar = http.cookies.SimpleCookie()
                jar.load(value)
                for k, morsel in jar.items():
                    self.cookies[k] = morsel.value
            return resp.status, resp.headers, raw
        finally:
            conn.close()


class Provider:
    """One glewlwyd process on a temporary directory."""

    def __init__(self, users=(), client_id="ruche-node", client_secret="node-secret-1234",
                 redirect_uris=()):
        self.users = list(users)
        self.client_id = client_id
        self.client_secret = client_secret
        self.redirect_uris = list(redirect_uris)
        self.tmp = tempfile.mkdtemp(prefix="ruche_oidc.")
        self.port = _free_port()
        self.base = "http://127.0.0.1:%d" % self.port
        self.issuer = self.base + "/api/oidc"
        self.log_path = os.path.join(self.tmp, "glewlwyd.log")
        self.key_path = os.path.join(self.tmp, "signing.pem")
        self.proc = None
        self.configured = False

    def __enter__(self):
        return self

    def __exit__(self, kind, value, tb):
        self.close()
        return False

    # ---- files

    def _write_files(self):
        db = os.path.join(self.tmp, "glewlwyd.db")
        with gzip.open(INIT_SQL, "rt") as f:
            sql = f.read()
        with sqlite3.connect(db) as conn:
            conn.executescript(sql)
        subprocess.run(["openssl", "genrsa", "-out", self.key_path, "2048"], check=True,
                       capture_output=True)
        self._write_webapp()
        conf = "\n".join([
            "port=%d" % self.port,
            'bind_address="127.0.0.1"',
            'external_url="%s"' % self.base,
            'login_url="login.html"',
            'api_prefix="api"',
            'static_files_path="%s/"' % os.path.join(self.tmp, "webapp"),
            'allow_origin="*"',
            'log_mode="file"',
            'log_level="INFO"',
            'log_file="%s"' % self.log_path,
            "cookie_secure=0",
            'cookie_same_site="lax"',
            "session_expiration=3600",
            'session_key="GLEWLWYD2_SESSION_ID"',
            'admin_scope="g_admin"',
            'profile_scope="g_profile"',
            'user_module_path="/usr/lib/glewlwyd/user"',
            'client_module_path="/usr/lib/glewlwyd/client"',
            'user_auth_scheme_module_path="/usr/lib/glewlwyd/scheme"',
            'plugin_module_path="/usr/lib/glewlwyd/plugin"',
            "use_secure_connection=0",  # a boolean here reads as "on"
            'hash_algorithm="SHA512"',
            'database = { type = "sqlite3" path = "%s" };' % db,
            'static_files_mime_types = ('
            + ",".join('{ extension = "%s" mime_type = "%s" }' % m for m in [
                (".html", "text/html"), (".css", "text/css"),
                (".js", "application/javascript"), (".json", "application/json"),
                (".png", "image/png"), (".ico", "image/x-icon"), (".svg", "image/svg+xml"),
                (".woff", "font/woff"), (".woff2", "font/woff2"), (".ttf", "font/ttf")])
            + ");",
            ""])
        self.conf_path = os.path.join(self.tmp, "glewlwyd.conf")
        with open(self.conf_path, "w") as f:
            f.write(conf)

    def _write_webapp(self):
        """The package's login pages, copied, with a config.json of this
        instance (the package's own points at /etc/glewlwyd). Copied, not
        linked: glewlwyd answers 404 for a file behind a symbolic link, and
        the package's own jquery, bootstrap and popper are links to other
        packages' files."""
        web = os.path.join(self.tmp, "webapp")
        shutil.copytree(WEBAPP, web, symlinks=False,
                        ignore=lambda folder, names: ["config.json"] if folder == WEBAPP else [])
        with open(WEBAPP_CONFIG) as f:
            config = json.load(f)
        config["GlewlwydUrl"] = self.base + "/"
        config["lang"] = ["en"]
        with open(os.path.join(web, "config.json"), "w") as f:
            json.dump(config, f)

    # ---- process

    @property
    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def start(self):
        """Starts glewlwyd (set up the first time) and waits until its
        discovery document answers."""
        if self.proc is None:
            self._write_files()
        with open(os.path.join(self.tmp, "stdout.log"), "ab") as out:
            self.proc = subprocess.Popen([GLEWLWYD, "-c", self.conf_path],
                                         stdin=subprocess.DEVNULL, stdout=out, stderr=out,
                                         close_fds=True)
        self._wait_ready("/config", lambda status: status == 200)
        if not self.configured:
            self._configure()
            self.configured = True
        self._wait_ready("/api/oidc/.well-known/openid-configuration",
                         lambda status: status == 200)

    def _wait_ready(self, path, good):
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if self.proc.poll() is not None:
                raise ProviderError("glewlwyd exited with status %d:\n%s"
                                    % (self.proc.returncode, self.log_tail()))
            try:
                status, _, _ = Session("127.0.0.1", self.port).request("GET", path)
                if good(status):
                    return
            except OSError:
                pass
            if time.monotonic() >= deadline:
                raise ProviderError("glewlwyd did not answer %s within %.0f s:\n%s"
                                    % (path, START_TIMEOUT, self.log_tail()))
            time.sleep(0.05)

    def stop(self):
        if self.running:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def close(self):
        self.stop()
        if os.environ.get("RUCHE_TEST_KEEP"):
            print("oidc: kept %s" % self.tmp, flush=True)
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def log_tail(self, lines=30):
        try:
            with open(self.log_path, errors="replace") as f:
                return "".join(f.readlines()[-lines:])
        except OSError:
            return "(no log)"

    # ---- configuration through the admin API

    def _admin(self):
        s = Session("127.0.0.1", self.port)
        status, _, raw = s.request("POST", "/api/auth/",
                                   {"username": ADMIN[0], "password": ADMIN[1]})
        if status != 200:
            raise ProviderError("admin sign-in: %d %r" % (status, raw[:200]))
        return s

    @staticmethod
    def _call(session, method, path, body=None, ok=(200,)):
        status, _, raw = session.request(method, path, body)
        if status not in ok:
            raise ProviderError("%s %s: %d %r" % (method, path, status, raw[:400]))
        return json.loads(raw) if raw else None

    def _configure(self):
        s = self._admin()
        mod = self._call(s, "GET", "/api/mod/user/database")
        fmt = mod["parameters"].setdefault("data-format", {})
        for prop, multiple in (("department", False), ("site", False), ("groups", True),
                               ("employee_id", False)):
            fmt[prop] = {"multiple": multiple, "read": True, "write": True,
                         "profile-read": True, "profile-write": False}
        self._call(s, "PUT", "/api/mod/user/database", mod)
        self._call(s, "PUT", "/api/mod/user/database/reset")
        self._call(s, "PUT", "/api/scope/openid", {
            "name": "openid", "display_name": "Open ID", "description": "OpenID Connect",
            "password_required": True, "password_max_age": 3600, "scheme": {}})
        self._call(s, "POST", "/api/mod/plugin/", {
            "module": "oidc", "name": "oidc", "display_name": "OpenID Connect",
            "enabled": True, "parameters": self._plugin_parameters()})
        for user in self.users:
            self._call(s, "POST", "/api/user/", {
                "username": user["username"], "password": user["password"],
                "name": user.get("name", ""), "email": user.get("email", ""),
                "enabled": True, "scope": ["openid"],
                "department": user.get("department", ""), "site": user.get("site", ""),
                "groups": list(user.get("groups", [])),
                "employee_id": user.get("employee_id", "")})
        self._call(s, "POST", "/api/client/", {
            "client_id": self.client_id, "name": "ruche node", "enabled": True,
            "confidential": True, "password": self.client_secret,
            "redirect_uri": self.redirect_uris, "authorization_type": ["code"],
            "token_endpoint_auth_method": ["client_secret_basic", "client_secret_post"],
            "scope": []})

    def _plugin_parameters(self):
        jwk = rsa_private_jwk(self.key_path, KID)
        claims = [{"name": name, "user-property": prop, "type": "string",
                   "boolean-value-true": "", "boolean-value-false": "",
                   "mandatory": True, "on-demand": False, "scope": []}
                  for name, prop in (("preferred_username", "username"),
                                     ("department", "department"), ("site", "site"),
                                     ("groups", "groups"), ("employee_id", "employee_id"))]
        return {
            "iss": self.issuer, "jwt-type": "rsa", "jwt-key-size": "256",
            "jwks-private": json.dumps({"keys": [jwk]}), "default-kid": KID,
            "jwks-public": "", "jwks-uri": "", "jwks-public-uri": "", "key": "", "cert": "",
            "client-sign_kid-parameter": "", "jwks-show": True, "jwks-x5c": [],
            "access-token-duration": 3600, "refresh-token-duration": 1209600,
            "code-duration": 600, "refresh-token-rolling": True,
            "refresh-token-one-use": "never",
            "client-refresh-token-one-use-parameter": "refresh-token-one-use",
            "allow-non-oidc": False, "auth-type-code-enabled": True,
            "auth-type-code-revoke-replayed": True, "auth-type-token-enabled": False,
            "auth-type-id-token-enabled": True, "auth-type-none-enabled": False,
            "auth-type-password-enabled": False, "auth-type-client-enabled": False,
            "auth-type-device-enabled": False, "auth-type-refresh-enabled": True,
            "scope": [], "additional-parameters": [], "claims": claims,
            "service-documentation": "", "op-policy-uri": "", "op-tos-uri": "",
            "request-parameter-allow": False, "request-uri-allow-https-non-secure": False,
            "request-parameter-allow-encrypted": False, "request-parameter-ietf-strict": False,
            "secret-type": "public",
            "address-claim": {"type": "no", "formatted": "", "street_address": "",
                              "locality": "", "region": "", "postal_code": "",
                              "country": "", "mandatory": False},
            "name-claim": "mandatory", "name-claim-scope": [],
            "email-claim": "mandatory", "email-claim-scope": [],
            "scope-claim": "no", "scope-claim-scope": [],
            "allowed-scope": ["openid"],
            "pkce-allowed": True, "pkce-method-plain-allowed": False,
            "pkce-required": True, "pkce-required-public-client": True, "pkce-scopes": [],
            "introspection-revocation-allowed": False,
            "introspection-revocation-auth-scope": [],
            "introspection-revocation-allow-target-client": True,
            "register-client-allowed": False, "session-management-allowed": False,
            "front-channel-logout-allowed": False, "back-channel-logout-allowed": False,
            "client-pubkey-parameter": "", "client-jwks-parameter": "jwks",
            "client-jwks_uri-parameter": "jwks_uri", "request-maximum-exp": 3600,
            "encrypt-out-token-allow": False, "oauth-dpop-allowed": False,
            "resource-allowed": False, "oauth-rar-allowed": False, "oauth-par-allowed": False,
            "oauth-ciba-allowed": False, "oauth-fapi-check-all": False,
            "oauth-as-iss-id": False,
        }

    def update_user(self, username, **changes):
        """Changes a user's properties (name, email, department, site,
        groups, employee_id) as the provider's administrators would; the
        next ID token of theirs carries them."""
        s = self._admin()
        path = "/api/user/%s" % urllib.parse.quote(username)
        user = self._call(s, "GET", path)
        user.update(changes)
        self._call(s, "PUT", path, user)

    # ---- a user's sign-in

    def sign_in(self, authorize_url, username, password):
        """Goes through the provider's login with the authorization URL a
        client sent the browser to; returns the Location the provider
        redirects to (the client's redirect URI with code and state, or an
        error). Raises ProviderError when the login itself is refused."""
        s = Session("127.0.0.1", self.port)
        status, _, raw = s.request("POST", "/api/auth/",
                                   {"username": username, "password": password})
        if status != 200:
            raise ProviderError("sign-in of %s refused: %d %r" % (username, status, raw[:200]))
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(authorize_url).query)
        scope = query.get("scope", ["openid"])[0]
        client = query.get("client_id", [self.client_id])[0]
        self._call(s, "PUT", "/api/auth/grant/%s" % urllib.parse.quote(client),
                   {"scope": scope})
        # the login page sends the browser back to the authorization
        # endpoint with g_continue added, which tells glewlwyd that the
        # user went through its login; without it, it shows the login again
        parts = urllib.parse.urlsplit(authorize_url)
        status, headers, raw = s.request("GET", parts.path + "?" + parts.query + "&g_continue")
        if status != 302:
            raise ProviderError("authorization endpoint: %d %r" % (status, raw[:300]))
        return headers["Location"]
