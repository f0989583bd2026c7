/*
 * test_kite: lib/kite without a network beyond loopback.
 *
 *  - the parsers against Zerodha's kiteconnect-mocks (response shapes from
 *    github.com/zerodha/kiteconnect-mocks @c7a8123, trimmed and compacted;
 *    see /work/shared/reference/kite/PROVENANCE.md), carried here as C
 *    strings so the test reads no file;
 *  - the envelope: every error_type, HTTP codes, 429, non-JSON bodies;
 *  - the checksum, form encoding (against curl_easy_escape), redaction of
 *    a login and an order trace;
 *  - the client against a scripted HTTP server on 127.0.0.1 (an ephemeral
 *    port) in a thread: headers, methods, the login flow and its failures,
 *    GET retries, and the order timeout -> lookup-by-tag path.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include <curl/curl.h>

#include "json.h"
#include "kite.h"
#include "log.h"
#include "t.h"
#include "totp.h"
#include "util.h"

static const char MOCK_ORDERS[] =
    "{\"status\":\"success\",\"data\":[{\"order_id\":\"100000000000000\",\"e"
    "xchange_order_id\":\"200000000000000\",\"parent_order_id\":null,\""
    "status\":\"CANCELLED\",\"status_message\":null,\"order_timestamp\":"
    "\"2021-05-31 09:18:57\",\"exchange_timestamp\":\"2021-05-31 09:15"
    ":38\",\"variety\":\"regular\",\"modified\":false,\"exchange\":\"CDS\",\""
    "tradingsymbol\":\"USDINR21JUNFUT\",\"instrument_token\":412675,\"o"
    "rder_type\":\"LIMIT\",\"transaction_type\":\"BUY\",\"validity\":\"DAY\""
    ",\"product\":\"NRML\",\"quantity\":1,\"disclosed_quantity\":0,\"price"
    "\":72,\"trigger_price\":0,\"average_price\":0,\"filled_quantity\":0"
    ",\"pending_quantity\":1,\"cancelled_quantity\":1,\"meta\":{},\"tag\""
    ":null},{\"order_id\":\"300000000000000\",\"exchange_order_id\":\"40"
    "0000000000000\",\"parent_order_id\":null,\"status\":\"COMPLETE\",\"s"
    "tatus_message\":null,\"order_timestamp\":\"2021-05-31 15:20:28\","
    "\"exchange_timestamp\":\"2021-05-31 15:20:28\",\"variety\":\"regula"
    "r\",\"modified\":false,\"exchange\":\"NSE\",\"tradingsymbol\":\"IOC\",\""
    "instrument_token\":415745,\"order_type\":\"LIMIT\",\"transaction_t"
    "ype\":\"BUY\",\"validity\":\"DAY\",\"product\":\"CNC\",\"quantity\":1,\"di"
    "sclosed_quantity\":0,\"price\":109.4,\"trigger_price\":0,\"average"
    "_price\":109.4,\"filled_quantity\":1,\"pending_quantity\":0,\"canc"
    "elled_quantity\":0,\"meta\":{},\"tag\":null},{\"order_id\":\"2205240"
    "01859672\",\"exchange_order_id\":null,\"parent_order_id\":null,\"s"
    "tatus\":\"REJECTED\",\"status_message\":\"Insufficient funds. Requ"
    "ired margin is 95417.84 but available margin is 74251.80. Ch"
    "eck the orderbook for open orders.\",\"order_timestamp\":\"2022-"
    "05-24 12:26:52\",\"exchange_timestamp\":null,\"variety\":\"iceberg"
    "\",\"modified\":false,\"exchange\":\"NSE\",\"tradingsymbol\":\"SBIN\",\""
    "instrument_token\":779521,\"order_type\":\"LIMIT\",\"transaction_t"
    "ype\":\"BUY\",\"validity\":\"TTL\",\"validity_ttl\":2,\"product\":\"CNC\""
    ",\"quantity\":200,\"disclosed_quantity\":0,\"price\":463,\"trigger_"
    "price\":0,\"average_price\":0,\"filled_quantity\":0,\"pending_quan"
    "tity\":0,\"cancelled_quantity\":0,\"meta\":{\"iceberg\":{\"leg\":1,\"l"
    "egs\":5,\"leg_quantity\":200,\"total_quantity\":1000,\"remaining_q"
    "uantity\":800}},\"tag\":\"icebergord\",\"tags\":[\"icebergord\"]},{\"o"
    "rder_id\":\"700000000000000\",\"exchange_order_id\":\"800000000000"
    "000\",\"parent_order_id\":null,\"status\":\"COMPLETE\",\"status_mess"
    "age\":null,\"order_timestamp\":\"2021-05-31 16:00:36\",\"exchange_"
    "timestamp\":\"2021-05-31 16:00:36\",\"variety\":\"regular\",\"modifi"
    "ed\":false,\"exchange\":\"MCX\",\"tradingsymbol\":\"GOLDPETAL21JUNFU"
    "T\",\"instrument_token\":58424839,\"order_type\":\"LIMIT\",\"transac"
    "tion_type\":\"BUY\",\"validity\":\"DAY\",\"product\":\"NRML\",\"quantity"
    "\":1,\"disclosed_quantity\":0,\"price\":4854,\"trigger_price\":0,\"a"
    "verage_price\":4852,\"filled_quantity\":1,\"pending_quantity\":0,"
    "\"cancelled_quantity\":0,\"meta\":{},\"tag\":\"connect test order1\""
    ",\"tags\":[\"connect test order1\"]},{\"order_id\":\"90000000000000"
    "00\",\"exchange_order_id\":\"1000000000000000\",\"parent_order_id\""
    ":null,\"status\":\"COMPLETE\",\"status_message\":null,\"order_times"
    "tamp\":\"2021-05-31 16:08:40\",\"exchange_timestamp\":\"2021-05-31"
    " 16:08:41\",\"variety\":\"regular\",\"modified\":false,\"exchange\":\""
    "MCX\",\"tradingsymbol\":\"GOLDPETAL21JUNFUT\",\"instrument_token\":"
    "58424839,\"order_type\":\"LIMIT\",\"transaction_type\":\"BUY\",\"vali"
    "dity\":\"DAY\",\"product\":\"NRML\",\"quantity\":1,\"disclosed_quantit"
    "y\":0,\"price\":4854,\"trigger_price\":0,\"average_price\":4852,\"fi"
    "lled_quantity\":1,\"pending_quantity\":0,\"cancelled_quantity\":0"
    ",\"meta\":{},\"tag\":\"connect test order2\",\"tags\":[\"connect test"
    " order2\",\"XXXXX\"]}]}";

static const char MOCK_ORDER_INFO[] =
    "{\"status\":\"success\",\"data\":[{\"average_price\":0,\"cancelled_qu"
    "antity\":0,\"disclosed_quantity\":0,\"exchange\":\"NSE\",\"exchange_"
    "order_id\":null,\"exchange_timestamp\":null,\"filled_quantity\":0"
    ",\"instrument_token\":1,\"order_id\":\"171229000724687\",\"order_ti"
    "mestamp\":\"2017-12-29 11:06:52\",\"order_type\":\"LIMIT\",\"parent_"
    "order_id\":null,\"pending_quantity\":1,\"placed_by\":\"DA0017\",\"pr"
    "ice\":300,\"product\":\"CNC\",\"quantity\":1,\"status\":\"PUT ORDER RE"
    "Q RECEIVED\",\"status_message\":null,\"tag\":null,\"tradingsymbol\""
    ":\"SBIN\",\"transaction_type\":\"BUY\",\"trigger_price\":0,\"validity"
    "\":\"DAY\",\"variety\":\"regular\",\"modified\":false},{\"average_pric"
    "e\":0,\"cancelled_quantity\":0,\"disclosed_quantity\":0,\"exchange"
    "\":\"NSE\",\"exchange_order_id\":null,\"exchange_timestamp\":null,\""
    "filled_quantity\":0,\"instrument_token\":779521,\"order_id\":\"171"
    "229000724687\",\"order_timestamp\":\"2017-12-29 11:06:52\",\"order"
    "_type\":\"LIMIT\",\"parent_order_id\":null,\"pending_quantity\":1,\""
    "placed_by\":\"DA0017\",\"price\":300,\"product\":\"CNC\",\"quantity\":1"
    ",\"status\":\"VALIDATION PENDING\",\"status_message\":null,\"tag\":n"
    "ull,\"tradingsymbol\":\"SBIN\",\"transaction_type\":\"BUY\",\"trigger"
    "_price\":0,\"validity\":\"DAY\",\"variety\":\"regular\",\"modified\":fa"
    "lse},{\"average_price\":0,\"cancelled_quantity\":0,\"disclosed_qu"
    "antity\":0,\"exchange\":\"NSE\",\"exchange_order_id\":null,\"exchang"
    "e_timestamp\":null,\"filled_quantity\":0,\"instrument_token\":779"
    "521,\"order_id\":\"171229000724687\",\"order_timestamp\":\"2017-12-"
    "29 11:06:52\",\"order_type\":\"LIMIT\",\"parent_order_id\":null,\"pe"
    "nding_quantity\":1,\"placed_by\":\"DA0017\",\"price\":300,\"product\""
    ":\"CNC\",\"quantity\":1,\"status\":\"OPEN PENDING\",\"status_message\""
    ":null,\"tag\":null,\"tradingsymbol\":\"SBIN\",\"transaction_type\":\""
    "BUY\",\"trigger_price\":0,\"validity\":\"DAY\",\"variety\":\"regular\","
    "\"modified\":false}]}";

static const char MOCK_ORDER_RESPONSE[] =
    "{\"status\":\"success\",\"data\":{\"order_id\":\"151220000000000\"}}";

static const char MOCK_TRADES[] =
    "{\"status\":\"success\",\"data\":[{\"trade_id\":\"10000000\",\"order_id"
    "\":\"200000000000000\",\"exchange\":\"NSE\",\"tradingsymbol\":\"SBIN\","
    "\"instrument_token\":779521,\"product\":\"CNC\",\"average_price\":42"
    "0.65,\"quantity\":1,\"exchange_order_id\":\"300000000000000\",\"tra"
    "nsaction_type\":\"BUY\",\"fill_timestamp\":\"2021-05-31 09:16:39\","
    "\"order_timestamp\":\"09:16:39\",\"exchange_timestamp\":\"2021-05-3"
    "1 09:16:39\"},{\"trade_id\":\"40000000\",\"order_id\":\"500000000000"
    "000\",\"exchange\":\"CDS\",\"tradingsymbol\":\"USDINR21JUNFUT\",\"inst"
    "rument_token\":412675,\"product\":\"MIS\",\"average_price\":72.755,"
    "\"quantity\":1,\"exchange_order_id\":\"600000000000000\",\"transact"
    "ion_type\":\"BUY\",\"fill_timestamp\":\"2021-05-31 11:18:27\",\"orde"
    "r_timestamp\":\"11:18:27\",\"exchange_timestamp\":\"2021-05-31 11:"
    "18:27\"},{\"trade_id\":\"70000000\",\"order_id\":\"800000000000000\","
    "\"exchange\":\"MCX\",\"tradingsymbol\":\"GOLDPETAL21JUNFUT\",\"instru"
    "ment_token\":58424839,\"product\":\"NRML\",\"average_price\":4852,\""
    "quantity\":1,\"exchange_order_id\":\"312115100078593\",\"transacti"
    "on_type\":\"BUY\",\"fill_timestamp\":\"2021-05-31 16:00:36\",\"order"
    "_timestamp\":\"16:00:36\",\"exchange_timestamp\":\"2021-05-31 16:0"
    "0:36\"},{\"trade_id\":\"90000000\",\"order_id\":\"1100000000000000\","
    "\"exchange\":\"MCX\",\"tradingsymbol\":\"GOLDPETAL21JUNFUT\",\"instru"
    "ment_token\":58424839,\"product\":\"NRML\",\"average_price\":4852,\""
    "quantity\":1,\"exchange_order_id\":\"1200000000000000\",\"transact"
    "ion_type\":\"BUY\",\"fill_timestamp\":\"2021-05-31 16:08:41\",\"orde"
    "r_timestamp\":\"16:08:41\",\"exchange_timestamp\":\"2021-05-31 16:"
    "08:41\"}]}";

static const char MOCK_ORDER_TRADES[] =
    "{\"status\":\"success\",\"data\":[{\"trade_id\":\"10000000\",\"order_id"
    "\":\"200000000000000\",\"exchange\":\"MCX\",\"tradingsymbol\":\"GOLDPE"
    "TAL21JUNFUT\",\"instrument_token\":58424839,\"product\":\"NRML\",\"a"
    "verage_price\":4852,\"quantity\":1,\"exchange_order_id\":\"3000000"
    "00000000\",\"transaction_type\":\"BUY\",\"fill_timestamp\":\"2021-05"
    "-31 16:00:36\",\"order_timestamp\":\"16:00:36\",\"exchange_timesta"
    "mp\":\"2021-05-31 16:00:36\"}]}";

static const char MOCK_POSITIONS[] =
    "{\"status\":\"success\",\"data\":{\"net\":[{\"tradingsymbol\":\"LEADMIN"
    "I17DECFUT\",\"exchange\":\"MCX\",\"instrument_token\":53496327,\"pro"
    "duct\":\"NRML\",\"quantity\":1,\"overnight_quantity\":0,\"multiplier"
    "\":1000,\"average_price\":161.05,\"close_price\":0,\"last_price\":1"
    "61.05,\"value\":-161050,\"pnl\":0,\"m2m\":0,\"unrealised\":0,\"realis"
    "ed\":0,\"buy_quantity\":1,\"buy_price\":161.05,\"buy_value\":161050"
    ",\"buy_m2m\":161050,\"sell_quantity\":0,\"sell_price\":0,\"sell_val"
    "ue\":0,\"sell_m2m\":0,\"day_buy_quantity\":1,\"day_buy_price\":161."
    "05,\"day_buy_value\":161050,\"day_sell_quantity\":0,\"day_sell_pr"
    "ice\":0,\"day_sell_value\":0},{\"tradingsymbol\":\"GOLDGUINEA17DEC"
    "FUT\",\"exchange\":\"MCX\",\"instrument_token\":53505799,\"product\":"
    "\"NRML\",\"quantity\":0,\"overnight_quantity\":3,\"multiplier\":1,\"a"
    "verage_price\":0,\"close_price\":23232,\"last_price\":23355,\"valu"
    "e\":801,\"pnl\":801,\"m2m\":276,\"unrealised\":801,\"realised\":0,\"bu"
    "y_quantity\":4,\"buy_price\":23139.75,\"buy_value\":92559,\"buy_m2"
    "m\":93084,\"sell_quantity\":4,\"sell_price\":23340,\"sell_value\":9"
    "3360,\"sell_m2m\":93360,\"day_buy_quantity\":1,\"day_buy_price\":2"
    "3388,\"day_buy_value\":23388,\"day_sell_quantity\":4,\"day_sell_p"
    "rice\":23340,\"day_sell_value\":93360},{\"tradingsymbol\":\"SBIN\","
    "\"exchange\":\"NSE\",\"instrument_token\":779521,\"product\":\"CO\",\"q"
    "uantity\":0,\"overnight_quantity\":0,\"multiplier\":1,\"average_pr"
    "ice\":0,\"close_price\":0,\"last_price\":308.4,\"value\":-2,\"pnl\":-"
    "2,\"m2m\":-2,\"unrealised\":-2,\"realised\":0,\"buy_quantity\":1,\"bu"
    "y_price\":311,\"buy_value\":311,\"buy_m2m\":311,\"sell_quantity\":1"
    ",\"sell_price\":309,\"sell_value\":309,\"sell_m2m\":309,\"day_buy_q"
    "uantity\":1,\"day_buy_price\":311,\"day_buy_value\":311,\"day_sell"
    "_quantity\":1,\"day_sell_price\":309,\"day_sell_value\":309}],\"da"
    "y\":[{\"tradingsymbol\":\"GOLDGUINEA17DECFUT\",\"exchange\":\"MCX\",\""
    "instrument_token\":53505799,\"product\":\"NRML\",\"quantity\":-3,\"o"
    "vernight_quantity\":0,\"multiplier\":1,\"average_price\":23340,\"c"
    "lose_price\":23232,\"last_price\":23355,\"value\":69972,\"pnl\":-93"
    ",\"m2m\":-93,\"unrealised\":-93,\"realised\":0,\"buy_quantity\":1,\"b"
    "uy_price\":23388,\"buy_value\":23388,\"buy_m2m\":23388,\"sell_quan"
    "tity\":4,\"sell_price\":23340,\"sell_value\":93360,\"sell_m2m\":933"
    "60,\"day_buy_quantity\":1,\"day_buy_price\":23388,\"day_buy_value"
    "\":23388,\"day_sell_quantity\":4,\"day_sell_price\":23340,\"day_se"
    "ll_value\":93360},{\"tradingsymbol\":\"LEADMINI17DECFUT\",\"exchan"
    "ge\":\"MCX\",\"instrument_token\":53496327,\"product\":\"NRML\",\"quan"
    "tity\":1,\"overnight_quantity\":0,\"multiplier\":1000,\"average_pr"
    "ice\":161.05,\"close_price\":0,\"last_price\":161.05,\"value\":-161"
    "050,\"pnl\":0,\"m2m\":0,\"unrealised\":0,\"realised\":0,\"buy_quantit"
    "y\":1,\"buy_price\":161.05,\"buy_value\":161050,\"buy_m2m\":161050,"
    "\"sell_quantity\":0,\"sell_price\":0,\"sell_value\":0,\"sell_m2m\":0"
    ",\"day_buy_quantity\":1,\"day_buy_price\":161.05,\"day_buy_value\""
    ":161050,\"day_sell_quantity\":0,\"day_sell_price\":0,\"day_sell_v"
    "alue\":0},{\"tradingsymbol\":\"SBIN\",\"exchange\":\"NSE\",\"instrumen"
    "t_token\":779521,\"product\":\"CO\",\"quantity\":0,\"overnight_quant"
    "ity\":0,\"multiplier\":1,\"average_price\":0,\"close_price\":0,\"las"
    "t_price\":308.4,\"value\":-2,\"pnl\":-2,\"m2m\":-2,\"unrealised\":-2,"
    "\"realised\":0,\"buy_quantity\":1,\"buy_price\":311,\"buy_value\":31"
    "1,\"buy_m2m\":311,\"sell_quantity\":1,\"sell_price\":309,\"sell_val"
    "ue\":309,\"sell_m2m\":309,\"day_buy_quantity\":1,\"day_buy_price\":"
    "311,\"day_buy_value\":311,\"day_sell_quantity\":1,\"day_sell_pric"
    "e\":309,\"day_sell_value\":309}]}}";

static const char MOCK_MARGINS[] =
    "{\"status\":\"success\",\"data\":{\"equity\":{\"enabled\":true,\"net\":9"
    "9725.05000000002,\"available\":{\"adhoc_margin\":0,\"cash\":245431"
    ".6,\"opening_balance\":245431.6,\"live_balance\":99725.050000000"
    "02,\"collateral\":0,\"intraday_payin\":0},\"utilised\":{\"debits\":1"
    "45706.55,\"exposure\":38981.25,\"m2m_realised\":761.7,\"m2m_unrea"
    "lised\":0,\"option_premium\":0,\"payout\":0,\"span\":101989,\"holdin"
    "g_sales\":0,\"turnover\":0,\"liquid_collateral\":0,\"stock_collate"
    "ral\":0,\"delivery\":0}},\"commodity\":{\"enabled\":true,\"net\":1006"
    "61.7,\"available\":{\"adhoc_margin\":0,\"cash\":100661.7,\"opening_"
    "balance\":100661.7,\"live_balance\":100661.7,\"collateral\":0,\"in"
    "traday_payin\":0},\"utilised\":{\"debits\":0,\"exposure\":0,\"m2m_re"
    "alised\":0,\"m2m_unrealised\":0,\"option_premium\":0,\"payout\":0,\""
    "span\":0,\"holding_sales\":0,\"turnover\":0,\"liquid_collateral\":0"
    ",\"stock_collateral\":0,\"delivery\":0}}}}";

static const char MOCK_MARGINS_EQUITY[] =
    "{\"status\":\"success\",\"data\":{\"enabled\":true,\"net\":99725.05000"
    "000002,\"available\":{\"adhoc_margin\":0,\"cash\":245431.6,\"openin"
    "g_balance\":245431.6,\"live_balance\":99725.05000000002,\"collat"
    "eral\":0,\"intraday_payin\":0},\"utilised\":{\"debits\":145706.55,\""
    "exposure\":38981.25,\"m2m_realised\":761.7,\"m2m_unrealised\":0,\""
    "option_premium\":0,\"payout\":0,\"span\":101989,\"holding_sales\":0"
    ",\"turnover\":0,\"liquid_collateral\":0,\"stock_collateral\":0,\"de"
    "livery\":0}}}";

static const char MOCK_QUOTE[] =
    "{\"status\":\"success\",\"data\":{\"NSE:INFY\":{\"instrument_token\":4"
    "08065,\"timestamp\":\"2021-06-08 15:45:56\",\"last_trade_time\":\"2"
    "021-06-08 15:45:52\",\"last_price\":1412.95,\"last_quantity\":5,\""
    "buy_quantity\":0,\"sell_quantity\":5191,\"volume\":7360198,\"avera"
    "ge_price\":1412.47,\"oi\":0,\"oi_day_high\":0,\"oi_day_low\":0,\"net"
    "_change\":0,\"lower_circuit_limit\":1250.7,\"upper_circuit_limit"
    "\":1528.6,\"ohlc\":{\"open\":1396,\"high\":1421.75,\"low\":1395.55,\"c"
    "lose\":1389.65},\"depth\":{\"buy\":[{\"price\":0,\"quantity\":0,\"orde"
    "rs\":0},{\"price\":0,\"quantity\":0,\"orders\":0},{\"price\":0,\"quant"
    "ity\":0,\"orders\":0},{\"price\":0,\"quantity\":0,\"orders\":0},{\"pri"
    "ce\":0,\"quantity\":0,\"orders\":0}],\"sell\":[{\"price\":1412.95,\"qu"
    "antity\":5191,\"orders\":13},{\"price\":0,\"quantity\":0,\"orders\":0"
    "},{\"price\":0,\"quantity\":0,\"orders\":0},{\"price\":0,\"quantity\":"
    "0,\"orders\":0},{\"price\":0,\"quantity\":0,\"orders\":0}]}}}}";

static const char MOCK_LTP[] =
    "{\"status\":\"success\",\"data\":{\"NSE:INFY\":{\"instrument_token\":4"
    "08065,\"last_price\":1074.35}}}";

static const char MOCK_OHLC[] =
    "{\"status\":\"success\",\"data\":{\"NSE:INFY\":{\"instrument_token\":4"
    "08065,\"last_price\":1075,\"ohlc\":{\"open\":1085.8,\"high\":1085.9,"
    "\"low\":1070.9,\"close\":1075.8}}}}";

static const char MOCK_PROFILE[] =
    "{\"status\":\"success\",\"data\":{\"user_id\":\"AB1234\",\"user_type\":\""
    "individual\",\"email\":\"xxxyyy@gmail.com\",\"user_name\":\"AxAx Bxx"
    "\",\"user_shortname\":\"AxAx\",\"broker\":\"ZERODHA\",\"exchanges\":[\"B"
    "FO\",\"MCX\",\"NSE\",\"CDS\",\"BSE\",\"BCD\",\"MF\",\"NFO\"],\"products\":"
    "[\"C"
    "NC\",\"NRML\",\"MIS\",\"BO\",\"CO\"],\"order_types\":[\"MARKET\","
    "\"LIMIT\","
    "\"SL\",\"SL-M\"],\"avatar_url\":null,\"meta\":{\"demat_consent\":\"phys"
    "ical\"}}}";

static const char MOCK_SESSION[] =
    "{\"status\":\"success\",\"data\":{\"user_type\":\"individual\",\"email\""
    ":\"XXXXXX\",\"user_name\":\"Kite Connect\",\"user_shortname\":\"Conne"
    "ct\",\"broker\":\"ZERODHA\",\"exchanges\":[\"NSE\",\"NFO\",\"BFO\","
    "\"CDS\","
    "\"BSE\",\"MCX\",\"BCD\",\"MF\"],\"products\":[\"CNC\",\"NRML\",\"MIS\","
    "\"BO\","
    "\"CO\"],\"order_types\":[\"MARKET\",\"LIMIT\",\"SL\",\"SL-M\"],\"avatar_u"
    "rl\":\"abc\",\"user_id\":\"XX0000\",\"api_key\":\"XXXXXX\",\"access_toke"
    "n\":\"XXXXXX\",\"public_token\":\"XXXXXXXX\",\"enctoken\":\"XXXXXX\",\"r"
    "efresh_token\":\"\",\"silo\":\"\",\"login_time\":\"2021-01-01 16:15:14"
    "\",\"meta\":{\"demat_consent\":\"physical\"}}}";

static const char MOCK_HOLDINGS[] =
    "{\"status\":\"success\",\"data\":[{\"tradingsymbol\":\"AARON\",\"exchan"
    "ge\":\"NSE\",\"instrument_token\":263681,\"isin\":\"INE721Z01010\",\"p"
    "roduct\":\"CNC\",\"price\":0,\"quantity\":1,\"used_quantity\":0,\"t1_q"
    "uantity\":0,\"realised_quantity\":1,\"authorised_quantity\":0,\"au"
    "thorised_date\":\"2025-01-17 00:00:00\",\"authorisation\":{},\"ope"
    "ning_quantity\":1,\"short_quantity\":0,\"collateral_quantity\":0,"
    "\"collateral_type\":\"\",\"discrepancy\":false,\"average_price\":161"
    ",\"last_price\":352.95,\"close_price\":352.35,\"pnl\":191.95,\"day_"
    "change\":0.5999999999999659,\"day_change_percentage\":0.1702852"
    "2775648244,\"mtf\":{\"quantity\":1000,\"used_quantity\":0,\"average"
    "_price\":100,\"value\":100000,\"initial_margin\":0}},{\"tradingsym"
    "bol\":\"SBIN\",\"exchange\":\"BSE\",\"instrument_token\":128028676,\"i"
    "sin\":\"INE062A01020\",\"product\":\"CNC\",\"price\":0,\"quantity\":16,"
    "\"used_quantity\":0,\"t1_quantity\":0,\"realised_quantity\":16,\"au"
    "thorised_quantity\":0,\"authorised_date\":\"2025-01-17 00:00:00\""
    ",\"authorisation\":{},\"opening_quantity\":16,\"short_quantity\":0"
    ",\"collateral_quantity\":0,\"collateral_type\":\"\",\"discrepancy\":"
    "false,\"average_price\":801.78125,\"last_price\":762.45,\"close_p"
    "rice\":766.4,\"pnl\":-629.2999999999993,\"day_change\":-3.9499999"
    "99999932,\"day_change_percentage\":-0.5153966597077155,\"mtf\":{"
    "\"quantity\":0,\"used_quantity\":0,\"average_price\":0,\"value\":0,\""
    "initial_margin\":0}}]}";

static const char MOCK_LOGOUT[] = "{\"status\":\"success\",\"data\":true}";

static const char MOCK_INSTRUMENTS[] =
    "instrument_token,exchange_token,tradingsymbol,name,last_pric"
    "e,expiry,strike,tick_size,lot_size,instrument_type,segment,e"
    "xchange\n3813889,14898,CENTRALBK-BE,CENTRAL BANK OF INDIA,0.0"
    ",,0.0,0.05,1,EQ,NSE,NSE\n4645121,18145,EMMBI-BL,EMMBI INDUSTR"
    "IES,0.0,,0.0,0.05,1,EQ,NSE,NSE\n4531969,17703,MIDCAPIWIN-BL,I"
    "CICI PRU MIDCAP IWIN ETF,0.0,,0.0,0.01,1,EQ,NSE,NSE\n12073986"
    ",47164,BANKNIFTY18JAN23500CE,,2528.4,2018-01-25,23500.0,0.05"
    ",40,CE,NFO-OPT,NFO\n13693186,53489,ADANIPORTS17DEC490PE,,80.6"
    "5,2017-12-28,490.0,0.05,2500,PE,NFO-OPT,NFO\n12074242,47165,B"
    "ANKNIFTY18JAN23500PE,,35.15,2018-01-25,23500.0,0.05,40,PE,NF"
    "O-OPT,NFO\n";

/* 12073986,47164,BANKNIFTY18JAN23500CE,,2528.4,2018-01-25,23500.0,0.05,40,CE,NFO-OPT,NFO
 * |
 * 13693186,53489,ADANIPORTS17DEC490PE,,80.65,2017-12-28,490.0,0.05,2500,PE,NFO-OPT,NFO
 * |
 * 12074242,47165,BANKNIFTY18JAN23500PE,,35.15,2018-01-25,23500.0,0.05,40,PE,NFO-OPT,NFO
 */

