-- at ledger, SQLite dialect, migration 2: market data (at-feed).
-- Mirrors sql/postgres/0004_feed.sql.

-- The broker's instrument master (Kite's CSV), replaced as a whole by
-- `at-feed --refresh-instruments` in one transaction.  Platform data, not
-- tenant data.  expiry is YYYY-MM-DD or NULL.
CREATE TABLE instruments (
	instrument_token integer PRIMARY KEY,
	exchange_token integer NOT NULL,
	tradingsymbol text NOT NULL,
	name text NOT NULL DEFAULT '',
	last_price real NOT NULL DEFAULT 0,
	expiry text,
	strike real NOT NULL DEFAULT 0,
	tick_size real NOT NULL DEFAULT 0,
	lot_size integer NOT NULL DEFAULT 0,
	instrument_type text NOT NULL,
	segment text NOT NULL,
	exchange text NOT NULL
);
CREATE INDEX instruments_symbol ON instruments (tradingsymbol, exchange);
CREATE INDEX instruments_chain ON instruments (name, expiry, strike);

-- Staging rows of a refresh in progress (load_id), swapped into
-- instruments in one transaction once every row is in.
CREATE TABLE instruments_load (
	load_id text NOT NULL,
	instrument_token integer NOT NULL,
	exchange_token integer NOT NULL,
	tradingsymbol text NOT NULL,
	name text NOT NULL DEFAULT '',
	last_price real NOT NULL DEFAULT 0,
	expiry text,
	strike real NOT NULL DEFAULT 0,
	tick_size real NOT NULL DEFAULT 0,
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
	updated_ms integer NOT NULL
);
INSERT INTO freeze_limits VALUES ('NIFTY', 1800, 0), ('BANKNIFTY', 900, 0),
	('FINNIFTY', 1800, 0);

-- What at-feed --record keeps beyond 0001's columns: the exchange's own
-- timestamp, the packet's mode, and the receive order within a millisecond.
ALTER TABLE ticks ADD COLUMN exchange_ts_ms integer;
ALTER TABLE ticks ADD COLUMN mode integer;
ALTER TABLE ticks ADD COLUMN seq integer;
