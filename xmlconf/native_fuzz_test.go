package xmlconf

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzFromNative checks that FromNative never panics, that a domain it
// returns formats and parses again, and that ToNative's configuration of
// it converts back. Seeded with libvirt's fixtures when the corpus is
// found.
func FuzzFromNative(f *testing.F) {
	f.Add([]byte(nativeBase))
	f.Add([]byte(nativeBase + "lxc.net.0.type = veth\nlxc.net.0.link = br0\nlxc.net.0.ipv4.address = 10.0.0.2/24\n" +
		"lxc.mount.entry = tmpfs run tmpfs size=8m 0 0\nlxc.idmap = u 0 100000 65536\nlxc.cap.keep = chown\n"))
	f.Add([]byte(nativeBase + "lxc.cgroup2.cpu.max = max 100000\nlxc.cgroup2.io.max = 8:0 rbps=1\nlxc.init.cmd = /bin/sh -c x\n"))
	if dir, ok := nativeFindCorpus(); ok {
		files, _ := filepath.Glob(filepath.Join(dir, "*.config"))
		for _, file := range files {
			if in, err := os.ReadFile(file); err == nil {
				f.Add(in)
			}
		}
	}
	f.Fuzz(func(t *testing.T, config []byte) {
		d, _, err := FromNative(config, nativeConformanceOpts)
		if err != nil {
			return
		}
		out, err := FormatDomain(d, FormatOptions{Inactive: true})
		if err != nil {
			t.Fatalf("FormatDomain: %v", err)
		}
		// The round trip is about formatting: libvirt's define-time checks
		// (which refuse, say, a uid-only idmap) are not its business.
		popts := ParseOptions{Emulator: nativeConformanceOpts.Emulator, HostArch: nativeConformanceOpts.HostArch, SkipValidate: true}
		if _, _, err := ParseDomain([]byte(out), popts); err != nil {
			t.Fatalf("ParseDomain of the converted domain: %v\n%s", err, out)
		}
		native, err := ToNative(d)
		if err != nil {
			return
		}
		if _, _, err := FromNative([]byte(native), nativeConformanceOpts); err != nil {
			t.Fatalf("FromNative(ToNative(d)): %v\n%s", err, native)
		}
	})
}
