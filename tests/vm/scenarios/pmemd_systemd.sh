#!/bin/sh
# The Debian package under a real systemd, on the real kernel (issue 11 item
# 4): `dpkg -i` creates the pmem group and enables the unit without starting
# it; `systemctl start pmemd` (Type=notify) serves the real platform, and a
# non-root member of pmem drives it with pmemctl on the service's socket
# through every kind of operation the hardened unit must still allow: list
# equal to ndctl/daxctl, create and destroy a namespace, devdax ->
# system-ram with every block online, offline, a pool with a lease, and a
# pool in a file of the caller's own (where a drop-in lets pmemd write). Then
# `systemctl restart` reconciles (pool and lease still there), `systemctl
# stop` is clean, a configuration error is exit status 2 with no restart
# loop, and `journalctl -p` filters pmemd's lines by their priority;
# `systemd-analyze security pmemd.service` as the guest's systemd rates it
# is under 2.5. Last the package's life: an upgrade restarts a running pmemd
# and keeps an edited config, removal stops it, a purge disables it and
# keeps the group and /var/lib/pmemd.
#
# vm: machine=nvdimm pmem=4G guest=systemd needs=deb timeout=600

# shellcheck disable=SC1091,SC2154
. /vmtest/lib.sh

trap '_rc=$?; if [ "$_rc" != 0 ]; then
	echo "----- journalctl -u pmemd (last 100 lines) -----" >&2
	journalctl -u pmemd --no-pager -n 100 >&2
	systemctl status pmemd --no-pager >&2 || true
fi' EXIT

# pm ARGS...: pmemctl as the unprivileged member of pmem, on the service's
# socket, JSON out. (--socket as README says: a non-root pmemctl defaults to
# its own per-user daemon's socket, $XDG_RUNTIME_DIR or /tmp/pmemd-<uid>.)
SOCK=/run/pmemd/pmemd.sock
pm() {
	echo "+ (as tester) pmemctl $* --json" >&2
	setpriv --reuid=tester --regid=tester --init-groups pmemctl --socket "$SOCK" "$@" --json ||
		fail "pmemctl $* as tester failed with status $?"
}
pm_fails() {
	echo "+ (as tester, expect failure) pmemctl $* --json" >&2
	if _out=$(setpriv --reuid=tester --regid=tester --init-groups pmemctl --socket "$SOCK" "$@" --json 2>&1); then
		fail "pmemctl $* succeeded but should have failed: $_out"
	fi
	printf '%s\n' "$_out"
}
prop() { systemctl show pmemd -p "$1" --value; }

compare() { compare_with_ndctl "$1" "$(pm list)"; }

step "dpkg -i pmemd.deb on a minimal Debian with systemd as PID 1"
expect_eq "PID 1" "$(cat /proc/1/comm)" systemd
run dpkg -i /vmtest/pmemd.deb >&2
run getent group pmem >&2
expect_eq "/var/lib/pmemd" "$(stat -c '%a %U' /var/lib/pmemd)" "700 root"
expect_eq "enabled by the install" "$(systemctl is-enabled pmemd)" enabled
expect_eq "not started by the install" "$(systemctl is-active pmemd || true)" inactive
expect_eq "conffile" "$(dpkg-query -W -f='${Conffiles}' pmemd | awk '{print $1}' | tr -d '\n')" /etc/pmemd/pmemd.json
run useradd --no-create-home --groups pmem --shell /bin/sh tester
run useradd --no-create-home --shell /bin/sh outsider