/* ---- parsers against the mocks ------------------------------------------ */

static jv data_of(const char *body)
{
	struct at_kite_error ke;
	at_err e;
	jv d;

	if (at_kite_envelope(200, body, strlen(body), &d, &ke, &e) < 0) {
		printf("# envelope: %s\n", e.msg);
		return jv_null();
	}
	return d;
}

static void test_orders(void)
{
	struct at_kite_order *o = NULL;
	size_t n = 0;
	at_err e;
	jv d = data_of(MOCK_ORDERS);

	T_EQ_INT(at_kite_parse_orders(d, &o, &n, &e), 0, "orders.json parses");
	T_EQ_INT(n, 5, "orders: 5 orders");
	if (n == 5) {
		T_EQ_STR(o[0].order_id, "100000000000000", "orders[0] id");
		T_EQ_STR(o[0].status, "CANCELLED", "orders[0] status");
		T_EQ_STR(o[0].tag, "", "orders[0] null tag is empty");
		T_EQ_STR(o[0].tradingsymbol, "USDINR21JUNFUT", "orders[0] sym");
		T_EQ_STR(o[0].exchange, "CDS", "orders[0] exchange");
		T_EQ_INT(o[0].pending_quantity, 1, "orders[0] pending");
		T_EQ_INT(o[0].cancelled_quantity, 1, "orders[0] cancelled");
		T_NEAR(o[0].price, 72, 1e-9, "orders[0] price");
		T_EQ_STR(o[1].status, "COMPLETE", "orders[1] status");
		T_EQ_INT(o[1].filled_quantity, 1, "orders[1] filled");
		T_NEAR(o[1].average_price, 109.4, 1e-9, "orders[1] avg");
		T_EQ_STR(o[1].product, "CNC", "orders[1] product");
		T_EQ_STR(o[1].transaction_type, "BUY", "orders[1] side");
		T_EQ_STR(o[2].variety, "iceberg", "orders[2] variety");
		T_EQ_STR(o[2].tag, "icebergord", "orders[2] tag");
		T_EQ_STR(o[2].validity, "TTL", "orders[2] validity");
		T_OK(strncmp(o[2].status_message, "Insufficient funds.", 19) ==
			 0,
		     "orders[2] status_message");
		T_EQ_STR(o[2].exchange_order_id, "", "null exchange_order_id");
		T_EQ_INT(o[2].quantity, 200, "orders[2] quantity");
		T_EQ_STR(o[3].tag, "connect test order1", "orders[3] tag");
		T_NEAR(o[4].average_price, 4852, 1e-9, "orders[4] avg");
	}
	free(o);
	jv_free(d);

	d = data_of(MOCK_ORDER_INFO);
	T_EQ_INT(at_kite_parse_orders(d, &o, &n, &e), 0, "order_info parses");
	T_EQ_INT(n, 3, "order_info: 3 states");
	if (n == 3) {
		T_EQ_STR(o[0].status, "PUT ORDER REQ RECEIVED", "state 0");
		T_EQ_STR(o[1].status, "VALIDATION PENDING", "state 1");
		T_EQ_STR(o[0].order_id, "171229000724687", "history id");
	}
	free(o);
	jv_free(d);

	/* errors name the element and field */
	T_OK(at_json_parse("[{\"order_id\":\"1\",\"quantity\":\"x\"}]", 33, &d,
			   "t", &e) == 0,
	     "bad order json");
	T_EQ_INT(at_kite_parse_orders(d, &o, &n, &e), -1, "bad quantity fails");
	T_EQ_STR(e.msg,
		 "orders[0]: field \"quantity\": expected integer, got "
		 "string",
		 "error names the element");
	jv_free(d);
	T_OK(at_json_parse("[{\"status\":\"OPEN\"}]", 19, &d, "t", &e) == 0,
	     "order without id json");
	T_EQ_INT(at_kite_parse_orders(d, &o, &n, &e), -1, "order_id required");
	jv_free(d);
	T_OK(at_json_parse("[{\"order_id\":\"1\",\"tag\":"
			   "\"012345678901234567890123456789\"}]",
			   57, &d, "t", &e) == 0,
	     "long tag json");
	T_EQ_INT(at_kite_parse_orders(d, &o, &n, &e), -1,
		 "over-long tag fails");
	jv_free(d);
}

