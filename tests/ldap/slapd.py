"""slapd.py - a real OpenLDAP server for the tests: Debian's slapd, run as
the current user on free 127.0.0.1 ports, with a configuration of its own
made in a temporary directory.

The directory is a small company: people (inetOrgPerson) under
ou=people, with names in any script (accents included), titles,
departments (departmentNumber), sites (l), offices
(physicalDeliveryOfficeName), phone numbers, their manager's DN, skills
(businessCategory, a standard multi-valued attribute) and a small JPEG in
jpegPhoto; groups (groupOfNames) under ou=groups: "ruche-users", whose
members may sign in, and "ruche-admins"; and a service account under
ou=services, which may read people and groups (and nothing else may: the
ACL lets anyone else only bind). Like some directories, it lets a DN
with an empty password bind, unauthenticated ("allow bind_anon_dn"): a
client that sends an empty password signs anyone in. A person may carry Active Directory's
userAccountControl (a tiny schema defines it). The memberof overlay keeps memberOf on
people as groups change; the people loaded at start carry it already,
since slapadd writes entries without overlays.

Entries are written as LDIF and loaded with slapadd before slapd starts
(77,000 people take seconds this way; an ldapadd of the same would take
minutes), so a test asks for the people it needs when it makes the
Slapd. The service account's size limit is that of Active Directory's
default MaxPageSize (1,000 entries; page_limit), so a search over more
entries must page (RFC 2696).

TLS: a CA and a server certificate for 127.0.0.1 and localhost are made
with openssl; slapd offers StartTLS on its ldap:// port and TLS at once
on its ldaps:// port. another_ca() makes a CA that did not sign it.

Readiness is an anonymous search of the root DSE answered, polled with a
deadline (no fixed sleep). stop() sends SIGTERM and waits for the exit
(rt.Child); start() again reuses the database. The fixture never reads or writes
/etc/ldap/slapd.d: whatever the package's own instance is, this one is
separate.

Only the Python standard library (and tests/api/ruchetest.py), slapd,
slapadd and ldapsearch (ldap-utils) and openssl are used.
"""

import base64
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "api"))
import ruchetest as rt  # noqa: E402

SLAPD = "/usr/sbin/slapd"
SLAPADD = "/usr/sbin/slapadd"
LDAPSEARCH = "/usr/bin/ldapsearch"
MODULES = "/usr/lib/ldap"
SCHEMA = "/etc/ldap/schema"

SUFFIX = "dc=example,dc=com"
SERVICE_DN = "cn=ruche,ou=services," + SUFFIX
SERVICE_PASSWORD = "service-secret"
ROOT_DN = "cn=admin," + SUFFIX
ROOT_PASSWORD = "root-secret"
USERS_GROUP = "cn=ruche-users,ou=groups," + SUFFIX
ADMINS_GROUP = "cn=ruche-admins,ou=groups," + SUFFIX

