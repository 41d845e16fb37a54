package dnsmasq

import (
	"fmt"
	"os"
	"testing"
)

func strict() bool { return os.Getenv("NSVIRT_TEST_STRICT") == "1" }

// skipOrFail skips the test, or fails it under NSVIRT_TEST_STRICT=1.
func skipOrFail(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if strict() {
		t.Fatalf("%s, and NSVIRT_TEST_STRICT=1 forbids skipping", msg)
	}
	t.Skip(msg)
}
