#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# A private apt view, for the scripts that fetch Debian packages of another
# suite into the project cache without touching the host's apt (sourced by
# scripts/trixie-build.sh and scripts/qemu10.sh).  Everything lives under
# one directory: its own sources.list, lists, caches, an empty dpkg status
# and an empty apt.conf.d.  It is handed to apt in APT_CONFIG, not with
# `-o`: apt reads /etc/apt/apt.conf.d before the command line, and the
# host's hooks there (APT::Update::Post-Invoke-Success) would run on our
# update.
#
#   private_apt_setup DIR NAME SOURCE-LINE...   write the configuration
#   papt_get ARGS...     apt-get on it
#   papt_cache ARGS...   apt-cache on it
#   papt_update_once     apt-get update, at most once per run
# The caller defines log().

papt_mirror=http://deb.debian.org/debian
papt_keyring=/usr/share/keyrings/debian-archive-keyring.gpg

private_apt_setup() {
	local line

	papt_dir=$1 papt_name=$2
	shift 2
	[ -f "$papt_keyring" ] || { log "no $papt_keyring (debian-archive-keyring)"; return 1; }
	mkdir -p "$papt_dir"/etc/apt.conf.d "$papt_dir"/etc/preferences.d \
		 "$papt_dir"/etc/sources.list.d "$papt_dir"/etc/trusted.gpg.d \
		 "$papt_dir"/lists/partial "$papt_dir"/cache/archives/partial \
		 "$papt_dir"/log
	: > "$papt_dir/etc/sources.list"
	for line in "$@"; do
		echo "deb [signed-by=$papt_keyring] $papt_mirror $line" >> "$papt_dir/etc/sources.list"
	done
	[ -f "$papt_dir/status" ] || : > "$papt_dir/status"
	cat > "$papt_dir/apt.conf" <<EOT
// Written by scripts/private-apt.sh; a private apt view ($papt_name).
Dir "/";
Dir::Etc "$papt_dir/etc/";
Dir::Etc::main "/dev/null";
Dir::Etc::parts "$papt_dir/etc/apt.conf.d/";
Dir::Etc::sourcelist "$papt_dir/etc/sources.list";
Dir::Etc::sourceparts "$papt_dir/etc/sources.list.d/";
Dir::Etc::preferences "$papt_dir/etc/preferences";
Dir::Etc::preferencesparts "$papt_dir/etc/preferences.d/";
Dir::Etc::trusted "$papt_dir/etc/trusted.gpg";
Dir::Etc::trustedparts "$papt_dir/etc/trusted.gpg.d/";
Dir::State "$papt_dir/";
Dir::State::lists "$papt_dir/lists/";
Dir::State::status "$papt_dir/status";
Dir::Cache "$papt_dir/cache/";
Dir::Log "$papt_dir/log/";
APT::Architecture "amd64";
APT::Architectures { "amd64"; };
APT::Install-Recommends "false";
APT::Install-Suggests "false";
APT::Sandbox::User "root";
Acquire::Languages "none";
EOT
}

papt_get() { APT_CONFIG=$papt_dir/apt.conf apt-get -q "$@"; }
papt_cache() { APT_CONFIG=$papt_dir/apt.conf apt-cache "$@"; }

papt_updated=
papt_update_once() {
	[ -n "$papt_updated" ] && return 0
	log "apt-get update (private, $papt_name)"
	papt_get -qq update >&2
	papt_updated=1
}
