import FlywheelCore
import FlywheelData
@testable import FlywheelMonitoring
import Foundation
import Testing

@Suite struct DriftReportTests {
    static func table(_ csv: String, types: [String: ColumnType] = [:]) throws -> Table {
        try CSVReader(types: types).read(Data(csv.utf8))
    }

    /// Deterministic data: `shift` moves the numbers, `weights` the categories.
    static func csv(rows: Int, shift: Double, seed: UInt64, flip: Bool = false) -> String {
        var g = SeededRandom(seed: seed)
        var out = "x,y,c,flag\n"
        for _ in 0..<rows {
            let u1 = Double(g.next() % 1_000_000 + 1) / 1_000_001, u2 = Double(g.next() % 1_000_000) / 1_000_000
            let z = (-2 * log(u1)).squareRoot() * cos(2 * .pi * u2)
            let cat = flip ? (g.next() % 10 < 6 ? "a" : (g.next() % 2 == 0 ? "b" : "c")) : ["a", "b", "c"][Int(g.next() % 3)]
            out += "\(z + shift),\(Double(g.next() % 1000) / 100),\(cat),\(g.next() % 2 == 0)\n"
        }
        return out
    }

    @Test func shiftedColumnsDriftAndTheDatasetVerdictFollowsTheShare() throws {
        let ref = try Self.table(Self.csv(rows: 3000, shift: 0, seed: 1))
        let same = try Self.table(Self.csv(rows: 3000, shift: 0, seed: 2))
        let moved = try Self.table(Self.csv(rows: 3000, shift: 0.5, seed: 3, flip: true))
        let quiet = DriftReport.compare(reference: ref, current: same)
        #expect(quiet.columns.map(\.column) == ["x", "y", "c", "flag"])
        #expect(quiet.columns.allSatisfy { $0.status == .ok })
        #expect(quiet.driftedColumns == 0 && !quiet.datasetDrift)
        let loud = DriftReport.compare(reference: ref, current: moved)
        let byName = Dictionary(uniqueKeysWithValues: loud.columns.map { ($0.column, $0) })
        #expect(byName["x"]?.result?.method == .wasserstein && byName["x"]?.drifted == true)
        #expect(byName["c"]?.result?.method == .jensenshannon && byName["c"]?.drifted == true)
        #expect(byName["y"]?.drifted == false)
        #expect(loud.driftedColumns == 2 && loud.testedColumns == 4 && loud.datasetDrift, "share 0.5 is drift (≥)")
        // A small reference switches to the tests: KS for numbers, chi-square / z for categories.
        let small = DriftReport.compare(reference: try Self.table(Self.csv(rows: 500, shift: 0, seed: 4)), current: moved)
        let smallBy = Dictionary(uniqueKeysWithValues: small.columns.map { ($0.column, $0.result?.method) })
        #expect(smallBy["x"] == .ks && smallBy["c"] == .chisquare && smallBy["flag"] == .z)
    }

    @Test func badInputGetsAStatusNotACrash() throws {
        let ref = try Self.table("a,b,c,e\n1,x,1,\n2,y,2,\n3,x,3,\n4,y,4,\n5,x,5,\n6,y,6,\n")
        let cur = try Self.table("a,b,d,e\n1,1,1,\n2,2,2,\n3,3,3,\n4,4,4,\n5,5,5,\n6,6,6,\n")
        let r = DriftReport.compare(reference: ref, current: cur)
        let by = Dictionary(uniqueKeysWithValues: r.columns.map { ($0.column, $0) })
        #expect(by["a"]?.status == .ok)
        #expect(by["b"]?.status == .typeMismatch)
        #expect(by["c"]?.status == .missingInCurrent)
        #expect(by["d"]?.status == .missingInReference)
        #expect(by["e"]?.status == .insufficientData)
        #expect(r.testedColumns == 1)
        // Too few rows after dropping missing values.
        let few = DriftReport.compare(reference: try Self.table("a\n1\n2\n\n\n"), current: try Self.table("a\n1\n2\n3\n4\n5\n6\n"))
        #expect(few.columns.first?.status == .insufficientData)
        #expect(few.columns.first?.message?.contains("2 reference and 6 current values") == true)
        #expect(!few.datasetDrift, "nothing tested is not drift")
    }

    @Test func overridesChooseTheMethodAndThreshold() throws {
        let ref = try Self.table(Self.csv(rows: 2000, shift: 0, seed: 5))
        let cur = try Self.table(Self.csv(rows: 2000, shift: 0.15, seed: 6))
        var o = DriftOptions(method: .psi)
        o.columnMethods["x"] = .ks
        o.thresholds[.psi] = 0.5
        o.allMeasures = true
        let r = DriftReport.compare(reference: ref, current: cur, columns: ["x", "y", "c"], options: o)
        #expect(r.columns.map { $0.result?.method } == [.ks, .psi, .psi])
        #expect(r.columns[1].result?.threshold == 0.5)
        // Every applicable measure is there: numbers get the numeric ones, categories the binned ones.
        #expect(Set(r.columns[0].scores.keys).isSuperset(of: ["ks", "wasserstein", "psi", "kl_div", "jensenshannon", "hellinger", "psi_deciles"]))
        #expect(r.columns[2].scores["ks"] == nil && r.columns[2].scores["l_infinity"] != nil)
        // A method that cannot apply says so.
        var bad = DriftOptions(method: .wasserstein)
        bad.minimumRows = 1
        let c = DriftReport.compare(reference: ref, current: cur, columns: ["c"], options: bad)
        #expect(c.columns.first?.status == .typeMismatch && c.columns.first?.message?.contains("does not apply") == true)
    }
}