# A 16 x 16 JPEG (made with vips), everyone's photo.
PHOTO = base64.b64decode(
    "/9j/2wBDABQODxIPDRQSEBIXFRQYHjIhHhwcHj0sLiQySUBMS0dARkVQWnNiUFVtVkVGZIhlbXd7gYKBTmCNl4x9"
    "lnN+gXz/2wBDARUXFx4aHjshITt8U0ZTfHx8fHx8fHx8fHx8fHx8fHx8fHx8fHx8fHx8fHx8fHx8fHx8fHx8fHx8"
    "fHx8fHx8fHz/wAARCAAQABADASIAAhEBAxEB/8QAHwAAAQUBAQEBAQEAAAAAAAAAAAECAwQFBgcICQoL/8QAtRAA"
    "AgEDAwIEAwUFBAQAAAF9AQIDAAQRBRIhMUEGE1FhByJxFDKBkaEII0KxwRVS0fAkM2JyggkKFhcYGRolJicoKSo0"
    "NTY3ODk6Q0RFRkdISUpTVFVWV1hZWmNkZWZnaGlqc3R1dnd4eXqDhIWGh4iJipKTlJWWl5iZmqKjpKWmp6ipqrKz"
    "tLW2t7i5usLDxMXGx8jJytLT1NXW19jZ2uHi4+Tl5ufo6erx8vP09fb3+Pn6/8QAHwEAAwEBAQEBAQEBAQAAAAAA"
    "AAECAwQFBgcICQoL/8QAtREAAgECBAQDBAcFBAQAAQJ3AAECAxEEBSExBhJBUQdhcRMiMoEIFEKRobHBCSMzUvAV"
    "YnLRChYkNOEl8RcYGRomJygpKjU2Nzg5OkNERUZHSElKU1RVVldYWVpjZGVmZ2hpanN0dXZ3eHl6goOEhYaHiImK"
    "kpOUlZaXmJmaoqOkpaanqKmqsrO0tba3uLm6wsPExcbHyMnK0tPU1dbX2Nna4uPk5ebn6Onq8vP09fb3+Pn6/9oA"
    "DAMBAAIRAxEAPwB9FFFeWekf/9k=")

START_TIMEOUT = 60.0

# Active Directory's account flags (bit 2: disabled) under AD's own OID, and
# an auxiliary class to put them on an inetOrgPerson (OpenLDAP's
# experimental arc): a person disabled as in Active Directory.
AD_SCHEMA = """attributetype ( 1.2.840.113556.1.4.8 NAME 'userAccountControl'
  EQUALITY integerMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.27 SINGLE-VALUE )
objectclass ( 1.3.6.1.4.1.4203.666.11.99.1 NAME 'rucheTestAccount' SUP top AUXILIARY
  MAY userAccountControl )
"""

FIRST = ["Amélie", "Björn", "Chloé", "Dariusz", "Élodie", "François", "Grégoire", "Hélène",
         "Ingrid", "József", "Karim", "Léa", "Maëlle", "Nuño", "Oksana", "Pål", "Quentin",
         "Renée", "Søren", "Thaïs", "Ulrich", "Věra", "Wojciech", "Xavière", "Yūko", "Zoë"]
LAST = ["Dupont", "Müller", "Łukasiewicz", "García", "Ødegård", "Nakamura", "Çelik", "Moreau",
        "O'Brien", "Sánchez", "Kowalski", "Lefèvre", "Schröder", "Nuñez", "Dvořák", "Kim"]
TITLES = ["Engineer", "Senior Engineer", "Technician", "Buyer", "Accountant", "Lawyer",
          "Product Manager", "Designer", "Chemist", "Test Pilot", "Nurse", "Translator"]
DEPARTMENTS = ["Research", "Manufacturing", "Purchasing", "Finance", "Legal", "Sales",
               "Human Resources", "Information Technology", "Logistics", "Quality"]
SITES = ["paris", "nozay", "murray-hill", "stuttgart", "antwerp", "madrid", "bangalore",
         "shanghai", "ottawa", "espoo"]
SKILLS = ["welding", "contract law", "lmdb", "zeromq", "spanish", "statistics", "rf design",
          "forklift", "sap", "python", "c", "kubernetes", "photography", "first aid"]


