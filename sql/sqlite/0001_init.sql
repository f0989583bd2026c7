-- at ledger, SQLite dialect, migration 1: the whole foundation schema.
-- Mirrors sql/postgres/0001_init.sql; SQLite has no roles or RLS, so tenant
-- isolation rests on every query taking user_id (lib/db, lib/*).
-- Times are epoch milliseconds (*_ms); ids are UUIDs (text).

CREATE TABLE subscription_tiers (
	tier text PRIMARY KEY,
	max_running_strategies integer NOT NULL CHECK (max_running_strategies >= 0)
);
INSERT INTO subscription_tiers VALUES ('FREE', 1), ('PRO', 10);

CREATE TABLE users (
	id text PRIMARY KEY DEFAULT (lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4' || substr(lower(hex(randomblob(2))), 2) || '-' || substr('89ab', 1 + (abs(random()) % 4), 1) || substr(lower(hex(randomblob(2))), 2) || '-' || lower(hex(randomblob(6)))),
	user_id text GENERATED ALWAYS AS (id) VIRTUAL,
	email text NOT NULL UNIQUE,
	name text NOT NULL DEFAULT '',
	google_sub text UNIQUE,
	tier text NOT NULL DEFAULT 'FREE' REFERENCES subscription_tiers (tier),
	status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
	created_ms integer NOT NULL,
	updated_ms integer NOT NULL
);

CREATE TABLE broker_credentials (
	user_id text PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
	api_key text NOT NULL,
	api_secret_encrypted text NOT NULL,
	totp_secret_encrypted text NOT NULL,
	broker_user_id text NOT NULL,
	password_encrypted text NOT NULL,
	egress_ip text,
	access_token_encrypted text,
	token_date text,
	token_issued_ms integer,
	ready_status text,
	ready_message text,
	ready_ms integer,
	updated_ms integer NOT NULL
);

CREATE TABLE strategies (
	id text PRIMARY KEY DEFAULT (lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4' || substr(lower(hex(randomblob(2))), 2) || '-' || substr('89ab', 1 + (abs(random()) % 4), 1) || substr(lower(hex(randomblob(2))), 2) || '-' || lower(hex(randomblob(6)))),
	user_id text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	name text NOT NULL,
	strategy_type text NOT NULL,
	config text NOT NULL CHECK (json_valid(config)),
	version integer NOT NULL DEFAULT 1,
	status text NOT NULL DEFAULT 'stopped'
		CHECK (status IN ('stopped', 'running', 'paused')),
	created_ms integer NOT NULL,
	updated_ms integer NOT NULL,
	UNIQUE (user_id, name)
);
CREATE INDEX strategies_status ON strategies (status);

CREATE TABLE strategy_versions (
	id text PRIMARY KEY DEFAULT (lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4' || substr(lower(hex(randomblob(2))), 2) || '-' || substr('89ab', 1 + (abs(random()) % 4), 1) || substr(lower(hex(randomblob(2))), 2) || '-' || lower(hex(randomblob(6)))),
	strategy_id text NOT NULL REFERENCES strategies (id) ON DELETE CASCADE,
	user_id text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	version integer NOT NULL,
	config text NOT NULL CHECK (json_valid(config)),
	changed_by text NOT NULL,
	change text NOT NULL DEFAULT 'update',
	created_ms integer NOT NULL,
	UNIQUE (strategy_id, version)
);

CREATE TABLE strategy_state (
	strategy_id text PRIMARY KEY REFERENCES strategies (id) ON DELETE CASCADE,
	user_id text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	state text NOT NULL CHECK (json_valid(state)),
	updated_ms integer NOT NULL
);

CREATE TABLE optimization_suggestions (
	id text PRIMARY KEY DEFAULT (lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4' || substr(lower(hex(randomblob(2))), 2) || '-' || substr('89ab', 1 + (abs(random()) % 4), 1) || substr(lower(hex(randomblob(2))), 2) || '-' || lower(hex(randomblob(6)))),
	user_id text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	strategy_id text REFERENCES strategies (id) ON DELETE CASCADE,
	kind text NOT NULL,
	reason text NOT NULL,
	patch text NOT NULL CHECK (json_valid(patch)),
	metrics text,
	status text NOT NULL DEFAULT 'pending'
		CHECK (status IN ('pending', 'approved', 'rejected', 'expired')),
	created_ms integer NOT NULL,
	decided_ms integer,
	decided_by text
);

CREATE TABLE orders (
	id text PRIMARY KEY DEFAULT (lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4' || substr(lower(hex(randomblob(2))), 2) || '-' || substr('89ab', 1 + (abs(random()) % 4), 1) || substr(lower(hex(randomblob(2))), 2) || '-' || lower(hex(randomblob(6)))),
	user_id text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	strategy_id text REFERENCES strategies (id) ON DELETE SET NULL,
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
	price real,
	trigger_price real,
	status text NOT NULL,
	status_message text,
	filled_quantity integer NOT NULL DEFAULT 0,
	average_price real,
	reason text,
	paper integer NOT NULL DEFAULT 0,
	created_ms integer NOT NULL,
	updated_ms integer NOT NULL,
	UNIQUE (user_id, intent_id)
);
CREATE INDEX orders_status ON orders (user_id, status);

CREATE TABLE positions (
	id text PRIMARY KEY DEFAULT (lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4' || substr(lower(hex(randomblob(2))), 2) || '-' || substr('89ab', 1 + (abs(random()) % 4), 1) || substr(lower(hex(randomblob(2))), 2) || '-' || lower(hex(randomblob(6)))),
	user_id text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	strategy_id text REFERENCES strategies (id) ON DELETE SET NULL,
	exchange text NOT NULL,
	tradingsymbol text NOT NULL,
	instrument_token integer,
	product text NOT NULL,
	quantity integer NOT NULL,
	average_price real NOT NULL DEFAULT 0,
	last_price real,
	realised real NOT NULL DEFAULT 0,
	updated_ms integer NOT NULL
);
CREATE INDEX positions_user ON positions (user_id, tradingsymbol);

CREATE TABLE login_jobs (
	id text PRIMARY KEY DEFAULT (lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4' || substr(lower(hex(randomblob(2))), 2) || '-' || substr('89ab', 1 + (abs(random()) % 4), 1) || substr(lower(hex(randomblob(2))), 2) || '-' || lower(hex(randomblob(6)))),
	user_id text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	run_date text NOT NULL,
	status text NOT NULL DEFAULT 'queued'
		CHECK (status IN ('queued', 'running', 'ok', 'skipped', 'failed', 'retry')),
	attempts integer NOT NULL DEFAULT 0,
	next_attempt_ms integer NOT NULL DEFAULT 0,
	claimed_by text,
	claimed_ms integer,
	error_type text,
	message text,
	created_ms integer NOT NULL,
	finished_ms integer,
	UNIQUE (user_id, run_date)
);
CREATE INDEX login_jobs_queue ON login_jobs (run_date, status, next_attempt_ms);

-- Append-only, hash-chained.  seq is assigned by lib/audit inside the
-- writing transaction; hash = sha256(prev_hash || canonical content).
CREATE TABLE audit_log (
	seq integer PRIMARY KEY,
	id text NOT NULL UNIQUE DEFAULT (lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4' || substr(lower(hex(randomblob(2))), 2) || '-' || substr('89ab', 1 + (abs(random()) % 4), 1) || substr(lower(hex(randomblob(2))), 2) || '-' || lower(hex(randomblob(6)))),
	ts_ms integer NOT NULL,
	user_id text,
	actor text NOT NULL,
	action text NOT NULL,
	detail text NOT NULL,
	prev_hash text NOT NULL,
	hash text NOT NULL
);
CREATE INDEX audit_log_user ON audit_log (user_id, seq);

CREATE TABLE audit_head (
	id integer PRIMARY KEY CHECK (id = 1),
	seq integer NOT NULL,
	hash text NOT NULL
);
INSERT INTO audit_head VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
	SELECT RAISE(ABORT, 'audit_log is append-only');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
	SELECT RAISE(ABORT, 'audit_log is append-only');
END;

CREATE TABLE ticks (
	instrument_token integer NOT NULL,
	ts_ms integer NOT NULL,
	last_price real NOT NULL,
	volume integer,
	oi integer,
	bid real,
	ask real
);
CREATE INDEX ticks_ts ON ticks (ts_ms);

CREATE TABLE market_snapshots (
	id text PRIMARY KEY DEFAULT (lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4' || substr(lower(hex(randomblob(2))), 2) || '-' || substr('89ab', 1 + (abs(random()) % 4), 1) || substr(lower(hex(randomblob(2))), 2) || '-' || lower(hex(randomblob(6)))),
	ts_ms integer NOT NULL,
	underlying text NOT NULL,
	spot real,
	vix real,
	pcr real,
	adx real,
	iv real,
	iv_rank real,
	detail text
);
CREATE INDEX market_snapshots_ts ON market_snapshots (underlying, ts_ms);

CREATE TABLE platform_state (
	key text PRIMARY KEY,
	value text NOT NULL,
	updated_ms integer NOT NULL,
	updated_by text NOT NULL
);
INSERT INTO platform_state VALUES ('kill_switch', 'off', 0, 'at-db');

CREATE TABLE rate_buckets (
	name text PRIMARY KEY,
	next_us integer NOT NULL DEFAULT 0,
	updated_ms integer NOT NULL
);

CREATE TABLE feed_health (
	conn text PRIMARY KEY,
	host text NOT NULL,
	instruments integer NOT NULL DEFAULT 0,
	last_tick_ms integer,
	updated_ms integer NOT NULL
);
