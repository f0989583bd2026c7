# bash completion for at-db(1)
_at_db() {
	local cur prev
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD-1]}
	case "$prev" in
	--db)
		compopt -o filenames 2>/dev/null
		COMPREPLY=($(compgen -f -- "$cur") $(compgen -W "sqlite: postgresql://" -- "$cur"))
		return
		;;
	esac
	if [[ "$cur" == -* ]]; then
		COMPREPLY=($(compgen -W "--db --help --version" -- "$cur"))
	else
		COMPREPLY=($(compgen -W "init migrate status verify" -- "$cur"))
	fi
}
complete -F _at_db at-db
