package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strings"
	"syscall"
	"unicode"

	"github.com/quotatop/quotatop/source"
)

// maxSecretFile bounds a credential file: a key is tens of bytes, and a path to a device
// or a huge file must fail at once instead of reading until memory runs out.
const maxSecretFile = 4 << 10

// readSecretFile reads a credential from a regular file of at most maxSecretFile bytes.
// It never blocks on a FIFO (opened non-blocking, then checked), warns when others can
// read the file, and refuses a value with whitespace inside (a pasted line with a
// comment or two values) rather than sending half of it. flag names the option in errors.
func readSecretFile(path, flag string, stderr io.Writer) (string, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return "", fmt.Errorf("%s %s: %w", flag, path, errors.Unwrap(err))
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return "", fmt.Errorf("%s %s: %w", flag, path, err)
	}
	if !info.Mode().IsRegular() {
		return "", fmt.Errorf("%s %s is not a regular file (a key file must be a plain file)", flag, path)
	}
	if info.Size() > maxSecretFile {
		return "", fmt.Errorf("%s %s is %d bytes, too large for a key (at most %d)", flag, path, info.Size(), maxSecretFile)
	}
	if info.Mode().Perm()&0o077 != 0 {
		fmt.Fprintf(stderr, "quotatop: warning: %s is readable by other users (mode %v): chmod 600 it\n", path, info.Mode().Perm())
	}
	b, err := io.ReadAll(io.LimitReader(f, maxSecretFile+1))
	if err != nil {
		return "", fmt.Errorf("%s %s: %w", flag, path, err)
	}
	if len(b) > maxSecretFile {
		return "", fmt.Errorf("%s %s grew past %d bytes while being read", flag, path, maxSecretFile)
	}
	secret := strings.TrimSpace(string(b))
	switch {
	case secret == "":
		return "", fmt.Errorf("%s %s is empty", flag, path)
	case strings.IndexFunc(secret, unicode.IsSpace) >= 0:
		return "", fmt.Errorf("%s %s holds whitespace inside the key: put only the key in it", flag, path)
	case strings.IndexFunc(secret, unicode.IsControl) >= 0:
		return "", fmt.Errorf("%s %s holds control characters: put only the key in it", flag, path)
	}
	return secret, nil
}

// warnCleartext says once, loudly, when the admin credential would cross a network in
// clear text: http:// to a host that is not this machine.
func warnCleartext(api string, stderr io.Writer) {
	u, err := url.Parse(api)
	if err != nil || u.Scheme != "http" {
		return
	}
	host := u.Hostname()
	if host == "localhost" {
		return
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return
	}
	fmt.Fprintf(stderr, "quotatop: WARNING: --api %s is plain http to another host: the admin key travels in clear text; use https://\n", source.RedactedAPI(api))
}
