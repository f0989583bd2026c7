-- at ledger, PostgreSQL dialect, migration 1: the whole foundation schema.
-- Applied by `at-db init` / `at-db migrate` inside one transaction.
-- Times are epoch milliseconds (*_ms); ids are UUIDs.

-- Roles: at_app acts for one tenant (RLS applies); at_platform runs the
-- platform-wide jobs (login rush, kill switch, audit verification).
DO $$
BEGIN
	BEGIN
		CREATE ROLE at_app NOLOGIN;
	EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
	END;
	BEGIN
		CREATE ROLE at_platform NOLOGIN;
	EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
	END;
	BEGIN
		EXECUTE format('GRANT at_app, at_platform TO %I', current_user);
	EXCEPTION WHEN others THEN NULL;
	END;
END
$$;

-- The tenant a session acts for (NULL when none).
CREATE FUNCTION at_current_user() RETURNS uuid
LANGUAGE sql STABLE AS $$
	SELECT nullif(current_setting('at.user_id', true), '')::uuid
$$;

CREATE TABLE subscription_tiers (
	tier text PRIMARY KEY,
	max_running_strategies integer NOT NULL CHECK (max_running_strategies >= 0)
);
INSERT INTO subscription_tiers VALUES ('FREE', 1), ('PRO', 10);

CREATE TABLE users (
	id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	user_id uuid GENERATED ALWAYS AS (id) STORED,
	email text NOT NULL UNIQUE,
	name text NOT NULL DEFAULT '',
	google_sub text UNIQUE,
	tier text NOT NULL DEFAULT 'FREE' REFERENCES subscription_tiers (tier),
	status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
	created_ms bigint NOT NULL,
	updated_ms bigint NOT NULL
);

CREATE TABLE broker_credentials (
	user_id uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
	api_key text NOT NULL,
	api_secret_encrypted text NOT NULL,
	totp_secret_encrypted text NOT NULL,
	broker_user_id text NOT NULL,
	password_encrypted text NOT NULL,
	egress_ip text,
	access_token_encrypted text,
	token_date date,
	token_issued_ms bigint,
	ready_status text,
	ready_message text,
	ready_ms bigint,
	updated_ms bigint NOT NULL
);

CREATE TABLE strategies (
	id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	name text NOT NULL,
	strategy_type text NOT NULL,
	config jsonb NOT NULL,
	version integer NOT NULL DEFAULT 1,
	status text NOT NULL DEFAULT 'stopped'
		CHECK (status IN ('stopped', 'running', 'paused')),
	created_ms bigint NOT NULL,
	updated_ms bigint NOT NULL,
	UNIQUE (user_id, name)
);
CREATE INDEX strategies_status ON strategies (status);

CREATE TABLE strategy_versions (
	id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	strategy_id uuid NOT NULL REFERENCES strategies (id) ON DELETE CASCADE,
	user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	version integer NOT NULL,
	config jsonb NOT NULL,
	changed_by text NOT NULL,
	change text NOT NULL DEFAULT 'update',
	created_ms bigint NOT NULL,
	UNIQUE (strategy_id, version)
);

CREATE TABLE strategy_state (
	strategy_id uuid PRIMARY KEY REFERENCES strategies (id) ON DELETE CASCADE,
	user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	state jsonb NOT NULL,
	updated_ms bigint NOT NULL
);

CREATE TABLE optimization_suggestions (
	id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	strategy_id uuid REFERENCES strategies (id) ON DELETE CASCADE,
	kind text NOT NULL,
	reason text NOT NULL,
	patch jsonb NOT NULL,
	metrics jsonb,
	status text NOT NULL DEFAULT 'pending'
		CHECK (status IN ('pending', 'approved', 'rejected', 'expired')),
	created_ms bigint NOT NULL,
	decided_ms bigint,
	decided_by text
);

