#!/bin/sh
# `make run`: starts nsvirtd in the foreground with its default sockets and
# directories, and makes sure a ready example domain, "busybox", is
# defined (a busybox root file system under /var/lib/nsvirt/busybox).
#
#   testdata/run-example.sh BINARY [nsvirtd flags...]
set -eu

bin=${1:?usage: $0 BINARY [flags...]}
shift
root=/var/lib/nsvirt/busybox
uri=lxc:///system
case " $* " in
*" --socket "*) echo "run-example.sh uses the default socket; start $bin yourself for another" >&2; exit 2 ;;
esac
[ -x "$root/bin/busybox" ] || "$(dirname "$0")/mkrootfs-busybox.sh" "$root"

"$bin" --verbose "$@" &
pid=$!
trap 'kill -TERM $pid 2>/dev/null' INT TERM
i=0
until virsh -q -c "$uri" uri >/dev/null 2>&1; do
	i=$((i + 1))
	if [ $i -gt 100 ] || ! kill -0 $pid 2>/dev/null; then
		echo "nsvirtd did not come up" >&2
		wait $pid || exit $?
		exit 1
	fi
	sleep 0.1
done
if ! virsh -q -c "$uri" domuuid busybox >/dev/null 2>&1; then
	xml=$(mktemp)
	cat > "$xml" <<XML
<domain type='lxc'>
  <name>busybox</name>
  <title>nsvirt example: busybox init with a shell on the console</title>
  <memory unit='MiB'>128</memory>
  <os>
    <type>exe</type>
    <init>/sbin/init</init>
  </os>
  <devices>
    <filesystem type='mount'>
      <source dir='$root'/>
      <target dir='/'/>
    </filesystem>
    <console type='pty'/>
  </devices>
</domain>
XML
	virsh -q -c "$uri" define "$xml" >/dev/null
	rm -f "$xml"
fi
echo "nsvirtd is running (pid $pid); try: virsh -c $uri start busybox && virsh -c $uri console busybox" >&2
wait $pid