step "systemctl start pmemd (Type=notify: returns once pmemd sent READY=1)"
t0=$(uptime_s)
run systemctl start pmemd
info "systemctl start took $(awk -v a="$t0" -v b="$(uptime_s)" 'BEGIN { printf "%.2f", b - a }') s"
expect_eq "active" "$(systemctl is-active pmemd)" active
expect_eq "Type" "$(prop Type)" notify
expect_eq "socket" "$(stat -c '%a %G' /run/pmemd/pmemd.sock)" "660 pmem"
jvars v "$(pm version)" '.'
expect_eq "platform" "$v_platform" ndctl
echo "+ (as outsider) pmemctl list" >&2
if setpriv --reuid=outsider --regid=outsider --init-groups pmemctl --socket "$SOCK" list --json >/dev/null 2>/tmp/outsider.err; then
	fail "a user outside pmem could use the socket"
fi
info "ok: outsider refused: $(cat /tmp/outsider.err)"
compare "empty"
jvars r0 "$(ndctl_json -R)" 'list | .[0]'

step "create and destroy a namespace (fsdax 512M) as tester"
jvars ns "$(pm create-namespace --region 0 --mode fsdax --size 512M --name tmp)" '.'
expect_eq "ndctl sees it" "$(jqr "$(ndctl_json -N -n "$ns_dev")" 'list | .[0] | "\(.mode) \(.name)"')" "fsdax tmp"
compare "fsdax created"
pm destroy-namespace "$ns_dev" --force >/dev/null
expect_eq "namespaces left" "$(jqr "$(ndctl_json -N)" 'list | length')" 0

step "devdax 1G -> system-ram: every block online"
jvars k "$(pm create-namespace --region 0 --mode devdax --size 1G --align 2M)" '.'
compare "devdax created"
jvars d "$(pm reconfigure-device "$k_chardev" --mode system-ram)" '{mode, online_memblocks}'
jvars dd "$(daxctl_json -d "$k_chardev")" 'list | .[0]'
expect_eq "daxctl mode" "$dd_mode" system-ram
expect_ge "blocks" "$dd_total_memblocks" 1
expect_eq "daxctl online blocks" "$dd_online_memblocks" "$dd_total_memblocks"
expect_eq "pmemd online blocks" "$d_online_memblocks" "$dd_total_memblocks"

step "offline-memory, then back to devdax"
jvars r "$(pm offline-memory "$k_chardev")" '{rolled_back, to: ([.blocks[].to] | unique | join(" "))}'
expect_eq "rolled back" "$r_rolled_back" false
expect_eq "blocks offline" "$r_to" offline
jvars dd "$(daxctl_json -d "$k_chardev")" 'list | .[0]'
expect_eq "daxctl online blocks after offline" "$dd_online_memblocks" 0
pm reconfigure-device "$k_chardev" --mode devdax >/dev/null
compare "kmem done"

step "a pool with a lease on a second devdax"
jvars p "$(pm create-namespace --region 0 --mode devdax --size 1G --align 2M --name pool)" '.'
pm create-pool p0 --device "$p_chardev" >/dev/null
pm online-blocks p0 all >/dev/null
jvars l "$(pm create-lease p0 db --size 256M --align 2M --owner vmtest)" '.'
expect_eq "lease path" "$l_path" "/dev/$p_chardev"
out=$(pm_fails offline-blocks p0 all)
case $out in *lease*) info "ok: $out" ;; *) fail "offline-blocks refused for another reason: $out" ;; esac
leases='[.leases[] | {name, size, align, offset, pool_offset, path}] | tojson'
before=$(jqr "$(pm list-leases p0)" "$leases")

step "a file pool of tester's own, where an admin let pmemd write (a drop-in)"
# ProtectSystem=strict leaves pmemd no writable place of its callers': an
# admin adds one (an fsdax mount, here a plain directory). pmemd opens the
# file with tester's rights, then maps it through a descriptor of its own.
mkdir -p /srv/pools/tester /etc/systemd/system/pmemd.service.d
chown tester:tester /srv/pools/tester
printf '[Service]\nReadWritePaths=/srv/pools\n' >/etc/systemd/system/pmemd.service.d/pools.conf
run systemctl daemon-reload
run systemctl restart pmemd
pm create-pool f0 --path /srv/pools/tester/f0.pool --size 256M >/dev/null
expect_eq "pool file owner" "$(stat -c '%U %a' /srv/pools/tester/f0.pool)" "tester 600"
pm online-blocks f0 all >/dev/null
jvars fl "$(pm create-lease f0 scratch --size 64M --align 2M)" '.'
expect_eq "file lease path" "$fl_path" /srv/pools/tester/f0.pool
fleases=$(jqr "$(pm list-leases f0)" "$leases")

