import FlywheelCore
@testable import FlywheelData
import Foundation
import Testing

/// The reader's number parser against Swift's own `Double(String)`, bit for bit.
@Suite struct DecimalParserTests {
    static func parse(_ s: String) -> Double? {
        Array(s.utf8).withUnsafeBufferPointer { DecimalParser.parse($0) }
    }

    /// Every string must parse, to exactly the bits `Double(String)` gives.
    static func expectSame(_ strings: [String], sourceLocation: SourceLocation = #_sourceLocation) {
        var mismatches: [String] = []
        for s in strings {
            let expected = Double(s)
            let got = parse(s)
            if expected == nil || got?.bitPattern != expected?.bitPattern {
                mismatches.append("\(s): \(got.map { "\($0)" } ?? "nil") vs \(expected.map { "\($0)" } ?? "nil")")
            }
        }
        #expect(mismatches.isEmpty, "\(mismatches.count) of \(strings.count): \(mismatches.prefix(10))", sourceLocation: sourceLocation)
    }

    @Test func randomDoublesPrintedWith1To20SignificantDigits() {
        var rng = SeededRandom(seed: 42)
        var strings: [String] = []
        for _ in 0..<20_000 {
            // Any finite double: random bits, normal and subnormal alike.
            var d = Double(bitPattern: rng.next())
            if !d.isFinite { d = Double(bitPattern: rng.next() & 0x7FEF_FFFF_FFFF_FFFF) }
            let digits = 1 + rng.below(20)
            strings.append(String(format: "%.\(digits - 1)e", d))
            strings.append(String(format: "%.\(digits)g", d))
            strings.append("\(d)")
        }
        Self.expectSame(strings)
    }

    @Test func randomValuesNearOneAsInTheBenchmarkFile() {
        var rng = SeededRandom(seed: 7)
        var strings: [String] = []
        for _ in 0..<20_000 {
            let d = (rng.unit() - 0.5) * 8
            strings.append("\(d)")  // shortest round-trip form: 16–18 significant digits
            strings.append(String(format: "%.\(rng.below(20))f", d))
        }
        Self.expectSame(strings)
    }

    @Test func randomDecimalStringsWithAnyExponent() {
        var rng = SeededRandom(seed: 3)
        var strings: [String] = []
        for _ in 0..<30_000 {
            let count = 1 + rng.below(24)
            var digits = String((0..<count).map { _ in Character(String(rng.below(10))) })
            if rng.below(4) == 0 { digits = "000" + digits }
            let point = rng.below(count + 1)
            var s = rng.below(2) == 0 ? "" : (rng.below(2) == 0 ? "-" : "+")
            s += String(digits.prefix(point)) + "." + String(digits.dropFirst(point))
            if rng.below(3) > 0 { s += (rng.below(2) == 0 ? "e" : "E") + String(rng.below(700) - 350) }
            strings.append(s)
        }
        Self.expectSame(strings)
    }

    @Test func subnormalsHugeAndTinyValues() {
        var rng = SeededRandom(seed: 11)
        var strings = [
            "4.9406564584124654e-324", "2.4703282292062327e-324", "2.4703282292062328e-324", "5e-324", "1e-323",
            "2.2250738585072011e-308", "2.2250738585072014e-308", "2.2250738585072009e-308", "1e-320",
            "1.7976931348623157e308", "1.7976931348623158e308", "1.7976931348623159e308", "1e308", "1e309",
            "1e-400", "-1e-400", "1e400", "123456789012345678e290", "0.000000000000000000001e-300",
            "1e-342", "1e-343", "9.999999999999999e-343", "1e308", "9.999999999999999e307", "1e22", "1e23",
            "8.98846567431158e307", "179769313486231570000000000000000000000e270",
        ]
        for _ in 0..<5_000 {
            let sub = Double(bitPattern: rng.next() & 0x000F_FFFF_FFFF_FFFF)  // subnormal
            strings.append(String(format: "%.\(rng.below(20))e", sub))
            let big = Double(sign: .plus, exponent: 1000 + rng.below(24), significand: 1 + rng.unit())
            strings.append(String(format: "%.\(rng.below(20))e", big))
            let tiny = Double(sign: .minus, exponent: -1000 - rng.below(22), significand: 1 + rng.unit())
            strings.append(String(format: "%.\(rng.below(20))e", tiny))
        }
        Self.expectSame(strings)
    }