@Suite struct ProfileReferenceTests {
    /// A stored training profile stands in for the training data: with an exact sample the
    /// report is the same as comparing the tables themselves.
    @Test func aProfileGivesTheSameReportAsItsTable() throws {
        let ref = try DriftReportTests.table(DriftReportTests.csv(rows: 3000, shift: 0, seed: 11))
        let cur = try DriftReportTests.table(DriftReportTests.csv(rows: 2000, shift: 0.3, seed: 12, flip: true))
        var acc = ProfileAccumulator()
        try acc.add(ref, rowOffset: 0)
        let profile = acc.finish()
        var options = DriftOptions()
        options.allMeasures = true
        let fromTable = DriftReport.compare(reference: ref, current: cur, options: options)
        let fromProfile = DriftReport.compare(reference: profile, current: cur, options: options)
        #expect(fromProfile.columns.map(\.column) == fromTable.columns.map(\.column))
        for (a, b) in zip(fromProfile.columns, fromTable.columns) {
            #expect(a.result == b.result, "\(a.column)")
            for (k, v) in b.scores { #expect(abs((a.scores[k] ?? .nan) - v) <= 1e-12 * max(1, abs(v)), "\(a.column) \(k)") }
        }
        #expect(fromProfile.datasetDrift == fromTable.datasetDrift)
        // A column the profile has but the current data lacks is named as such.
        let narrower = try DriftReportTests.table("x\n1\n2\n3\n4\n5\n6\n")
        let partial = DriftReport.compare(reference: profile, current: narrower)
        #expect(partial.columns.first { $0.column == "y" }?.status == .missingInCurrent)
    }
}

@Suite struct RadixSortTests {
    @Test func sortsLikeTheStandardLibrary() {
        var g = SeededRandom(seed: 3)
        var values: [Double] = (0..<50_000).map { _ in Double(bitPattern: g.next() & 0x7FEF_FFFF_FFFF_FFFF) * (g.next() % 2 == 0 ? 1 : -1) }
        values += [0, -0.0, 1, -1, 1e-310, -1e-310, .greatestFiniteMagnitude, -.greatestFiniteMagnitude] + (0..<5000).map { Double($0 % 7) }
        let ours = RadixSort.sorted(values), theirs = values.sorted()
        #expect(ours.count == theirs.count)
        #expect(zip(ours, theirs).allSatisfy { $0 == $1 })
        #expect(RadixSort.sorted([3, 1, 2]) == [1, 2, 3])
    }

    /// The passes look at the top 30 bits only; values closer than that must still come out in
    /// order: small groups (insertion), large ones (the standard sort), and one group for all.
    @Test func ordersValuesTheRadixPassesCannotTellApart() {
        var g = SeededRandom(seed: 11)
        func check(_ values: [Double]) {
            let ours = RadixSort.sorted(values), theirs = values.sorted()
            #expect(ours.count == theirs.count)
            #expect(zip(ours, theirs).allSatisfy { $0.bitPattern == $1.bitPattern })
        }
        // 500 whole numbers plus up to 1e-9: 500 groups of about 100 values each.
        check((0..<50_000).map { _ in Double(g.next() % 500) + Double(g.next() % 1000) * 1e-12 })
        // Pairs and triples of near-equal values among spread ones (small groups).
        check((0..<30_000).flatMap { _ -> [Double] in
            let v = Double(Int64(bitPattern: g.next() % 2_000_000) - 1_000_000) / 977
            return [v, v.nextUp, v.nextDown.nextDown, v * -1]
        })
        // Every value in one group: all passes skipped, the walk sorts the lot.
        check((0..<10_000).map { _ in Double(bitPattern: 0x3FF0_0000_0000_0000 | (g.next() & 0x3_FFFF_FFFF)) })
        // -0 before +0, as before.
        let zeros = RadixSort.sorted([Double](repeating: 0, count: 3000) + [Double](repeating: -0.0, count: 3000))
        #expect(zeros.prefix(3000).allSatisfy { $0.sign == .minus } && zeros.suffix(3000).allSatisfy { $0.sign == .plus })
        // Small samples take another path, with the same order.
        #expect(RadixSort.sorted([0.0, -0.0, 1, -1]).map(\.bitPattern) == [-1.0, -0.0, 0.0, 1.0].map(\.bitPattern))
    }
}
