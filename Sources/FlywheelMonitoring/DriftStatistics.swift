import Foundation

/// The drift measures, each defined as the reference implementation defines it (scipy for the
/// tests and distances, Evidently for binning and PSI, TFDV for L-infinity); the cases in
/// Tests/FlywheelMonitoringTests/Fixtures/drift-vectors.json pin them down.
public enum DriftStatistics {
    /// Population Stability Index, Σ (c − r) · ln(c / r), on shares with empty bins filled.
    public static func psi(_ b: Binning) -> Double {
        let r = Binning.filled(b.referenceShares), c = Binning.filled(b.currentShares)
        return zip(r, c).reduce(0) { $0 + ($1.1 - $1.0) * log($1.1 / $1.0) }
    }

    /// Kullback–Leibler divergence KL(reference ‖ current) on filled shares, renormalised first
    /// (as `scipy.stats.entropy(ref, cur)` does).
    public static func kl(_ b: Binning) -> Double {
        let r = normalised(Binning.filled(b.referenceShares)), c = normalised(Binning.filled(b.currentShares))
        return zip(r, c).reduce(0) { $0 + relativeEntropy($1.0, $1.1) }
    }

    /// Jensen–Shannon distance (natural log): √((KL(p‖m) + KL(q‖m)) / 2), m the mean, on unfilled shares.
    public static func jensenShannon(_ b: Binning) -> Double {
        jensenShannonDivergence(b).squareRoot()
    }

    /// The Jensen–Shannon divergence in bits (range 0…1), as TFDV and Vertex AI report it.
    public static func jensenShannonBase2(_ b: Binning) -> Double {
        jensenShannonDivergence(b) / log(2)
    }

    static func jensenShannonDivergence(_ b: Binning) -> Double {
        let p = normalised(b.referenceShares), q = normalised(b.currentShares)
        var sum = 0.0
        for (x, y) in zip(p, q) {
            let m = (x + y) / 2
            sum += relativeEntropy(x, m) + relativeEntropy(y, m)
        }
        return max(0, sum / 2)
    }

    /// Hellinger distance, √(Σ (√p − √q)²) / √2, on unfilled shares.
    public static func hellinger(_ b: Binning) -> Double {
        let p = b.referenceShares, q = b.currentShares
        return zip(p, q).reduce(0) { $0 + ($1.0.squareRoot() - $1.1.squareRoot()) * ($1.0.squareRoot() - $1.1.squareRoot()) }.squareRoot()
            / 2.0.squareRoot()
    }

    /// Hellinger distance for a numeric column as Evidently computes it: Sturges' rule applied to
    /// the number of *distinct* values (not rows) over the range of both samples, then
    /// √(1 − Σ √(p·q)). Both arrays sorted and finite; `distinct` counts values of both together.
    public static func hellingerNumeric(sortedReference r: [Double], sortedCurrent c: [Double], distinct: Int) -> Double {
        let b = Binning.sturges(reference: r, current: c, binCountFor: distinct)
        let bc = zip(b.referenceShares, b.currentShares).reduce(0) { $0 + ($1.0 * $1.1).squareRoot() }
        return (1 - min(max(bc, 0), 1)).squareRoot()
    }

    /// The largest difference between a category's share in the two samples (L-infinity).
    public static func lInfinity(_ b: Binning) -> Double {
        zip(b.referenceShares, b.currentShares).reduce(0) { max($0, abs($1.0 - $1.1)) }
    }

