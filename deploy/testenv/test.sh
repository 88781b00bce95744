#!/usr/bin/env bash
# The whole test run (what `make test` and CI run):
#   throw-away Redis + MariaDB (deploy/testenv/servers.sh), Debian's chromium
#   (for the widget's browser tests), npm ci (gateway/web, gateway/e2e), web
#   assets build, go vet, go test -race, binaries, and the end-to-end suite
#   (gateway/e2e, node --test, browser tests included) against a real cluster.
# Every step runs (unless one it needs failed); the exit status is non-zero
# when any step failed, and a summary closes the output.
#
# Env knobs: KEFU_TEST_SKIP_E2E=1 skips the e2e suite; KEFU_E2E_KEEP_LOGS=DIR
# copies the e2e processes' logs there.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"

TMP="$(mktemp -d "${TMPDIR:-/tmp}/kefu-test.XXXXXX")"
export KEFU_TESTENV_DIR="$TMP/servers"

cleanup() {
	local rc=$?
	"$ROOT/deploy/testenv/servers.sh" stop >/dev/null 2>&1 || true
	if [ -n "${KEFU_E2E_KEEP_LOGS:-}" ] && [ -d "$TMP/e2e-logs" ]; then
		mkdir -p "$KEFU_E2E_KEEP_LOGS" && cp -r "$TMP/e2e-logs/." "$KEFU_E2E_KEEP_LOGS/" || true
	fi
	rm -rf "$TMP"
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

SUMMARY=()
FAILED=0
declare -A OK=()

# step NAME COMMAND...: run, time and record one step.
step() {
	local name=$1 start rc
	shift
	echo
	echo "=== $name"
	start=$SECONDS
	"$@"
	rc=$?
	if [ $rc -eq 0 ]; then
		OK[$name]=1
		SUMMARY+=("$(printf 'PASS  %-22s %4ss' "$name" $((SECONDS - start)))")
	else
		FAILED=1
		SUMMARY+=("$(printf 'FAIL  %-22s %4ss  (exit %s)' "$name" $((SECONDS - start)) "$rc")")
		echo "=== $name: FAILED (exit $rc)"
	fi
	return 0
}
skip() { # skip NAME REASON [fail]: a step not run; "fail" counts it as failed
	if [ "${3:-}" = fail ]; then
		FAILED=1
		SUMMARY+=("$(printf 'FAIL  %-22s        (not run: %s)' "$1" "$2")")
	else
		SUMMARY+=("$(printf 'SKIP  %-22s        (%s)' "$1" "$2")")
	fi
	echo
	echo "=== $1: not run ($2)"
}

start_servers() {
	"$ROOT/deploy/testenv/servers.sh" start >/dev/null || return 1
	set -a
	# shellcheck disable=SC1091
	. "$KEFU_TESTENV_DIR/env"
	set +a
	env | grep '^KEFU_TEST_' | sort
}

# browser: Debian's chromium for gateway/e2e/widget*.browser.test.mjs (playwright-core drives
# it), installed with apt-get when root and missing, like the servers; plus a CJK and an emoji
# font so that the screenshots it saves (docs/screenshots/) show Chinese text and emoji.
browser() {
	local missing=()
	[ -x /usr/bin/chromium ] || missing+=(chromium)
	fc-list 2>/dev/null | grep -qi 'wqy\|noto sans cjk' || missing+=(fonts-wqy-zenhei)
	fc-list 2>/dev/null | grep -qi 'emoji' || missing+=(fonts-noto-color-emoji)
	if [ ${#missing[@]} -gt 0 ]; then
		if [ "$(id -u)" != 0 ]; then
			echo "missing: ${missing[*]}. Install them as root: apt-get install -y ${missing[*]}"
			return 1
		fi
		echo "installing ${missing[*]}"
		{ apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}"; } || return 1
	fi
	echo "chromium: /usr/bin/chromium"
}

web_assets() {
	if [ ! -f gateway/web/package.json ]; then
		echo "gateway/web has no package.json: nothing to build"
		return 0
	fi
	(cd gateway/web && npm ci --no-audit --no-fund && npm run build)
}

e2e_deps() { (cd gateway/e2e && npm ci --no-audit --no-fund); }

build_bins() {
	mkdir -p "$TMP/bin"
	go build -o "$TMP/bin/" ./gateway ./services/routing && ls -l "$TMP/bin"
}

# go_tests runs the Go tests verbosely into a log (counted in the summary),
# showing the package lines, and the whole log when something failed.
go_tests() {
	go test -race -count=1 -timeout 15m -v ./... >"$TMP/go-test.log" 2>&1
	local rc=$?
	if [ $rc -eq 0 ]; then
		grep -E '^(ok|FAIL|\?) ' "$TMP/go-test.log"
	else
		cat "$TMP/go-test.log"
	fi
	return $rc
}

# deploy_tests: the deployment files' checks (docker-compose.yml with
# compose-go, the Helm chart with helm lint/template, the LB configs, the
# systemd units). deploy/ is a Go module of its own, so that compose-go and
# helm stay out of the main one; its tests count with the Go tests.
deploy_tests() {
	(cd deploy && go test -count=1 -timeout 20m -v ./...) >"$TMP/go-deploy-test.log" 2>&1
	local rc=$?
	cat "$TMP/go-deploy-test.log" >>"$TMP/go-test.log"
	if [ $rc -eq 0 ]; then
		grep -E '^(ok|FAIL|\?) |built helm' "$TMP/go-deploy-test.log"
	else
		cat "$TMP/go-deploy-test.log"
	fi
	return $rc
}

e2e() {
	mkdir -p "$TMP/e2e-logs"
	(cd gateway/e2e &&
		KEFU_E2E_BIN="$TMP/bin" KEFU_E2E_LOGDIR="$TMP/e2e-logs" \
			timeout --kill-after=30 1200 node --test --test-concurrency=1 --test-timeout=120000) 2>&1 |
		tee "$TMP/e2e.log"
}

# count FILE PATTERN: how many lines match (0 when the file is missing).
count() { if [ -f "$1" ]; then grep -cE "$2" "$1" || true; else echo 0; fi; }
# tap FILE FIELD: node --test's closing "# FIELD N" figure.
tap() {
	local n=""
	[ -f "$1" ] && n=$(sed -n "s/^# $2 \([0-9]*\)$/\1/p" "$1" | tail -1)
	echo "${n:-0}"
}

step "servers" start_servers
step "browser" browser
step "web assets" web_assets
step "e2e npm ci" e2e_deps
step "go vet" go vet ./...
if [ -n "${OK[servers]:-}" ]; then
	step "go test -race" go_tests
else
	skip "go test -race" "servers did not start" fail
fi
step "deploy tests" deploy_tests
step "build binaries" build_bins
if [ -n "${KEFU_TEST_SKIP_E2E:-}" ]; then
	skip "e2e" "KEFU_TEST_SKIP_E2E is set"
elif [ -n "${OK[servers]:-}" ] && [ -n "${OK[e2e npm ci]:-}" ] && [ -n "${OK[build binaries]:-}" ]; then
	step "e2e" e2e
else
	skip "e2e" "a step it needs failed" fail
fi

echo
echo "=== summary"
printf '%s\n' "${SUMMARY[@]}"
npass=$(printf '%s\n' "${SUMMARY[@]}" | grep -c '^PASS')
nfail=$(printf '%s\n' "${SUMMARY[@]}" | grep -c '^FAIL')
nskip=$(printf '%s\n' "${SUMMARY[@]}" | grep -c '^SKIP')
if [ $FAILED -ne 0 ]; then
	echo "RESULT: FAILED"
else
	echo "RESULT: all steps passed"
fi
echo "steps: $npass passed, $nfail failed, $nskip skipped"
gopass=$(count "$TMP/go-test.log" '^ *--- PASS')
gofail=$(count "$TMP/go-test.log" '^ *--- FAIL')
goskip=$(count "$TMP/go-test.log" '^ *--- SKIP')
e2epass=$(tap "$TMP/e2e.log" pass)
e2efail=$(tap "$TMP/e2e.log" fail)
e2eskip=$(tap "$TMP/e2e.log" skipped)
echo "go tests (with subtests): $gopass passed, $gofail failed, $goskip skipped; e2e: $e2epass passed, $e2efail failed, $e2eskip skipped"
# The closing line counts every test; a failed step with no failed test (a
# build or vet error, a server that did not start) counts as one failure.
tfail=$((gofail + e2efail))
[ $FAILED -ne 0 ] && [ $tfail -eq 0 ] && tfail=1
echo "tests: $((gopass + e2epass)) passed, $tfail failed, $((goskip + e2eskip)) skipped"
exit $FAILED
