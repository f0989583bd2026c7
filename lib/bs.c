/*
 * bs: Black-Scholes-Merton prices, greeks and implied volatility.
 */
#include "bs.h"

#include <math.h>

#define SQRT1_2 0.70710678118654752440
#define INV_SQRT_2PI 0.39894228040143267794

double at_bs_norm_pdf(double x)
{
	return INV_SQRT_2PI * exp(-0.5 * x * x);
}

/* erfc keeps relative accuracy far into the lower tail. */
double at_bs_norm_cdf(double x)
{
	return 0.5 * erfc(-x * SQRT1_2);
}

double at_bs_d1(double S, double K, double t, double r, double q, double vol)
{
	double sd = vol * sqrt(t);

	return (log(S / K) + (r - q + 0.5 * vol * vol) * t) / sd;
}

double at_bs_d2(double S, double K, double t, double r, double q, double vol)
{
	return at_bs_d1(S, K, t, r, q, vol) - vol * sqrt(t);
}

/* The degenerate cases: at expiry, or no volatility left. */
static void degenerate(int type, double S, double K, double t, double r,
		       double q, struct at_bs_greeks *g)
{
	double dq = t > 0 ? exp(-q * t) : 1, dr = t > 0 ? exp(-r * t) : 1;
	double fwd = S * dq - K * dr; /* discounted forward minus strike */
	int call = type == AT_BS_CALL;
	int itm = call ? fwd > 0 : fwd < 0;

	g->price = itm ? (call ? fwd : -fwd) : 0;
	g->delta = itm ? (call ? dq : -dq) : 0;
	g->gamma = 0;
	g->vega = 0;
	g->theta = 0;
	if (t > 0 && itm) {
		/* d/dt of the discounted intrinsic value, sign as theta */
		double th = q * S * dq - r * K * dr;
		g->theta = call ? th : -th;
		g->rho = call ? K * t * dr : -K * t * dr;
		g->rho_q = call ? -t * S * dq : t * S * dq;
	} else {
		g->rho = 0;
		g->rho_q = 0;
	}
}

void at_bs_greeks(int type, double S, double K, double t, double r, double q,
		  double vol, struct at_bs_greeks *g)
{
	double st, d1, d2, dq, dr, nd1, Nd1, Nd2, sdq, kdr;

	if (!(t > 0) || !(vol > 0)) {
		degenerate(type, S, K, t, r, q, g);
		return;
	}
	st = sqrt(t);
	d1 = (log(S / K) + (r - q + 0.5 * vol * vol) * t) / (vol * st);
	d2 = d1 - vol * st;
	dq = exp(-q * t);
	dr = exp(-r * t);
	sdq = S * dq;
	kdr = K * dr;
	nd1 = at_bs_norm_pdf(d1);
	g->gamma = dq * nd1 / (S * vol * st);
	g->vega = sdq * nd1 * st;
	if (type == AT_BS_CALL) {
		Nd1 = at_bs_norm_cdf(d1);
		Nd2 = at_bs_norm_cdf(d2);
		g->price = sdq * Nd1 - kdr * Nd2;
		g->delta = dq * Nd1;
		g->theta =
		    -sdq * nd1 * vol / (2 * st) - r * kdr * Nd2 + q * sdq * Nd1;
		g->rho = K * t * dr * Nd2;
		g->rho_q = -t * sdq * Nd1;
	} else {
		Nd1 = at_bs_norm_cdf(-d1);
		Nd2 = at_bs_norm_cdf(-d2);
		g->price = kdr * Nd2 - sdq * Nd1;
		g->delta = -dq * Nd1;
		g->theta =
		    -sdq * nd1 * vol / (2 * st) + r * kdr * Nd2 - q * sdq * Nd1;
		g->rho = -K * t * dr * Nd2;
		g->rho_q = t * sdq * Nd1;
	}
	if (g->price < 0) /* rounding far out of the money */
		g->price = 0;
}

