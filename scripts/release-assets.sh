#!/usr/bin/env bash
# Generates what packages carry besides the binary: shell completions and man pages, into
# build/. goreleaser runs it before building with the commit time (Unix seconds) as $1: it
# dates the man pages, so two builds of one tag give identical bytes.
set -euo pipefail
epoch=${1:-}
# A snapshot without a git remote gets no commit time from goreleaser (it passes year 1).
case "$epoch" in '' | -*) epoch=$(git log -1 --format=%ct) ;; esac
export SOURCE_DATE_EPOCH=$epoch
cd "$(dirname "$0")/.."
rm -rf build/completions build/man
mkdir -p build/completions build/man
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -trimpath -o "$tmp/quotatop" ./cmd/quotatop
for sh in bash zsh fish; do "$tmp/quotatop" completion "$sh" >"build/completions/quotatop.$sh"; done
"$tmp/quotatop" man build/man
gzip -9n build/man/*.1
