package xmlconf

import (
	"reflect"
	"strconv"
	"strings"
	"testing"

	"libvirt.org/go/libvirtxml"
)

// nativeBase is the smallest convertible configuration.
const nativeBase = "lxc.uts.name = c1\nlxc.rootfs.path = dir:/srv/c1\n"

var nativeTestOpts = NativeOptions{Emulator: "/usr/libexec/libvirt_lxc", HostArch: "x86_64"}

// nativeCase is a FromNative test: the config (nativeBase is prepended
// unless bare is set), the error it must give (a substring), or a check of
// the domain and warnings.
type nativeCase struct {
	name    string
	config  string
	bare    bool
	wantErr string
	check   func(t *testing.T, def *libvirtxml.Domain, warnings []string)
}

func runNativeCases(t *testing.T, cases []nativeCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			config := c.config
			if !c.bare {
				config = nativeBase + config
			}
			d, warnings, err := FromNative([]byte(config), nativeTestOpts)
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("FromNative: %v (warnings %q)", err, warnings)
			}
			if c.check != nil {
				c.check(t, d.Def, warnings)
			}
		})
	}
}

// nativeWantWarning fails unless a warning contains every part.
func nativeWantWarning(t *testing.T, warnings []string, parts ...string) {
	t.Helper()
	for _, w := range warnings {
		all := true
		for _, p := range parts {
			all = all && strings.Contains(w, p)
		}
		if all {
			return
		}
	}
	t.Errorf("no warning containing %q in %q", parts, warnings)
}

func nativeNoWarnings(t *testing.T, warnings []string) {
	t.Helper()
	if len(warnings) > 0 {
		t.Errorf("unexpected warnings %q", warnings)
	}
}

func nativeWantEqual(t *testing.T, what string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s = %#v, want %#v", what, got, want)
	}
}

func TestNativeDefaults(t *testing.T) {
	runNativeCases(t, []nativeCase{{
		name: "libvirt defaults and one console",
		check: func(t *testing.T, def *libvirtxml.Domain, w []string) {
			nativeNoWarnings(t, w)
			nativeWantEqual(t, "type", def.Type, "lxc")
			nativeWantEqual(t, "name", def.Name, "c1")
			nativeWantEqual(t, "memory", *def.Memory, libvirtxml.DomainMemory{Value: 65536, Unit: "KiB"})
			nativeWantEqual(t, "vcpu", def.VCPU.Value, uint(1))
			nativeWantEqual(t, "init", def.OS.Init, "/sbin/init")
			nativeWantEqual(t, "os type", def.OS.Type.Type, "exe")
			nativeWantEqual(t, "lifecycle", []string{def.OnPoweroff, def.OnReboot, def.OnCrash},
				[]string{"destroy", "restart", "destroy"})
			nativeWantEqual(t, "policy", def.Features.Capabilities.Policy, "allow")
			nativeWantEqual(t, "privnet", def.Features.PrivNet != nil, true)
			nativeWantEqual(t, "consoles", len(def.Devices.Consoles), 1)
			c := def.Devices.Consoles[0]
			nativeWantEqual(t, "console", []any{c.Source.Pty != nil, c.Target.Type, *c.Target.Port}, []any{true, "lxc", uint(0)})
		},
	}, {
		name:   "legacy names",
		bare:   true,
		config: "lxc.utsname = old\nlxc.rootfs = /srv/old\n",
		check: func(t *testing.T, def *libvirtxml.Domain, w []string) {
			nativeWantEqual(t, "name", def.Name, "old")
			nativeWantEqual(t, "root", def.Devices.Filesystems[0].Source.Mount.Dir, "/srv/old")
		},
	}, {
		name:    "name is required",
		bare:    true,
		config:  "lxc.rootfs.path = /srv/x\n",
		wantErr: "lxc.uts.name",
	}, {
		name:    "the converted domain is checked",
		config:  "lxc.uts.name = a/b\n",
		wantErr: "lxc config: converted domain: ",
	}, {
		name:   "last assignment wins",
		config: "lxc.uts.name = c2\n",
		check: func(t *testing.T, def *libvirtxml.Domain, w []string) {
			nativeWantEqual(t, "name", def.Name, "c2")
		},
	}, {
		name:   "quotes and comments",
		bare:   true,
		config: "  # comment\n\nlxc.uts.name = \"q1\"\nlxc.rootfs.path = '/srv/a#b'\n",
		check: func(t *testing.T, def *libvirtxml.Domain, w []string) {
			nativeWantEqual(t, "name", def.Name, "q1")
			nativeWantEqual(t, "root", def.Devices.Filesystems[0].Source.Mount.Dir, "/srv/a#b")
		},
	}, {
		name:    "line without =",
		config:  "lxc.tty.max 4\n",
		wantErr: "line 3",
	}})
}