    /// Pearson's chi-square of current counts against the reference proportions, as Evidently
    /// tests it: expected = reference count × n_cur / n_ref; a category the reference never saw
    /// makes the statistic infinite and p = 0. Degrees of freedom: categories − 1.
    public static func chiSquare(_ b: Binning) -> (statistic: Double, pvalue: Double) {
        let nRef = Double(b.referenceCounts.reduce(0, +)), nCur = Double(b.currentCounts.reduce(0, +))
        var stat = 0.0
        for (r, c) in zip(b.referenceCounts, b.currentCounts) {
            let expected = Double(r) * nCur / nRef
            let diff = Double(c) - expected
            if expected == 0 {
                if c > 0 { stat = .infinity }
            } else {
                stat += diff * diff / expected
            }
        }
        let dof = Double(max(1, b.referenceCounts.count - 1))
        return (stat, SpecialFunctions.chiSquareSF(stat, dof: dof))
    }

    /// The two-proportion z-test on a two-category column: z from the pooled proportion,
    /// two-sided p = 2·P(Z > |z|).
    public static func zTest(_ b: Binning) -> (statistic: Double, pvalue: Double) {
        guard b.referenceCounts.count == 2 else { return (0, 1) }
        let n1 = Double(b.referenceCounts.reduce(0, +)), n2 = Double(b.currentCounts.reduce(0, +))
        let p1 = Double(b.referenceCounts[0]) / n1, p2 = Double(b.currentCounts[0]) / n2
        let pooled = (p1 * n1 + p2 * n2) / (n1 + n2)
        let se = (pooled * (1 - pooled) * (1 / n1 + 1 / n2)).squareRoot()
        guard se > 0 else { return (0, 1) }
        let z = (p1 - p2) / se
        return (z, 2 * SpecialFunctions.normalSF(abs(z)))
    }

    /// Wasserstein-1 distance between two samples (sorted ascending, finite): ∫ |F_r − F_c| dx.
    public static func wasserstein(sortedReference r: [Double], sortedCurrent c: [Double]) -> Double {
        let nr = r.count, nc = c.count
        guard nr > 0, nc > 0 else { return 0 }
        // Walk the pooled values in order; between consecutive ones the CDFs are constant, so each
        // value adds |F_r − F_c| (over the values before it) times its gap to the previous one. A
        // value equal to the previous adds an exact zero, so the walk needs no branch to merge the
        // two samples. |F_r − F_c| is |i·nc − j·nr| / (nr·nc): the integer difference moves by nc or
        // −nr per value and is exact, and the one division is left to the end.
        //
        // Each step waits for the one before (its load decides where the next reads), so two walks
        // run side by side: one over the first half of the pooled order, one over the second.
        return r.withUnsafeBufferPointer { rp in
            c.withUnsafeBufferPointer { cp in
                let n = nr &+ nc, k = n / 2
                let (i0, j0) = mergeSplit(rp, cp, k)
                var first = MergeWalk(i: 0, j: 0, nr: nr, nc: nc, previous: min(rp[0], cp[0]))
                var second = MergeWalk(i: i0, j: j0, nr: nr, nc: nc, previous: first.previous)
                if k > 0 { second.previous = max(i0 > 0 ? rp[i0 &- 1] : -.infinity, j0 > 0 ? cp[j0 &- 1] : -.infinity) }
                for _ in 0..<k {
                    first.step(rp, cp)
                    second.step(rp, cp)
                }
                for _ in k..<(n &- k) { second.step(rp, cp) }
                return (first.total + second.total) / (Double(nr) * Double(nc))
            }
        }
    }

    /// Where the first `k` values of the pooled order end in each sample (ties: the reference's
    /// value first, as `MergeWalk` takes them).
    static func mergeSplit(_ r: UnsafeBufferPointer<Double>, _ c: UnsafeBufferPointer<Double>, _ k: Int) -> (Int, Int) {
        var lo = max(0, k - c.count), hi = min(k, r.count)
        while lo < hi {
            let i = (lo + hi) / 2, j = k - i
            // Too few from the reference: its next value comes before the current's last taken.
            if j > 0, i < r.count, r[i] <= c[j - 1] { lo = i + 1 } else { hi = i }
        }
        return (lo, k - lo)
    }

