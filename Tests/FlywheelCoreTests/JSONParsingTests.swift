import FlywheelCore
import Foundation
import Testing

/// `JSONValue(parsing:)` against Foundation's `JSONDecoder`: the same value for every valid
/// document, a rejection for every invalid one, and errors that say where.
@Suite struct JSONParsingTests {
    static let valid = [
        #"{"sepal_length":6.7,"sepal_width":3.0,"petal_length":5.2,"petal_width":2.3}"#,
        #"[1, -0, 0.5, -12.25e3, 1E-7, 123456789012345678901234567890, 9007199254740993, 2.2250738585072014e-308]"#,
        #" { "a" : [ true , false , null , { } , [ ] ] , "b" : "" } "#,
        #""esc \" \\ \/ \b \f \n \r \t \u00e9 \u4e2d \ud83d\ude00 end""#,
        "\u{FEFF}{\"bom\": \"héllo wörld ✓\"}",
        #"[[[[[[[[[[1]]]]]]]]]]"#,
        "0", "-1.5", "\"x\"", "null", "true",
    ]

    static let invalid = [
        "", " ", "{", "{\"a\" 1}", "{a: 1}", "[01]", "[1.]", "[.5]", "[1e]", "[-]", "nul", "tru",
        "\"unterminated", "\"bad \\x escape\"", "\"\\ud800\"", "\"tab\tinside\"", "[1] 2", "{\"a\":1}}", "[NaN]", "[Infinity]", "'single'",
    ]

    @Test(arguments: valid)
    func sameValueAsFoundation(_ text: String) throws {
        let ours = try JSONValue(parsing: Data(text.utf8))
        let theirs = try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
        #expect(ours == theirs)
    }

    @Test(arguments: invalid)
    func rejectedLikeFoundation(_ text: String) {
        #expect(throws: FlywheelError.self) { try JSONValue(parsing: Data(text.utf8)) }
        #expect(throws: (any Error).self) { try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8)) }
    }

    /// Stricter than Foundation, which accepts trailing commas; a repeated key keeps the last value, as Python's json does.
    @Test func strictWhereFoundationIsLenient() throws {
        #expect(throws: FlywheelError.self) { try JSONValue(parsing: Data("[1,]".utf8)) }
        #expect(throws: FlywheelError.self) { try JSONValue(parsing: Data("{\"a\":1,}".utf8)) }
        #expect(try JSONValue(parsing: Data(#"{"dup": 1, "dup": 2}"#.utf8)) == .object(["dup": .number(2)]))
    }

    @Test func errorsNameLineAndColumn() {
        #expect {
            try JSONValue(parsing: Data("{\n  \"a\": 1,\n  \"b\" 2\n}".utf8))
        } throws: { e in
            (e as? FlywheelError)?.message == "line 3, column 7: expected ':' after the key \"b\" but found '2'"
        }
        #expect {
            try JSONValue(parsing: Data("[1, 2".utf8))
        } throws: { e in
            (e as? FlywheelError)?.message == "line 1, column 6: the JSON ends inside an array: expected ',' or ']'"
        }
        let deep = String(repeating: "[", count: 600) + String(repeating: "]", count: 600)
        #expect(throws: FlywheelError.self) { try JSONValue(parsing: Data(deep.utf8)) }
    }

    @Test func numbersRoundTripExactly() throws {
        var g = SeededRandom(seed: 11)
        for _ in 0..<2000 {
            let d = Double(bitPattern: g.next() & 0x7FEF_FFFF_FFFF_FFFF) * (g.next() % 2 == 0 ? 1 : -1)
            let text = "\(d)"
            #expect(try JSONValue(parsing: Data(text.utf8)) == .number(d), "\(text)")
        }
    }

    /// Short decimals take a fast path (digits scaled by an exact power of ten); each must read
    /// back as the very Double the general parser gives, sign of zero included.
    @Test func shortDecimalsParseExactlyAsTheGeneralParserDoes() throws {
        var g = SeededRandom(seed: 12)
        var texts = ["0", "-0", "0.0", "-0.0", "0.001", "1e22", "1e23", "9007199254740993", "123456789012345",
                     "1234567890123456", "0.1", "0.30000000000000004", "2.5e-3", "-2.5E+3", "1e-22", "1e-23", "0e400",
                     "1733000000000", "4.9406564584124654e-324", "1.7976931348623157e308"]
        for _ in 0..<20_000 {
            let digits = Int(g.next() % 17) + 1
            let mantissa = g.next() % UInt64(pow(10, Double(digits)))
            let point = Int(g.next() % UInt64(digits + 1))
            var m = String(mantissa)
            while m.count < digits { m = "0" + m }
            var text = point == 0 ? m : String(m.prefix(digits - point)) + "." + String(m.suffix(point))
            if text.hasPrefix(".") { text = "0" + text }
            while text.count > 1, text.hasPrefix("0"), !text.hasPrefix("0.") { text.removeFirst() }
            if g.next() % 3 == 0 { text += "e\(Int(g.next() % 60) - 30)" }
            if g.next() % 2 == 0 { text = "-" + text }
            texts.append(text)
        }
        for text in texts {
            guard let expected = Double(text), expected.isFinite else { continue }
            guard case .number(let d) = try JSONValue(parsing: Data(text.utf8)) else { Issue.record("\(text) is not a number"); continue }
            #expect(d.bitPattern == expected.bitPattern, "\(text): \(d) vs \(expected)")
        }
    }
}
