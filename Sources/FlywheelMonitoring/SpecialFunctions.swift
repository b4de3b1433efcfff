import Foundation

/// The distribution tails the tests need, to full double precision in their tails (a p-value of
/// 1e-50 must come out as 1e-50, not 0), so they agree with scipy's to about 1e-12 relative.
enum SpecialFunctions {
    /// P(Z > z) for a standard normal Z.
    static func normalSF(_ z: Double) -> Double { 0.5 * erfc(z / 2.0.squareRoot()) }

    /// P(X > x) for X ~ chi-square with `dof` degrees of freedom: Q(dof/2, x/2).
    static func chiSquareSF(_ x: Double, dof: Double) -> Double {
        guard x > 0 else { return 1 }
        guard x.isFinite else { return 0 }
        return regularizedGammaQ(dof / 2, x / 2)
    }

    /// The regularized upper incomplete gamma function Q(a, x) = Γ(a, x) / Γ(a).
    ///
    /// The series for P when x < a + 1, else Lentz's continued fraction for Q directly, so a
    /// tiny Q keeps its relative precision instead of being 1 − P.
    static func regularizedGammaQ(_ a: Double, _ x: Double) -> Double {
        guard x > 0 else { return 1 }
        let logPrefix = a * log(x) - x - lgamma(a)
        if x < a + 1 {
            var sum = 1 / a, term = 1 / a, n = a
            for _ in 0..<10_000 {
                n += 1
                term *= x / n
                sum += term
                if abs(term) < abs(sum) * 1e-17 { break }
            }
            return max(0, 1 - sum * exp(logPrefix))
        }
        let tiny = 1e-300
        var b = x + 1 - a, c = 1 / tiny, d = 1 / b, h = d
        for i in 1...10_000 {
            let an = -Double(i) * (Double(i) - a)
            b += 2
            d = an * d + b
            if abs(d) < tiny { d = tiny }
            c = b + an / c
            if abs(c) < tiny { c = tiny }
            d = 1 / d
            let delta = d * c
            h *= delta
            if abs(delta - 1) < 1e-17 { break }
        }
        return exp(logPrefix) * h
    }
}
