#!/bin/sh
# Builds a busybox root file system in DIR from Debian's busybox-static.
#
#   testdata/mkrootfs-busybox.sh DIR
#
# The container boots busybox init: /etc/init.d/rcS writes
# /run/nsvirt-ready, and, when the directory /markers exists (a bind mount
# from the host), /markers/<hostname>.ready; init then keeps a shell on the
# console. Tests and `make run` use it.
set -eu

dir=${1:?usage: $0 DIR}
bb=$(command -v busybox || true)
[ -n "$bb" ] || bb=/bin/busybox
case "$(ldd "$bb" 2>&1)" in
*"not a dynamic executable"*|*"statically linked"*) ;;
*) echo "$bb is not statically linked: install the Debian package busybox-static" >&2; exit 1 ;;
esac

mkdir -p "$dir"
cd "$dir"
mkdir -p bin sbin usr/bin usr/sbin etc/init.d proc sys dev tmp run root var/log home/user markers
chmod 1777 tmp
cp "$bb" bin/busybox
for applet in $(bin/busybox --list-full); do
	[ -e "$applet" ] || ln -s /bin/busybox "$applet"
done

cat > etc/inittab <<'INITTAB'
::sysinit:/etc/init.d/rcS
::respawn:-/bin/sh
::ctrlaltdel:/sbin/reboot
::shutdown:/bin/sync
INITTAB

cat > etc/init.d/rcS <<'RCS'
#!/bin/sh
hostname > /run/nsvirt-ready
if [ -d /markers ]; then
	echo up > "/markers/$(hostname).ready"
fi
RCS
chmod 755 etc/init.d/rcS

cat > etc/passwd <<'PASSWD'
root:x:0:0:root:/root:/bin/sh
user:x:1000:1000:user:/home/user:/bin/sh
nobody:x:65534:65534:nobody:/:/bin/false
PASSWD
cat > etc/group <<'GROUP'
root:x:0:
tty:x:5:user
users:x:100:user
user:x:1000:
nogroup:x:65534:
GROUP
chown 1000:1000 home/user
echo "$dir: busybox root file system ready"
