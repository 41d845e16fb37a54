// Package nstest is test scaffolding for the root tests of the netns
// packages (netns/nat, netns/dnsmasq). Such a test calls InThrowawayNetns
// first: it re-runs the test alone inside a new network namespace
// ("unshare --net"), so nft tables, sysctls under /proc/sys/net, bridges
// and routes are that namespace's own and vanish with it, and it checks
// that the host's forwarding sysctls did not change. NewPeer holds a
// further namespace for a client with an "unshare --net sleep" process.
// A test that lacks root or a program is skipped, or fails under
// NSVIRT_TEST_STRICT=1.
//
// Only _test.go files may import this package: its helpers skip and fail
// tests, run programs and create namespaces, and must not be imported by
// non-test code. TestOnlyTestsImport checks that none does.
package nstest
