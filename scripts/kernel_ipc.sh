#!/usr/bin/env bash
# Print the nbconvert options that run a notebook's kernel over IPC sockets in a private
# directory: a local kernel needs no TCP ports, and ipykernel then prints no plaintext-TCP
# warning. The socket path must be absolute: with a relative one the kernel (started in the
# notebook's directory) and the client (in ours) look in different places and the kernel
# "didn't respond in 60 seconds". The directory is made fresh; the caller removes it.
set -euo pipefail
dir="$(mktemp -d "${TMPDIR:-/tmp}/mira-kernel-XXXXXX")"
printf -- '--KernelManager.transport=ipc --KernelManager.ip=%s/kernel\n' "$dir"
