import Foundation
import Testing
import FlywheelMonitoring

/// Fixtures/ks-reference.json, written by scripts/ks_reference.py with scipy 1.17.
struct KSReference: @unchecked Sendable {
    struct Pair: @unchecked Sendable, CustomTestStringConvertible {
        var name: String
        var a: [Double]
        var b: [Double]
        var statistic: Double
        var pvalue: Double
        var method: String
        var testDescription: String { name }
    }

    struct SFPoint: Sendable, CustomTestStringConvertible {
        var n: Int
        var d: Double
        var sf: Double
        var testDescription: String { "n=\(n) d=\(d)" }
    }

    let pairs: [Pair]
    let sf: [SFPoint]

    static let shared: KSReference = {
        do { return try KSReference() } catch { fatalError("ks-reference.json: \(error)") }
    }()

    init() throws {
        let url = try need(Bundle.module.url(forResource: "Fixtures", withExtension: nil)).appendingPathComponent("ks-reference.json")
        let root = try need(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        pairs = try need(root["two_sample"] as? [[String: Any]]).map { p in
            Pair(name: try need(p["name"] as? String),
                 a: try need(p["a"] as? [Any]).map { try need(number($0)) },
                 b: try need(p["b"] as? [Any]).map { try need(number($0)) },
                 statistic: try need(number(p["statistic"])),
                 pvalue: try need(number(p["pvalue"])),
                 method: try need(p["method"] as? String))
        }
        sf = try need(root["kstwo_sf"] as? [[String: Any]]).map { p in
            SFPoint(n: try need(p["n"] as? Int), d: try need(number(p["d"])), sf: try need(number(p["sf"])))
        }
    }
}

/// Relative tolerance for a p-value from the README: exact 1e-9, asymptotic 1e-7. Tiny p-values
/// get an absolute floor of 1e-300 (the `close` helper's), i.e. both must underflow together.
private func pTolerance(exact: Bool) -> Double { exact ? 1e-9 : 1e-7 }

@Suite("KolmogorovSmirnov")
struct KolmogorovSmirnovTests {
    @Test("drift-vectors.json numeric columns", arguments: DriftVectors.allColumns.filter { $0.1.type == "numerical" && $0.1.expected["ks"] != nil }.map { $0.1 })
    func driftVectors(column: DriftVectors.Column) throws {
        let ks = try #require(column.expected["ks"] as? [String: Any])
        let a = column.reference.filter(\.isFinite), b = column.current.filter(\.isFinite)
        let result = KolmogorovSmirnov.twoSample(a, b)
        let statistic = try #require(number(ks["statistic"]))
        let pvalue = try #require(number(ks["pvalue"]))
        let method = try #require(ks["auto_method"] as? String)
        #expect(result.exact == (method == "exact"))
        #expect(close(result.statistic, statistic, rel: 1e-10), "D \(result.statistic) vs \(statistic)")
        #expect(close(result.pvalue, pvalue, rel: pTolerance(exact: method == "exact")), "p \(result.pvalue) vs \(pvalue)")
    }

    @Test("ks-reference.json two-sample pairs", arguments: KSReference.shared.pairs)
    func pairs(pair: KSReference.Pair) {
        let result = KolmogorovSmirnov.twoSample(pair.a, pair.b)
        #expect(result.exact == (pair.method == "exact"))
        #expect(close(result.statistic, pair.statistic, rel: 1e-10), "D \(result.statistic) vs \(pair.statistic)")
        #expect(close(result.pvalue, pair.pvalue, rel: pTolerance(exact: pair.method == "exact")), "p \(result.pvalue) vs \(pair.pvalue)")
        let sorted = KolmogorovSmirnov.twoSample(sortedA: pair.a.sorted(), sortedB: pair.b.sorted())
        #expect(sorted == result)
        // Symmetric in the two samples (two-sided).
        let swapped = KolmogorovSmirnov.twoSample(pair.b, pair.a)
        #expect(close(swapped.pvalue, result.pvalue, rel: 1e-12) && swapped.statistic == result.statistic)
    }

    @Test("kstwo.sf grid across _kolmogn's branches", arguments: KSReference.shared.sf)
    func kstwoSF(point: KSReference.SFPoint) {
        let sf = KolmogorovSmirnov.kstwoSF(point.d, n: point.n)
        #expect(close(sf, point.sf, rel: 1e-7), "sf \(sf) vs \(point.sf)")
    }

    @Test func identicalSamplesGivePOne() {
        let a = [3.0, 1, 2, 2, 5]
        let r = KolmogorovSmirnov.twoSample(a, a)
        #expect(r == KSResult(statistic: 0, pvalue: 1, exact: true))
    }

    @Test func edgeArguments() {
        #expect(KolmogorovSmirnov.kstwoSF(0, n: 10) == 1)
        #expect(KolmogorovSmirnov.kstwoSF(1, n: 10) == 0)
        #expect(KolmogorovSmirnov.kstwoSF(0.5, n: 0).isNaN)
    }
}