static void test_trades(void)
{
	struct at_kite_trade *t = NULL;
	size_t n = 0;
	at_err e;
	jv d = data_of(MOCK_TRADES);

	T_EQ_INT(at_kite_parse_trades(d, &t, &n, &e), 0, "trades.json parses");
	T_OK(n >= 3, "trades: several");
	if (n >= 3) {
		T_EQ_STR(t[0].trade_id, "10000000", "trade id");
		T_EQ_STR(t[0].tradingsymbol, "SBIN", "trade sym");
		T_NEAR(t[0].average_price, 420.65, 1e-9, "trade avg");
		T_NEAR(t[1].average_price, 72.755, 1e-9, "trade 1 avg");
		T_EQ_STR(t[1].product, "MIS", "trade 1 product");
	}
	free(t);
	jv_free(d);
	d = data_of(MOCK_ORDER_TRADES);
	T_EQ_INT(at_kite_parse_trades(d, &t, &n, &e), 0, "order_trades parses");
	T_EQ_INT(n, 1, "order_trades: one");
	if (n == 1) {
		T_EQ_STR(t[0].order_id, "200000000000000", "order_trades id");
		T_EQ_STR(t[0].exchange, "MCX", "order_trades exchange");
		T_EQ_INT(t[0].instrument_token, 58424839, "token");
		T_EQ_STR(t[0].fill_timestamp, "2021-05-31 16:00:36", "fill ts");
	}
	free(t);
	jv_free(d);
}

