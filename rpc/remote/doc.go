// Package remote holds the numbering of libvirt's RPC programs: program
// and procedure numbers of the REMOTE, QEMU, LXC and KEEPALIVE programs,
// and the public API name each procedure stands for. It knows nothing of
// sockets, encoding or the driver.
package remote

//go:generate go run ../internal/gen procedures.gen.go
