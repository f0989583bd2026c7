/*
 * bs: Black-Scholes-Merton prices, greeks and implied volatility for
 * European calls and puts with a continuous dividend yield (or cost of
 * carry) q.
 *
 * Conventions (those of Haug and of most references):
 *   S spot, K strike, t years to expiry, r continuous risk-free rate,
 *   q continuous dividend yield (b = r - q is the cost of carry; q = r
 *   gives Black's model on a futures price S), vol annualised (0.2 = 20%).
 *   delta per unit of spot, gamma per unit of spot,
 *   vega per 1.00 of vol        (divide by 100 for "per vol point"),
 *   theta per YEAR              (divide by 365 for "per calendar day"),
 *   rho per 1.00 of rate        (divide by 100 for "per 1%"),
 *   rho_q (dividend rho) per 1.00 of q.
 *
 * At expiry (t <= 0) the price is the intrinsic value max(S-K, 0) /
 * max(K-S, 0); with vol <= 0 it is the discounted intrinsic value of the
 * forward.  Greeks there are the limits (delta 0 or +-discount factor,
 * gamma, vega and theta 0).
 *
 * Implied volatility: safeguarded Newton on vol (bisection whenever a
 * Newton step leaves the bracket or vega vanishes), searched in
 * [AT_BS_VOL_MIN, AT_BS_VOL_MAX].  Prices outside the no-arbitrage bounds
 *   call: max(0, S e^-qt - K e^-rt) < price < S e^-qt
 *   put:  max(0, K e^-rt - S e^-qt) < price < K e^-rt
 * are refused, as is a price needing a vol outside the search range.
 */
#ifndef AT_BS_H
#define AT_BS_H

#include "err.h"

enum at_bs_type {
	AT_BS_CALL = 0,
	AT_BS_PUT = 1,
};

#define AT_BS_VOL_MIN 1e-6
#define AT_BS_VOL_MAX 10.0

struct at_bs_greeks {
	double price;
	double delta;
	double gamma;
	double vega;
	double theta;
	double rho;
	double rho_q;
};

/* Standard normal density and distribution (accurate in the tails). */
double at_bs_norm_pdf(double x);
double at_bs_norm_cdf(double x);

/* d1 and d2 (t > 0, vol > 0). */
double at_bs_d1(double S, double K, double t, double r, double q, double vol);
double at_bs_d2(double S, double K, double t, double r, double q, double vol);

/* Price of a call (type AT_BS_CALL) or put (AT_BS_PUT). */
double at_bs_price(int type, double S, double K, double t, double r, double q,
		   double vol);

/* Price and every greek in one pass. */
void at_bs_greeks(int type, double S, double K, double t, double r, double q,
		  double vol, struct at_bs_greeks *out);

/* The no-arbitrage bounds of a price (see above). */
void at_bs_bounds(int type, double S, double K, double t, double r, double q,
		  double *lower, double *upper);

/*
 * Implied volatility of price.  Returns 0 with *vol set (|model price -
 * price| <= 1e-10 * max(1, price), or the bracket is narrower than
 * 1e-12), or -1 (EX_DATAERR) with e saying why: bad inputs (S, K, price
 * not positive and finite, t <= 0), "price 0.01 is at or below the
 * no-arbitrage lower bound 0.0123", "price ... is at or above the upper
 * bound ...", "implied volatility above 1000%".
 */
int at_bs_implied_vol(int type, double price, double S, double K, double t,
		      double r, double q, double *vol, at_err *e)
    __attribute__((warn_unused_result));

#endif