    /// Decimal values exactly halfway between two doubles (round to even) and one digit either side.
    @Test func halfwayCases() {
        var strings = ["9007199254740993", "9007199254740995", "9007199254740993.0", "9007199254740992.5",
                       "9007199254740993e0", "90071992547409930e-1", "18014398509481987", "18014398509481985"]
        var rng = SeededRandom(seed: 5)
        for _ in 0..<5_000 {
            // Midpoints c·2^(e−1) with c odd in (2^53, 2^54), chosen divisible by 5^q, printed as w·10^q.
            let q = rng.below(23)
            var five: UInt64 = 1
            for _ in 0..<q { five *= 5 }
            let lowest = ((UInt64(1) << 53) + five - 1) / five, highest = ((UInt64(1) << 54) - 1) / five
            guard lowest <= highest else { continue }
            var j = lowest + UInt64(rng.below(Int(min(highest - lowest + 1, 1 << 40))))
            if j % 2 == 0 { j = j > lowest ? j - 1 : j + 1 }
            guard j <= highest else { continue }
            let shift = rng.below(11)
            let (w, overflow) = j.multipliedReportingOverflow(by: UInt64(1) << UInt64(shift))
            guard !overflow else { continue }
            for v in [w - 1, w, w + 1] { strings.append("\(v)e\(q)") }
        }
        // Integer midpoints above 2^53.
        for _ in 0..<5_000 {
            let d = Double(UInt64(1) << 53 + rng.next() % (UInt64(1) << 62))
            let mid = UInt64(d) + UInt64(d.ulp / 2)
            strings.append(String(mid))
            strings.append(String(mid - 1))
            strings.append(String(mid + 1))
        }
        Self.expectSame(strings)
    }

    @Test func formsTheReaderAccepts() {
        Self.expectSame([
            "0", "-0", "+0", "0.0", "-0.0", "00012", "+1", "-1", ".5", "-.5", "+.5e3", "5.", "-5.", "1.e3", "1E5",
            "1e+05", "1e-05", "1E-5", "0e999999", "1e0000000000000000000000000000001", "123456789012345678901234567890",
            "0.1", "0.2", "0.3", "1.5", "2.5", "100", "1e22", "1e-22", "4503599627370496.5", "inf", "-inf", "+inf",
            "INF", "Infinity", "-infinity", "3.1415926535897932384626433832795028841971693993751",
            "0.00000000000000000000000000000000000000000000000000000000001234",
        ])
    }

    @Test func formsItRejects() {
        for s in ["", "1e", "e5", ".", "-", "+", "1.2.3", " 1", "1 ", "0x10", "0x1p3", "nan", "NaN", "-nan", "1,5", "--1",
                  "+-1", "1e5.5", "1e+", "1e-", "infinit", "infinityx", "1d5", "1_000", "1e5e5", "..1", "١", "1f", "true", "e",
                  ".e5", "-.e5", "1..", "0b1"] {
            #expect(Self.parse(s) == nil, "\(s)")
        }
    }

    /// The fused reader parses a number where it lies, followed by whatever comes next: the same
    /// value, and the end just before the first byte that is not part of it.
    @Test func prefixStopsWhereTheNumberEnds() {
        var rng = SeededRandom(seed: 13)
        let followers = [",", "\n", "\r\n", ",1.5,2", "x", ";", " ", "\"", "e", "-", "", ",,,,,,,,,,,,", "/7"]
        var mismatches: [String] = []
        for _ in 0..<20_000 {
            let digits = 1 + rng.below(20)
            let d = (rng.unit() - 0.5) * pow(10, Double(rng.below(40) - 20))
            let number = rng.below(2) == 0 ? String(format: "%.\(digits - 1)e", d) : String(format: "%.\(rng.below(22))f", d)
            let text = Array((number + followers[rng.below(followers.count)]).utf8)
            let got = text.withUnsafeBufferPointer { DecimalParser.prefix($0.baseAddress!, from: 0, end: $0.count, .shared) }
            let expected = Double(number)
            // Undecided numbers (nil) are fine: the reader then asks strtod. Decided ones must be exact.
            if let (v, end) = got, end != number.utf8.count || v.bitPattern != expected?.bitPattern {
                mismatches.append("\(String(decoding: text, as: UTF8.self).debugDescription): \(v) to \(end)")
            }
        }
        #expect(mismatches.isEmpty, "\(mismatches.prefix(10))")
    }

    /// The fast method answers nearly every 17-digit value itself, and always agrees with Swift.
    @Test func eiselLemireDecidesAlmostEveryCaseAndIsNeverWrong() {
        var rng = SeededRandom(seed: 9)
        var decided = 0
        let trials = 50_000
        for _ in 0..<trials {
            let w = UInt64(1) + rng.next() % 9_999_999_999_999_999_999
            let q = rng.below(651) - 342
            guard let v = DecimalParser.eiselLemire(w, q, PowersOfFive.shared) else { continue }
            decided += 1
            let expected = Double("\(w)e\(q)")
            #expect(v.bitPattern == expected?.bitPattern, "\(w)e\(q)")
        }
        // Undecided: results out of the normal range (about 9% of these exponents) and rare ties.
        #expect(decided > trials * 85 / 100, "\(decided)")
    }
}
