//! The oracle the incomplete-beta recurrence of Erlang A is tested
//! against (test builds only): the log gamma function and the regularized
//! incomplete beta function, in plain f64.
//!
//! - `ln Γ(x)` by the Lanczos approximation (g = 7, 9 coefficients;
//!   relative error about 1e-15 for x > 0), with the reflection formula
//!   below 0.5.
//! - `I_x(a, b)` by the continued fraction of Numerical Recipes (§6.4,
//!   modified Lentz), on the side of the symmetry
//!   `I_x(a, b) = 1 − I_{1−x}(b, a)` where it converges fast.

/// Lanczos coefficients for g = 7, n = 9.
const LANCZOS: [f64; 9] = [
    0.999_999_999_999_809_9,
    676.520_368_121_885_1,
    -1_259.139_216_722_402_8,
    771.323_428_777_653_1,
    -176.615_029_162_140_6,
    12.507_343_278_686_905,
    -0.138_571_095_265_720_12,
    9.984_369_578_019_572e-6,
    1.505_632_735_149_311_6e-7,
];

/// `ln Γ(x)` for `x > 0`.
pub fn ln_gamma(x: f64) -> f64 {
    if x < 0.5 {
        // Γ(x)Γ(1 − x) = π / sin(πx)
        let pi = std::f64::consts::PI;
        return (pi / (pi * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut sum = LANCZOS[0];
    for (i, c) in LANCZOS.iter().enumerate().skip(1) {
        sum += c / (x + i as f64);
    }
    let t = x + 7.5;
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + sum.ln()
}

/// `ln B(a, b) = ln Γ(a) + ln Γ(b) − ln Γ(a + b)`.
///
/// With a large argument the last two terms are huge and nearly equal
/// (Erlang A meets `b = N·patience/AHT` in the hundreds of thousands), so
/// their difference is taken from Stirling's series in a form without
/// cancellation instead.
pub fn ln_beta(a: f64, b: f64) -> f64 {
    let (small, large) = if a < b { (a, b) } else { (b, a) };
    if large < 100.0 {
        return ln_gamma(a) + ln_gamma(b) - ln_gamma(a + b);
    }
    ln_gamma(small) - ln_gamma_rise(small, large)
}

/// `ln Γ(x + a) − ln Γ(x)` for `x ≥ 100`, `a > 0`:
/// `(x − ½)·ln(1 + a/x) + a·ln(x + a) − a + s(x + a) − s(x)`, with `s` the
/// Stirling correction `1/(12x) − 1/(360x³) + 1/(1260x⁵)` (error below
/// 1e-17 at x = 100).
fn ln_gamma_rise(a: f64, x: f64) -> f64 {
    let series = |y: f64| {
        let y2 = y * y;
        (1.0 / 12.0 - (1.0 / 360.0 - 1.0 / (1260.0 * y2)) / y2) / y
    };
    (x - 0.5) * (a / x).ln_1p() + a * (x + a).ln() - a + series(x + a) - series(x)
}

/// The regularized incomplete beta function `I_x(a, b)` for `a, b > 0`
/// and `0 ≤ x ≤ 1`.
pub fn beta_reg(a: f64, b: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let front = (a * x.ln() + b * (-x).ln_1p() - ln_beta(a, b)).exp();
    if x < (a + 1.0) / (a + b + 2.0) {
        front * continued_fraction(a, b, x) / a
    } else {
        1.0 - front * continued_fraction(b, a, 1.0 - x) / b
    }
}

/// The continued fraction of `I_x(a, b)` (modified Lentz).
fn continued_fraction(a: f64, b: f64, x: f64) -> f64 {
    const EPS: f64 = 1e-16;
    let (qab, qap, qam) = (a + b, a + 1.0, a - 1.0);
    let mut c = 1.0;
    let mut d = nonzero(1.0 - qab * x / qap).recip();
    let mut h = d;
    // Converges in O(sqrt(max(a, b))) steps on the side chosen above.
    for m in 1..100_000 {
        let m = f64::from(m);
        let m2 = 2.0 * m;
        let even = m * (b - m) * x / ((qam + m2) * (a + m2));
        h *= lentz_step(&mut c, &mut d, even);
        let odd = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
        let step = lentz_step(&mut c, &mut d, odd);
        h *= step;
        if (step - 1.0).abs() < EPS {
            break;
        }
    }
    h
}

/// One term `coefficient` of the fraction: updates Lentz's `c` and `d`
/// and returns the factor the value is multiplied by.
fn lentz_step(c: &mut f64, d: &mut f64, coefficient: f64) -> f64 {
    *d = nonzero(1.0 + coefficient * *d).recip();
    *c = nonzero(1.0 + coefficient / *c);
    *d * *c
}

/// `value`, or a tiny number in its place when it is (nearly) zero.
fn nonzero(value: f64) -> f64 {
    const TINY: f64 = 1e-300;
    if value.abs() < TINY { TINY } else { value }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, rel: f64) -> bool {
        (a - b).abs() <= rel * b.abs().max(1e-300)
    }

    #[test]
    fn ln_gamma_matches_factorials_and_half_integers() {
        let mut factorial: f64 = 1.0;
        for n in 1..=30u32 {
            // Γ(n + 1) = n!
            factorial *= f64::from(n);
            assert!(
                close(ln_gamma(f64::from(n) + 1.0), factorial.ln(), 1e-14),
                "{n}"
            );
        }
        // Γ(1/2) = √π
        let sqrt_pi = std::f64::consts::PI.sqrt();
        assert!(close(ln_gamma(0.5), sqrt_pi.ln(), 1e-14));
        // Stirling at a large argument: ln Γ(10001) = ln(10000!)
        let stirling = |n: f64| {
            n * n.ln() - n + 0.5 * (2.0 * std::f64::consts::PI * n).ln() + 1.0 / (12.0 * n)
                - 1.0 / (360.0 * n.powi(3))
        };
        assert!(close(ln_gamma(10_001.0), stirling(10_000.0), 1e-14));
    }

    #[test]
    fn ln_beta_of_large_arguments_keeps_its_digits() {
        // B(1, b) = 1/b and B(2, b) = 1/(b(b + 1)), exactly.
        for b in [100.0, 5_000.0, 4.0e5, 1.0e12] {
            assert!(close(ln_beta(1.0, b), -f64::ln(b), 1e-14), "{b}");
            assert!(close(ln_beta(b, 2.0), -(b * (b + 1.0)).ln(), 1e-14), "{b}");
        }
        // Both ways agree where both are accurate.
        let direct = ln_gamma(3.5) + ln_gamma(150.0) - ln_gamma(153.5);
        assert!(close(ln_beta(3.5, 150.0), direct, 1e-12));
    }

    #[test]
    fn incomplete_beta_matches_closed_forms() {
        // I_x(1, b) = 1 − (1 − x)^b. (ln B of large arguments is a
        // difference of large ln Γ values: about 1e-11 relative at
        // b = 4000, far inside what staffing needs.)
        for &(b, x) in &[
            (0.5f64, 0.3f64),
            (3.7, 0.9),
            (250.0, 0.001),
            (4000.0, 0.0002),
        ] {
            let exact = -(b * (-x).ln_1p()).exp_m1();
            let got = beta_reg(1.0, b, x);
            assert!(
                close(got, exact, 1e-10),
                "I_{x}(1, {b}) = {got}, not {exact}"
            );
        }
        // I_x(a, 1) = x^a.
        for &(a, x) in &[(0.5, 0.3), (3.7, 0.9), (250.0, 0.99), (4000.0, 0.9995)] {
            let exact = f64::powf(x, a);
            let got = beta_reg(a, 1.0, x);
            assert!(
                close(got, exact, 1e-10),
                "I_{x}({a}, 1) = {got}, not {exact}"
            );
        }
        // I_x(2, 2) = 3x² − 2x³.
        let x: f64 = 0.37;
        assert!(close(
            beta_reg(2.0, 2.0, x),
            3.0 * x * x - 2.0 * x.powi(3),
            1e-13
        ));
        // Symmetry.
        let (a, b, x) = (30.0, 12.5, 0.6);
        assert!(close(
            beta_reg(a, b, x),
            1.0 - beta_reg(b, a, 1.0 - x),
            1e-13
        ));
        assert_eq!(beta_reg(2.0, 3.0, 0.0), 0.0);
        assert_eq!(beta_reg(2.0, 3.0, 1.0), 1.0);
    }
}
