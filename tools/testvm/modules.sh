# Sourced: copy_modules KDIR RELEASE DEST NAME...: each module NAME and the
# modules it depends on into DEST (uncompressed), and their load order into
# DEST/order. Debian's kernel package has no modules.dep: the dependencies
# are read from each module's own .modinfo ("depends="). A module built into
# the kernel (modules.builtin) needs nothing.
copy_modules() {
	local kdir=$1 release=$2 dest=$3 f base
	shift 3
	declare -A ko=() seen=()
	while IFS= read -r f; do
		base=${f##*/}
		base=${base%%.ko*}
		seen[${base//-/_}]=builtin
	done <"$kdir/lib/modules/$release/modules.builtin"
	while IFS= read -r f; do
		base=${f##*/}
		base=${base%%.ko*}
		ko[${base//-/_}]=$f
	done < <(find "$kdir/lib/modules/$release/kernel" -name '*.ko' -o -name '*.ko.xz' -o -name '*.ko.zst')
	mkdir -p "$dest"
	: >"$dest/order"
	_add_module() {
		local name=${1//-/_} src dep
		[[ -z ${seen[$name]:-} ]] || return 0
		seen[$name]=1
		src=${ko[$name]:-}
		[[ -n $src ]] || { echo "testvm: module $name not in $release" >&2; return 1; }
		case $src in
		*.xz) xz -dc "$src" >"$dest/$name.ko" ;;
		*.zst) zstd -qdc "$src" >"$dest/$name.ko" ;;
		*) cp "$src" "$dest/$name.ko" ;;
		esac
		for dep in $(tr '\0' '\n' <"$dest/$name.ko" | sed -n 's/^depends=//p' | tr , ' '); do
			_add_module "$dep" || return 1
		done
		echo "$name" >>"$dest/order"
	}
	for f in "$@"; do _add_module "$f" || return 1; done
}