func TestNativeWarnings(t *testing.T) {
	runNativeCases(t, []nativeCase{{
		name: "unmapped keys are counted once per key",
		config: "lxc.autodev = 0\nlxc.cgroup.devices.allow = c 1:3 rwm\nlxc.cgroup.devices.allow = c 1:5 rwm\n" +
			"lxc.apparmor.profile = unconfined\nlxc.hook.pre-start = /bin/true\n",
		check: func(t *testing.T, def *libvirtxml.Domain, w []string) {
			nativeWantWarning(t, w, "line 3", "lxc.autodev", "always creates the container's /dev")
			nativeWantWarning(t, w, "line 4", "lxc.cgroup.devices.allow", "(2 lines)")
			nativeWantWarning(t, w, "lxc.apparmor.profile", "no domain XML equivalent")
			nativeWantWarning(t, w, "lxc.hook.pre-start", "no domain XML equivalent")
			nativeWantEqual(t, "warnings", len(w), 4)
		},
	}, {
		name:   "what the driver always provides",
		config: "lxc.autodev = 1\nlxc.mount.auto = proc:mixed sys:ro cgroup:mixed shmounts:/a:/b\n",
		check: func(t *testing.T, def *libvirtxml.Domain, w []string) {
			nativeWantWarning(t, w, "lxc.mount.auto", "shmounts:/a:/b has no domain XML equivalent")
			nativeWantEqual(t, "warnings", len(w), 1)
		},
	}, {
		name:   "unknown keys",
		config: "lxc.utsnmae = typo\nlxc.cgroup2.pids.max = 100\nfoo = bar\nnot a key\n",
		check: func(t *testing.T, def *libvirtxml.Domain, w []string) {
			nativeWantWarning(t, w, "lxc.utsnmae", "unknown LXC key")
			nativeWantWarning(t, w, "lxc.cgroup2.pids.max", "no domain XML equivalent")
			nativeWantWarning(t, w, "line 5: foo", "not an lxc.* key")
			nativeWantWarning(t, w, "line 6: not a key", "not an lxc.* key")
		},
	}, {
		name:   "include",
		config: "lxc.include = /usr/share/lxc/config/common.conf\n",
		check: func(t *testing.T, def *libvirtxml.Domain, w []string) {
			nativeWantWarning(t, w, "lxc.include", "not read", "common.conf")
		},
	}})
}

