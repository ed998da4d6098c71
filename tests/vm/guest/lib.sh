# Helpers for scenario scripts (busybox sh, sourced: `. /vmtest/lib.sh`).
#
# Every check prints what it compared, and a failure prints both sides and
# exits the scenario non-zero, so the serial log alone explains a red test.
# All messages go to stderr (the console): stdout is kept for data, so that
# x=$(run ndctl list ...) captures only ndctl's output. A failure inside $(...)
# exits that subshell; set -e then stops the scenario at a plain assignment
# like x=$(...). Used as another command's argument, its status is lost, but
# the FAIL line is still printed and the empty value fails the check.
#
# Environment from /init: VM_BOOT (1-based), VM_BOOTS, VM_SCENARIO,
# VM_MACHINE (nvdimm|memmap), VM_PMEM_BYTES (size of the emulated pmem).

# The size constants at the end are for the scenarios.
# shellcheck disable=SC2034
set -eu

# Seconds since the guest booted, for timing sections.
uptime_s() { cut -d' ' -f1 /proc/uptime; }

step() { printf '\n==== [%s] %s\n' "$(uptime_s)" "$*" >&2; }
info() { echo "---- $*" >&2; }

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# run CMD...: echo the command, run it, stop the scenario if it fails.
# stdout goes to the caller (capture it with $(run ...)); stderr to the log.
run() {
	echo "+ $*" >&2
	"$@" || fail "command failed with status $?: $*"
}

# run_fails CMD...: the command must fail.
run_fails() {
	echo "+ (expect failure) $*" >&2
	if "$@"; then
		fail "command succeeded but should have failed: $*"
	fi
}

# expect_eq WHAT ACTUAL EXPECTED
expect_eq() {
	if [ "$2" = "$3" ]; then
		info "ok: $1 = $2"
	else
		{
			echo "FAIL: $1"
			echo "  actual:   $2"
			echo "  expected: $3"
		} >&2
		exit 1
	fi
}

# expect_ge WHAT ACTUAL MINIMUM (integers)
expect_ge() {
	if [ "$2" -ge "$3" ]; then
		info "ok: $1 = $2 >= $3"
	else
		fail "$1 = $2, expected at least $3"
	fi
}

# JSON. jq 1.6 compiles its builtin library at every start, which takes 1-2 s
# of TCG time, so extract all fields of an object with one jvars call rather
# than one jqr per field. Filters can use `list`, which turns ndctl/daxctl
# output into an array: they print a bare object when exactly one entity
# matches (and nothing when none do).
jq_defs='def list: if . == null then [] elif type == "array" then . else [.] end;'

# jqr JSON FILTER: raw jq output of FILTER applied to JSON (a string).
# Fails the scenario if jq does, which also catches malformed JSON.
jqr() {
	printf '%s\n' "${1:-null}" | jq -r "$jq_defs $2" || fail "jq '$2' failed on: $1"
}

# jvars PREFIX JSON FILTER: FILTER must yield one object; each of its fields
# becomes the shell variable PREFIX_field (strings raw, other values as
# compact JSON), e.g. jvars r "$regions" 'list | .[0]' sets r_size, r_dev...
# Variables PREFIX_* from an earlier call are unset first, so a field that is
# absent now (e.g. "state", which ndctl omits when enabled) reads as unset.
jvars_prog='to_entries[] | "\($p)_\(.key | gsub("[^A-Za-z0-9_]"; "_"))=\(
	.value | if type == "string" then . else tojson end | @sh)"'
jvars() {
	_code=$(printf '%s\n' "${2:-null}" | jq -r --arg p "$1" "$jq_defs ($3) | $jvars_prog") ||
		fail "jq '$3' did not give an object for $1_*: $2"
	for _v in $(set | sed -n "s/^\($1_[A-Za-z0-9_]*\)=.*/\1/p"); do
		unset "$_v"
	done
	eval "$_code"
}

# ndctl_json ARGS... / daxctl_json ARGS...: `ndctl list ARGS` as a string,
# "null" when nothing matched (use `list` in filters to get an array).
ndctl_json() {
	_out=$(run ndctl list "$@")
	printf '%s\n' "${_out:-null}"
}
daxctl_json() {
	_out=$(run daxctl list "$@")
	printf '%s\n' "${_out:-null}"
}

# ndctl_state: {"regions": ndctl list -R, "namespaces": ndctl list -N} as
# one document, so one jq run can check both (ndctl list -RN nests the
# namespaces in the regions and wraps them in yet another shape).
ndctl_state() {
	printf '{"regions":%s,"namespaces":%s}\n' "$(ndctl_json -R)" "$(ndctl_json -N)"
}

# wait_for SECONDS DESCRIPTION CMD...: poll CMD every 0.1 s until it succeeds.
wait_for() {
	_limit=$(($1 * 10)) _what=$2 _i=0
	shift 2
	until "$@" >/dev/null 2>&1; do
		_i=$((_i + 1))
		[ $_i -le $_limit ] || fail "timed out after ${_limit}00 ms waiting for $_what"
		sleep 0.1
	done
}