static void test_positions_margins(void)
{
	struct at_kite_positions p;
	struct at_kite_margins m;
	struct at_kite_holding *h = NULL;
	size_t n;
	at_err e;
	jv d = data_of(MOCK_POSITIONS);

	T_EQ_INT(at_kite_parse_positions(d, &p, &e), 0, "positions parse");
	T_EQ_INT(p.n_net, 3, "3 net");
	T_EQ_INT(p.n_day, 3, "3 day");
	if (p.n_net == 3 && p.n_day == 3) {
		T_EQ_STR(p.net[0].tradingsymbol, "LEADMINI17DECFUT", "net sym");
		T_EQ_INT(p.net[0].quantity, 1, "net qty");
		T_NEAR(p.net[0].average_price, 161.05, 1e-9, "net avg");
		T_NEAR(p.net[0].multiplier, 1000, 1e-9, "multiplier");
		T_NEAR(p.net[1].pnl, 801, 1e-9, "net pnl");
		T_NEAR(p.net[1].last_price, 23355, 1e-9, "net ltp");
		T_EQ_STR(p.net[2].product, "CO", "net product");
		T_EQ_STR(p.day[0].tradingsymbol, "GOLDGUINEA17DECFUT", "day");
		T_EQ_INT(p.day[0].quantity, -3, "day short qty");
		T_NEAR(p.day[0].pnl, -93, 1e-9, "day pnl");
		T_EQ_STR(p.day[0].exchange, "MCX", "day exchange");
	}
	at_kite_positions_release(&p);
	jv_free(d);

	d = data_of(MOCK_MARGINS);
	T_EQ_INT(at_kite_parse_margins(d, NULL, &m, &e), 0, "margins parse");
	T_OK(m.has_equity && m.has_commodity, "both segments");
	T_NEAR(m.equity.net, 99725.05000000002, 1e-6, "equity net");
	T_NEAR(m.equity.cash, 245431.6, 1e-6, "equity cash");
	T_NEAR(m.equity.live_balance, 99725.05, 1e-6, "equity live");
	T_NEAR(m.equity.debits, 145706.55, 1e-6, "equity debits");
	T_NEAR(m.equity.span, 101989, 1e-6, "equity span");
	T_NEAR(m.equity.exposure, 38981.25, 1e-6, "equity exposure");
	T_NEAR(m.commodity.net, 100661.7, 1e-6, "commodity net");
	T_OK(m.equity.enabled, "equity enabled");
	jv_free(d);
	d = data_of(MOCK_MARGINS_EQUITY);
	T_EQ_INT(at_kite_parse_margins(d, "equity", &m, &e), 0,
		 "margins/equity parses");
	T_OK(m.has_equity && !m.has_commodity, "one segment");
	T_NEAR(m.equity.m2m_realised, 761.7, 1e-6, "m2m realised");
	jv_free(d);

	d = data_of(MOCK_HOLDINGS);
	T_EQ_INT(at_kite_parse_holdings(d, &h, &n, &e), 0, "holdings parse");
	T_EQ_INT(n, 2, "2 holdings");
	if (n == 2) {
		T_EQ_STR(h[0].isin, "INE721Z01010", "isin");
		T_EQ_STR(h[1].tradingsymbol, "SBIN", "holding sym");
		T_EQ_INT(h[1].quantity, 16, "holding qty");
		T_NEAR(h[1].average_price, 801.78125, 1e-9, "holding avg");
	}
	free(h);
	jv_free(d);
}

static void test_quotes_profile(void)
{
	struct at_kite_quote *q = NULL;
	struct at_kite_profile pr;
	char id[AT_KITE_ID_MAX];
	size_t n;
	at_err e;
	jv d = data_of(MOCK_QUOTE);

	T_EQ_INT(at_kite_parse_quotes(d, &q, &n, &e), 0, "quote parses");
	T_EQ_INT(n, 1, "one quote");
	if (n == 1) {
		T_EQ_STR(q[0].key, "NSE:INFY", "quote key");
		T_EQ_INT(q[0].instrument_token, 408065, "quote token");
		T_NEAR(q[0].last_price, 1412.95, 1e-9, "quote ltp");
		T_EQ_INT(q[0].volume, 7360198, "quote volume");
		T_OK(q[0].has_ohlc && q[0].has_depth, "ohlc and depth");
		T_NEAR(q[0].open, 1396, 1e-9, "open");
		T_NEAR(q[0].close, 1389.65, 1e-9, "close");
		T_NEAR(q[0].sell[0].price, 1412.95, 1e-9, "best ask");
		T_EQ_INT(q[0].sell[0].quantity, 5191, "ask qty");
		T_EQ_INT(q[0].sell[0].orders, 13, "ask orders");
		T_NEAR(q[0].upper_circuit_limit, 1528.6, 1e-9, "upper circuit");
		T_EQ_STR(q[0].last_trade_time, "2021-06-08 15:45:52", "ltt");
	}
	free(q);
	jv_free(d);
	d = data_of(MOCK_LTP);
	T_EQ_INT(at_kite_parse_quotes(d, &q, &n, &e), 0, "ltp parses");
	T_OK(n == 1 && q[0].last_price == 1074.35 && !q[0].has_ohlc,
	     "ltp value");
	free(q);
	jv_free(d);
	d = data_of(MOCK_OHLC);
	T_EQ_INT(at_kite_parse_quotes(d, &q, &n, &e), 0, "ohlc parses");
	T_OK(n == 1 && q[0].has_ohlc && q[0].high == 1085.9 &&
		 q[0].low == 1070.9 && q[0].last_price == 1075,
	     "ohlc values");
	free(q);
	jv_free(d);

	d = data_of(MOCK_PROFILE);
	T_EQ_INT(at_kite_parse_profile(d, &pr, &e), 0, "profile parses");
	T_EQ_STR(pr.user_id, "AB1234", "profile user_id");
	T_EQ_STR(pr.user_shortname, "AxAx", "profile shortname");
	T_EQ_STR(pr.broker, "ZERODHA", "profile broker");
	jv_free(d);

	d = data_of(MOCK_ORDER_RESPONSE);
	T_EQ_INT(at_kite_parse_order_id(d, id, &e), 0, "order_response");
	T_EQ_STR(id, "151220000000000", "order_response id");
	jv_free(d);
	d = data_of(MOCK_LOGOUT);
	T_OK(jv_get_kind(d) == JV_KIND_TRUE, "session_logout data true");
	T_EQ_INT(at_kite_parse_order_id(d, id, &e), -1, "true is no order id");
	jv_free(d);
}

static void test_session_parse(void)
{
	struct at_kite_session s;
	at_err e;
	static const char bad[] = "{\"status\":\"success\",\"data\":{"
				  "\"user_id\":\"AB1\"}}";

	T_EQ_INT(
	    at_kite_parse_session(MOCK_SESSION, strlen(MOCK_SESSION), &s, &e),
	    0, "generate_session parses");
	T_EQ_STR(s.user_id, "XX0000", "session user_id");
	T_EQ_STR(s.access_token, "XXXXXX", "session access_token");
	T_EQ_STR(s.public_token, "XXXXXXXX", "session public_token");
	T_EQ_STR(s.login_time, "2021-01-01 16:15:14", "session login_time");
	at_kite_session_wipe(&s);
	T_OK(s.access_token[0] == '\0' && s.user_id[0] == '\0', "wiped");
	T_EQ_INT(at_kite_parse_session(bad, strlen(bad), &s, &e), -1,
		 "session without access_token fails");
	T_EQ_STR(e.msg, "session: field \"access_token\" is required",
		 "names the field");
	T_EQ_INT(at_kite_parse_session("{}", 2, &s, &e), -1, "empty object");
}

static void test_instruments(void)
{
	struct at_kite_instrument *in = NULL, one;
	struct at_kite_csv_cols cols;
	size_t n = 0;
	at_err e;
	static const char hdr2[] =
	    "exchange,segment,instrument_type,lot_size,tick_size,strike,"
	    "expiry,last_price,name,tradingsymbol,exchange_token,"
	    "instrument_token,extra";
	static const char row2[] = "NSE,INDICES,EQ,0,0.0,0.0,,22450.05,\"NIFTY "
				   "50, \"\"the index\"\"\",NIFTY 50,26000,"
				   "256265,x\r\n";

	T_EQ_INT(at_kite_parse_instruments(
		     MOCK_INSTRUMENTS, strlen(MOCK_INSTRUMENTS), &in, &n, &e),
		 0, "instruments csv parses");
	T_EQ_INT(n, 6, "6 rows");
	if (n == 6) {
		T_EQ_INT(in[0].instrument_token, 3813889, "row 0 token");
		T_EQ_INT(in[0].exchange_token, 14898, "row 0 exchange_token");
		T_EQ_STR(in[0].tradingsymbol, "CENTRALBK-BE", "row 0 sym");
		T_EQ_STR(in[0].name, "CENTRAL BANK OF INDIA", "row 0 name");
		T_EQ_STR(in[0].expiry, "", "row 0 no expiry");
		T_NEAR(in[0].tick_size, 0.05, 1e-12, "row 0 tick");
		T_EQ_STR(in[3].tradingsymbol, "BANKNIFTY18JAN23500CE", "opt");
		T_NEAR(in[3].last_price, 2528.4, 1e-9, "opt ltp");
		T_EQ_STR(in[3].expiry, "2018-01-25", "opt expiry");
		T_NEAR(in[3].strike, 23500, 1e-9, "opt strike");
		T_EQ_INT(in[3].lot_size, 40, "opt lot");
		T_EQ_STR(in[3].instrument_type, "CE", "opt type");
		T_EQ_STR(in[3].segment, "NFO-OPT", "opt segment");
		T_EQ_STR(in[3].exchange, "NFO", "opt exchange");
		T_EQ_INT(in[4].lot_size, 2500, "row 4 lot");
	}
	free(in);

	T_EQ_INT(at_kite_parse_instrument_header(hdr2, strlen(hdr2), &cols, &e),
		 0, "reordered header with an extra column");
	T_EQ_INT(cols.ncols, 13, "13 columns");
	T_EQ_INT(
	    at_kite_parse_instrument_line(row2, strlen(row2), &cols, &one, &e),
	    0, "quoted field with comma and quotes");
	T_EQ_STR(one.name, "NIFTY 50, \"the index\"", "rfc 4180 unquoting");
	T_EQ_INT(one.instrument_token, 256265, "mapped by name");
	T_NEAR(one.last_price, 22450.05, 1e-9, "ltp by name");

	T_EQ_INT(at_kite_parse_instrument_header("instrument_token,name", 21,
						 &cols, &e),
		 -1, "header missing columns");
	T_EQ_STR(e.msg, "header: missing column \"exchange_token\"",
		 "names the missing column");
	T_EQ_INT(at_kite_parse_instruments("instrument_token,exchange_token,"
					   "tradingsymbol,name,last_price,"
					   "expiry,strike,tick_size,lot_size,"
					   "instrument_type,segment,exchange\n"
					   "1,2,A,,x,,0,0.05,1,EQ,NSE,NSE\n",
					   158, &in, &n, &e),
		 -1, "bad last_price");
	T_EQ_STR(e.msg, "instruments:2: field \"last_price\": expected number",
		 "error names line and field");
	T_EQ_INT(at_kite_parse_instruments("instrument_token,exchange_token,"
					   "tradingsymbol,name,last_price,"
					   "expiry,strike,tick_size,lot_size,"
					   "instrument_type,segment,exchange\n"
					   "1,2,A,,0,,0,0.05,1,EQ,NSE\n",
					   154, &in, &n, &e),
		 -1, "short row");
	T_EQ_INT(at_kite_parse_instruments("", 0, &in, &n, &e), -1,
		 "empty dump");
}

/* ---- envelope and status ------------------------------------------------ */