func TestNativeRootfs(t *testing.T) {
	root := func(kind, src string) func(*testing.T, *libvirtxml.Domain, []string) {
		return func(t *testing.T, def *libvirtxml.Domain, w []string) {
			fs := def.Devices.Filesystems[0]
			nativeWantEqual(t, "target", fs.Target.Dir, "/")
			nativeWantEqual(t, "source", nativeTestFSSource(fs), kind+" "+src)
		}
	}
	runNativeCases(t, []nativeCase{
		{name: "dir prefix is stripped", config: "lxc.rootfs.path = dir:/var/lib/lxc/c/rootfs\n", check: root("mount", "/var/lib/lxc/c/rootfs")},
		{name: "btrfs subvolume", config: "lxc.rootfs.path = btrfs:/var/lib/lxc/c/rootfs\n", check: root("mount", "/var/lib/lxc/c/rootfs")},
		{name: "plain path", config: "lxc.rootfs.path = /srv/a:b\n", check: root("mount", "/srv/a:b")},
		{name: "block device", config: "lxc.rootfs.path = /dev/sdb1\n", check: root("block", "/dev/sdb1")},
		{name: "lvm", config: "lxc.rootfs.path = lvm:/dev/vg0/c1\n", check: root("block", "/dev/vg0/c1")},
		{name: "loop image", config: "lxc.rootfs.path = loop:/srv/c1.img\n", check: func(t *testing.T, def *libvirtxml.Domain, w []string) {
			root("file", "/srv/c1.img")(t, def, w)
			nativeWantEqual(t, "driver", *def.Devices.Filesystems[0].Driver, libvirtxml.DomainFilesystemDriver{Type: "loop", Format: "raw"})
		}},
		{name: "read-only root", config: "lxc.rootfs.options = ro,noatime\n", check: func(t *testing.T, def *libvirtxml.Domain, w []string) {
			nativeWantEqual(t, "readonly", def.Devices.Filesystems[0].ReadOnly != nil, true)
			nativeWantWarning(t, w, "lxc.rootfs.options", "noatime")
		}},
		{name: "no rootfs shares the host root", bare: true, config: "lxc.uts.name = c\n", check: func(t *testing.T, def *libvirtxml.Domain, w []string) {
			nativeWantEqual(t, "filesystems", len(def.Devices.Filesystems), 0)
			nativeWantWarning(t, w, "lxc.rootfs.path", "shares the host")
		}},
		{name: "overlay", config: "lxc.rootfs.path = overlay:/a:/b\n", wantErr: "cannot be converted"},
		{name: "zfs", config: "lxc.rootfs.path = zfs:tank/c1\n", wantErr: "cannot be converted"},
		{name: "nbd", config: "lxc.rootfs.path = nbd:/srv/c.qcow2:1\n", wantErr: "cannot be converted"},
		{name: "unknown storage", config: "lxc.rootfs.path = foo:/x\n", wantErr: "unknown rootfs storage"},
		{name: "relative", config: "lxc.rootfs.path = rootfs\n", wantErr: "not absolute"},
		{name: "lvm without /dev", config: "lxc.rootfs.path = lvm:vg0/c1\n", wantErr: "not absolute"},
		{name: "lvm not under /dev", config: "lxc.rootfs.path = lvm:/srv/vg0\n", wantErr: "not a /dev path"},
	})
}

// nativeTestFSSource describes a filesystem source as "kind path".
func nativeTestFSSource(fs libvirtxml.DomainFilesystem) string {
	s := fs.Source
	switch {
	case s.Mount != nil:
		return "mount " + s.Mount.Dir
	case s.Block != nil:
		return "block " + s.Block.Dev
	case s.File != nil:
		return "file " + s.File.File
	case s.Bind != nil:
		return "bind " + s.Bind.Dir
	case s.RAM != nil:
		return "ram " + s.RAM.Units
	}
	return "?"
}