    /// One walk over the pooled order of two sorted samples (see `wasserstein`).
    struct MergeWalk {
        var i: Int, j: Int
        let nr: Int, nc: Int
        var difference: Int
        var total = 0.0
        var previous: Double

        init(i: Int, j: Int, nr: Int, nc: Int, previous: Double) {
            self.i = i
            self.j = j
            self.nr = nr
            self.nc = nc
            self.previous = previous
            difference = i * nc - j * nr
        }

        @inline(__always)
        mutating func step(_ rp: UnsafeBufferPointer<Double>, _ cp: UnsafeBufferPointer<Double>) {
            // Selections as bit masks: the compiler would turn `?:` on doubles into branches, and
            // which sample comes next is a coin toss for the branch predictor.
            let infinity = Double.infinity.bitPattern
            let a = DriftStatistics.select(rp[min(i, nr &- 1)].bitPattern, infinity, i < nr)
            let b = DriftStatistics.select(cp[min(j, nc &- 1)].bitPattern, infinity, j < nc)
            let fromReference = Double(bitPattern: a) <= Double(bitPattern: b)
            let x = Double(bitPattern: DriftStatistics.select(a, b, fromReference))
            let magnitude = (difference ^ (difference &>> 63)) &- (difference &>> 63)
            total += Double(magnitude) * (x - previous)
            previous = x
            let t = Int(unsafeBitCast(fromReference, to: UInt8.self))
            i &+= t
            j &+= 1 &- t
            difference &+= (nc &+ nr) &* t &- nr  // +nc from the reference, −nr from the current
        }
    }

    /// `whenTrue` if `condition`, else `otherwise`, without a branch.
    @inline(__always)
    static func select(_ whenTrue: UInt64, _ otherwise: UInt64, _ condition: Bool) -> UInt64 {
        let mask = 0 &- UInt64(unsafeBitCast(condition, to: UInt8.self))
        return otherwise ^ ((whenTrue ^ otherwise) & mask)
    }

    /// PSI over the reference's deciles (linear quantiles at 0.1…0.9; a value on an edge falls in
    /// the upper bin), the credit-risk convention; empty bins filled as for `psi`.
    public static func psiOnReferenceDeciles(sortedReference r: [Double], sortedCurrent c: [Double]) -> (edges: [Double], psi: Double) {
        let edges = (1...9).map { quantile(sorted: r, Double($0) / 10) }
        func counts(_ values: [Double]) -> [Int] {
            var out = [Int](repeating: 0, count: 10)
            var k = 0
            for v in values {  // sorted: walk the edges once
                while k < 9, v >= edges[k] { k += 1 }
                out[k] += 1
            }
            return out
        }
        let b = Binning(edges: nil, labels: [], referenceCounts: counts(r), currentCounts: counts(c))
        return (edges, psi(b))
    }

    /// numpy's default (linear) quantile of a sorted sample.
    public static func quantile(sorted x: [Double], _ q: Double) -> Double {
        let h = Double(x.count - 1) * q
        let lo = Int(h.rounded(.down))
        let hi = min(lo + 1, x.count - 1)
        return x[lo] + (h - Double(lo)) * (x[hi] - x[lo])
    }

    /// Mean and population standard deviation.
    public static func meanAndStd(_ x: [Double]) -> (mean: Double, std: Double) {
        let n = Double(x.count)
        let mean = x.reduce(0, +) / n
        let variance = x.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / n
        return (mean, variance.squareRoot())
    }

    static func normalised(_ x: [Double]) -> [Double] {
        let s = x.reduce(0, +)
        return s > 0 ? x.map { $0 / s } : x
    }

    /// x · ln(x / y), with 0 · ln 0 = 0 (scipy's `rel_entr`).
    static func relativeEntropy(_ x: Double, _ y: Double) -> Double {
        if x == 0 { return 0 }
        if y == 0 { return .infinity }
        return x * log(x / y)
    }
}
