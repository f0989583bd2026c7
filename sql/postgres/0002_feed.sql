-- at ledger, PostgreSQL dialect, migration 2: market data (at-feed).
-- Mirrors sql/sqlite/0004_feed.sql.

-- The broker's instrument master (Kite's CSV), replaced as a whole by
-- `at-feed --refresh-instruments` in one transaction.  Platform data, not
-- tenant data (no RLS; at_app may read it).  expiry is NULL for none.
CREATE TABLE instruments (
	instrument_token bigint PRIMARY KEY,
	exchange_token bigint NOT NULL,
	tradingsymbol text NOT NULL,
	name text NOT NULL DEFAULT '',
	last_price double precision NOT NULL DEFAULT 0,
	expiry text,
	strike double precision NOT NULL DEFAULT 0,
	tick_size double precision NOT NULL DEFAULT 0,
	lot_size integer NOT NULL DEFAULT 0,
	instrument_type text NOT NULL,
	segment text NOT NULL,
	exchange text NOT NULL
);
CREATE INDEX instruments_symbol ON instruments (tradingsymbol, exchange);
CREATE INDEX instruments_chain ON instruments (name, expiry, strike);

-- Staging rows of a refresh in progress (load_id), swapped into
-- instruments in one transaction once every row is in (COPY cannot share
-- a transaction with the DELETE of the old master).
CREATE TABLE instruments_load (
	load_id text NOT NULL,
	instrument_token bigint NOT NULL,
	exchange_token bigint NOT NULL,
	tradingsymbol text NOT NULL,
	name text NOT NULL DEFAULT '',
	last_price double precision NOT NULL DEFAULT 0,
	expiry text,
	strike double precision NOT NULL DEFAULT 0,
	tick_size double precision NOT NULL DEFAULT 0,
	lot_size integer NOT NULL DEFAULT 0,
	instrument_type text NOT NULL,
	segment text NOT NULL,
	exchange text NOT NULL
);
CREATE INDEX instruments_load_id ON instruments_load (load_id);

-- Exchange freeze quantities (largest quantity per order) per underlying;
-- not in Kite's CSV.  NSE revises them from time to time: update the rows.
CREATE TABLE freeze_limits (
	underlying text PRIMARY KEY,
	freeze_qty integer NOT NULL CHECK (freeze_qty > 0),
	updated_ms bigint NOT NULL
);
INSERT INTO freeze_limits VALUES ('NIFTY', 1800, 0), ('BANKNIFTY', 900, 0),
	('FINNIFTY', 1800, 0);

-- What at-feed --record keeps beyond 0001's columns: the exchange's own
-- timestamp, the packet's mode, and the receive order within a millisecond.
ALTER TABLE ticks ADD COLUMN exchange_ts_ms bigint;
ALTER TABLE ticks ADD COLUMN mode smallint;
ALTER TABLE ticks ADD COLUMN seq bigint;

GRANT SELECT ON instruments, freeze_limits TO at_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON instruments, instruments_load,
	freeze_limits TO at_platform;