step "systemctl restart pmemd reconciles: the pools and their leases are back"
main_pid=$(prop MainPID)
run systemctl restart pmemd
expect_eq "active after restart" "$(systemctl is-active pmemd)" active
[ "$(prop MainPID)" != "$main_pid" ] || fail "MainPID did not change ($main_pid)"
expect_eq "leases after restart" "$(jqr "$(pm list-leases p0)" "$leases")" "$before"
expect_eq "file pool leases after restart" "$(jqr "$(pm list-leases f0)" "$leases")" "$fleases"
jvars pp "$(pm list-pools p0)" '.pools[0] // .'
expect_eq "blocks online after restart" "$pp_blocks_online" "$pp_blocks_total"
compare "after restart"

step "systemctl stop is clean (STOPPING=1, exit 0, socket removed)"
t0=$(uptime_s)
run systemctl stop pmemd
info "systemctl stop took $(awk -v a="$t0" -v b="$(uptime_s)" 'BEGIN { printf "%.2f", b - a }') s"
expect_eq "state" "$(systemctl is-active pmemd || true)" inactive
expect_eq "Result" "$(prop Result)" success
expect_eq "ExecMainStatus" "$(prop ExecMainStatus)" 0
expect_eq "ExecMainCode (1 = exited, not killed)" "$(prop ExecMainCode)" 1
[ ! -e /run/pmemd/pmemd.sock ] || fail "the socket is still there after stop"

step "a configuration error: exit status 2, named on stderr, no restart loop"
cp /etc/pmemd/pmemd.json /tmp/pmemd.json.orig
sed -i 's/"log_level": "info"/"log_level": "info", "bogus_key": 1/' /etc/pmemd/pmemd.json
run_fails systemctl start pmemd
sleep 3 # RestartSec=2s: a restart would have happened by now
expect_eq "ExecMainStatus" "$(prop ExecMainStatus)" 2
expect_eq "NRestarts" "$(prop NRestarts)" 0
expect_eq "state" "$(systemctl is-failed pmemd || true)" failed
cp /tmp/pmemd.json.orig /etc/pmemd/pmemd.json
run systemctl reset-failed pmemd

step "journalctl -p: pmemd's lines carry their priority"
err=$(journalctl -u pmemd -p err --no-pager -o cat)
case $err in *bogus_key*) info "ok: -p err has the configuration error" ;; *) fail "journalctl -p err: $err" ;; esac
warn=$(journalctl -u pmemd -p warning --no-pager -o cat _COMM=pmemd)
info "journalctl -u pmemd -p warning (pmemd's own lines):"
printf '%s\n' "$warn" >&2
all=$(journalctl -u pmemd --no-pager -o cat _COMM=pmemd | wc -l)
nwarn=$(printf '%s\n' "$warn" | grep -c . || true)
expect_ge "pmemd lines in the journal" "$all" 10
[ "$nwarn" -lt "$all" ] || fail "-p warning filtered none of pmemd's $all lines: no priorities"
prios=$(journalctl -u pmemd -o json --no-pager _COMM=pmemd | jq -r .PRIORITY | sort -u | tr '\n' ' ')
info "priorities of pmemd's lines: $prios"
case $prios in *6*) ;; *) fail "no info-priority lines: $prios" ;; esac
case $prios in *3*) ;; *) fail "no error-priority lines: $prios" ;; esac

