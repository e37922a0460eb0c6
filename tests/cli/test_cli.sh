#!/usr/bin/env bash
# test_cli.sh - the ruche client end to end: starts a real ruched on a free
# loopback port with a fresh data directory, then drives the ruche binary
# through every command as its users would (the admin, alice, bob, carol),
# checking the text for people, the JSON for scripts (with jq) and the exit
# statuses: 0 success, 1 failed request, 2 usage error, 3 not logged in.
#
# Usage: test_cli.sh PATH/TO/ruched PATH/TO/ruche
# Needs jq and python3 (to find a free port and to wait for /healthz).
# shellcheck disable=SC2016 # '$name' in single quotes is a jq variable
set -euo pipefail

ruched=${1:?usage: test_cli.sh PATH/TO/ruched PATH/TO/ruche}
ruche=${2:?usage: test_cli.sh PATH/TO/ruched PATH/TO/ruche}
for tool in jq python3; do
    command -v "$tool" >/dev/null || { echo "test_cli.sh needs $tool"; exit 1; }
done
unset RUCHE_SERVER RUCHE_PASSWORD XDG_CONFIG_HOME

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ruche_cli.XXXXXX")
ruched_pid=
cleanup() {
    if [[ -n $ruched_pid ]] && kill -0 "$ruched_pid" 2>/dev/null; then
        kill -TERM "$ruched_pid" 2>/dev/null || true
        wait "$ruched_pid" 2>/dev/null || true
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT

passed=0
failed=0
# check DESCRIPTION COMMAND...: runs COMMAND (quietly), counts the outcome.
check() {
    local what=$1
    shift
    if "$@" >/dev/null 2>&1; then
        passed=$((passed + 1))
        echo "ok: $what"
    else
        failed=$((failed + 1))
        echo "FAILED: $what"
        echo "  last command: ruche ${last_args:-}"
        echo "  status $status; stdout: $(head -c 600 "$out" 2>/dev/null)"
        echo "  stderr: $(head -c 600 "$err" 2>/dev/null)"
    fi
}
# jqtrue DESCRIPTION [--arg NAME VALUE]... FILTER: FILTER holds on the JSON
# of the last run.
jqtrue() {
    local what=$1
    shift
    check "$what" jq -e "$@" "$out"
}
# has DESCRIPTION TEXT: the last run's stdout holds TEXT.
has() { check "$1" grep -qF -- "$2" "$out"; }
# says DESCRIPTION TEXT: the last run's stderr holds TEXT.
says() { check "$1" grep -qF -- "$2" "$err"; }
# exits DESCRIPTION N: the last run exited with status N.
exits() { check "$1 (exit $2)" test "$status" -eq "$2"; }
# fails DESCRIPTION: the last run exited with a non-zero status.
fails() { check "$1 (non-zero exit)" test "$status" -ne 0; }

# as WHO ARGS...: runs ruche as WHO (each user has a config directory of
# their own); stdout, stderr and status land in $out, $err and $status,
# and every output is kept in $tmp/runs for the token check at the end.
runs=0
as() {
    local who=$1
    shift
    runs=$((runs + 1))
    out=$tmp/runs/$runs.out
    err=$tmp/runs/$runs.err
    last_args="$* (as $who)"
    status=0
    XDG_CONFIG_HOME=$tmp/cfg-$who "$ruche" "$@" <"${stdin:-/dev/null}" >"$out" 2>"$err" ||
        status=$?
}
# value: the last run's stdout, for capturing ids.
value() { cat "$out"; }
# remember_token WHO: notes WHO's saved token for the leak check at the end.
remember_token() { jq -r .access_token "$tmp/cfg-$1/ruche/credentials.json" >>"$tmp/tokens"; }
mkdir -p "$tmp/runs"

# --- the node ----------------------------------------------------------------

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
server=http://127.0.0.1:$port
data=$tmp/data
"$ruched" --data-dir "$data" --site test --set "http.listen=127.0.0.1:$port" \
    >"$tmp/ruched.log" 2>&1 &
ruched_pid=$!

# healthy: does GET /healthz answer 200?
healthy() {
    python3 - "$server/healthz" <<'EOF'
import sys, urllib.request
try:
    sys.exit(0 if urllib.request.urlopen(sys.argv[1], timeout=2).status == 200 else 1)
except Exception:
    sys.exit(1)
EOF
}
deadline=$((SECONDS + 30))
until healthy; do
    if ! kill -0 "$ruched_pid" 2>/dev/null || ((SECONDS >= deadline)); then
        echo "ruched did not become ready on $server; its log:"
        cat "$tmp/ruched.log"
        exit 1
    fi
    sleep 0.1
done
echo "ruched is ready on $server"

admin_password_file=$data/admin-password
status=0 out=/dev/null err=/dev/null
check "the first start writes DIR/admin-password" test -s "$admin_password_file"
check "DIR/admin-password is mode 600" test "$(stat -c %a "$admin_password_file")" = 600
head -n 1 "$admin_password_file" | tr -d '\n' >"$tmp/admin.pw"

# --- usage, before any login -------------------------------------------------

as nobody help
exits "help" 0
for word in login logout whoami post reply edit delete like unlike timeline thread \
    follow unfollow account "groups create" "groups join" "admin adduser"; do
    has "help lists $word" "$word"
done
as nobody --help
exits "--help" 0
as nobody --version
exits "--version" 0
has "--version names ruche" "ruche "
as nobody frobnicate
exits "an unknown command" 2
says "it is named" "frobnicate"
as nobody
exits "no command" 2
as nobody post
exits "post without TEXT" 2
says "it shows the usage" "Usage: ruche post"
as nobody post two words
exits "post with two arguments" 2
as nobody post --visibility secret hello
exits "an unknown visibility" 2
as nobody timeline public --limit many
exits "a --limit that is no number" 2
as nobody timeline public --frob
exits "an unknown option" 2
as nobody groups frob
exits "an unknown groups subcommand" 2
as nobody --server ftp://example.com timeline public
exits "a server URL that is not http(s)" 2
as nobody whoami
exits "whoami before login" 3
says "it says how to log in" "ruche login"
as nobody post "not logged in"
exits "post before login" 3

# --- logins ------------------------------------------------------------------

printf 'wrong-password\n' >"$tmp/wrong.pw"
stdin=$tmp/wrong.pw as admin --server "$server" login admin --password-stdin
exits "login with a wrong password" 1
says "it gives the HTTP status" "(HTTP 4"
check "a failed login saves nothing" test ! -e "$tmp/cfg-admin/ruche/credentials.json"

stdin=$tmp/admin.pw as admin --server "$server" login admin --password-stdin
exits "admin logs in with --password-stdin" 0
has "login says who and where" "logged in as admin on $server"
creds=$tmp/cfg-admin/ruche/credentials.json
check "the credentials file is mode 600" test "$(stat -c %a "$creds")" = 600
check "its directory is mode 700" test "$(stat -c %a "$tmp/cfg-admin/ruche")" = 700
check "it holds the server" jq -e --arg s "$server" '.server == $s' "$creds"
check "it holds the user name" jq -e '.username == "admin"' "$creds"
check "it holds a token" jq -e '.access_token | type == "string" and length > 0' "$creds"
remember_token admin

RUCHE_PASSWORD=$(cat "$tmp/admin.pw") as admin --json login admin
exits "login --json with RUCHE_PASSWORD" 0
jqtrue "login --json shows the token type" '.token_type | test("bearer"; "i")'
jqtrue "login --json hides the token" 'has("access_token") | not'
remember_token admin

as admin whoami --json
exits "whoami" 0
jqtrue "whoami --json is the admin" '.username == "admin" and .acct == "admin"'
as admin whoami
has "whoami shows @admin" "@admin"

# --- users -------------------------------------------------------------------

as admin admin adduser alice
exits "admin adduser alice" 0
has "adduser shows the name" "user: alice"
alice_pw=$(sed -n 's/^password: //p' "$out")
check "adduser shows a password" test -n "$alice_pw"
as admin --json admin adduser bob
exits "admin adduser bob --json" 0
jqtrue "the reply names bob" '.username == "bob"'
jqtrue "the reply holds a password" '.password | type == "string" and length > 0'
bob_pw=$(jq -r .password "$out")
as admin admin adduser carol --admin --json
exits "admin adduser carol --admin" 0
carol_pw=$(jq -r .password "$out")
as admin admin adduser alice
fails "adding alice twice"
says "it gives the HTTP status" "(HTTP 4"
as admin admin adduser "Not A Name"
exits "adduser with a malformed name" 2

RUCHE_PASSWORD=$alice_pw as alice --server "$server" login alice
exits "alice logs in with RUCHE_PASSWORD" 0
printf '%s\n' "$bob_pw" >"$tmp/bob.pw"
stdin=$tmp/bob.pw as bob --server "$server" login bob --password-stdin
exits "bob logs in with --password-stdin" 0
RUCHE_PASSWORD=$carol_pw as carol --server "$server" login carol
exits "carol logs in" 0
for who in alice bob carol; do remember_token "$who"; done
as alice admin adduser eve
fails "a user who is not an admin cannot add users"
says "the server says why, with the status" "(HTTP 403)"

as alice whoami --json
alice_id=$(jq -r .id "$out")
check "alice has an id" test -n "$alice_id"

# --- statuses ----------------------------------------------------------------

as alice post "Hello #ruche from alice"
exits "alice posts" 0
check "post prints the status id" grep -Eqx '[0-9A-Za-z_-]+' "$out"
p1=$(value)
as alice --json post "Second post, <b>not bold</b> & more"
exits "post --json" 0
jqtrue "it is public" '.visibility == "public"'
jqtrue "its author is alice" '.account.acct == "alice"'
jqtrue "its site is this node" '.ruche.site == "test"'
jqtrue "its content holds the text, escaped" '.content | contains("&lt;b&gt;not bold&lt;/b&gt; &amp; more")'
p2=$(jq -r .id "$out")
as alice thread "$p2"
has "the text view decodes the escaped text" "Second post, <b>not bold</b> & more"
as alice post "quiet one" --visibility unlisted --json
jqtrue "--visibility unlisted" '.visibility == "unlisted"'
printf 'line one\nline two\n' >"$tmp/text"
stdin=$tmp/text as alice post - --json
exits "post - reads standard input" 0
jqtrue "both lines arrive" '(.content | contains("line one")) and (.content | contains("line two"))'

as bob reply "$p1" "Welcome, alice"
exits "bob replies" 0
r1=$(value)
as alice reply "$r1" "Thanks bob" --json
exits "alice replies to the reply" 0
jqtrue "in_reply_to_id names the reply" --arg r "$r1" '.in_reply_to_id == $r'
r2=$(jq -r .id "$out")

as bob thread "$p1"
exits "thread" 0
has "it shows the status" "Hello #ruche from alice"
check "the reply is indented one level" grep -Eq '^  @bob ' "$out"
check "the reply to the reply two levels" grep -Eq '^    @alice ' "$out"
as bob thread "$p1" --json
jqtrue "thread --json holds the status" --arg p "$p1" '.status.id == $p'
jqtrue "and its two descendants" '.descendants | length == 2'
jqtrue "and no ancestors" '.ancestors | length == 0'
as bob thread "$r2" --json
jqtrue "the last reply has two ancestors" '.ancestors | length == 2'

as alice edit "$p1" "Hello #ruche from alice, edited"
exits "alice edits her status" 0
as alice thread "$p1" --json
jqtrue "the content is the new text" '.status.content | contains("edited")'
jqtrue "edited_at is set" '.status.edited_at != null'
as alice thread "$p1"
has "the text view marks it" "[edited]"
as alice edit "$r1" "not mine"
fails "alice cannot edit bob's reply"
says "the server says why" "(HTTP 403)"

as bob like "$p1"
exits "bob likes" 0
has "like says so" "liked $p1"
as carol like "$p1" --json
jqtrue "like --json: favourited" '.favourited == true'
jqtrue "two likes" '.favourites_count == 2'
as bob unlike "$p1" --json
exits "unlike" 0
jqtrue "one like left" '.favourites_count == 1'
as alice thread "$p1"
has "the header counts likes and replies" "♥ 1 · ↩ 1"

as alice delete "$r1"
fails "alice cannot delete bob's reply"
says "the server's 403 message is shown" "(HTTP 403)"
as alice delete "$r2"
exits "alice deletes her own reply" 0
has "delete says so" "deleted $r2"
as alice thread "$r2"
exits "a deleted status is gone" 1
says "with the status" "(HTTP 404)"
as alice like "not/an/id"
exits "a malformed id" 2

# --- follows -----------------------------------------------------------------

as bob follow alice
exits "bob follows alice by name" 0
has "follow says so" "following @alice"
as carol follow "$alice_id" --json
exits "carol follows alice by id" 0
jqtrue "the relationship says following" '.following == true'
as alice post "for my followers"
pf=$(value)
as bob timeline --json
exits "bob's home timeline" 0
jqtrue "it holds what alice posted since" --arg p "$pf" 'any(.[]; .id == $p)'
as bob timeline home
has "the text view shows her status" "for my followers"
as bob account alice --json
exits "account alice" 0
jqtrue "it is alice" --arg id "$alice_id" '.acct == "alice" and .id == $id'
jqtrue "she has two followers" '.followers_count == 2'
as bob account @alice
has "the text view shows @alice" "@alice"
as bob account alice --statuses --json
exits "account --statuses" 0
jqtrue "her statuses include the first" --arg p "$p1" 'any(.[]; .id == $p)'
jqtrue "all are hers" 'all(.account.acct == "alice")'
as bob unfollow alice --json
exits "bob unfollows" 0
jqtrue "the relationship says not following" '.following == false'
as bob follow nosuchuser
exits "following an unknown user" 1
says "with the status" "(HTTP 404)"

# --- timelines and paging ----------------------------------------------------

as bob timeline public --json
exits "public timeline" 0
jqtrue "it holds alice's statuses" --arg p "$p1" 'any(.[]; .id == $p)'
as bob timeline tag ruche --json
exits "tag timeline" 0
jqtrue "it holds the tagged status" --arg p "$p1" 'any(.[]; .id == $p)'
jqtrue "and only tagged ones" --arg p "$p2" 'all(.[]; .id != $p)'
as bob timeline tag '#ruche' --json
jqtrue "a leading # is allowed" --arg p "$p1" 'any(.[]; .id == $p)'

q=()
for n in 1 2 3; do
    as carol post "page $n"
    q[n]=$(value)
done
q1=${q[1]} q2=${q[2]} q3=${q[3]}
as bob timeline public --limit 2 --json
jqtrue "--limit 2 gives two" 'length == 2'
jqtrue "newest first" --arg a "$q3" --arg b "$q2" 'map(.id) == [$a, $b]'
as bob timeline public --limit 2
has "text mode shows how to see older ones" "older: ruche timeline public --limit 2 --max-id "
older=$(sed -n 's/^older: ruche timeline public --limit 2 --max-id //p' "$out")
as bob timeline public --limit 2 --max-id "$older" --json
exits "--max-id" 0
jqtrue "the next page starts with the next older status" --arg a "$q1" '.[0].id == $a'
as bob timeline public --since-id "$q2" --json
jqtrue "--since-id gives only newer ones" --arg a "$q3" 'map(.id) == [$a]'

# --- groups ------------------------------------------------------------------

as alice groups create eng --description "Engineering, all sites" --json
exits "groups create" 0
jqtrue "the group is named" '.name == "eng" and .description == "Engineering, all sites"'
g=$(jq -r .id "$out")
as bob groups --json
exits "groups (list)" 0
jqtrue "it lists eng" --arg g "$g" 'any(.[]; .id == $g)'
as bob groups list
has "the text list names it" "eng"
as bob groups show "$g" --json
jqtrue "groups show" --arg g "$g" '.id == $g and .name == "eng"'
as bob groups join "$g" --json
exits "bob joins" 0
jqtrue "he is a member" '.member == true'
as bob groups post "$g" "hello eng"
exits "bob posts in the group" 0
gp=$(value)
as alice timeline group "$g" --json
exits "group timeline" 0
jqtrue "it holds the group post" --arg p "$gp" 'any(.[]; .id == $p)'
jqtrue "the post names its group" --arg g "$g" 'map(select(.ruche.group != null)) | all(.ruche.group.id == $g)'
as bob groups leave "$g" --json
exits "bob leaves" 0
jqtrue "he is no longer a member" '.member == false'
as bob groups show 999999999
exits "an unknown group" 1
as alice groups create "Bad Name"
exits "a malformed group name" 2

# --- servers and tokens ------------------------------------------------------

as alice --server "http://127.0.0.1:1" whoami
exits "--server naming another node: not logged in there" 3
RUCHE_SERVER=http://127.0.0.1:1 as alice timeline public
exits "RUCHE_SERVER overrides the saved server" 1
says "the connection failure names the server" "127.0.0.1:1"
RUCHE_SERVER=http://127.0.0.1:1 as alice --server "$server" timeline public
exits "--server overrides RUCHE_SERVER" 0

mkdir -p "$tmp/cfg-mallory/ruche"
jq '.access_token = "not-a-valid-token"' "$tmp/cfg-alice/ruche/credentials.json" \
    >"$tmp/cfg-mallory/ruche/credentials.json"
chmod 600 "$tmp/cfg-mallory/ruche/credentials.json"
as mallory whoami
exits "a bad token" 3
says "the server's refusal is shown" "(HTTP 401)"
chmod 644 "$tmp/cfg-mallory/ruche/credentials.json"
as mallory whoami
exits "credentials others can read are ignored" 3
says "with a word on why" "chmod 600"

cp -p "$tmp/cfg-alice/ruche/credentials.json" "$tmp/alice-saved.json"
as alice logout
exits "logout" 0
check "the credentials file is gone" test ! -e "$tmp/cfg-alice/ruche/credentials.json"
as alice whoami
exits "whoami after logout" 3
as alice logout
exits "logout when not logged in" 3
cp -p "$tmp/alice-saved.json" "$tmp/cfg-alice/ruche/credentials.json"
as alice whoami
exits "the old token was revoked" 3

# Tokens never show, in text or --json, on stdout or stderr.
leaks=0
while read -r token; do
    if grep -rqF -- "$token" "$tmp/runs"; then
        leaks=$((leaks + 1))
    fi
done <"$tmp/tokens"
status=0 out=/dev/null err=/dev/null
check "$(wc -l <"$tmp/tokens") access tokens were seen" test "$(wc -l <"$tmp/tokens")" -eq 5
check "no access token appears in any output" test "$leaks" -eq 0

# --- stopping ----------------------------------------------------------------

kill -TERM "$ruched_pid"
deadline=$((SECONDS + 30))
while kill -0 "$ruched_pid" 2>/dev/null && ((SECONDS < deadline)); do
    sleep 0.1
done
check "SIGTERM stops ruched" bash -c "! kill -0 $ruched_pid 2>/dev/null"
ruched_status=0
wait "$ruched_pid" || ruched_status=$?
ruched_pid=
check "ruched exits 0 on SIGTERM" test "$ruched_status" -eq 0

echo "$passed passed, $failed failed"
test "$failed" -eq 0