CREATE TABLE orders (
	id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	strategy_id uuid REFERENCES strategies (id) ON DELETE SET NULL,
	intent_id text NOT NULL,
	tag text,
	broker_order_id text,
	variety text NOT NULL DEFAULT 'regular',
	exchange text NOT NULL,
	tradingsymbol text NOT NULL,
	transaction_type text NOT NULL CHECK (transaction_type IN ('BUY', 'SELL')),
	order_type text NOT NULL,
	product text NOT NULL,
	quantity integer NOT NULL CHECK (quantity > 0),
	price double precision,
	trigger_price double precision,
	status text NOT NULL,
	status_message text,
	filled_quantity integer NOT NULL DEFAULT 0,
	average_price double precision,
	reason text,
	paper integer NOT NULL DEFAULT 0,
	created_ms bigint NOT NULL,
	updated_ms bigint NOT NULL,
	UNIQUE (user_id, intent_id)
);
CREATE INDEX orders_status ON orders (user_id, status);

CREATE TABLE positions (
	id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	strategy_id uuid REFERENCES strategies (id) ON DELETE SET NULL,
	exchange text NOT NULL,
	tradingsymbol text NOT NULL,
	instrument_token bigint,
	product text NOT NULL,
	quantity integer NOT NULL,
	average_price double precision NOT NULL DEFAULT 0,
	last_price double precision,
	realised double precision NOT NULL DEFAULT 0,
	updated_ms bigint NOT NULL
);
CREATE INDEX positions_user ON positions (user_id, tradingsymbol);

CREATE TABLE login_jobs (
	id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	run_date date NOT NULL,
	status text NOT NULL DEFAULT 'queued'
		CHECK (status IN ('queued', 'running', 'ok', 'skipped', 'failed', 'retry')),
	attempts integer NOT NULL DEFAULT 0,
	next_attempt_ms bigint NOT NULL DEFAULT 0,
	claimed_by text,
	claimed_ms bigint,
	error_type text,
	message text,
	created_ms bigint NOT NULL,
	finished_ms bigint,
	UNIQUE (user_id, run_date)
);
CREATE INDEX login_jobs_queue ON login_jobs (run_date, status, next_attempt_ms);

-- Append-only, hash-chained.  seq is assigned by lib/audit under the lock
-- of audit_head; hash = sha256(prev_hash || canonical content).
CREATE TABLE audit_log (
	seq bigint PRIMARY KEY,
	id uuid NOT NULL UNIQUE DEFAULT gen_random_uuid(),
	ts_ms bigint NOT NULL,
	user_id uuid,
	actor text NOT NULL,
	action text NOT NULL,
	detail text NOT NULL,
	prev_hash text NOT NULL,
	hash text NOT NULL
);
CREATE INDEX audit_log_user ON audit_log (user_id, seq);

CREATE TABLE audit_head (
	id integer PRIMARY KEY CHECK (id = 1),
	seq bigint NOT NULL,
	hash text NOT NULL
);
INSERT INTO audit_head VALUES (1, 0, repeat('0', 64));

CREATE FUNCTION at_audit_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION 'audit_log is append-only' USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
	FOR EACH ROW EXECUTE FUNCTION at_audit_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
	FOR EACH STATEMENT EXECUTE FUNCTION at_audit_append_only();

-- Time series.  Daily range partitions on ts_ms with a BRIN index, or a
-- TimescaleDB hypertable when that extension can be loaded.
DO $$
BEGIN
	BEGIN
		CREATE EXTENSION IF NOT EXISTS timescaledb;
		CREATE TABLE ticks (
			instrument_token bigint NOT NULL,
			ts_ms bigint NOT NULL,
			last_price double precision NOT NULL,
			volume bigint,
			oi bigint,
			bid double precision,
			ask double precision
		);
		PERFORM create_hypertable('ticks', 'ts_ms', chunk_time_interval => 86400000);
	EXCEPTION WHEN others THEN
		CREATE TABLE ticks (
			instrument_token bigint NOT NULL,
			ts_ms bigint NOT NULL,
			last_price double precision NOT NULL,
			volume bigint,
			oi bigint,
			bid double precision,
			ask double precision
		) PARTITION BY RANGE (ts_ms);
	END;
END
$$;
CREATE INDEX ticks_ts_brin ON ticks USING brin (ts_ms);

