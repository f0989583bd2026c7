# bash completion for at-sim(1)
_at_sim() {
	local cur prev
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD-1]}
	case "$prev" in
	--accounts | --port-file | --replay)
		compopt -o filenames 2>/dev/null
		COMPREPLY=($(compgen -f -- "$cur"))
		return
		;;
	--clock)
		COMPREPLY=($(compgen -W "real manual" -- "$cur"))
		return
		;;
	--listen)
		COMPREPLY=($(compgen -W "127.0.0.1:0 127.0.0.1:" -- "$cur"))
		return
		;;
	--error-rate)
		COMPREPLY=($(compgen -W "*= session.token= login= twofa= connect.login= connect.finish= user.profile= user.margins= orders.place= orders.modify= orders.cancel= orders= orders.history= trades= positions= holdings= instruments= quote= quote.ltp= quote.ohlc= ws=" -- "$cur"))
		compopt -o nospace 2>/dev/null
		return
		;;
	--seed | --start-ms | --tick-rate | --login-rate | --token-expiry | --latency-ms | \
		--drop-ws-every | --token-ttl | --nifty | --vix | --strikes | --weekly-expiries | \
		--monthly-expiries)
		return
		;;
	esac
	COMPREPLY=($(compgen -W "--accounts --listen --seed --port-file --allow-remote --clock --start-ms --tick-rate --no-rate-limit --login-rate --token-expiry --latency-ms --error-rate --drop-ws-every --reject-orders --token-ttl --replay --nifty --vix --strikes --weekly-expiries --monthly-expiries --record-sends --help --version" -- "$cur"))
}
complete -F _at_sim at-sim
