#!/usr/bin/python3
"""test_ldap_each.py - ru_ldap's walk over every person of a real slapd
(ldap_probe each), as the directory sync will use it.

slapd holds 2,500 generated employees (or RUCHE_LDAP_PEOPLE of them: the
benchmark's 77,000) and a few special ones: one whose photo is
over [ldap] max_photo_bytes, one disabled as in Active Directory
(userAccountControl 514), one outside the allowed group and one whose login
name is no user name. The service account may get at most 1,000 entries
from one search, as Active Directory's MaxPageSize: a walk of 500 a page
over StartTLS must hand over every person exactly once, in 6 pages, skip
the entry with no user name, leave out the large photo and keep the
others' (bytes as stored), and give skills, access flags and names with
accents as they are; the same walk unpaged past the limit is refused.

Usage: test_ldap_each.py PATH/TO/ldap_probe. Prints one line per
check and "N passed, M failed"; exits non-zero if any failed.
"""

import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import slapd  # noqa: E402
import ruchetest as rt  # noqa: E402  (slapd.py put tests/api on the path)

BIG_PHOTO = slapd.PHOTO + b"\0" * 300000  # over the default 262,144 bytes


def probe_config(s, path, **keys):
    """Writes the [ldap] section of s (StartTLS, keys added) to path."""
    lines = ["[ldap]"]
    for setting in s.settings(starttls="yes", **keys):
        key, value = setting.split("=", 1)
        lines.append("%s = %s" % (key.split(".", 1)[1], value))
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def walk(probe, config):
    r = subprocess.run([probe, config, "each"], stdin=subprocess.DEVNULL, capture_output=True,
                       timeout=600)
    lines = r.stdout.decode("utf-8").splitlines()
    last = lines.pop().split() if lines else []
    stats = dict(zip(last[1::2], last[2::2])) if last else {}
    people = [line.split("\t") for line in lines]
    return r.returncode, (last[0] if last else None), stats, people, r.stderr.decode()


def run(c, probe):
    n = int(os.environ.get("RUCHE_LDAP_PEOPLE", "2500"))
    extra = [
        ("bigphoto", {"cn": ["Bérénice Grand-Format"], "jpegPhoto": [BIG_PHOTO]}, ("users",)),
        ("gone", {"cn": ["Gaston Parti"], "userAccountControl": ["514"]}, ("users",)),
        ("outsider", {"cn": ["Otto Dehors"]}, ()),
        ("Bad Name", {"cn": ["Nobody"]}, ("users",)),
    ]
    with slapd.Slapd(generated=n, extra=extra) as s:
        print("slapd: %d entries loaded with slapadd in %.2f s" % (n + len(extra), s.load_seconds),
              flush=True)
        config = os.path.join(s.tmp, "probe.conf")
        with c.section("a paged walk of %d people, 500 a page" % n):
            probe_config(s, config, page_size="500")
            t0 = time.monotonic()
            code, err, stats, people, stderr = walk(probe, config)
            seconds = time.monotonic() - t0
            c.equal("the walk returns ok", (code, err), (0, "ok"))
            logins = [p[0] for p in people]
            want = n + 3  # the entry with no user name is skipped
            c.equal("every person once", (len(logins), len(set(logins))), (want, want))
            c.equal("the persons counted", stats.get("persons"), str(want))
            c.equal("the entry with no user name skipped", stats.get("skipped"), "1")
            c.equal("pages of 500", stats.get("pages"), str(-(-(n + len(extra)) // 500)))
            c.check("the skipped entry is logged", "uid=Bad Name" in stderr, stderr[-500:])
            by = {p[0]: p for p in people}
            first = by.get("e000000", [""] * 8)
            c.equal("a person's photo, bytes as stored", first[6], str(len(slapd.PHOTO)))
            c.equal("their skills", first[5].split(","), slapd.person(0)["businessCategory"])
            c.equal("their name, accents and all", first[7], slapd.person(0)["cn"][0])
            c.check("their stable id is entryUUID's", len(first[1]) == 36, first[1])
            c.equal("allowed, not an admin, not disabled", first[2:5], ["1", "0", "0"])
            c.equal("the large photo left out", by.get("bigphoto", [""] * 8)[6], "0")
            c.check("and logged", "max_photo_bytes" in stderr, stderr[-500:])
            c.equal("the disabled person: not allowed, disabled", by.get("gone", [""] * 8)[2:5],
                    ["0", "0", "1"])
            c.equal("the person outside the group: not allowed", by.get("outsider", [""] * 8)[2],
                    "0")
            print("walk: %d people in %.2f s (%s pages)" % (len(people), seconds,
                                                            stats.get("pages")), flush=True)
        with c.section("unpaged past the service account's limit"):
            probe_config(s, config, page_size="5000")
            code, err, stats, people, stderr = walk(probe, config)
            c.equal("refused as a directory error", (code, err), (1, "directory"))
            c.check("the reason is logged", "Size limit exceeded" in stderr or
                    "Administrative limit" in stderr, stderr[-500:])


if __name__ == "__main__":
    rt.main_wrapper(run)