func TestNativeMounts(t *testing.T) {
	mounts := func(want ...string) func(*testing.T, *libvirtxml.Domain, []string) {
		return func(t *testing.T, def *libvirtxml.Domain, w []string) {
			var got []string
			for _, fs := range def.Devices.Filesystems[1:] {
				d := nativeTestFSSource(fs) + " -> " + fs.Target.Dir
				if fs.Source.RAM != nil {
					d = "ram " + strconv.FormatUint(uint64(fs.Source.RAM.Usage), 10) + fs.Source.RAM.Units + " -> " + fs.Target.Dir
				}
				if fs.ReadOnly != nil {
					d += " ro"
				}
				got = append(got, d)
			}
			nativeWantEqual(t, "mounts", got, want)
		}
	}
	runNativeCases(t, []nativeCase{
		{name: "basic mounts are skipped", config: "lxc.mount.entry = proc proc proc nodev 0 0\nlxc.mount.entry = sysfs sys/ sysfs defaults 0 0\n" +
			"lxc.mount.entry = /proc/sys/net/ipv6 /proc/sys/net/ipv6 none bind 0 0\n", check: mounts()},
		{name: "tmpfs", config: "lxc.mount.entry = tmpfs run tmpfs size=8m,mode=0755 0 0\nlxc.mount.entry = none tmp tmpfs ro,size=1000 0 0\n",
			check: mounts("ram 8192KiB -> /run", "ram 1KiB -> /tmp ro")},
		{name: "tmpfs without size", config: "lxc.mount.entry = tmpfs run tmpfs mode=0755 0 0\n", wantErr: "missing tmpfs size"},
		{name: "tmpfs relative size", config: "lxc.mount.entry = tmpfs run tmpfs size=50% 0 0\n", wantErr: "relative size"},
		{name: "binds", config: "lxc.mount.entry = /etc/resolv.conf etc/resolv.conf none bind,ro 0 0\n" +
			"lxc.mount.entry = /srv/data /data none rbind,create=dir 0 0\nlxc.mount.entry = /dev/fuse dev/fuse none bind,create=file 0 0\n",
			check: mounts("mount /etc/resolv.conf -> /etc/resolv.conf ro", "mount /srv/data -> /data", "mount /dev/fuse -> /dev/fuse")},
		{name: "absolute target under the rootfs", config: "lxc.mount.entry = proc /srv/c1/proc proc defaults 0 0\n" +
			"lxc.mount.entry = /srv/data /srv/c1/data none bind 0 0\n", check: mounts("mount /srv/data -> /data")},
		{name: "relative bind", config: "lxc.mount.entry = home srv none bind,relative 0 0\n", check: mounts("bind /home -> /srv")},
		{name: "block device", config: "lxc.mount.entry = /dev/sdb1 mnt ext4 defaults 0 0\n", check: mounts("block /dev/sdb1 -> /mnt")},
		{name: "octal escapes", config: "lxc.mount.entry = /srv/my\\040dir mnt/x\\040y none bind 0 0\n", check: mounts("mount /srv/my dir -> /mnt/x y")},
		{name: "empty value clears", config: "lxc.mount.entry = /a a none bind 0 0\nlxc.mount.entry =\nlxc.mount.entry = /b b none bind 0 0\n", check: mounts("mount /b -> /b")},
		{name: "virtual filesystems are skipped", config: "lxc.mount.entry = mqueue dev/mqueue mqueue rw 0 0\n", check: func(t *testing.T, def *libvirtxml.Domain, w []string) {
			mounts()(t, def, w)
			nativeWantWarning(t, w, "lxc.mount.entry", "mqueue mounts cannot be converted")
		}},
		{name: "optional", config: "lxc.mount.entry = /a a none bind,optional 0 0\n", check: func(t *testing.T, def *libvirtxml.Domain, w []string) {
			nativeWantWarning(t, w, "optional")
		}},
		{name: "short entry", config: "lxc.mount.entry = /a a none\n", wantErr: "expected 'source target type options"},
		{name: "relative bind source", config: "lxc.mount.entry = a b none bind 0 0\n", wantErr: "not absolute"},
		{name: "fstab", config: "lxc.mount.fstab = /var/lib/lxc/c1/fstab\n", wantErr: "use lxc.mount.entry"},
		{name: "legacy fstab", config: "lxc.mount = /var/lib/lxc/c1/fstab\n", wantErr: "use lxc.mount.entry"},
		{name: "cleared fstab", config: "lxc.mount.fstab =\n", check: mounts()},
	})
}
