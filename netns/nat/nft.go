package nat

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"sort"
	"strings"
	"time"
)

// nftTimeout bounds one nft invocation.
const nftTimeout = 30 * time.Second

// Apply installs network n's table, replacing any table of the same
// network in one nft transaction: there is no moment without rules, and a
// failure leaves the previous table as it was.
func Apply(n Network) error {
	if err := n.Validate(); err != nil {
		return err
	}
	if _, err := runNft(replaceScript(n), "-f", "-"); err != nil {
		return fmt.Errorf("apply firewall rules of network %q (bridge %q): %w", n.Name, n.Bridge, err)
	}
	return nil
}

// Remove deletes network name's table. A missing table is not an error.
func Remove(name string) error {
	if name == "" {
		return fmt.Errorf("%w: empty name", ErrInvalid)
	}
	if _, err := runNft(deleteScript(name), "-f", "-"); err != nil {
		return fmt.Errorf("remove firewall rules of network %q: %w", name, err)
	}
	return nil
}

// ListTables returns the names of the networks that have a table of this
// package in the current network namespace, sorted, so that a restarted
// daemon can remove those of networks that are no longer active.
func ListTables() ([]string, error) {
	out, err := runNft("", "-j", "list", "tables", "inet")
	if err != nil {
		return nil, fmt.Errorf("list nsvirt firewall tables: %w", err)
	}
	names, err := parseTables(bytes.NewReader(out))
	if err != nil {
		return nil, fmt.Errorf("list nsvirt firewall tables: %w", err)
	}
	return names, nil
}

// parseTables reads the output of "nft -j list tables" and returns the
// networks of the inet tables named by [Table].
func parseTables(r io.Reader) ([]string, error) {
	var doc struct {
		Nftables []struct {
			Table *struct {
				Family string `json:"family"`
				Name   string `json:"name"`
			} `json:"table"`
		} `json:"nftables"`
	}
	if err := json.NewDecoder(r).Decode(&doc); err != nil {
		return nil, fmt.Errorf("parse nft JSON: %w", err)
	}
	names := []string{}
	for _, o := range doc.Nftables {
		if o.Table == nil || o.Table.Family != "inet" {
			continue
		}
		if name, ok := NetworkOfTable(o.Table.Name); ok {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	return names, nil
}

// nftPath finds nft; a daemon started with a short PATH may lack /usr/sbin.
func nftPath() (string, error) {
	if p, err := exec.LookPath("nft"); err == nil {
		return p, nil
	}
	for _, p := range []string{"/usr/sbin/nft", "/sbin/nft"} {
		if _, err := exec.LookPath(p); err == nil {
			return p, nil
		}
	}
	return "", errors.New("nft not found (install the nftables package)")
}

// runNft runs nft with args, feeding it stdin, and returns its standard
// output. Errors carry nft's standard error.
func runNft(stdin string, args ...string) ([]byte, error) {
	path, err := nftPath()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), nftTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			return nil, fmt.Errorf("nft %s: %w", strings.Join(args, " "), err)
		}
		return nil, fmt.Errorf("nft %s: %w: %s", strings.Join(args, " "), err, msg)
	}
	return stdout.Bytes(), nil
}
