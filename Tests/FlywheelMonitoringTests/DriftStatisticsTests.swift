import FlywheelCore
@testable import FlywheelMonitoring
import Foundation
import Testing

/// Every measure against the values scipy 1.17 and Evidently 0.7.23 computed for the reference
/// cases (Fixtures/drift-vectors.json): distances within 1e-10 relative, special-function
/// p-values within 1e-7, as its README states.
@Suite struct DriftStatisticsTests {
    static let numeric = DriftVectors.allColumns.filter { $0.1.type == "numerical" }.map { "\($0.0)/\($0.1.name)" }
    static let categorical = DriftVectors.allColumns.filter { $0.1.type == "categorical" }.map { "\($0.0)/\($0.1.name)" }

    static func column(_ id: String) throws -> DriftVectors.Column {
        try need(DriftVectors.allColumns.first { "\($0.0)/\($0.1.name)" == id }?.1, id)
    }

    static func binning(_ col: DriftVectors.Column) -> Binning {
        if col.type == "numerical" {
            let r = col.reference.filter(\.isFinite).sorted(), c = col.current.filter(\.isFinite).sorted()
            var distinct = 0
            for (i, v) in r.enumerated() where i == 0 || v != r[i - 1] { distinct += 1 }
            return Binning.numeric(reference: r, current: c, referenceDistinct: distinct)
        }
        guard case .categorical(let r) = ColumnSample.categories(col.referenceText),
              case .categorical(let c) = ColumnSample.categories(col.currentText) else { return Binning(edges: nil, labels: [], referenceCounts: [], currentCounts: []) }
        return Binning.categorical(reference: r, current: c)
    }

    static func hellinger(_ col: DriftVectors.Column, _ b: Binning) -> Double {
        guard col.type == "numerical" else { return DriftStatistics.hellinger(b) }
        let r = col.reference.filter(\.isFinite).sorted(), c = col.current.filter(\.isFinite).sorted()
        return DriftStatistics.hellingerNumeric(sortedReference: r, sortedCurrent: c, distinct: ColumnDrift.distinctCount(r, c))
    }

