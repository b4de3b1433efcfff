import Foundation

/// The outcome of a two-sample Kolmogorov–Smirnov test.
public struct KSResult: Hashable, Sendable {
    /// D, the largest absolute difference between the two empirical CDFs. When the exact
    /// distribution was used it is scipy's `h / lcm(n1, n2)` (D rounded onto the lattice the exact
    /// distribution lives on), which is what `scipy.stats.ks_2samp` reports.
    public var statistic: Double
    /// The two-sided p-value, clipped to [0, 1].
    public var pvalue: Double
    /// True when the exact distribution was used (scipy's `method='exact'` path of `'auto'`).
    public var exact: Bool

    public init(statistic: Double, pvalue: Double, exact: Bool) {
        self.statistic = statistic
        self.pvalue = pvalue
        self.exact = exact
    }
}

/// The two-sample Kolmogorov–Smirnov test as `scipy.stats.ks_2samp(a, b, alternative='two-sided',
/// method='auto')` computes it in scipy 1.17, and the one-sample two-sided distribution
/// `scipy.stats.kstwo.sf` its asymptotic branch relies on.
///
/// Drift reports are compared against scipy/Evidently output, so the branch structure (exact
/// below 10 000 observations per side, `kstwo.sf(D, round(n1·n2/(n1+n2)))` above) follows
/// scipy's source line by line; the only deliberate departure is inside `smirnov` (see there).
public enum KolmogorovSmirnov {
    /// scipy's `MAX_AUTO_N`: `'auto'` attempts the exact distribution when both sizes are at most this.
    static let maxAutoN = 10_000

    /// Two-sided two-sample test. `a` and `b` must be non-empty and finite (drop NaN/±inf first);
    /// order does not matter.
    public static func twoSample(_ a: [Double], _ b: [Double]) -> KSResult {
        twoSample(sortedA: a.sorted(), sortedB: b.sorted())
    }

    /// The same test when both samples are already sorted ascending, so a caller that sorted for
    /// other statistics (Wasserstein, quantile bins) does not pay for a second sort.
    public static func twoSample(sortedA a: [Double], sortedB b: [Double]) -> KSResult {
        precondition(!a.isEmpty && !b.isEmpty, "ks_2samp needs two non-empty samples")
        let n1 = a.count, n2 = b.count
        var d = statistic(sortedA: a, sortedB: b)
        if max(n1, n2) <= maxAutoN {
            let g = gcd(n1, n2)
            let lcm = (n1 / g) * n2
            let h = Int((d * Double(lcm)).rounded(.toNearestOrEven))
            d = Double(h) / Double(lcm)
            if h == 0 { return KSResult(statistic: d, pvalue: 1.0, exact: true) }
            let prob = n1 == n2 ? probOutsideSquare(n: n1, h: h) : outerProbInside(m: n1, n: n2, g: g, h: h)
            if prob >= 0 && prob <= 1 { return KSResult(statistic: d, pvalue: prob, exact: true) }
            // scipy warns "Exact calculation unsuccessful" and falls through to 'asymp' with the lattice d.
        }
        // Smirnov's asymptotic branch; the sizes are doubles in scipy, and np.round is half-to-even.
        let (m, n) = (Double(max(n1, n2)), Double(min(n1, n2)))
        let en = (m * n / (m + n)).rounded(.toNearestOrEven)
        let p = en >= 1 ? kstwoSF(d, n: Int(en)) : .nan
        return KSResult(statistic: d, pvalue: clip(p), exact: false)
    }