-- Create the daily partitions covering [from_ms, to_ms] (UTC days; an IST
-- session, 03:45-10:00 UTC, lies within one).  No-op for a hypertable.
CREATE FUNCTION at_ticks_prepare(from_ms bigint, to_ms bigint) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
DECLARE
	name text;
BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_partitioned_table
		       WHERE partrelid = 'ticks'::regclass) THEN
		RETURN;
	END IF;
	IF to_ms - from_ms > 366::bigint * 86400000 THEN
		RAISE EXCEPTION 'tick range spans more than a year';
	END IF;
	FOR d IN (from_ms / 86400000) .. (to_ms / 86400000) LOOP
		name := 'ticks_' || to_char(to_timestamp(d::bigint * 86400) AT TIME ZONE 'UTC', 'YYYYMMDD');
		IF to_regclass(name) IS NULL THEN
			PERFORM pg_advisory_xact_lock(7412);
			IF to_regclass(name) IS NULL THEN
				EXECUTE format('CREATE TABLE %I PARTITION OF ticks FOR VALUES FROM (%s) TO (%s)',
					       name, d::bigint * 86400000, (d::bigint + 1) * 86400000);
			END IF;
		END IF;
	END LOOP;
END
$$;

CREATE TABLE market_snapshots (
	id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	ts_ms bigint NOT NULL,
	underlying text NOT NULL,
	spot double precision,
	vix double precision,
	pcr double precision,
	adx double precision,
	iv double precision,
	iv_rank double precision,
	detail jsonb
);
CREATE INDEX market_snapshots_ts ON market_snapshots (underlying, ts_ms);

CREATE TABLE platform_state (
	key text PRIMARY KEY,
	value text NOT NULL,
	updated_ms bigint NOT NULL,
	updated_by text NOT NULL
);
INSERT INTO platform_state VALUES ('kill_switch', 'off', 0, 'at-db');

-- Rate limits shared by every worker and host (login rate, order rates):
-- next_us is the earliest wall-clock time (epoch microseconds) of the next
-- slot (lib/ratelimit).
CREATE TABLE rate_buckets (
	name text PRIMARY KEY,
	next_us bigint NOT NULL DEFAULT 0,
	updated_ms bigint NOT NULL
);

CREATE TABLE feed_health (
	conn text PRIMARY KEY,
	host text NOT NULL,
	instruments integer NOT NULL DEFAULT 0,
	last_tick_ms bigint,
	updated_ms bigint NOT NULL
);

-- Row Level Security on every tenant table: at_app sees and writes only
-- the rows of at.user_id; at_platform sees everything.
DO $$
DECLARE
	t text;
	k text;
BEGIN
	FOREACH t IN ARRAY ARRAY['users', 'broker_credentials', 'strategies',
		'strategy_versions', 'strategy_state', 'optimization_suggestions',
		'orders', 'positions', 'login_jobs', 'audit_log'] LOOP
		k := 'user_id';
		EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
		EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
		EXECUTE format('CREATE POLICY %I ON %I TO at_app USING (%I = at_current_user()) WITH CHECK (%I = at_current_user())',
			       t || '_tenant', t, k, k);
		EXECUTE format('CREATE POLICY %I ON %I TO at_platform USING (true) WITH CHECK (true)',
			       t || '_platform', t);
	END LOOP;
END
$$;

GRANT USAGE ON SCHEMA public TO at_app, at_platform;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO at_platform;
GRANT SELECT, INSERT, UPDATE, DELETE ON users, broker_credentials, strategies,
	strategy_versions, strategy_state, optimization_suggestions, orders,
	positions, login_jobs TO at_app;
GRANT SELECT, INSERT ON audit_log TO at_app;
GRANT SELECT, UPDATE ON audit_head, rate_buckets TO at_app;
GRANT INSERT ON rate_buckets TO at_app;
GRANT SELECT ON subscription_tiers, platform_state, ticks, market_snapshots,
	feed_health, schema_migrations TO at_app;
REVOKE UPDATE, DELETE, TRUNCATE ON audit_log FROM at_app, at_platform;
GRANT EXECUTE ON FUNCTION at_current_user() TO at_app, at_platform;
GRANT EXECUTE ON FUNCTION at_ticks_prepare(bigint, bigint) TO at_platform;
