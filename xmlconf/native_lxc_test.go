package xmlconf

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestNativeLXCAccepts checks that LXC itself accepts ToNative's output:
// lxc-info loads a container's config with every key's own parser and
// fails on an unknown key or a value LXC rejects. It converts the rich
// domain and, when the corpus is found, ToNative(FromNative(config)) of
// every libvirt fixture. Skipped when LXC is not installed.
func TestNativeLXCAccepts(t *testing.T) {
	lxcInfo, err := exec.LookPath("lxc-info")
	if err != nil {
		msg := "lxc-info not found (Debian package lxc); LXC's acceptance of ToNative output not checked"
		if os.Getenv("NSVIRT_TEST_STRICT") == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	rich, err := ToNative(nativeDomainFromXML(t, nativeRichXML))
	if err != nil {
		t.Fatal(err)
	}
	configs := map[string]string{"rich": rich}
	if dir, ok := nativeFindCorpus(); ok {
		files, _ := filepath.Glob(filepath.Join(dir, "*.config"))
		for _, f := range files {
			in, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			d, _, err := FromNative(in, nativeConformanceOpts)
			if err != nil {
				continue // the fstab case
			}
			out, err := ToNative(d)
			if err != nil {
				t.Errorf("%s: ToNative: %v", f, err)
				continue
			}
			configs[strings.TrimSuffix(filepath.Base(f), ".config")] = out
		}
	}
	for name, config := range configs {
		nativeLXCLoad(t, lxcInfo, name, config)
	}
}

// nativeLXCLoad writes config as container name's config and loads it
// with lxc-info.
func nativeLXCLoad(t *testing.T, lxcInfo, name, config string) {
	t.Helper()
	lxcpath := t.TempDir()
	if err := os.Mkdir(filepath.Join(lxcpath, name), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(lxcpath, name, "config"), []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	logFile := filepath.Join(lxcpath, "lxc.log")
	out, err := exec.Command(lxcInfo, "-P", lxcpath, "-n", name, "-l", "ERROR", "-o", logFile).CombinedOutput()
	if err != nil {
		log, _ := os.ReadFile(logFile)
		t.Errorf("%s: LXC rejects the config: %v\n%s%s\nconfig:\n%s", name, err, out, log, config)
	}
}
