#!/bin/sh
# The scenario runner of the systemd guest (vmtest.service). Waits for the
# boot to finish, prepares the pmem as the busybox guest's /init does
# (modules are loaded by systemd-modules-load from modules-load.d, the
# label area initialized on boot 1), runs /vmtest/scenario.sh and reports
# its exit status through isa-debug-exit.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root

vm_log() { echo "vmtest: $*"; }
vm_exit() {
	rc=$1
	[ "$rc" -gt 255 ] && rc=255
	vm_log "result rc=$rc"
	sync
	printf "\\$(printf %03o "$rc")" | dd of=/dev/port bs=1 seek=244 count=1 2>/dev/null
	vm_log "isa-debug-exit did not stop the VM; powering off"
	systemctl poweroff -ff
	sleep 1000
}

set -a
. /vmtest/env || { vm_log "cannot read /vmtest/env"; vm_exit 100; }
set +a
VM_BOOT=$(sed -n 's/.*vmtest\.boot=\([0-9]*\).*/\1/p' /proc/cmdline)
: "${VM_BOOT:=1}"
export VM_BOOT VM_BOOTS VM_SCENARIO VM_MACHINE

state=$(timeout 120 systemctl is-system-running --wait)
vm_log "systemd: system $state after $(cut -d' ' -f1 /proc/uptime) s of guest uptime"
if [ "$state" != running ]; then
	# Where the boot's time went (systemd-analyze costs seconds under TCG).
	systemd-analyze blame --no-pager 2>/dev/null | head -n 8 | sed 's/^/vmtest: blame: /'

	systemctl --failed --no-pager
	vm_log "the boot did not finish cleanly (state '$state')"
	vm_exit 110
fi

i=0
while ! ls /sys/bus/nd/devices/ndbus* >/dev/null 2>&1; do
	i=$((i + 1))
	[ $i -le 100 ] || { vm_log "no nvdimm bus (systemd-modules-load: $(systemctl is-active systemd-modules-load))"; vm_exit 102; }
	sleep 0.1
done
cat /sys/bus/nd/devices/ndbus*/wait_probe >/dev/null
if [ "$VM_MACHINE" = nvdimm ] && [ "$VM_BOOT" = 1 ] && [ "${VM_LABELS:-init}" = init ]; then
	if ! { ndctl disable-region all && ndctl init-labels -f all && ndctl enable-region all; } >/tmp/labels.log 2>&1; then
		cat /tmp/labels.log
		vm_log "initializing the NVDIMM labels failed"
		vm_exit 104
	fi
fi

vm_log "ready after $(cut -d' ' -f1 /proc/uptime) s of guest uptime; running the scenario"
cd /tmp || vm_exit 105
sh /vmtest/scenario.sh
rc=$?
vm_log "scenario exited with $rc after $(cut -d' ' -f1 /proc/uptime) s of guest uptime"
vm_exit "$rc"
