"""ruchecli.py - the ruche command-line client as the tests run it: one
user of one node, logged in as that user would be, with a configuration
home of its own (a temporary XDG_CONFIG_HOME, so the saved login is the
CLI's own credentials file and never the tester's).

Cli logs in with `ruche --server URL login NAME` (the password from
RUCHE_PASSWORD, as a script would give it), or not at all, runs commands with standard
input closed and standard output and error captured (pipes, so the
client sees no terminal) and returns a Run (rc, out, err). Used as a
context manager it removes its home. ruche_path() finds the client: the
RUCHE_CLI environment variable, else beside ruched in the build tree.

Only the Python standard library is used.
"""

import os
import shutil
import subprocess
import tempfile

TIMEOUT = 120.0  # seconds for one command (uploads and their processing included)


class CliError(Exception):
    """The client could not be set up (a failed login)."""


class Run:
    """One command's exit status and output; unpacks as (rc, out, err)."""

    def __init__(self, args, rc, out, err):
        self.args = args
        self.rc = rc
        self.out = out
        self.err = err

    def __iter__(self):
        return iter((self.rc, self.out, self.err))

    def brief(self, limit=600):
        """What to print when a check on this run fails."""
        return "ruche %s: exit %d, stdout %r, stderr %r" % (
            " ".join(self.args), self.rc, self.out[:limit], self.err[:limit])


def ruche_path(ruched=None):
    """The ruche binary: $RUCHE_CLI, else cli/ruche beside node/ruched."""
    if os.environ.get("RUCHE_CLI"):
        return os.environ["RUCHE_CLI"]
    build = os.path.dirname(os.path.dirname(os.path.abspath(ruched)))
    return os.path.join(build, "cli", "ruche")


class Cli:
    """The ruche client as one user of the node at server (a URL); with
    username None, as someone who has not logged in (commands then need
    --server)."""

    def __init__(self, ruche, server, username, password=None):
        self.ruche = ruche
        self.server = server
        self.username = username
        self.home = tempfile.mkdtemp(prefix="ruche_cli.")
        if username is None:
            return
        run = self.run("--server", server, "login", username, password=password)
        if run.rc != 0:
            self.close()
            raise CliError("login as %s on %s failed: %s" % (username, server, run.brief()))

    def __enter__(self):
        return self

    def __exit__(self, kind, value, tb):
        self.close()
        return False

    def close(self):
        shutil.rmtree(self.home, ignore_errors=True)

    def run(self, *args, stdin=b"", password=None, timeout=TIMEOUT):
        """Runs ruche ARGS (str or bytes) with stdin as its standard input;
        the Run. The saved login names the server, so no --server is
        needed after login."""
        env = dict(os.environ, XDG_CONFIG_HOME=self.home)
        for name in ("RUCHE_SERVER", "RUCHE_PASSWORD"):
            env.pop(name, None)
        if password is not None:
            env["RUCHE_PASSWORD"] = password
        p = subprocess.run([self.ruche] + list(args), env=env, input=stdin,
                           capture_output=True, timeout=timeout, check=False)
        shown = [a.decode(errors="replace") if isinstance(a, bytes) else a for a in args]
        return Run(shown, p.returncode, p.stdout.decode(errors="replace"),
                   p.stderr.decode(errors="replace"))