def person(i, site=None):
    """The i-th generated employee, as {attribute: [values]} plus its uid;
    their password is "pw-" and their uid."""
    uid = "e%06d" % i
    first, last = FIRST[i % len(FIRST)], LAST[(i // len(FIRST)) % len(LAST)]
    attrs = {
        "uid": [uid],
        "cn": ["%s %s" % (first, last)],
        "sn": [last],
        "givenName": [first],
        "mail": ["%s@example.com" % uid],
        "title": [TITLES[i % len(TITLES)]],
        "departmentNumber": [DEPARTMENTS[(i // 3) % len(DEPARTMENTS)]],
        "l": [site or SITES[i % len(SITES)]],
        "physicalDeliveryOfficeName": ["B%d-%03d" % (i % 7, i % 500)],
        "telephoneNumber": ["+33 1 %02d %02d %02d %02d" % (i % 97, i % 89, i % 83, i % 79)],
        "employeeNumber": [str(100000 + i)],
        "businessCategory": [SKILLS[i % len(SKILLS)], SKILLS[(i * 7 + 3) % len(SKILLS)]],
        "jpegPhoto": [PHOTO],
        "userPassword": ["pw-" + uid],
    }
    if i > 0:
        attrs["manager"] = ["uid=e%06d,ou=people,%s" % ((i - 1) // 10, SUFFIX)]
    return attrs


def _value(v):
    """An LDIF value: "attr: text", or "attr:: base64" when it must be."""
    raw = v if isinstance(v, bytes) else v.encode("utf-8")
    safe = (raw and raw.isascii() and raw[0] not in b" :<" and raw[-1:] != b" "
            and b"\n" not in raw and b"\r" not in raw and b"\0" not in raw)
    return ": " + raw.decode("ascii") if safe else ":: " + base64.b64encode(raw).decode()


def ldif_entry(dn, attrs):
    """The LDIF text of one entry."""
    lines = ["dn" + _value(dn)]
    for name, values in attrs.items():
        lines += [name + _value(v) for v in values]
    return "\n".join(lines) + "\n\n"


class Slapd(rt.Child):
    """A slapd on a temporary directory, with people given at construction:
    generated(n) people e000000 ... (all members of ruche-users), plus
    extra, a list of (uid, {attribute: [values]}, groups) where groups is
    a subset of ("users", "admins"). page_limit is the service account's
    size limit (what one page, or an unpaged search, may return)."""

    name = "slapd"

    def __init__(self, generated=0, extra=(), page_limit=1000):
        self.tmp = tempfile.mkdtemp(prefix="ruche_slapd.")
        self.db = os.path.join(self.tmp, "db")
        os.mkdir(self.db, 0o700)
        self.conf = os.path.join(self.tmp, "slapd.conf")
        self.log_path = os.path.join(self.tmp, "slapd.log")
        self.ca_file = os.path.join(self.tmp, "ca.pem")
        self.password_file = os.path.join(self.tmp, "service.password")
        self.port = rt.free_port()
        self.tls_port = rt.free_port()
        self.uri = "ldap://127.0.0.1:%d" % self.port
        self.ldaps_uri = "ldaps://127.0.0.1:%d" % self.tls_port
        self.proc = None
        self.generated = generated
        self.extra = list(extra)
        self.page_limit = page_limit
        with open(self.password_file, "w") as f:
            f.write(SERVICE_PASSWORD + "\n")
        os.chmod(self.password_file, 0o600)
        self.load_seconds = None

    def __enter__(self):
        self.setup()
        self.start()
        return self

    def __exit__(self, kind, value, tb):
        self.close()
        return False

    # -- set-up

    def setup(self):
        """Certificates, configuration and the loaded database."""
        self._certificates()
        self._write_conf()
        t0 = time.monotonic()
        ldif = os.path.join(self.tmp, "people.ldif")
        with open(ldif, "w", encoding="utf-8") as f:
            self._write_ldif(f)
        _run([SLAPADD, "-q", "-f", self.conf, "-l", ldif])
        os.unlink(ldif)
        self.load_seconds = time.monotonic() - t0

    def _certificates(self):
        ca_key = os.path.join(self.tmp, "ca.key")
        key = os.path.join(self.tmp, "server.key")
        csr = os.path.join(self.tmp, "server.csr")
        ext = os.path.join(self.tmp, "server.ext")
        _make_ca(ca_key, self.ca_file, "ruche test CA")
        _run(["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
              "-nodes", "-keyout", key, "-subj", "/CN=127.0.0.1", "-out", csr])
        with open(ext, "w") as f:
            f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n"
                    "extendedKeyUsage=serverAuth\n")
        _run(["openssl", "x509", "-req", "-in", csr, "-CA", self.ca_file, "-CAkey", ca_key,
              "-CAcreateserial", "-days", "2", "-extfile", ext,
              "-out", os.path.join(self.tmp, "server.pem")])

    def another_ca(self):
        """The path of a CA certificate that did not sign the server's."""
        path = os.path.join(self.tmp, "other-ca.pem")
        if not os.path.exists(path):
            _make_ca(os.path.join(self.tmp, "other-ca.key"), path, "some other CA")
        return path

    def _write_conf(self):
        t = self.tmp
        conf = f"""# made by tests/ldap/slapd.py
include {SCHEMA}/core.schema
include {SCHEMA}/cosine.schema
include {SCHEMA}/inetorgperson.schema
include {t}/ad.schema
modulepath {MODULES}
moduleload back_mdb
moduleload memberof
pidfile {t}/slapd.pid
argsfile {t}/slapd.args
TLSCACertificateFile {self.ca_file}
TLSCertificateFile {t}/server.pem
TLSCertificateKeyFile {t}/server.key
sizelimit 500
allow bind_anon_dn
database mdb
suffix "{SUFFIX}"
rootdn "{ROOT_DN}"
rootpw {ROOT_PASSWORD}
directory {self.db}
maxsize 4294967296
index objectClass eq
index uid eq
index member eq
index memberOf eq
limits dn.exact="{SERVICE_DN}" size.soft={self.page_limit} size.hard={self.page_limit} size.pr={self.page_limit} size.prtotal=unlimited
access to attrs=userPassword by anonymous auth by self write by * none
access to * by dn.exact="{SERVICE_DN}" read by self read by * none
overlay memberof
memberof-group-oc groupOfNames
memberof-member-ad member
memberof-memberof-ad memberOf
memberof-refint true
"""
        with open(self.conf, "w") as f:
            f.write(conf)
        with open(os.path.join(t, "ad.schema"), "w") as f:
            f.write(AD_SCHEMA)

    def _write_ldif(self, f):
        f.write(ldif_entry(SUFFIX, {"objectClass": ["dcObject", "organization"],
                                    "dc": ["example"], "o": ["Example"]}))
        for ou in ("people", "groups", "services"):
            f.write(ldif_entry("ou=%s,%s" % (ou, SUFFIX),
                               {"objectClass": ["organizationalUnit"], "ou": [ou]}))
        f.write(ldif_entry(SERVICE_DN, {
            "objectClass": ["organizationalRole", "simpleSecurityObject"],
            "cn": ["ruche"], "userPassword": [SERVICE_PASSWORD]}))
        members = {"users": [], "admins": []}
        for i in range(self.generated):
            attrs = person(i)
            dn = self.dn(attrs["uid"][0])
            attrs["memberOf"] = [USERS_GROUP]
            members["users"].append(dn)
            f.write(ldif_entry(dn, dict(objectClass=["inetOrgPerson"], **attrs)))
        for uid, attrs, groups in self.extra:
            dn = self.dn(uid)
            attrs = dict(attrs)
            attrs.setdefault("uid", [uid])
            attrs.setdefault("sn", [uid])
            attrs.setdefault("cn", [uid])
            attrs["memberOf"] = [USERS_GROUP if g == "users" else ADMINS_GROUP for g in groups]
            for g in groups:
                members[g].append(dn)
            classes = ["inetOrgPerson"] + (["rucheTestAccount"] if "userAccountControl" in attrs
                                           else [])
            f.write(ldif_entry(dn, dict(objectClass=classes, **attrs)))
        for g, dn in (("users", USERS_GROUP), ("admins", ADMINS_GROUP)):
            # a groupOfNames needs a member, also once its people are
            # taken out: the service account stays in
            f.write(ldif_entry(dn, {"objectClass": ["groupOfNames"], "cn": [dn[3:dn.index(",")]],
                                    "member": members[g] + [SERVICE_DN]}))

    @staticmethod
    def dn(uid):
        return "uid=%s,ou=people,%s" % (uid, SUFFIX)

    # -- running

    def start(self):
        """Starts slapd and waits until it answers a search."""
        if self.running:
            raise rt.TestError("slapd is already running")
        urls = "%s/ %s/" % (self.uri, self.ldaps_uri)
        log = open(self.log_path, "ab")
        try:
            # -d keeps it in the foreground, our child; "0": no debug output
            self.proc = subprocess.Popen([SLAPD, "-f", self.conf, "-h", urls, "-d", "0"],
                                         stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        finally:
            log.close()
        try:
            rt.wait_until(self._answers, START_TIMEOUT, "slapd on port %d" % self.port)
        except rt.TestError:
            self.kill()
            raise

    def _answers(self):
        if self.proc.poll() is not None:
            raise rt.TestError("slapd exited with %d: %s" % (self.proc.returncode,
                                                             self.log_tail()))
        r = subprocess.run([LDAPSEARCH, "-x", "-H", self.uri, "-s", "base", "-b", "",
                            "-l", "2", "-o", "nettimeout=2", "1.1"],
                           stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
        return r.returncode == 0

    def close(self):
        """Stops slapd (killed if it must be) and removes the directory."""
        try:
            self.stop()
        except rt.TestError:
            pass
        self.kill()
        rt.remove_tmp(self.tmp)

    def log_tail(self, lines=20):
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as f:
                return "\n".join(f.read().splitlines()[-lines:])
        except OSError:
            return ""

    def search(self, base, filt="(objectClass=*)", *attrs):
        """ldapsearch as the root DN: its LDIF output."""
        r = subprocess.run([LDAPSEARCH, "-x", "-LLL", "-o", "ldif-wrap=no", "-H", self.uri,
                            "-D", ROOT_DN, "-w", ROOT_PASSWORD, "-b", base, filt] + list(attrs),
                           stdin=subprocess.DEVNULL, capture_output=True, check=True)
        return r.stdout.decode("utf-8", "replace")

    def binds(self, dn, password):
        """Does a simple bind as dn with password succeed (ldapwhoami)?"""
        r = subprocess.run(["/usr/bin/ldapwhoami", "-x", "-H", self.uri, "-D", dn,
                            "-w", password], stdin=subprocess.DEVNULL, capture_output=True)
        return r.returncode == 0

    def modify(self, ldif):
        """ldapmodify as the root DN (overlays see the change)."""
        r = subprocess.run(["/usr/bin/ldapmodify", "-x", "-H", self.uri, "-D", ROOT_DN,
                            "-w", ROOT_PASSWORD], input=ldif.encode("utf-8"),
                           capture_output=True)
        if r.returncode != 0:
            raise rt.TestError("ldapmodify: %s" % r.stderr.decode("utf-8", "replace"))

    def settings(self, uri=None, **more):
        """ruched's --set values of an [ldap] section for this server."""
        keys = {"uri": uri or self.uri, "ca_file": self.ca_file, "bind_dn": SERVICE_DN,
                "bind_password_file": self.password_file, "base_dn": "ou=people," + SUFFIX,
                "allow_group": USERS_GROUP, "admin_group": ADMINS_GROUP,
                "skills_attribute": "businessCategory"}
        keys.update(more)
        return ["ldap.%s=%s" % (k, v) for k, v in keys.items()]


def _make_ca(key, cert, name):
    _run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
          "-nodes", "-keyout", key, "-subj", "/CN=" + name, "-days", "2", "-out", cert,
          "-addext", "basicConstraints=critical,CA:TRUE",
          "-addext", "keyUsage=critical,keyCertSign,cRLSign"])


def _run(args):
    r = subprocess.run(args, stdin=subprocess.DEVNULL, capture_output=True)
    if r.returncode != 0:
        raise rt.TestError("%s exited with %d: %s" % (args[0], r.returncode,
                                                      r.stderr.decode("utf-8", "replace")))

