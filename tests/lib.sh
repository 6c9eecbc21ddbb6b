# lib.sh - helpers of the shell tests (sourced): a temporary folder removed at exit, a failure
# counter, and `expect` for one command's exit code and output.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0

fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

# description, expected exit code, expected substring, command...: the exit code, the text,
# and for a failure (non-zero code) that the message is one line
expect() {
	local what=$1 code=$2 want=$3
	shift 3
	local out rc
	out=$("$@" 2>&1)
	rc=$?
	if [ "$rc" -ne "$code" ] || [[ "$out" != *"$want"* ]]; then
		fail "$what: exit $rc (want $code), output: $out"
	elif [ "$code" -ne 0 ] && [ "$(printf '%s\n' "$out" | wc -l)" -ne 1 ]; then
		fail "$what: error is not one line: $out"
	fi
}

# a free TCP port on loopback
free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# the path of this build's dist_worker (ATTNRL_BUILD); a line naming the test when it is missing
dist_worker() { # test name
	local w=${ATTNRL_BUILD:-build}/tests/dist_worker
	[ -x "$w" ] || { echo "$1: $w missing; run 'make'" >&2; return 1; }
	echo "$w"
}

# a test that cannot run here for want of $1 (a Python package, a file): SKIP with exit 0, or
# FAIL with exit 1 under CI=true, where the set-up script has installed everything it needs
skip_unless_ci() { # what is missing, and how to get it
	if [ "${CI:-}" = true ]; then
		echo "FAIL: $1 (CI=true)"
		exit 1
	fi
	echo "SKIP: $1"
	exit 0
}