static void test_envelope(void)
{
	static const struct {
		const char *type;
		long http;
		enum at_kite_status want;
		const char *name;
	} tab[] = {
	    {"TokenException", 403, AT_KITE_TOKEN, "token"},
	    {"InputException", 400, AT_KITE_INPUT, "input"},
	    {"OrderException", 400, AT_KITE_ORDER, "order"},
	    {"NetworkException", 502, AT_KITE_NETWORK, "network"},
	    {"DataException", 502, AT_KITE_DATA, "data"},
	    {"PermissionException", 403, AT_KITE_PERMISSION, "permission"},
	    {"UserException", 403, AT_KITE_USER, "user"},
	    {"TwoFAException", 400, AT_KITE_TWOFA, "twofa"},
	    {"MarginException", 400, AT_KITE_MARGIN, "margin"},
	    {"GeneralException", 500, AT_KITE_GENERAL, "general"},
	    {"NetworkException", 429, AT_KITE_RATE_LIMITED, "rate_limited"},
	    {"NoSuchException", 400, AT_KITE_INPUT, "input"},
	    {"NoSuchException", 200, AT_KITE_GENERAL, "general"},
	};
	struct at_kite_error ke;
	at_buf b = AT_BUF_INIT;
	at_err e;
	jv d;

	for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		at_buf_reset(&b);
		at_buf_printf(&b,
			      "{\"status\":\"error\",\"message\":\"Broker says "
			      "no %zu\",\"data\":null,\"error_type\":\"%s\"}",
			      i, tab[i].type);
		T_EQ_INT(
		    at_kite_envelope(tab[i].http, b.data, b.len, &d, &ke, &e),
		    -1, "%s http %ld is an error", tab[i].type, tab[i].http);
		T_EQ_INT(ke.status, tab[i].want, "%s http %ld -> %s",
			 tab[i].type, tab[i].http, tab[i].name);
		T_EQ_STR(at_kite_status_name(ke.status), tab[i].name,
			 "status name of %s", tab[i].type);
		T_EQ_STR(ke.error_type, tab[i].type, "error_type kept");
		T_EQ_INT(ke.http, tab[i].http, "http kept");
		T_OK(strstr(ke.message, "Broker says no") != NULL,
		     "broker message kept");
		T_EQ_INT(e.code, at_kite_status_exit(tab[i].want),
			 "exit code for %s", tab[i].name);
		T_OK(jv_get_kind(d) == JV_KIND_INVALID, "no data on error");
	}
	T_EQ_INT(at_kite_envelope(400,
				  "{\"status\":\"error\",\"message\":"
				  "\"Invalid `quantity`.\",\"error_type\":"
				  "\"InputException\"}",
				  80, &d, &ke, &e),
		 -1, "input error");
	T_EQ_STR(e.msg, "InputException: Invalid `quantity`. (http 400)",
		 "error message format");
	T_EQ_INT(e.code, EX_DATAERR, "input -> EX_DATAERR");

	/* HTTP codes without a JSON body */
	static const struct {
		long http;
		const char *body;
		enum at_kite_status want;
	} raw[] = {
	    {502, "<html><body>502 Bad Gateway</body></html>", AT_KITE_NETWORK},
	    {503, "Service Unavailable", AT_KITE_NETWORK},
	    {504, "", AT_KITE_NETWORK},
	    {500, "oops", AT_KITE_GENERAL},
	    {429, "Too many requests", AT_KITE_RATE_LIMITED},
	    {403, "<html>forbidden</html>", AT_KITE_TOKEN},
	    {400, "bad", AT_KITE_INPUT},
	    {404, "not found", AT_KITE_INPUT},
	    {200, "<html>captive portal</html>", AT_KITE_PROTOCOL},
	    {200, "[1,2]", AT_KITE_PROTOCOL},
	    {200, "{\"data\":{}}", AT_KITE_PROTOCOL},
	    {503, "{\"status\":\"error\",\"message\":\"down\"}",
	     AT_KITE_NETWORK},
	};
	for (size_t i = 0; i < sizeof(raw) / sizeof(raw[0]); i++) {
		T_EQ_INT(at_kite_envelope(raw[i].http, raw[i].body,
					  strlen(raw[i].body), &d, &ke, &e),
			 -1, "http %ld \"%.12s\" is an error", raw[i].http,
			 raw[i].body);
		T_EQ_STR(at_kite_status_name(ke.status),
			 at_kite_status_name(raw[i].want), "http %ld -> %s",
			 raw[i].http, at_kite_status_name(raw[i].want));
	}
	T_EQ_INT(at_kite_envelope(502, "<html>x</html>", 14, &d, &ke, &e), -1,
		 "502 html");
	T_EQ_STR(e.msg, "network: non-json response (http 502)",
		 "non-json message");
	T_EQ_INT(
	    at_kite_envelope(200, "{\"status\":\"success\"}", 20, &d, &ke, &e),
	    0, "success without data");
	T_OK(jv_get_kind(d) == JV_KIND_NULL, "data null");
	jv_free(d);
	T_EQ_INT(at_kite_envelope(200, "{\"status\":\"success\",\"data\":[1]}",
				  31, &d, &ke, &e),
		 0, "success with data");
	T_OK(jv_get_kind(d) == JV_KIND_ARRAY, "data array");
	jv_free(d);
	/* messages stay on one line and never carry a secret */
	T_EQ_INT(at_kite_envelope(400,
				  "{\"status\":\"error\",\"message\":"
				  "\"bad\\naccess_token=abc123\","
				  "\"error_type\":\"InputException\"}",
				  85, &d, &ke, &e),
		 -1, "message with newline and token");
	T_OK(strchr(ke.message, '\n') == NULL && !strstr(e.msg, "abc123"),
	     "one line, redacted");

	T_EQ_STR(at_kite_status_name(AT_KITE_BAD_PASSWORD), "bad_password",
		 "bad_password name");
	T_EQ_STR(at_kite_status_name(AT_KITE_BAD_TOTP), "bad_totp", "totp");
	T_EQ_STR(at_kite_status_name(AT_KITE_BAD_API_SECRET), "bad_api_secret",
		 "api secret");
	T_EQ_STR(at_kite_status_name(AT_KITE_STATUS_COUNT), "unknown",
		 "out of range");
	T_EQ_STR(at_kite_status_error_type(AT_KITE_MARGIN), "MarginException",
		 "error type of margin");
	T_OK(at_kite_status_error_type(AT_KITE_TIMEOUT) == NULL,
	     "timeout has no error_type");
	for (int s = 0; s < AT_KITE_STATUS_COUNT; s++)
		T_OK(strcmp(at_kite_status_name((enum at_kite_status)s),
			    "unknown") != 0 &&
			 (s == 0) ==
			     (at_kite_status_exit((enum at_kite_status)s) == 0),
		     "status %d has a name and an exit code", s);
	at_buf_release(&b);
}

/* ---- checksum, form, redaction ------------------------------------------ */

static void test_checksum_form(void)
{
	char sum[65];
	at_buf b = AT_BUF_INIT;
	CURL *h = curl_easy_init();
	char all[256];

	/* python3: hashlib.sha256(b"kitefrontAbCdEf123secret456") */
	at_kite_checksum("kitefront", "AbCdEf123", "secret456", sum);
	T_EQ_STR(sum,
		 "67358ab4e9938f9065563bb66ed6b6572ce2a63f5e7f29ad51946a5d8f9"
		 "03057",
		 "checksum = sha256(api_key+request_token+api_secret)");

	at_kite_form_add(&b, "user_id", "AB1234");
	at_kite_form_add(&b, "password", "p@ss w&rd=+%");
	at_kite_form_add(&b, "tag", "intent-1_a.b~c");
	T_EQ_STR(b.data,
		 "user_id=AB1234&password=p%40ss%20w%26rd%3D%2B%25&tag=intent-"
		 "1_a.b~c",
		 "form encoding");
	T_EQ_INT(at_kite_form_len(0, "a", "b c"), 7, "form_len first");
	T_EQ_INT(at_kite_form_len(5, "a", "b"), 4, "form_len with '&'");
	at_buf_reset(&b);
	for (int i = 1; i < 256; i++)
		all[i - 1] = (char)i;
	all[255] = '\0';
	at_kite_form_add(&b, "k", all);
	{
		char *c = curl_easy_escape(h, all, 255);

		T_OK(c != NULL && strcmp(b.data + 2, c) == 0,
		     "every byte encodes as curl_easy_escape does");
		curl_free(c);
	}
	curl_easy_cleanup(h);
	at_buf_release(&b);
}

/* Secrets used in the traces and the fake broker below. */
#define S_PASSWORD "hunter2-Pass"
#define S_TOTP "JBSWY3DPEHPK3PXP"
#define S_API_SECRET "apisecret0987654321"
#define S_REQUEST_TOKEN "RTsecret42"
#define S_ACCESS_TOKEN "ATsecretXYZ"
#define S_ENCTOKEN "ENCsecretTOKEN"
#define S_CHECKSUM "c0ffee00c0ffee11"

static const char *const secrets[] = {
    S_PASSWORD,	    "hunter2",	  S_API_SECRET, S_REQUEST_TOKEN,
    S_ACCESS_TOKEN, S_ENCTOKEN,	  S_CHECKSUM,	"123456",
    "PUBsecret",    "REFRsecret", NULL};

static const char login_trace[] =
    "> GET /connect/login?v=3&api_key=kiteapikey HTTP/1.1\r\n"
    "< HTTP/1.1 302 Found\r\n"
    "< Location: https://kite.zerodha.com/connect/"
    "login?api_key=kiteapikey&sess_id=S1\r\n"
    "> POST /api/login HTTP/1.1\r\n"
    ">> user_id=AB1234&password=" S_PASSWORD "\n"
    "<< {\"status\":\"success\",\"data\":{\"user_id\":\"AB1234\","
    "\"request_id\":\"R1\"}}\n"
    ">> user_id=AB1234&request_id=R1&twofa_value=123456&twofa_type=totp\n"
    "< Set-Cookie: enctoken=" S_ENCTOKEN "; path=/; secure\r\n"
    "> Cookie: enctoken=" S_ENCTOKEN "; kf_session=abc\r\n"
    "< location: http://127.0.0.1/at-callback?action=login&status=success&"
    "request_token=" S_REQUEST_TOKEN "\r\n"
    "* Issue another request to this URL: "
    "'http://127.0.0.1/cb?request_token=" S_REQUEST_TOKEN "'\n"
    ">> api_key=kiteapikey&request_token=" S_REQUEST_TOKEN
    "&checksum=" S_CHECKSUM "\n"
    "<< {\"status\":\"success\",\"data\":{\"user_id\":\"AB1234\","
    "\"access_token\": \"" S_ACCESS_TOKEN "\",\"public_token\":\"PUBsecret\","
    "\"refresh_token\":\"REFRsecret\",\"enctoken\":\"" S_ENCTOKEN "\","
    "\"api_secret\":\"" S_API_SECRET "\",\"twofa_value\":123456}}\n"
    "> DELETE /session/token?api_key=kiteapikey&access_token=" S_ACCESS_TOKEN
    " HTTP/1.1\r\n";

static const char order_trace[] =
    "> POST /orders/regular HTTP/1.1\r\n"
    "> Host: api.kite.trade\r\n"
    "> X-Kite-Version: 3\r\n"
    "> Authorization: token kiteapikey:" S_ACCESS_TOKEN "\r\n"
    "> authorization: enctoken " S_ENCTOKEN "\r\n"
    ">> tradingsymbol=INFY&exchange=NSE&transaction_type=BUY&quantity=1&"
    "tag=intent42\n"
    "< HTTP/1.1 200 OK\r\n"
    "<< {\"status\":\"success\",\"data\":{\"order_id\":\"151220000000000\"}}"
    "\n";

static void test_redact(void)
{
	at_buf b = AT_BUF_INIT;

	at_kite_redact(login_trace, strlen(login_trace), &b);
	for (int i = 0; secrets[i] != NULL; i++)
		T_OK(strstr(b.data, secrets[i]) == NULL,
		     "login trace: \"%s\" redacted", secrets[i]);
	T_OK(strstr(b.data, "user_id=AB1234") != NULL &&
		 strstr(b.data, "twofa_type=totp") != NULL &&
		 strstr(b.data, "sess_id=S1") != NULL &&
		 strstr(b.data, "\"access_token\": \"[redacted]\"") != NULL &&
		 strstr(b.data, "Set-Cookie: [redacted]\r\n") != NULL &&
		 strstr(b.data, "password=[redacted]\n") != NULL,
	     "login trace keeps the rest");
	at_buf_reset(&b);
	at_kite_redact(order_trace, strlen(order_trace), &b);
	for (int i = 0; secrets[i] != NULL; i++)
		T_OK(strstr(b.data, secrets[i]) == NULL,
		     "order trace: \"%s\" redacted", secrets[i]);
	T_OK(strstr(b.data, "tradingsymbol=INFY") != NULL &&
		 strstr(b.data, "151220000000000") != NULL &&
		 strstr(b.data, "X-Kite-Version: 3") != NULL &&
		 strstr(b.data, "> Authorization: [redacted]\r\n") != NULL &&
		 strstr(b.data, "> authorization: [redacted]\r\n") != NULL,
	     "order trace keeps the rest");
	at_buf_release(&b);
	/* header lines as curl hands them (no prefix) */
	at_buf_reset(&b);
	at_kite_redact("Authorization: token k:" S_ACCESS_TOKEN "\r\n", 36, &b);
	T_EQ_STR(b.data, "Authorization: [redacted]\r\n", "bare header line");
	at_buf_release(&b);
	/* words that are no key=value stay */
	at_kite_redact("Invalid checksum. Invalid username or password.", 47,
		       &b);
	T_EQ_STR(b.data, "Invalid checksum. Invalid username or password.",
		 "plain words untouched");
	at_buf_release(&b);
	at_kite_redact("x access_token=", 15, &b);
	T_EQ_STR(b.data, "x access_token=[redacted]", "empty value at end");
	at_buf_release(&b);
	at_kite_redact("{\"checksum\":\"ab\\\"cd\"}", 21, &b);
	T_EQ_STR(b.data, "{\"checksum\":\"[redacted]\"}", "escaped quote");
	at_buf_release(&b);
}