# count_memblocks: set mb_online and mb_offline to the number of memory
# blocks in each state (all blocks in /sys/devices/system/memory).
count_memblocks() {
	mb_online=0 mb_offline=0
	for _s in /sys/devices/system/memory/memory*/state; do
		case $(cat "$_s") in
		online) mb_online=$((mb_online + 1)) ;;
		offline) mb_offline=$((mb_offline + 1)) ;;
		esac
	done
}

# pmemd in the guest (scenarios with needs=pmemd). pmemd_start [STATE_DIR]
# starts `pmemd --platform ndctl` on $PMEMD_SOCK, waits for its socket and
# sets pmemd_pid; its log is $PMEMD_LOG and is printed when the scenario
# fails (call pmemd_log_on_failure once). pmemctl_json ARGS... runs
# `pmemctl --socket $PMEMD_SOCK ARGS --json` and stops the scenario if it fails.
PMEMD_SOCK=/run/pmemd.sock
PMEMD_LOG=/tmp/pmemd.log
pmemd_log_on_failure() {
	trap '_rc=$?; if [ "$_rc" != 0 ] && [ -f "$PMEMD_LOG" ]; then
		echo "----- pmemd log (last 200 lines of $PMEMD_LOG) -----" >&2
		tail -n 200 "$PMEMD_LOG" >&2
		echo "----- end of pmemd log -----" >&2
	fi' EXIT
}
pmemd_start() {
	_state=${1:-/var/lib/pmemd}
	mkdir -p "$_state"
	# $PMEMD_CONFIG, when set: the config file pmemd starts with.
	pmemd ${PMEMD_CONFIG:+--config "$PMEMD_CONFIG"} --platform ndctl --socket "$PMEMD_SOCK" --state-dir "$_state" \
		--log-level debug >>"$PMEMD_LOG" 2>&1 &
	pmemd_pid=$!
	wait_for 60 "pmemd's socket $PMEMD_SOCK" _pmemd_socket_or_exit
	# pmemd binds its socket before it reconciles its intent journal and
	# serves: the first answer says it is done with that.
	pmemctl --socket "$PMEMD_SOCK" version >/dev/null 2>&1 || fail "pmemd (pid $pmemd_pid) does not answer"
	info "pmemd is up and has reconciled its journal (pid $pmemd_pid)"
}
_pmemd_socket_or_exit() {
	[ -S "$PMEMD_SOCK" ] && return 0
	kill -0 "$pmemd_pid" 2>/dev/null || fail "pmemd exited before creating $PMEMD_SOCK"
	return 1
}
pmemd_stop() {
	kill "$pmemd_pid" 2>/dev/null || true
	wait "$pmemd_pid" 2>/dev/null || true
	rm -f "$PMEMD_SOCK"
}
pmemctl_json() {
	run pmemctl --socket "$PMEMD_SOCK" "$@" --json
}
# pmemctl_fails ARGS...: must fail; prints its stderr (the error message).
pmemctl_fails() {
	echo "+ (expect failure) pmemctl $* --json" >&2
	if _out=$(pmemctl --socket "$PMEMD_SOCK" "$@" --json 2>&1); then
		fail "pmemctl $* succeeded but should have failed: $_out"
	fi
	printf '%s\n' "$_out"
}

# compare_with_ndctl WHAT PMEMD_LIST: pmemd's `list --json` output against
# ndctl list -R, ndctl list -N and daxctl list, in one projection of the
# fields both report (one jq run).
_compare_prog='
def regions: [list[] | {dev, size, align, available_size, max_available_extent}] | sort_by(.dev);
def namespaces: [list[] | {dev, mode, map, size, uuid, blockdev, chardev, align, name, sector_size}] | sort_by(.dev);
def devices: [list[] | {chardev, size, align, mode}] | sort_by(.chardev);
{
  regions_pmemd: (.pmemd.regions | regions), regions_ndctl: (.ndctl.regions | regions),
  namespaces_pmemd: (.pmemd.namespaces | namespaces), namespaces_ndctl: (.ndctl.namespaces | namespaces),
  devices_pmemd: (.pmemd.devices | devices), devices_daxctl: (.daxctl | devices)
}'
compare_with_ndctl() {
	_doc=$(printf '{"pmemd":%s,"ndctl":%s,"daxctl":%s}' "$2" "$(ndctl_state)" "$(daxctl_json)")
	jvars _c "$_doc" "$_compare_prog"
	expect_eq "$1: regions (pmemd vs ndctl list -R)" "$_c_regions_pmemd" "$_c_regions_ndctl"
	expect_eq "$1: namespaces (pmemd vs ndctl list -N)" "$_c_namespaces_pmemd" "$_c_namespaces_ndctl"
	expect_eq "$1: devices (pmemd vs daxctl list)" "$_c_devices_pmemd" "$_c_devices_daxctl"
}