step "journalctl PMEMD_OBJECT=$ns_dev: a namespace's history, with the requests that changed it"
hist=$(journalctl -u pmemd --no-pager -o json PMEMD_OBJECT="$ns_dev" |
	jq -r '"\(.PMEMD_EVENT) \(.PMEMD_FROM)->\(.PMEMD_TO) by \(.PMEMD_REQUEST) uid \(.PMEMD_PEER_UID)"')
info "journal fields of $ns_dev:" "$hist"
tester_uid=$(id -u tester)
case $hist in *"namespace ->fsdax by create-namespace uid $tester_uid"*) ;;
*) fail "no create-namespace by uid $tester_uid for $ns_dev in the journal's PMEMD_ fields" ;; esac
case $hist in *"namespace fsdax-> by destroy-namespace uid $tester_uid"*) ;;
*) fail "no destroy-namespace by uid $tester_uid for $ns_dev in the journal's PMEMD_ fields" ;; esac

step "start again: the pool is attached, then given back"
run systemctl start pmemd
expect_eq "leases after stop + start" "$(jqr "$(pm list-leases p0)" "$leases")" "$before"
expect_eq "file pool leases after stop + start" "$(jqr "$(pm list-leases f0)" "$leases")" "$fleases"
pm delete-lease p0 db >/dev/null
pm detach-pool p0 >/dev/null
pm delete-lease f0 scratch >/dev/null
pm detach-pool f0 >/dev/null
pm destroy-namespace "$p_dev" --force >/dev/null
pm destroy-namespace "$k_dev" --force >/dev/null
jvars r "$(ndctl_json -R)" 'list | .[0]'
expect_eq "available size as at the start" "$r_available_size" "$r0_available_size"
compare "all given back"

step "systemd-analyze security pmemd.service (the guest's systemd)"
systemd-analyze security pmemd.service --no-pager >/tmp/security.txt 2>&1 || true
grep -v '^  ✓' /tmp/security.txt >&2 || true
exposure=$(sed -n 's/.*Overall exposure level for pmemd.service: \([0-9.]*\).*/\1/p' /tmp/security.txt)
info "systemd-analyze security exposure $exposure"
[ -n "$exposure" ] || fail "systemd-analyze security printed no exposure level"
# Issue 11 asks for less than 2.5 (2.3 since CAP_DAC_OVERRIDE went;
# docs/service.md).
awk -v e="$exposure" 'BEGIN { exit !(e < 2.5) }' || fail "exposure $exposure is not under 2.5"

step "an upgrade (the package installed again) restarts a running pmemd, keeps the admin's config"
sed -i 's/"log_level": "info"/"log_level": "debug"/' /etc/pmemd/pmemd.json
main_pid=$(prop MainPID)
run dpkg -i /vmtest/pmemd.deb >&2
expect_eq "active after the upgrade" "$(systemctl is-active pmemd)" active
[ "$(prop MainPID)" != "$main_pid" ] || fail "the upgrade did not restart pmemd (MainPID $main_pid)"
grep -q '"log_level": "debug"' /etc/pmemd/pmemd.json || fail "the upgrade replaced the admin's /etc/pmemd/pmemd.json"
info "ok: the edited config is kept"

step "dpkg -r stops pmemd; --purge disables it, keeps the pmem group and /var/lib/pmemd"
run dpkg -r pmemd >&2
expect_eq "state after removal" "$(systemctl is-active pmemd || true)" inactive
[ ! -e /usr/sbin/pmemd ] || fail "/usr/sbin/pmemd is still there"
run dpkg --purge pmemd >&2
[ ! -e /etc/pmemd/pmemd.json ] || fail "the config survived the purge"
[ ! -e /etc/systemd/system/multi-user.target.wants/pmemd.service ] || fail "the unit is still enabled after the purge"
run getent group pmem >&2
[ -d /var/lib/pmemd ] || fail "the purge removed /var/lib/pmemd"

step "pmemd_systemd passed"