/* ---- a scripted HTTP server on 127.0.0.1 -------------------------------- */

struct sreq {
	char method[8];
	char target[1024];
	char path[256];
	char headers[4096];
	char body[4096];
};

struct sresp {
	int status;
	char headers[1024];
	char body[8192];
	int delay_ms;
};

typedef void (*handler_fn)(const struct sreq *, struct sresp *);

#define SRV_LOG 128
static struct {
	int fd, port;
	pthread_t th;
	volatile int stop;
	handler_fn h;
	pthread_mutex_t mu;
	struct sreq log[SRV_LOG];
	int nlog;
} srv = {.fd = -1, .mu = PTHREAD_MUTEX_INITIALIZER};

static int srv_read_req(int fd, struct sreq *r)
{
	char buf[16384];
	size_t n = 0;
	char *end, *p;
	long clen = 0;

	memset(r, 0, sizeof(*r));
	for (;;) {
		ssize_t k = recv(fd, buf + n, sizeof(buf) - 1 - n, 0);

		if (k <= 0)
			return -1;
		n += (size_t)k;
		buf[n] = '\0';
		if ((end = strstr(buf, "\r\n\r\n")) != NULL)
			break;
		if (n >= sizeof(buf) - 1)
			return -1;
	}
	end[2] = '\0';
	if (sscanf(buf, "%7s %1023s", r->method, r->target) != 2)
		return -1;
	snprintf(r->path, sizeof(r->path), "%.*s", (int)strcspn(r->target, "?"),
		 r->target);
	p = strchr(buf, '\n');
	snprintf(r->headers, sizeof(r->headers), "%s", p ? p + 1 : "");
	for (p = r->headers; p && *p;
	     p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (strncasecmp(p, "Content-Length:", 15) == 0)
			clen = strtol(p + 15, NULL, 10);
	end += 4;
	while ((long)(n - (size_t)(end - buf)) < clen) {
		ssize_t k = recv(fd, buf + n, sizeof(buf) - 1 - n, 0);

		if (k <= 0)
			return -1;
		n += (size_t)k;
	}
	snprintf(r->body, sizeof(r->body), "%.*s", (int)clen, end);
	return 0;
}

static void *srv_main(void *arg)
{
	(void)arg;
	while (!srv.stop) {
		struct pollfd pf = {srv.fd, POLLIN, 0};
		struct sreq rq;
		struct sresp rs;
		char head[1536];
		int c;

		if (poll(&pf, 1, 20) <= 0)
			continue;
		c = accept(srv.fd, NULL, NULL);
		if (c < 0)
			continue;
		if (srv_read_req(c, &rq) == 0) {
			pthread_mutex_lock(&srv.mu);
			if (srv.nlog < SRV_LOG)
				srv.log[srv.nlog++] = rq;
			pthread_mutex_unlock(&srv.mu);
			memset(&rs, 0, sizeof(rs));
			rs.status = 404;
			srv.h(&rq, &rs);
			if (rs.delay_ms > 0) {
				struct timespec ts = {rs.delay_ms / 1000,
						      (rs.delay_ms % 1000) *
							  1000000L};

				nanosleep(&ts, NULL);
			}
			snprintf(head, sizeof(head),
				 "HTTP/1.1 %d X\r\nContent-Length: %zu\r\n"
				 "Connection: close\r\n%s\r\n",
				 rs.status, strlen(rs.body), rs.headers);
			send(c, head, strlen(head), MSG_NOSIGNAL);
			send(c, rs.body, strlen(rs.body), MSG_NOSIGNAL);
		}
		close(c);
	}
	return NULL;
}

static int srv_start(handler_fn h)
{
	struct sockaddr_in a = {0};
	socklen_t al = sizeof(a);
	int one = 1;

	srv.h = h;
	srv.nlog = 0;
	srv.stop = 0;
	srv.fd = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(srv.fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(srv.fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    listen(srv.fd, 16) < 0 ||
	    getsockname(srv.fd, (struct sockaddr *)&a, &al) < 0)
		return -1;
	srv.port = ntohs(a.sin_port);
	return pthread_create(&srv.th, NULL, srv_main, NULL);
}

static void srv_stop(void)
{
	srv.stop = 1;
	pthread_join(srv.th, NULL);
	close(srv.fd);
	srv.fd = -1;
}

/* How many logged requests match method and path. */
static int srv_count(const char *method, const char *path)
{
	int n = 0;

	pthread_mutex_lock(&srv.mu);
	for (int i = 0; i < srv.nlog; i++)
		if (strcmp(srv.log[i].method, method) == 0 &&
		    strcmp(srv.log[i].path, path) == 0)
			n++;
	pthread_mutex_unlock(&srv.mu);
	return n;
}

/* The last logged request for method and path (a copy). */
static struct sreq srv_last(const char *method, const char *path)
{
	struct sreq r;

	memset(&r, 0, sizeof(r));
	pthread_mutex_lock(&srv.mu);
	for (int i = 0; i < srv.nlog; i++)
		if (strcmp(srv.log[i].method, method) == 0 &&
		    strcmp(srv.log[i].path, path) == 0)
			r = srv.log[i];
	pthread_mutex_unlock(&srv.mu);
	return r;
}

/* Decoded form value of key in body (or query), "" when absent. */
static void form_get(const char *body, const char *key, char *out, size_t cap)
{
	size_t kl = strlen(key), n = 0;
	const char *p = body;

	out[0] = '\0';
	while (p && *p) {
		if (strncmp(p, key, kl) == 0 && p[kl] == '=') {
			for (p += kl + 1; *p && *p != '&' && n + 1 < cap; p++) {
				unsigned v;

				if (*p == '%' &&
				    sscanf(p + 1, "%2x", &v) == 1) {
					out[n++] = (char)v;
					p += 2;
				} else {
					out[n++] = *p;
				}
			}
			out[n] = '\0';
			return;
		}
		p = strchr(p, '&');
		if (p)
			p++;
	}
}

static void reply(struct sresp *rs, int status, const char *body)
{
	rs->status = status;
	snprintf(rs->body, sizeof(rs->body), "%s", body);
}

static void reply_err(struct sresp *rs, int status, const char *type,
		      const char *msg)
{
	rs->status = status;
	snprintf(rs->body, sizeof(rs->body),
		 "{\"status\":\"error\",\"message\":\"%s\",\"data\":null,"
		 "\"error_type\":\"%s\"}",
		 msg, type);
}

static at_kite_transport *tp;

static at_kite *client(void)
{
	char url[64];
	at_err e;
	at_kite *c;

	snprintf(url, sizeof(url), "http://127.0.0.1:%d", srv.port);
	at_kite_transport_set_urls(tp, url, url, NULL);
	c = at_kite_new(tp, "kiteapikey", &e);
	at_kite_set_retries(c, 3, 1);
	return c;
}

/* ---- fake broker: login flow ----------------------------------------------
 */

static time_t totp_now;
static int login_rate_limited;

static void h_login(const struct sreq *r, struct sresp *rs)
{
	char v[256], v2[256];

	if (strcmp(r->path, "/connect/login") == 0) {
		form_get(strchr(r->target, '?') ? strchr(r->target, '?') + 1
						: "",
			 "api_key", v, sizeof(v));
		if (strcmp(v, "kiteapikey") != 0) {
			reply_err(rs, 400, "InputException", "Invalid api_key");
			return;
		}
		rs->status = 302;
		snprintf(rs->headers, sizeof(rs->headers),
			 "Location: http://127.0.0.1:%d/connect/"
			 "login?api_key=kiteapikey&sess_id=SESS%%2B1\r\n",
			 srv.port);
	} else if (strcmp(r->path, "/api/login") == 0) {
		if (login_rate_limited) {
			reply_err(rs, 429, "NetworkException",
				  "Too many requests");
			return;
		}
		form_get(r->body, "password", v, sizeof(v));
		form_get(r->body, "user_id", v2, sizeof(v2));
		if (strcmp(v, S_PASSWORD) != 0 || strcmp(v2, "AB1234") != 0) {
			reply_err(rs, 400, "InputException",
				  "Invalid username or password.");
			return;
		}
		reply(rs, 200,
		      "{\"status\":\"success\",\"data\":{\"user_id\":"
		      "\"AB1234\",\"request_id\":\"REQ789\",\"twofa_type\":"
		      "\"totp\",\"twofa_types\":[\"totp\"],\"profile\":{}}}");
	} else if (strcmp(r->path, "/api/twofa") == 0) {
		unsigned char *key = NULL;
		size_t kl = 0;
		at_err e;

		form_get(r->body, "request_id", v2, sizeof(v2));
		if (strcmp(v2, "REQ789") != 0) {
			reply_err(rs, 400, "InputException",
				  "Request expired. Please login again.");
			return;
		}
		form_get(r->body, "twofa_value", v, sizeof(v));
		form_get(r->body, "twofa_type", v2, sizeof(v2));
		if (at_totp_parse_secret(S_TOTP, &key, &kl, &e) < 0 ||
		    strcmp(v2, "totp") != 0 ||
		    !at_totp_check(key, kl, totp_now, v, 1)) {
			at_totp_free_key(key, kl);
			reply_err(rs, 400, "TwoFAException", "Invalid TOTP");
			return;
		}
		at_totp_free_key(key, kl);
		snprintf(rs->headers, sizeof(rs->headers),
			 "Set-Cookie: enctoken=" S_ENCTOKEN "; path=/\r\n");
		reply(rs, 200, "{\"status\":\"success\",\"data\":{}}");
	} else if (strcmp(r->path, "/connect/finish") == 0) {
		form_get(strchr(r->target, '?') + 1, "sess_id", v, sizeof(v));
		if (strstr(r->headers, "enctoken=" S_ENCTOKEN) == NULL ||
		    strcmp(v, "SESS+1") != 0) {
			reply_err(rs, 403, "TokenException",
				  "Login not completed.");
			return;
		}
		rs->status = 302;
		snprintf(
		    rs->headers, sizeof(rs->headers),
		    "Location: http://127.0.0.1/at-callback?action=login&"
		    "type=login&status=success&request_token=" S_REQUEST_TOKEN
		    "\r\n");
	} else if (strcmp(r->path, "/session/token") == 0 &&
		   strcmp(r->method, "POST") == 0) {
		char want[65];

		at_kite_checksum("kiteapikey", S_REQUEST_TOKEN, S_API_SECRET,
				 want);
		form_get(r->body, "checksum", v, sizeof(v));
		form_get(r->body, "request_token", v2, sizeof(v2));
		if (strcmp(v2, S_REQUEST_TOKEN) != 0) {
			reply_err(rs, 403, "TokenException",
				  "Token is invalid or has expired.");
			return;
		}
		if (strcmp(v, want) != 0) {
			reply_err(rs, 403, "TokenException",
				  "Invalid checksum");
			return;
		}
		reply(
		    rs, 200,
		    "{\"status\":\"success\",\"data\":{\"user_id\":\"AB1234\","
		    "\"user_name\":\"A B\",\"access_token\":\"" S_ACCESS_TOKEN
		    "\",\"public_token\":\"PUBsecret\",\"enctoken\":"
		    "\"" S_ENCTOKEN "\",\"login_time\":\"2026-11-25 "
		    "08:55:01\",\"exchanges\":[\"NSE\"],\"meta\":{}}}");
	} else if (strcmp(r->path, "/session/token") == 0) {
		reply(rs, 200, MOCK_LOGOUT);
	} else if (strcmp(r->path, "/user/profile") == 0) {
		if (strstr(r->headers,
			   "Authorization: token kiteapikey:" S_ACCESS_TOKEN) ==
		    NULL) {
			reply_err(rs, 403, "TokenException",
				  "Incorrect `api_key` or `access_token`.");
			return;
		}
		reply(rs, 200, MOCK_PROFILE);
	}
}

static int log_has_secret(const char *log)
{
	for (int i = 0; secrets[i] != NULL; i++)
		if (strstr(log, secrets[i]) != NULL) {
			printf("# secret in log: %s\n", secrets[i]);
			return 1;
		}
	return 0;
}

static void test_login(void)
{
	struct at_kite_login l = {.user_id = "AB1234",
				  .password = S_PASSWORD,
				  .totp_secret = S_TOTP,
				  .api_secret = S_API_SECRET};
	struct at_kite_session s;
	struct at_kite_profile pr;
	at_kite *c;
	at_err e;
	FILE *lf = tmpfile();
	char *log;
	size_t ln;
	struct sreq rq;

	totp_now = time(NULL);
	T_OK(srv_start(h_login) == 0, "fake broker listening");
	c = client();

	/* success, traced at debug level */
	at_log_set_level(AT_LOG_DEBUG);
	at_log_set_stream(lf);
	T_EQ_INT(at_kite_login(c, &l, &s, &e), 0, "login succeeds");
	if (e.code && s.user_id[0] == '\0')
		printf("# %s\n", e.msg);
	T_EQ_STR(s.user_id, "AB1234", "login user_id");
	T_EQ_STR(s.access_token, S_ACCESS_TOKEN, "login access_token");
	T_EQ_STR(s.public_token, "PUBsecret", "login public_token");
	T_EQ_INT(at_kite_profile(c, &pr, &e), 0, "profile with the new token");
	T_EQ_STR(pr.user_id, "AB1234", "profile user");
	rq = srv_last("GET", "/user/profile");
	T_OK(strstr(rq.headers, "X-Kite-Version: 3\r\n") != NULL,
	     "X-Kite-Version: 3 sent");
	T_OK(strstr(rq.headers,
		    "Authorization: token kiteapikey:" S_ACCESS_TOKEN
		    "\r\n") != NULL,
	     "Authorization: token api_key:access_token sent");
	T_OK(strstr(rq.headers, "enctoken") == NULL,
	     "login cookies cleared after the login");
	rq = srv_last("POST", "/api/twofa");
	T_OK(strstr(rq.body, "twofa_type=totp") != NULL &&
		 strstr(rq.body, "request_id=REQ789") != NULL,
	     "twofa form");
	rq = srv_last("POST", "/api/login");
	T_OK(strstr(rq.headers,
		    "Content-Type: application/x-www-form-urlencoded") !=
		     NULL &&
		 strstr(rq.headers, "Authorization") == NULL,
	     "login form encoded, no Authorization to the login host");
	T_EQ_INT(at_kite_invalidate_session(c, &e), 0, "invalidate");
	rq = srv_last("DELETE", "/session/token");
	T_OK(strstr(rq.target,
		    "api_key=kiteapikey&access_token=" S_ACCESS_TOKEN) != NULL,
	     "invalidate query");
	T_EQ_INT(at_kite_profile(c, &pr, &e), -1, "no token after invalidate");
	T_EQ_STR(at_kite_status_name(at_kite_last_error(c)->status), "token",
		 "profile without token -> token");
	at_log_set_stream(NULL);
	at_log_set_level(AT_LOG_WARN);
	fflush(lf);
	ln = (size_t)ftell(lf);
	rewind(lf);
	log = calloc(1, ln + 1);
	T_OK(fread(log, 1, ln, lf) == ln, "read debug log");
	T_OK(strstr(log, "[redacted]") != NULL &&
		 strstr(log, "/api/twofa") != NULL &&
		 strstr(log, "X-Kite-Version") != NULL,
	     "debug trace written");
	T_OK(!log_has_secret(log), "no secret in the debug trace");
	free(log);
	fclose(lf);
	at_kite_session_wipe(&s);

	/* failures */
	l.password = "wrong-password";
	T_EQ_INT(at_kite_login(c, &l, &s, &e), -1, "wrong password fails");
	T_EQ_STR(at_kite_status_name(at_kite_last_error(c)->status),
		 "bad_password", "wrong password -> bad_password");
	T_EQ_STR(e.msg,
		 "kite login api/login: bad_password: Invalid username or "
		 "password. (http 400)",
		 "bad password message");
	T_OK(!strstr(e.msg, "wrong-password"), "no password in the error");
	l.password = S_PASSWORD;
	l.totp_secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
	T_EQ_INT(at_kite_login(c, &l, &s, &e), -1, "wrong totp fails");
	T_EQ_STR(at_kite_status_name(at_kite_last_error(c)->status), "bad_totp",
		 "wrong totp -> bad_totp");
	l.totp_secret = "not base32 !";
	T_EQ_INT(at_kite_login(c, &l, &s, &e), -1, "bad totp secret fails");
	T_EQ_STR(at_kite_status_name(at_kite_last_error(c)->status), "bad_totp",
		 "undecodable secret -> bad_totp");
	l.totp_secret = S_TOTP;
	l.api_secret = "not-the-secret";
	T_EQ_INT(at_kite_login(c, &l, &s, &e), -1, "wrong api_secret fails");
	T_EQ_STR(at_kite_status_name(at_kite_last_error(c)->status),
		 "bad_api_secret", "wrong api_secret -> bad_api_secret");
	T_EQ_INT(e.code, EX_CONFIG, "bad_api_secret exit code");
	l.api_secret = S_API_SECRET;
	at_kite_set_api_key(c, "otherkey");
	T_EQ_INT(at_kite_login(c, &l, &s, &e), -1, "unknown api_key fails");
	T_EQ_STR(at_kite_status_name(at_kite_last_error(c)->status),
		 "bad_api_key", "unknown api_key -> bad_api_key");
	at_kite_set_api_key(c, "kiteapikey");
	login_rate_limited = 1;
	srv.nlog = 0;
	T_EQ_INT(at_kite_login(c, &l, &s, &e), -1, "rate limited login");
	T_EQ_STR(at_kite_status_name(at_kite_last_error(c)->status),
		 "rate_limited", "429 -> rate_limited");
	T_EQ_INT(srv_count("POST", "/api/login"), 1, "login steps not retried");
	login_rate_limited = 0;
	/* the same client logs in again after failures */
	T_EQ_INT(at_kite_login(c, &l, &s, &e), 0, "login again succeeds");
	at_kite_session_wipe(&s);
	at_kite_free(c);
	srv_stop();

	/* nothing listening: network */
	c = client();
	T_EQ_INT(at_kite_login(c, &l, &s, &e), -1, "no broker");
	T_EQ_STR(at_kite_status_name(at_kite_last_error(c)->status), "network",
		 "connection refused -> network");
	T_EQ_INT(at_kite_last_error(c)->http, 0, "no http code");
	at_kite_free(c);
}

/* ---- fake broker: orders and market data ----------------------------------
 */

static int place_delay_ms, place_record, place_status, fail_gets;
static char placed_tag[32];
static int get_orders_calls;

static void h_api(const struct sreq *r, struct sresp *rs)
{
	char v[128];

	if (strcmp(r->method, "POST") == 0 &&
	    strcmp(r->path, "/orders/regular") == 0) {
		int n = srv_count("POST", "/orders/regular");

		if (place_status == 429 && n == 1) {
			reply_err(rs, 429, "NetworkException",
				  "Too many requests");
			return;
		}
		if (place_status == 400) {
			reply_err(rs, 400, "InputException",
				  "Quantity exceeds the freeze limit");
			return;
		}
		/* the first placement is slow; recorded or lost */
		if (n == 1 && place_delay_ms > 0) {
			rs->delay_ms = place_delay_ms;
			if (place_record)
				form_get(r->body, "tag", placed_tag,
					 sizeof(placed_tag));
		} else {
			form_get(r->body, "tag", placed_tag,
				 sizeof(placed_tag));
		}
		reply(rs, 200,
		      n == 1 ? MOCK_ORDER_RESPONSE
			     : "{\"status\":\"success\",\"data\":"
			       "{\"order_id\":\"222\"}}");
	} else if (strcmp(r->path, "/orders") == 0) {
		get_orders_calls++;
		if (placed_tag[0] == '\0') {
			reply(rs, 200, "{\"status\":\"success\",\"data\":[]}");
			return;
		}
		snprintf(rs->body, sizeof(rs->body),
			 "{\"status\":\"success\",\"data\":[{\"order_id\":"
			 "\"111\",\"status\":\"OPEN\",\"tag\":\"other\"},"
			 "{\"order_id\":\"151220000000000\",\"status\":"
			 "\"OPEN\",\"tag\":\"%s\",\"quantity\":1}]}",
			 placed_tag);
		rs->status = 200;
	} else if (strcmp(r->path, "/portfolio/positions") == 0) {
		int n = srv_count("GET", "/portfolio/positions");

		if (n <= fail_gets) {
			if (n == 1) {
				rs->status = 502;
				snprintf(rs->body, sizeof(rs->body),
					 "<html>502 Bad Gateway</html>");
			} else {
				reply_err(rs, 503, "NetworkException",
					  "Service unavailable");
			}
			return;
		}
		reply(rs, 200, MOCK_POSITIONS);
	} else if (strcmp(r->path, "/portfolio/holdings") == 0) {
		reply_err(rs, 403, "TokenException",
			  "Incorrect `api_key` or `access_token`.");
	} else if (strcmp(r->method, "PUT") == 0 &&
		   strncmp(r->path, "/orders/regular/", 16) == 0) {
		form_get(r->body, "price", v, sizeof(v));
		reply(rs, 200, MOCK_ORDER_RESPONSE);
	} else if (strcmp(r->method, "DELETE") == 0 &&
		   strncmp(r->path, "/orders/amo/", 12) == 0) {
		reply(rs, 200, MOCK_ORDER_RESPONSE);
	} else if (strcmp(r->path, "/orders/151220000000000") == 0) {
		reply(rs, 200, MOCK_ORDER_INFO);
	} else if (strcmp(r->path, "/orders/151220000000000/trades") == 0) {
		reply(rs, 200, MOCK_ORDER_TRADES);
	} else if (strcmp(r->path, "/trades") == 0) {
		reply(rs, 200, MOCK_TRADES);
	} else if (strcmp(r->path, "/user/margins") == 0) {
		reply(rs, 200, MOCK_MARGINS);
	} else if (strcmp(r->path, "/user/margins/equity") == 0) {
		reply(rs, 200, MOCK_MARGINS_EQUITY);
	} else if (strcmp(r->path, "/instruments/NFO") == 0) {
		rs->status = 200;
		snprintf(rs->headers, sizeof(rs->headers),
			 "Content-Type: text/csv\r\n");
		snprintf(rs->body, sizeof(rs->body), "%s", MOCK_INSTRUMENTS);
	} else if (strcmp(r->path, "/quote") == 0) {
		reply(rs, 200, MOCK_QUOTE);
	} else if (strcmp(r->path, "/quote/ltp") == 0) {
		reply(rs, 200, MOCK_LTP);
	} else if (strcmp(r->path, "/quote/ohlc") == 0) {
		reply(rs, 200, MOCK_OHLC);
	}
}

static void reset_api(void)
{
	place_delay_ms = place_record = place_status = fail_gets = 0;
	placed_tag[0] = '\0';
	get_orders_calls = 0;
	srv.nlog = 0;
}

static void test_orders_client(void)
{
	struct at_kite_order_params p = AT_KITE_ORDER_INIT;
	char id[AT_KITE_ID_MAX];
	int rec = -1;
	at_kite *c;
	at_err e;
	struct sreq rq;

	T_OK(srv_start(h_api) == 0, "fake api listening");
	c = client();
	at_kite_set_access_token(c, S_ACCESS_TOKEN);
	p.exchange = "NSE";
	p.tradingsymbol = "INFY";
	p.transaction_type = "BUY";
	p.order_type = "LIMIT";
	p.product = "MIS";
	p.quantity = 10;
	p.price = 1412.05;
	p.validity = "DAY";
	p.tag = "intent-0001";

	/* plain placement */
	reset_api();
	T_EQ_INT(at_kite_place_order(c, &p, id, &rec, &e), 0, "place order");
	T_EQ_STR(id, "151220000000000", "order id");
	T_EQ_INT(rec, 0, "not recovered");
	rq = srv_last("POST", "/orders/regular");
	T_EQ_STR(rq.body,
		 "tradingsymbol=INFY&exchange=NSE&transaction_type=BUY&"
		 "order_type=LIMIT&quantity=10&product=MIS&price=1412.05&"
		 "validity=DAY&tag=intent-0001",
		 "order form");
	T_OK(strstr(rq.headers,
		    "Authorization: token kiteapikey:" S_ACCESS_TOKEN) &&
		 strstr(rq.headers, "X-Kite-Version: 3"),
	     "order headers");

	/* timeout: the broker has it -> found by tag, placed once */
	reset_api();
	place_delay_ms = 1500;
	place_record = 1;
	at_kite_set_order_timeout_ms(c, 300);
	T_EQ_INT(at_kite_place_order(c, &p, id, &rec, &e), 0,
		 "timed-out order recovered");
	T_EQ_STR(id, "151220000000000", "recovered order id");
	T_EQ_INT(rec, 1, "recovered flag");
	T_EQ_INT(srv_count("POST", "/orders/regular"), 1, "placed only once");
	T_OK(srv_count("GET", "/orders") >= 1, "looked up by tag");
	T_EQ_INT(at_kite_last_error(c)->status, AT_KITE_OK, "last error ok");

	/* timeout: the broker does not have it -> placed again */
	reset_api();
	place_delay_ms = 1500;
	place_record = 0;
	T_EQ_INT(at_kite_place_order(c, &p, id, &rec, &e), 0,
		 "lost order placed again");
	T_EQ_STR(id, "222", "second placement's id");
	T_EQ_INT(rec, 0, "not recovered");
	T_EQ_INT(srv_count("POST", "/orders/regular"), 2, "placed twice");
	T_EQ_INT(srv_count("GET", "/orders"), 2,
		 "two lookups saw no such order first");
	at_kite_set_order_timeout_ms(c, 0);

	/* broker refusal: never retried */
	reset_api();
	place_status = 400;
	T_EQ_INT(at_kite_place_order(c, &p, id, &rec, &e), -1, "freeze limit");
	T_EQ_STR(at_kite_status_name(at_kite_last_error(c)->status), "input",
		 "input");
	T_EQ_STR(at_kite_last_error(c)->message,
		 "Quantity exceeds the freeze limit", "broker message kept");
	T_EQ_STR(e.msg,
		 "kite POST /orders/regular: InputException: Quantity exceeds "
		 "the freeze limit (http 400)",
		 "error names the request");
	T_EQ_INT(srv_count("POST", "/orders/regular"), 1, "not retried");

	/* 429: refused, so placed again after a backoff */
	reset_api();
	place_status = 429;
	T_EQ_INT(at_kite_place_order(c, &p, id, &rec, &e), 0, "429 then ok");
	T_EQ_INT(srv_count("POST", "/orders/regular"), 2, "429 retried once");
	T_EQ_INT(srv_count("GET", "/orders"), 0, "no lookup after 429");

	/* the tag is required and bounded */
	reset_api();
	p.tag = "012345678901234567890";
	T_EQ_INT(at_kite_place_order(c, &p, id, &rec, &e), -1, "21-char tag");
	T_EQ_INT(e.code, EX_USAGE, "usage error");
	p.tag = NULL;
	T_EQ_INT(at_kite_place_order(c, &p, id, &rec, &e), -1, "no tag");
	T_EQ_INT(srv.nlog, 0, "nothing sent without a valid tag");
	p.tag = "intent-0001";

	/* modify, cancel, history, trades */
	reset_api();
	p.quantity = 5;
	p.price = 1410.5;
	T_EQ_INT(at_kite_modify_order(c, "151220000000000", &p, &e), 0,
		 "modify");
	rq = srv_last("PUT", "/orders/regular/151220000000000");
	T_OK(strstr(rq.body, "quantity=5") && strstr(rq.body, "price=1410.5"),
	     "modify form");
	T_EQ_INT(at_kite_cancel_order(c, "amo", "151220000000000", &e), 0,
		 "cancel amo");
	T_EQ_INT(srv_count("DELETE", "/orders/amo/151220000000000"), 1,
		 "cancel path");
	T_EQ_INT(at_kite_cancel_order(c, "regular", "../x", &e), -1,
		 "order id checked");
	{
		struct at_kite_order *o;
		struct at_kite_trade *t;
		size_t n;

		T_EQ_INT(
		    at_kite_order_history(c, "151220000000000", &o, &n, &e), 0,
		    "history");
		T_EQ_INT(n, 3, "history states");
		free(o);
		T_EQ_INT(at_kite_trades(c, NULL, &t, &n, &e), 0, "trades");
		T_OK(n >= 3, "trades rows");
		free(t);
		T_EQ_INT(at_kite_trades(c, "151220000000000", &t, &n, &e), 0,
			 "order trades");
		T_EQ_INT(n, 1, "order trades rows");
		free(t);
	}

	/* GET retries: 502 html, 503 json, then ok */
	reset_api();
	fail_gets = 2;
	{
		struct at_kite_positions ps;
		struct at_kite_holding *h;
		size_t n;
		jv raw;

		T_EQ_INT(at_kite_positions(c, &ps, &e), 0,
			 "positions after two 5xx");
		T_EQ_INT(srv_count("GET", "/portfolio/positions"), 3,
			 "retried twice");
		T_EQ_INT(ps.n_net, 3, "net positions");
		raw = at_kite_last_data(c);
		T_OK(jv_get_kind(raw) == JV_KIND_OBJECT, "raw data kept");
		jv_free(raw);
		at_kite_positions_release(&ps);
		reset_api();
		fail_gets = 10;
		at_kite_set_retries(c, 2, 1);
		T_EQ_INT(at_kite_positions(c, &ps, &e), -1,
			 "retries exhausted");
		T_EQ_INT(srv_count("GET", "/portfolio/positions"), 3,
			 "1 + 2 retries");
		T_EQ_STR(at_kite_status_name(at_kite_last_error(c)->status),
			 "network", "503 -> network");
		at_kite_set_retries(c, 3, 1);
		T_EQ_INT(at_kite_holdings(c, &h, &n, &e), -1, "token error");
		T_EQ_INT(srv_count("GET", "/portfolio/holdings"), 1,
			 "token error not retried");
		T_EQ_INT(e.code, EX_NOPERM, "token -> EX_NOPERM");
	}

	/* margins, instruments, quotes */
	{
		struct at_kite_margins m;
		struct at_kite_instrument *in;
		struct at_kite_quote *q;
		const char *ins[] = {"NSE:INFY", "NFO:NIFTY24MAY22500CE"};
		at_buf csv = AT_BUF_INIT;
		size_t n;

		T_EQ_INT(at_kite_margins(c, NULL, &m, &e), 0, "margins");
		T_NEAR(m.equity.cash, 245431.6, 1e-6, "margins cash");
		T_EQ_INT(at_kite_margins(c, "equity", &m, &e), 0, "equity");
		T_OK(m.has_equity && !m.has_commodity, "equity only");
		T_EQ_INT(at_kite_instruments_csv(c, "NFO", &csv, &e), 0,
			 "instruments csv");
		T_EQ_STR(csv.data, MOCK_INSTRUMENTS, "csv as served");
		T_EQ_INT(
		    at_kite_parse_instruments(csv.data, csv.len, &in, &n, &e),
		    0, "served csv parses");
		free(in);
		at_buf_release(&csv);
		T_EQ_INT(at_kite_quote(c, ins, 2, &q, &n, &e), 0, "quote");
		rq = srv_last("GET", "/quote");
		T_EQ_STR(rq.target,
			 "/quote?i=NSE%3AINFY&i=NFO%3ANIFTY24MAY22500CE",
			 "quote query");
		free(q);
		T_EQ_INT(at_kite_ltp(c, ins, 1, &q, &n, &e), 0, "ltp");
		T_OK(n == 1 && q[0].last_price == 1074.35, "ltp value");
		free(q);
		T_EQ_INT(at_kite_ohlc(c, ins, 1, &q, &n, &e), 0, "ohlc");
		T_OK(n == 1 && q[0].open == 1085.8, "ohlc value");
		free(q);
	}

	/* egress ip: bound to loopback works; junk is refused */
	T_EQ_INT(at_kite_set_egress_ip(c, "127.0.0.1", &e), 0, "egress ip");
	{
		struct at_kite_margins m;

		T_EQ_INT(at_kite_margins(c, NULL, &m, &e), 0,
			 "request from the egress ip");
	}
	T_EQ_INT(at_kite_set_egress_ip(c, "127.0.0.1; rm", &e), -1,
		 "junk egress ip refused");
	T_EQ_INT(e.code, EX_USAGE, "egress ip usage error");
	T_EQ_INT(at_kite_set_egress_ip(c, "::1", &e), 0, "ipv6 egress ok");
	T_EQ_INT(at_kite_set_egress_ip(c, NULL, &e), 0, "egress cleared");
	at_kite_free(c);
	srv_stop();
}

/* Two clients on two threads over one transport. */
static void *thread_client(void *arg)
{
	int *ok = arg;
	/* the URLs were set before the threads started: setting them is
	 * configuration, not something to race on */
	at_err e;
	at_kite *c = at_kite_new(tp, "kiteapikey", &e);

	at_kite_set_access_token(c, S_ACCESS_TOKEN);
	*ok = 1;
	for (int i = 0; i < 20; i++) {
		struct at_kite_margins m;

		if (at_kite_margins(c, NULL, &m, &e) < 0 ||
		    m.equity.cash != 245431.6)
			*ok = 0;
	}
	at_kite_free(c);
	return NULL;
}

static void test_threads(void)
{
	pthread_t th[4];
	int ok[4];
	char url[64];

	T_OK(srv_start(h_api) == 0, "fake api listening");
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", srv.port);
	at_kite_transport_set_urls(tp, url, url, NULL);
	for (int i = 0; i < 4; i++)
		pthread_create(&th[i], NULL, thread_client, &ok[i]);
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	T_OK(ok[0] && ok[1] && ok[2] && ok[3],
	     "4 threads x 20 calls over one shared transport");
	T_EQ_INT(srv_count("GET", "/user/margins"), 80,
		 "every call reached the broker");
	srv_stop();
}

static void test_transport_env(void)
{
	at_kite_transport *t;
	at_err e;

	setenv("AT_KITE_API_URL", "http://127.0.0.1:9/", 1);
	unsetenv("AT_KITE_LOGIN_URL");
	setenv("AT_KITE_WS_URL", "ws://127.0.0.1:9", 1);
	t = at_kite_transport_new(&e);
	T_OK(t != NULL, "transport");
	T_EQ_STR(at_kite_transport_api_url(t), "http://127.0.0.1:9",
		 "AT_KITE_API_URL, trailing slash dropped");
	T_EQ_STR(at_kite_transport_login_url(t), "https://kite.zerodha.com",
		 "login url default");
	T_EQ_STR(at_kite_transport_ws_url(t), "ws://127.0.0.1:9",
		 "AT_KITE_WS_URL");
	at_kite_transport_free(t);
	unsetenv("AT_KITE_API_URL");
	unsetenv("AT_KITE_WS_URL");
	t = at_kite_transport_new(&e);
	T_EQ_STR(at_kite_transport_api_url(t), "https://api.kite.trade",
		 "api url default");
	T_EQ_STR(at_kite_transport_ws_url(t), "wss://ws.kite.trade",
		 "ws url default");
	at_kite_transport_free(t);
}

int main(void)
{
	at_err e;

	at_log_init("test_kite");
	at_log_set_level(AT_LOG_WARN);
	test_orders();
	test_trades();
	test_positions_margins();
	test_quotes_profile();
	test_session_parse();
	test_instruments();
	test_envelope();
	test_checksum_form();
	test_redact();
	test_transport_env();
	tp = at_kite_transport_new(&e);
	if (tp == NULL) {
		printf("not ok - transport: %s\n", e.msg);
		return 1;
	}
	test_login();
	test_orders_client();
	test_threads();
	at_kite_transport_free(tp);
	return t_done();
}