# Kernel size fixtures (kernel_sizes*.sh): ndctl only, no pmemd.
# size_measure HOW MODE MAP ALIGN SECTOR SIZE: configures a namespace with
# `ndctl create-namespace` (HOW is "-r region0" to create one or "-e
# namespace0.0 -f" to reconfigure in place; "-" leaves an option to ndctl's
# default), records the request and what the kernel made of it as one line
# of $SIZES_FILE, and sets size_dev to the namespace ("" when ndctl refused).
# Sizes and alignments are in bytes. A refusal is recorded, not fatal:
# size_report fails the scenario for the ones not listed as expected.
SIZES_FILE=/tmp/kernel_sizes.lines
size_measure() {
	_how=$1 _mode=$2 _map=$3 _align=$4 _sector=$5 _size=$6
	# shellcheck disable=SC2086 # HOW is several words on purpose
	set -- $_how -m "$_mode"
	[ "$_map" = - ] || set -- "$@" -M "$_map"
	[ "$_align" = - ] || set -- "$@" -a "$_align"
	[ "$_sector" = - ] || set -- "$@" -l "$_sector"
	[ "$_size" = - ] || set -- "$@" -s "$_size"
	_req=$(printf '{"mode":"%s","map":%s,"align":%s,"sector_size":%s,"size":%s}' "$_mode" \
		"$(_size_json_str "$_map")" "$(_size_json_num "$_align")" "$(_size_json_num "$_sector")" "$(_size_json_num "$_size")")
	echo "+ ndctl create-namespace $*" >&2
	if _out=$(ndctl create-namespace "$@" 2>/tmp/size_err); then
		size_dev=$(printf '%s\n' "$_out" | sed -n 's/^ *"dev": *"\([^"]*\)".*/\1/p' | head -n 1)
		_sys=/sys/bus/nd/devices/$size_dev
		# ndctl's own answer, on one line (its JSON is pretty-printed).
		printf '{"request":%s,"created":true,"dev":"%s","raw_size":%s,"resource":%s,"ndctl":%s}\n' "$_req" \
			"$size_dev" "$(cat "$_sys/size")" "$(($(cat "$_sys/resource")))" "$(printf '%s' "$_out" | tr '\n\t' '  ')" \
			>>"$SIZES_FILE"
		info "created $size_dev: $(printf '%s' "$_out" | tr -d ' \n\t' | cut -c 1-160)"
	else
		size_dev=""
		# shellcheck disable=SC1003 # a backslash to delete, not an escape
		printf '{"request":%s,"created":false,"error":"%s"}\n' "$_req" "$(tr -d '"\\' </tmp/size_err | tr '\n\t' '  ')" \
			>>"$SIZES_FILE"
		info "refused: $(cat /tmp/size_err)"
	fi
}
_size_json_num() { if [ "$1" = - ]; then echo null; else echo "$1"; fi; }
_size_json_str() { if [ "$1" = - ]; then echo null; else echo "\"$1\""; fi; }

# size_begin: records the region (region0) before anything is measured.
size_begin() {
	_region=$(ndctl_json -R | tr '\n\t' '  ')
	_region_resource=$(($(cat /sys/bus/nd/devices/region0/resource)))
	info "region0 at $_region_resource: $_region"
	size_machine=$(printf '{"type":"%s","pmem_bytes":%s,"region_resource":%s,"region":%s}' \
		"$VM_MACHINE" "$VM_PMEM_BYTES" "$_region_resource" "$_region")
}

# size_report EXPECTED_REFUSALS: prints the fixture document
# between "==== kernel_sizes begin" and "==== kernel_sizes end" lines (one
# entry a line, with the kernel's messages kept off the console meanwhile),
# then fails unless the refused requests are exactly EXPECTED_REFUSALS, a
# space-separated list of "mode/map/align/sector_size/size" ("-" for null).
size_report() {
	dmesg -n 1
	{
		echo "==== kernel_sizes begin"
		printf '{"kernel":"%s","ndctl":"%s","machine":%s,"entries":[\n' "$(uname -r)" "$(ndctl --version)" "$size_machine"
		sed '$!s/$/,/' "$SIZES_FILE"
		echo ']}'
		echo "==== kernel_sizes end"
	} >&2
	_refused=$(sed -n 's/^{"request":{"mode":"\([^"]*\)","map":\([^,]*\),"align":\([^,]*\),"sector_size":\([^,]*\),"size":\([^}]*\)},"created":false.*/\1\/\2\/\3\/\4\/\5/p' "$SIZES_FILE" |
		tr -d '"' | sed 's/null/-/g' | tr '\n' ' ' | sed 's/ $//')
	expect_eq "requests the kernel refused" "$_refused" "$1"
}

# Sizes.
KiB=1024
MiB=$((1024 * KiB))
GiB=$((1024 * MiB))