    /// D by one merge pass over the two sorted samples. scipy evaluates both ECDFs (searchsorted
    /// right, so ties count fully) at every pooled point; evaluating once per distinct value after
    /// consuming its ties on both sides gives the same set of differences, in the same floating
    /// point form `i/n1 - j/n2`.
    static func statistic(sortedA a: [Double], sortedB b: [Double]) -> Double {
        let n1 = a.count, n2 = b.count
        let n1d = Double(n1), n2d = Double(n2)
        // Screen with the exact difference i·n2 − j·n1 (integer, no division per element); form
        // scipy's float `i/n1 - j/n2` only at candidate extremes, keeping numpy's argmax/argmin
        // choice (first occurrence of the extreme float) so D matches to the last bit.
        var maxKey = Int.min, maxF = -Double.infinity
        var minKey = Int.max, minF = Double.infinity
        // A point whose exact key is below the best key so far cannot have a larger float (keys differ
        // by at least 1/(n1·n2), far above the rounding of the float form), so it is skipped.
        func consider(_ key: Int, _ i: Int, _ j: Int, _ best: inout Int, _ bestF: inout Double, isMax: Bool) {
            let f = Double(i) / n1d - Double(j) / n2d
            if isMax {
                best = Swift.max(best, key)
                bestF = Swift.max(bestF, f)
            } else {
                best = Swift.min(best, key)
                bestF = Swift.min(bestF, f)
            }
        }
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                var i = 0, j = 0
                // Branch-free while both sides have values left: interleaving is data-dependent, so a
                // taken/not-taken branch per element would mispredict about half the time. A
                // difference counts only once the next value (either side) is strictly larger, i.e.
                // after all ties of the current value are consumed.
                while i < n1 && j < n2 {
                    let ai = pa[i], bj = pb[j]
                    let takeA = ai <= bj
                    let v = takeA ? ai : bj
                    i &+= takeA ? 1 : 0
                    j &+= takeA ? 0 : 1
                    let nextA = i < n1 ? pa[i] : Double.infinity
                    let nextB = j < n2 ? pb[j] : Double.infinity
                    let settled = Swift.min(nextA, nextB) > v
                    let key = i &* n2 &- j &* n1
                    // Rarely true once the extremes are found, so these branches predict well.
                    if settled && key >= maxKey { consider(key, i, j, &maxKey, &maxF, isMax: true) }
                    if settled && key <= minKey { consider(key, i, j, &minKey, &minF, isMax: false) }
                }
                while i < n1 || j < n2 {
                    let v = (j >= n2 || (i < n1 && pa[i] <= pb[j])) ? pa[i] : pb[j]
                    while i < n1 && pa[i] <= v { i += 1 }
                    while j < n2 && pb[j] <= v { j += 1 }
                    let key = i * n2 - j * n1
                    if key >= maxKey { consider(key, i, j, &maxKey, &maxF, isMax: true) }
                    if key <= minKey { consider(key, i, j, &minKey, &minF, isMax: false) }
                }
            }
        }
        let minS = Swift.min(Swift.max(-minF, 0), 1)
        return minS > maxF ? minS : maxF
    }

    // MARK: - Exact two-sample distribution (scipy `_attempt_exact_2kssamp`, two-sided)

    /// P(D_{n,n} ≥ h/n) for equal sizes: scipy's `_compute_prob_outside_square`, the alternating
    /// binomial series evaluated Horner-style to avoid cancellation.
    static func probOutsideSquare(n: Int, h: Int) -> Double {
        var P = 0.0
        var k = n / h
        while k >= 0 {
            var p1 = 1.0
            for j in 0..<h {
                p1 = Double(n - k * h - j) * p1 / Double(n + k * h + j + 1)
            }
            P = p1 * (1.0 - P)
            k -= 1
        }
        return 2 * P
    }

    /// 1 − P(paths stay strictly inside |x/m − y/n| < h/lcm): scipy's pythran
    /// `_compute_outer_prob_inside_method` (Hodges' inside method with Viehmann's recursion for
    /// 1 − p, one sliding column). Window bounds use the same double divisions as scipy.
    static func outerProbInside(m m0: Int, n n0: Int, g: Int, h: Int) -> Double {
        let (m, n) = m0 < n0 ? (n0, m0) : (m0, n0)
        let mg = m / g, ng = n / g
        var minj = 0
        var maxj = Swift.min(Int((Double(h) / Double(mg)).rounded(.up)), n + 1)
        var curlen = maxj - minj
        let lenA = Swift.min(2 * maxj + 2, n + 1)
        var A = [Double](repeating: 1.0, count: lenA)
        for j in minj..<maxj { A[j] = 0 }
        return A.withUnsafeMutableBufferPointer { a -> Double in
            for i in 1...m {
                let lastminj = minj, lastlen = curlen
                minj = Swift.max(Int((Double(ng * i - h) / Double(mg)).rounded(.down)) + 1, 0)
                minj = Swift.min(minj, n)
                maxj = Swift.min(Int((Double(ng * i + h) / Double(mg)).rounded(.up)), n + 1)
                if maxj <= minj { return 1.0 }
                var val = minj == 0 ? 0.0 : 1.0
                let di = Double(i)
                let shift = minj - lastminj
                for jj in 0..<(maxj - minj) {
                    let j = jj + minj
                    val = (a[jj + shift] * di + val * Double(j)) / Double(i + j)
                    a[jj] = val
                }
                curlen = maxj - minj
                if lastlen > curlen {
                    for t in curlen..<Swift.min(curlen + (lastlen - curlen), lenA) { a[t] = 1 }
                }
            }
            return a[maxj - minj - 1]
        }
    }

    // MARK: - kstwo.sf: scipy `_kolmogn(n, x, cdf=False)` (Simard & L'Ecuyer)

    /// Survival function of the one-sample two-sided KS statistic D_n, `scipy.stats.kstwo.sf(d, n)`,
    /// with scipy's branch choices: Ruben–Gambino closed forms at the ends, 2·smirnov for x ≥ 0.5
    /// and the upper tail, Durbin/Marsaglia–Tsang–Wang or Pomeranz for n ≤ 140, and for larger n
    /// Durbin (n ≤ 100 000, n·x^1.5 ≤ 1.4) or Pelz–Good, as 1 − CDF. NaN when n < 1.
    public static func kstwoSF(_ d: Double, n: Int) -> Double {
        guard n >= 1, !d.isNaN else { return .nan }
        let x = d
        if x >= 1.0 { return 0.0 }
        if x <= 0.0 { return 1.0 }
        let nd = Double(n)
        let t = nd * x
        if t <= 1.0 {
            if t <= 0.5 { return 1.0 }
            let prob: Double
            if n <= 140 {
                var p = 1.0
                let r = 1.0 / nd, s = 2 * t - 1
                for i in 1...n { p *= Double(i) * r * s }
                prob = p
            } else {
                prob = exp(logNFactorialDivNPowN(n) + nd * log(2 * t - 1))
            }
            return clip(1.0 - prob)
        }
        if t >= nd - 1 { return clip(2 * pow(1.0 - x, nd)) }
        if x >= 0.5 { return clip(2 * smirnovSF(n: n, x: x)) }
        let nxsquared = t * x
        if n <= 140 {
            if nxsquared <= 0.754693 { return clip(1.0 - durbinMTW(n: n, d: x)) }
            if nxsquared <= 4 { return clip(1.0 - pomeranz(n: n, x: x)) }
            return clip(2 * smirnovSF(n: n, x: x))
        }
        if nxsquared >= 370.0 { return 0.0 }
        if nxsquared >= 2.2 { return clip(2 * smirnovSF(n: n, x: x)) }
        let cdf: Double
        if nxsquared >= 18.0 {
            cdf = 1.0
        } else if n <= 100_000 && nd * pow(x, 1.5) <= 1.4 {
            cdf = durbinMTW(n: n, d: x)
        } else {
            cdf = pelzGoodCDF(n: n, x: x)
        }
        return clip(1.0 - cdf)
    }

    static func clip(_ p: Double) -> Double { p.isNaN ? p : Swift.min(Swift.max(p, 0), 1) }

    static func gcd(_ a: Int, _ b: Int) -> Int {
        var (a, b) = (a, b)
        while b != 0 { (a, b) = (b, a % b) }
        return a
    }

    /// log(n! / n^n) by Stirling with the n·log n term removed up front (scipy `_log_nfactorial_div_n_pow_n`).
    static func logNFactorialDivNPowN(_ n: Int) -> Double {
        let coeffs = [-2.955065359477124183e-2, 6.4102564102564102564e-3,
                      -1.9175269175269175269e-3, 8.4175084175084175084e-4,
                      -5.952380952380952381e-4, 7.9365079365079365079e-4,
                      -2.7777777777777777778e-3, 8.3333333333333333333e-2]
        let nd = Double(n)
        let rn = 1.0 / nd
        let y = rn / nd
        var poly = 0.0
        for c in coeffs { poly = poly * y + c }
        return log(nd) / 2 - nd + log(2 * Double.pi) / 2 + rn * poly
    }

    private static let ep128 = 0x1p128
    private static let em128 = 0x1p-128

    /// Pr(D_n ≤ d) by Durbin's matrix in the Marsaglia–Tsang–Wang form: the k-th diagonal entry
    /// of Hⁿ times n!/nⁿ, with power-of-two rescaling (scipy `_kolmogn_DMTW`; scipy rescales in
    /// long double, here in Double, which only moves the last bits).
    static func durbinMTW(n: Int, d: Double) -> Double {
        if d >= 1.0 { return 1.0 }
        let nd = Double(n) * d
        if nd <= 0.5 { return 0.0 }
        let k = Int(nd.rounded(.up))
        let h = Double(k) - nd
        let m = 2 * k - 1
        var v = [Double](repeating: 0, count: m)
        var w = [Double](repeating: 0, count: m)
        var fac = 1.0
        for j in 1...m {
            v[j - 1] = 1.0 - pow(h, Double(j))
            w[j - 1] = fac
            fac /= Double(j)
            v[j - 1] *= fac
        }
        let tt = pow(Swift.max(2 * h - 1.0, 0), Double(m)) - 2 * pow(h, Double(m))
        v[m - 1] = (1.0 + tt) * fac

        var H = [Double](repeating: 0, count: m * m)
        for i in 1..<Swift.max(m, 1) {
            for r in (i - 1)..<m { H[r * m + i] = w[r - (i - 1)] }
        }
        for r in 0..<m { H[r * m] = v[r] }
        for c in 0..<m { H[(m - 1) * m + c] = v[m - 1 - c] }

        var Hpwr = [Double](repeating: 0, count: m * m)
        for i in 0..<m { Hpwr[i * m + i] = 1 }
        var nn = n
        var expnt = 0, hExpnt = 0
        var scratch = [Double](repeating: 0, count: m * m)
        while nn > 0 {
            if nn % 2 == 1 {
                matmul(Hpwr, H, into: &scratch, m: m)
                swap(&Hpwr, &scratch)
                expnt += hExpnt
            }
            nn /= 2
            if nn == 0 { break }  // scipy squares once more here; the result is unused
            matmul(H, H, into: &scratch, m: m)
            swap(&H, &scratch)
            hExpnt *= 2
            if abs(H[(k - 1) * m + (k - 1)]) > ep128 {
                for i in H.indices { H[i] /= ep128 }
                hExpnt += 128
            }
        }
        var p = Hpwr[(k - 1) * m + (k - 1)]
        let ndn = Double(n)
        for i in 1...n {
            p = Double(i) * p / ndn
            if abs(p) < em128 {
                p *= ep128
                expnt -= 128
            }
        }
        if expnt != 0 { p = scalbn(p, expnt) }
        return clip(p)
    }

    /// C = A·B for m×m row-major matrices.
    private static func matmul(_ A: [Double], _ B: [Double], into C: inout [Double], m: Int) {
        A.withUnsafeBufferPointer { a in
            B.withUnsafeBufferPointer { b in
                C.withUnsafeMutableBufferPointer { c in
                    for i in 0..<m {
                        let row = i * m
                        for j in 0..<m { c[row + j] = 0 }
                        for k in 0..<m {
                            let aik = a[row + k]
                            if aik == 0 { continue }
                            let bk = k * m
                            for j in 0..<m { c[row + j] += aik * b[bk + j] }
                        }
                    }
                }
            }
        }
    }

    /// Endpoints of the non-zero interval of row i in Pomeranz's recursion (scipy `_pomeranz_compute_j1j2`).
    private static func pomeranzJ1J2(_ i: Int, n: Int, ll: Int, ceilf: Int, roundf: Int) -> (Int, Int) {
        var j1: Int, j2: Int
        if i == 0 {
            (j1, j2) = (-ll - ceilf - 1, ll + ceilf - 1)
        } else {
            let ip1div2 = (i + 1) / 2, ip1mod2 = (i + 1) % 2
            if ip1mod2 == 0 {
                if ip1div2 == n + 1 {
                    (j1, j2) = (n - ll - ceilf - 1, n + ll + ceilf - 1)
                } else {
                    (j1, j2) = (ip1div2 - 1 - ll - roundf - 1, ip1div2 + ll - 1 + ceilf - 1)
                }
            } else {
                (j1, j2) = (ip1div2 - 1 - ll - 1, ip1div2 + ll + roundf - 1)
            }
        }
        return (Swift.max(j1 + 2, 0), Swift.min(j2, n))
    }

    /// Pr(D_n ≤ x) by Pomeranz's recursion: rows are convolutions with (almost) Poisson weights,
    /// two rows kept, rescaled against underflow (scipy `_kolmogn_Pomeranz`).
    static func pomeranz(n: Int, x: Double) -> Double {
        let nd = Double(n)
        let t = nd * x
        let ll = Int(t.rounded(.down))
        let f = t - Double(ll)
        let g = Swift.min(f, 1.0 - f)
        let ceilf = f > 0 ? 1 : 0
        let roundf = f > 0.5 ? 1 : 0
        let npwrs = 2 * (ll + 1)
        var gpower = [Double](repeating: 1, count: npwrs)
        var twogpower = [Double](repeating: 1, count: npwrs)
        var onem2gpower = [Double](repeating: 1, count: npwrs)
        let gOverN = g / nd, twoGOverN = 2 * g / nd, oneMinusTwoGOverN = (1 - 2 * g) / nd
        for m in 1..<Swift.max(npwrs, 1) {
            gpower[m] = gpower[m - 1] * gOverN / Double(m)
            twogpower[m] = twogpower[m - 1] * twoGOverN / Double(m)
            onem2gpower[m] = onem2gpower[m - 1] * oneMinusTwoGOverN / Double(m)
        }
        var V0 = [Double](repeating: 0, count: npwrs)
        var V1 = [Double](repeating: 0, count: npwrs)
        V1[0] = 1
        var V0s = 0, V1s = 0
        var expnt = 0
        var (j1, j2) = pomeranzJ1J2(0, n: n, ll: ll, ceilf: ceilf, roundf: roundf)
        for i in 1..<(2 * n + 2) {
            let k1 = j1
            swap(&V0, &V1)
            swap(&V0s, &V1s)
            for q in V1.indices { V1[q] = 0 }
            (j1, j2) = pomeranzJ1J2(i, n: n, ll: ll, ceilf: ceilf, roundf: roundf)
            let pwrs = (i == 1 || i == 2 * n + 1) ? gpower : (i % 2 == 1 ? twogpower : onem2gpower)
            let ln2 = j2 - k1 + 1
            if ln2 > 0 {
                // np.convolve(V0[k1-V0s : k1-V0s+ln2], pwrs[:ln2]) with numpy's slice clipping.
                let aStart = k1 - V0s
                let aLen = Swift.max(0, Swift.min(aStart + ln2, npwrs) - aStart)
                let bLen = Swift.min(ln2, npwrs)
                let convStart = j1 - k1
                let convLen = j2 - j1 + 1
                if convLen > 0 {
                    for tt in 0..<convLen {
                        let idx = convStart + tt
                        var s = 0.0
                        let lo = Swift.max(0, idx - bLen + 1), hi = Swift.min(aLen - 1, idx)
                        if lo <= hi {
                            for q in lo...hi { s += V0[aStart + q] * pwrs[idx - q] }
                        }
                        V1[tt] = s
                    }
                }
                let mx = V1.max() ?? 0
                if mx > 0 && mx < em128 {
                    for q in V1.indices { V1[q] *= ep128 }
                    expnt -= 128
                }
                V1s = V0s + j1 - k1
            }
        }
        var ans = V1[n - V1s]
        for m in 1...n {
            if abs(ans) > ep128 {
                ans *= em128
                expnt += 128
            }
            ans *= Double(m)
        }
        if expnt != 0 { ans = scalbn(ans, expnt) }
        return clip(ans)
    }

    /// Pelz–Good asymptotic series for Pr(D_n ≤ x) (scipy `_kolmogn_PelzGood`, cdf form).
    static func pelzGoodCDF(n: Int, x: Double) -> Double {
        if x <= 0.0 { return 0.0 }
        if x >= 1.0 { return 1.0 }
        let nd = Double(n)
        let z = nd.squareRoot() * x
        let zsquared = z * z, zthree = pow(z, 3), zfour = pow(z, 4), zsix = pow(z, 6)
        let piSquared = Double.pi * Double.pi, piFour = pow(Double.pi, 4), piSix = pow(Double.pi, 6)
        let qlog = -piSquared / 8 / zsquared
        if qlog < -708 { return 0.0 }
        var q = exp(qlog)
        let k1a = -zsquared
        let k1b = piSquared / 4
        let k2a = 6 * zsix + 2 * zfour
        let k2b = (2 * zfour - 5 * zsquared) * piSquared / 4
        let k2c = piFour * (1 - 2 * zsquared) / 16
        let k3d = piSix * (5 - 30 * zsquared) / 64
        let k3c = piFour * (-60 * zsquared + 212 * zfour) / 16
        let k3b = piSquared * (135 * zfour - 96 * zsix) / 4
        let k3a = -30 * zsix - 90 * pow(z, 8)
        var K = [0.0, 0.0, 0.0, 0.0]
        let maxk = Int((16 * z / Double.pi).rounded(.up))
        var k = maxk
        while k >= 1 {
            let m = Double(2 * k - 1)
            let msquared = m * m, mfour = pow(m, 4), msix = pow(m, 6)
            let qpower = pow(q, Double(8 * k))
            let coeffs = [1.0,
                          k1a + k1b * msquared,
                          k2a + k2b * msquared + k2c * mfour,
                          k3a + k3b * msquared + k3c * mfour + k3d * msix]
            for i in 0..<4 { K[i] = K[i] * qpower + coeffs[i] }
            k -= 1
        }
        let sqrt2pi = (2 * Double.pi).squareRoot()
        let denominators = [z, 6 * zfour, 72 * pow(z, 7), 6480 * pow(z, 10)]
        for i in 0..<4 { K[i] = K[i] * q * sqrt2pi / denominators[i] }
        q = exp(-piSquared / 2 / zsquared)
        let sqrt3z = 3.0.squareRoot() * z
        var k2extra = 0.0, k3extra = 0.0
        k = maxk
        while k >= 1 {
            let kd = Double(k)
            let ksquared = kd * kd
            let qp = pow(q, ksquared)
            let kspi = Double.pi * kd
            k2extra += ksquared * qp
            k3extra += (sqrt3z + kspi) * (sqrt3z - kspi) * ksquared * qp
            k -= 1
        }
        K[2] += k2extra * (piSquared * sqrt2pi / (-36 * zthree))
        K[3] += k3extra * (piSquared * sqrt2pi / (216 * zsix))
        var sum = 0.0
        for i in 0..<4 { sum += K[i] / pow(nd, Double(i) / 2.0) }
        return sum
    }

    // MARK: - smirnov (one-sided KS survival function), as scipy.special.smirnov

    /// cephes' MINLOG, log(2⁻¹⁰²²): below it exp underflows.
    private static let minLog = -7.08396418532264106224e2

    /// `scipy.special.smirnov(n, x)`, Pr(D⁺_n ≥ x), for the arguments `kstwoSF` passes (1/n < x < 1 − 1/n).
    ///
    /// Same special cases, term set and early stop as xsf's `_smirnov` (the Birnbaum–Tingey lower
    /// sum Σ C(n,v)·x·(x+v/n)^(v−1)·(1−x−v/n)^(n−v)), but the terms are accumulated in log space
    /// with a running scale instead of xsf's double-double mantissa/exponent arithmetic. That keeps
    /// the relative error near 1e-11 for n up to 10⁶ at a fraction of the cost (xsf's per-term
    /// double-double powers take ~2 s for n = 5·10⁵, the size a 1M × 1M comparison needs).
    static func smirnovSF(n: Int, x: Double) -> Double {
        if !(n > 0 && x >= 0.0 && x <= 1.0) { return .nan }
        if n == 1 { return 1 - x }
        if x == 0.0 { return 1.0 }
        if x == 1.0 { return 0.0 }
        let nd = Double(n)
        // floor(n·x) and the remainder without rounding error (xsf `modNX`).
        let p = nd * x
        let e = fma(nd, x, -p)
        var nxfl = p.rounded(.down)
        var alpha = (p - nxfl) + e
        if alpha < 0 { nxfl -= 1; alpha += 1 }
        if alpha >= 1 { nxfl += 1; alpha -= 1 }
        let nxflInt = Int(nxfl)
        if nxflInt == 0 || (nxflInt == 1 && alpha == 0) {
            // x ≤ 1/n: cdf = x·(1+x)^(n−1).
            return 1 - x * pow(1 + x, nd - 1)
        }
        if -2 * nd * x * x < minLog { return 0 }
        if nxflInt >= n - 1 { return pow(1 - x, nd) }
        if n > 1_000_000 {
            let logp = -pow(6.0 * nd * x + 1, 2) / 18.0 / nd
            return logp < -M_LN2 ? exp(logp) : 1 - (-expm1(logp))
        }
        // Lower sum, v = 0 … n − ⌊nx⌋ − 1 (xsf's n1mxfl + 1 terms).
        let nTerms = n - nxflInt
        // v = 0 term: (1−x)^n / x.
        var scale = nd * log1p(-x) - log(x)
        var sum = 1.0
        var logC = 0.0, logCComp = 0.0  // log C(n, v), Neumaier-compensated running sum
        let eps = Double.ulpOfOne
        var j = 1
        while j < nTerms {
            let v = j
            let step = log(Double(n - v + 1) / Double(v))
            let s = logC + step
            logCComp += abs(logC) >= abs(step) ? (logC - s) + step : (step - s) + logC
            logC = s
            let vd = Double(v)
            let a = ((vd + p) + e) / nd            // x + v/n
            let b = ((Double(n - v) - p) - e) / nd // 1 − x − v/n
            let lt = (logC + logCComp) + (vd - 1) * log(a) + Double(n - v) * log(b)
            var aj: Double
            if lt > scale {
                sum = sum * exp(scale - lt) + 1
                scale = lt
                aj = 1
            } else {
                aj = exp(lt - scale)
                sum += aj
            }
            if 4 * Double(nTerms - j) * aj < eps * sum && j != nTerms - 1 { break }
            j += 1
        }
        return clip(exp(scale + log(x * sum)))
    }
}
