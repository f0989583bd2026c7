# bash completion for at-strategy(1)
_at_strategy() {
	local cur prev cmd i
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD-1]}
	case "$prev" in
	--db)
		compopt -o filenames 2>/dev/null
		COMPREPLY=($(compgen -f -- "$cur") $(compgen -W "sqlite: postgresql://" -- "$cur"))
		return
		;;
	--user)
		return
		;;
	esac
	if [[ "$cur" == -* ]]; then
		COMPREPLY=($(compgen -W "--db --user --help --version" -- "$cur"))
		return
	fi
	cmd=
	for ((i = 1; i < COMP_CWORD; i++)); do
		case "${COMP_WORDS[i]}" in
		--db | --user) ((i++)) ;;
		-*) ;;
		*) cmd=${COMP_WORDS[i]}; break ;;
		esac
	done
	case "$cmd" in
	"")
		COMPREPLY=($(compgen -W "add update validate list show start pause stop history" -- "$cur"))
		;;
	validate | add | update)
		compopt -o filenames 2>/dev/null
		COMPREPLY=($(compgen -f -- "$cur"))
		;;
	esac
}
complete -F _at_strategy at-strategy