double at_bs_price(int type, double S, double K, double t, double r, double q,
		   double vol)
{
	double st, d1, d2, dq, dr, p;

	if (!(t > 0) || !(vol > 0)) {
		struct at_bs_greeks g;
		degenerate(type, S, K, t, r, q, &g);
		return g.price;
	}
	st = sqrt(t);
	d1 = (log(S / K) + (r - q + 0.5 * vol * vol) * t) / (vol * st);
	d2 = d1 - vol * st;
	dq = exp(-q * t);
	dr = exp(-r * t);
	if (type == AT_BS_CALL)
		p = S * dq * at_bs_norm_cdf(d1) - K * dr * at_bs_norm_cdf(d2);
	else
		p = K * dr * at_bs_norm_cdf(-d2) - S * dq * at_bs_norm_cdf(-d1);
	return p < 0 ? 0 : p;
}

void at_bs_bounds(int type, double S, double K, double t, double r, double q,
		  double *lower, double *upper)
{
	double sdq = S * exp(-q * t), kdr = K * exp(-r * t);

	if (type == AT_BS_CALL) {
		*lower = sdq > kdr ? sdq - kdr : 0;
		*upper = sdq;
	} else {
		*lower = kdr > sdq ? kdr - sdq : 0;
		*upper = kdr;
	}
}

static int finite_pos(double x)
{
	return isfinite(x) && x > 0;
}

int at_bs_implied_vol(int type, double price, double S, double K, double t,
		      double r, double q, double *vol, at_err *e)
{
	double lower, upper, lo = AT_BS_VOL_MIN, hi = AT_BS_VOL_MAX, v, f;
	double tol;
	int i;

	if (type != AT_BS_CALL && type != AT_BS_PUT)
		return at_err_set(e, EX_DATAERR,
				  "implied vol: bad option type");
	if (!finite_pos(price) || !finite_pos(S) || !finite_pos(K) ||
	    !finite_pos(t) || !isfinite(r) || !isfinite(q))
		return at_err_set(e, EX_DATAERR,
				  "implied vol: price, spot, strike and time "
				  "must be positive and finite");
	at_bs_bounds(type, S, K, t, r, q, &lower, &upper);
	if (price <= lower)
		return at_err_set(e, EX_DATAERR,
				  "implied vol: price %.10g is at or below the "
				  "no-arbitrage lower bound %.10g",
				  price, lower);
	if (price >= upper)
		return at_err_set(e, EX_DATAERR,
				  "implied vol: price %.10g is at or above the "
				  "no-arbitrage upper bound %.10g",
				  price, upper);
	if (at_bs_price(type, S, K, t, r, q, hi) < price)
		return at_err_set(e, EX_DATAERR,
				  "implied vol: implied volatility above %g%%",
				  AT_BS_VOL_MAX * 100);
	if (at_bs_price(type, S, K, t, r, q, lo) > price)
		return at_err_set(e, EX_DATAERR,
				  "implied vol: implied volatility below %g%%",
				  AT_BS_VOL_MIN * 100);
	tol = 1e-10 * (price > 1 ? price : 1);
	/* Brenner-Subrahmanyam near the money, Manaster-Koehler away */
	v = sqrt(2 * M_PI / t) * price / (S * exp(-q * t));
	f = sqrt(2 * fabs(log(S / K) + (r - q) * t) / t);
	if (f > v)
		v = f;
	if (!(v > lo && v < hi))
		v = 0.3;
	for (i = 0; i < 200; i++) {
		struct at_bs_greeks g;
		double nv;

		at_bs_greeks(type, S, K, t, r, q, v, &g);
		f = g.price - price;
		if (fabs(f) <= tol)
			break;
		if (f > 0)
			hi = v;
		else
			lo = v;
		if (hi - lo <= 1e-12)
			break;
		nv = g.vega > 0 ? v - f / g.vega : NAN;
		if (!(nv > lo && nv < hi))
			nv = 0.5 * (lo + hi);
		v = nv;
	}
	*vol = v;
	return 0;
}