    @Test(arguments: numeric + categorical)
    func binsLikeEvidently(_ id: String) throws {
        let col = try Self.column(id)
        let expected = try need(col.expected["evidently_binning"] as? [String: Any])
        let b = Self.binning(col)
        #expect(b.referenceCounts == (expected["ref_counts"] as? [Int]))
        #expect(b.currentCounts == (expected["cur_counts"] as? [Int]))
        if let edges = expected["edges"] as? [Double] {
            let ours = try need(b.edges)
            #expect(ours.count == edges.count)
            for (x, y) in zip(ours, edges) { #expect(close(x, y, rel: 1e-12) || abs(x - y) < 1e-12, "edge \(x) vs \(y)") }
        }
        let filledRef = try need(expected["ref_pct_filled"] as? [Double])
        for (x, y) in zip(Binning.filled(b.referenceShares), filledRef) { #expect(close(x, y, rel: 1e-12)) }
    }

    @Test(arguments: numeric + categorical)
    func binnedDistancesLikeScipyAndEvidently(_ id: String) throws {
        let col = try Self.column(id)
        let e = col.expected
        let b = Self.binning(col)
        let checks: [(String, Double, Double?)] = [
            ("psi", DriftStatistics.psi(b), number(e["psi"])),
            ("kl_div", DriftStatistics.kl(b), number(e["kl_div"])),
            ("jensenshannon", DriftStatistics.jensenShannon(b), number(e["jensenshannon_distance"])),
            ("js base 2", DriftStatistics.jensenShannonBase2(b), number(e["js_divergence_base2"])),
            ("hellinger", Self.hellinger(col, b), number((e["evidently_tests"] as? [String: Any])?["hellinger"].flatMap { ($0 as? [String: Any])?["score"] })),
        ]
        for (name, ours, theirs) in checks {
            let t = try need(theirs, "\(id) \(name)")
            #expect(close(ours, t, rel: 1e-10), "\(id) \(name): \(ours) vs \(t)")
        }
        if col.type == "categorical" {
            #expect(close(DriftStatistics.lInfinity(b), try need(number(e["l_infinity"])), rel: 1e-10))
            let chi = try need(e["chisquare_evidently"] as? [String: Any])
            let (stat, p) = DriftStatistics.chiSquare(b)
            #expect(close(stat, try need(number(chi["statistic"])), rel: 1e-10), "\(id) chi2 \(stat)")
            #expect(close(p, try need(number(chi["pvalue"])), rel: 1e-7), "\(id) chi2 p \(p)")
            if let z = (e["evidently_tests"] as? [String: Any])?["z"] as? [String: Any], let zp = number(z["score"]) {
                #expect(close(DriftStatistics.zTest(b).pvalue, zp, rel: 1e-7), "\(id) z p")
            }
        }
    }

    @Test(arguments: numeric)
    func wassersteinAndDecilesLikeScipy(_ id: String) throws {
        let col = try Self.column(id)
        let r = col.reference.filter(\.isFinite).sorted(), c = col.current.filter(\.isFinite).sorted()
        let w = try need(col.expected["wasserstein"] as? [String: Any])
        let distance = DriftStatistics.wasserstein(sortedReference: r, sortedCurrent: c)
        #expect(close(distance, try need(number(w["distance"])), rel: 1e-10), "\(id) W1 \(distance)")
        let (mean, std) = DriftStatistics.meanAndStd(r)
        #expect(close(std, try need(number(col.expected["ref_std_pop"])), rel: 1e-10))
        #expect(close(mean, try need(number(col.expected["ref_mean"])), rel: 1e-9) || abs(mean) < 1e-12)
        let deciles = try need(col.expected["psi_ref_deciles"] as? [String: Any])
        let (edges, psi) = DriftStatistics.psiOnReferenceDeciles(sortedReference: r, sortedCurrent: c)
        for (x, y) in zip(edges, try need(deciles["inner_edges"] as? [Double])) { #expect(close(x, y, rel: 1e-10) || abs(x - y) < 1e-12) }
        #expect(close(psi, try need(number(deciles["psi"])), rel: 1e-10), "\(id) decile PSI \(psi)")
        #expect(r.count == col.expected["n_ref"] as? Int)
    }

    /// The method Evidently picks by default, its score and its verdict, for every column.
    @Test(arguments: numeric + categorical)
    func defaultChoiceAndVerdictLikeEvidently(_ id: String) throws {
        let col = try Self.column(id)
        let expected = try need(col.expected["evidently_default"] as? [String: Any])
        let reference = col.type == "numerical" ? ColumnSample.numbers(col.reference) : ColumnSample.categories(col.referenceText)
        let current = col.type == "numerical" ? ColumnSample.numbers(col.current) : ColumnSample.categories(col.currentText)
        let result = ColumnDrift.compare(col.name, reference: reference, current: current, options: DriftOptions())
        let names: [DriftMethod: String] = [.ks: "ks", .wasserstein: "wasserstein", .jensenshannon: "jensenshannon", .chisquare: "chisquare", .z: "z"]
        let verdict = try need(result.result, "\(id) verdict")
        #expect(names[verdict.method] == expected["test"] as? String, "\(id): \(verdict.method) vs \(expected["test"] ?? "")")
        #expect(verdict.threshold == number(expected["threshold"]))
        #expect(verdict.drifted == expected["drift_detected"] as? Bool, "\(id)")
        if verdict.method != .ks {
            #expect(close(verdict.score, try need(number(expected["score"])), rel: 1e-7), "\(id) score \(verdict.score)")
        }
    }
    /// The two-lane walk against the definition, summed over distinct pooled values with counts
    /// found by binary search: sizes small and odd, one side of one value, many ties.
    @Test func wassersteinWalkMatchesTheDefinition() {
        var g = SeededRandom(seed: 21)
        func below(_ x: [Double], _ v: Double) -> Int {  // values < v in sorted x
            var lo = 0, hi = x.count
            while lo < hi {
                let m = (lo + hi) / 2
                if x[m] < v { lo = m + 1 } else { hi = m }
            }
            return lo
        }
        for (nr, nc, spread) in [(1, 1, 10), (1, 7, 3), (6, 1, 3), (2, 3, 2), (101, 50, 1000), (500, 777, 20), (2_001, 2_000, 5), (3_000, 30, 1_000_000)] {
            let r = (0..<nr).map { _ in Double(g.next() % UInt64(spread)) / 4 }.sorted()
            let c = (0..<nc).map { _ in Double(g.next() % UInt64(spread)) / 4 + 0.5 }.sorted()
            let pooled = Array(Set(r + c)).sorted()
            var expected = 0.0
            for k in 1..<max(1, pooled.count) {
                let fr = Double(below(r, pooled[k])) / Double(nr), fc = Double(below(c, pooled[k])) / Double(nc)
                expected += abs(fr - fc) * (pooled[k] - pooled[k - 1])
            }
            let got = DriftStatistics.wasserstein(sortedReference: r, sortedCurrent: c)
            #expect(abs(got - expected) <= 1e-12 * max(1, expected), "\(nr)×\(nc): \(got) vs \(expected)")
        }
    }
}
