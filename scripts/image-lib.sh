# Helpers for building initramfs images from the host's Debian packages,
# sourced by scripts/testbed and scripts/build-guest-image. Expects $top
# (the project root) and .cache/kernel (scripts/fetch-kernel).

# Copies a module and everything it depends on into root $1 (kernel $2).
copy_modules() {
	local root=$1 kver=$2 src=.cache/kernel/lib/modules/$2
	shift 2
	local todo=("$@") m path
	declare -A seen=()
	while [ ${#todo[@]} -gt 0 ]; do
		m=${todo[0]}
		todo=("${todo[@]:1}")
		[ -n "${seen[$m]:-}" ] && continue
		seen[$m]=1
		path=$(/sbin/modinfo -b "$top/.cache/kernel" -k "$kver" -n "$m" 2>/dev/null) || continue
		case $path in /*) ;; *) continue ;; esac	# built in
		mkdir -p "$root/$(dirname "${path#$top/.cache/kernel/}")"
		cp "$path" "$root/${path#$top/.cache/kernel/}"
		for d in $(/sbin/modinfo -F depends "$path" | tr ',' ' '); do
			todo+=("$d")
		done
	done
	cp "$src"/modules.builtin "$src"/modules.builtin.modinfo "$src"/modules.order "$root/lib/modules/$kver/"
	/sbin/depmod -b "$root" "$kver"
}

# Copies binaries with their shared libraries (as ldd resolves them).
copy_bins() {
	local root=$1 dest=$2 lib
	shift 2
	mkdir -p "$root/$dest" "$root/lib64" "$root/lib/x86_64-linux-gnu"
	for b in "$@"; do
		cp "$b" "$root/$dest/"
		for lib in $(ldd "$b" 2>/dev/null | awk '/=>/ {print $3} /ld-linux/ {print $1}'); do
			[ -f "$lib" ] || continue
			cp -L "$lib" "$root/lib/x86_64-linux-gnu/"
		done
	done
	cp -L /lib64/ld-linux-x86-64.so.2 "$root/lib64/"
}

# Copies shared objects (dlopen'ed ones: Mesa's drivers, glvnd's vendor
# libraries) to their own paths under root $1, with what they link to.
copy_libs() {
	local root=$1 lib
	shift
	mkdir -p "$root/lib/x86_64-linux-gnu"
	for so in "$@"; do
		mkdir -p "$root/$(dirname "$so")"
		cp -L "$so" "$root/$so"
		for lib in $(ldd "$so" 2>/dev/null | awk '/=>/ {print $3}'); do
			[ -f "$lib" ] && [ ! -f "$root/lib/x86_64-linux-gnu/$(basename "$lib")" ] || continue
			cp -L "$lib" "$root/lib/x86_64-linux-gnu/"
		done
	done
}

cpio_gz() {	# $1 = root, $2 = output
	(cd "$1" && find . | cpio -o -H newc --quiet) | gzip -1 > "$2.tmp"
	mv "$2.tmp" "$2"
}
