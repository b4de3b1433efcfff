import FlywheelCore
import Foundation
import Testing

/// The pull reader takes values as the tree parser does, and refuses what it refuses.
@Suite struct JSONReaderTests {
    static let batch = #"""
        {"run_id": "abc", "metrics": [
            {"key": "loss", "value": 0.25, "timestamp": 1700000000000, "step": 3},
            {"key": "acc", "value": "NaN", "timestamp": "1700000000001", "step": "4", "extra": {"nested": [1, {"x": null}]}},
            {"key": "big", "value": -1.5e300, "timestamp": 5}
        ], "params": [], "tags": null}
        """#

    @Test func walksKeysAndElementsAsTheTreeHasThem() throws {
        let tree = try JSONValue(parsing: Array(Self.batch.utf8))
        var seen: [(String, Double, Double?, Double?)] = []
        var keys: [String] = []
        try JSONReader.read(Array(Self.batch.utf8)) { r in
            try r.objectKeys { r, key in
                keys.append(key)
                guard key == "metrics" else { return try r.skip() }
                try r.arrayElements { r in
                    var k = "", v = 0.0, t: Double?, s: Double?
                    try r.objectKeys { r, f in
                        switch f {
                        case "key": k = try r.text("key") ?? ""
                        case "value": v = try r.number()
                        case "timestamp": t = try r.number("timestamp")
                        case "step": s = try r.number("step")
                        default: try r.skip()
                        }
                    }
                    seen.append((k, v, t, s))
                }
            }
        }
        #expect(keys == ["run_id", "metrics", "params", "tags"])
        guard case .array(let metrics)? = tree["metrics"] else { Issue.record("no metrics"); return }
        #expect(seen.count == metrics.count)
        #expect(seen.map(\.0) == ["loss", "acc", "big"])
        #expect(seen[0].1 == 0.25 && seen[0].2 == 1_700_000_000_000 && seen[0].3 == 3)
        #expect(seen[1].1.isNaN && seen[1].2 == 1_700_000_000_001 && seen[1].3 == 4)
        #expect(seen[2].1 == -1.5e300 && seen[2].3 == nil)
        // A whole value is the tree's value.
        let whole = try JSONReader.read(Array(Self.batch.utf8)) { r in try r.value() }
        #expect(whole == tree)
    }

    @Test func fieldKeysCompareAsTextWithOrWithoutEscapes() throws {
        let text = #"{"key": 1, "ke\u0079": 2, "keys": 3, "": 4, "k\"y": 5}"#
        var matched: [Double] = [], others: [String] = []
        try JSONReader.read(Array(text.utf8)) { r in
            try r.objectFields { r, k in
                if k == "key" { matched.append(try r.number()) } else {
                    others.append(k.text)
                    try r.skip()
                }
            }
        }
        #expect(matched == [1, 2])
        #expect(others == ["keys", "", "k\"y"])
        let bad = #expect(throws: FlywheelError.self) { try JSONReader.read(Array(#"{"a" 1}"#.utf8)) { r in try r.objectFields { r, _ in try r.skip() } } }
        #expect(bad?.message.contains("after the key \"a\"") == true, "\(bad?.message ?? "")")
    }

    @Test(arguments: [
        (#"{"a": 1,}"#, "line 1"),
        (#"{"a": 1} x"#, "after the end"),
        (#"{"a": [1, 2"#, "ends inside an array"),
        (#"["a"]"#, "expected an object"),
        (#"{"n": "twelve"}"#, "must be a number"),
        (#"{"n": {"x": 1}}"#, "must be a number"),
    ])
    func refusesWhatIsNotJSONOrNotTheExpectedType(_ text: String, _ words: String) {
        let e = #expect(throws: FlywheelError.self) {
            try JSONReader.read(Array(text.utf8)) { r in
                try r.objectKeys { r, k in if k == "n" { _ = try r.number("n") } else { try r.skip() } }
            }
        }
        #expect(e?.message.contains(words) == true, "\(e?.message ?? "")")
    }

    @Test func deepNestingIsRefusedNotRecursedInto() {
        let text = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        let e = #expect(throws: FlywheelError.self) { try JSONReader.read(Array(text.utf8)) { r in try r.skip() } }
        #expect(e?.message.contains("nests deeper") == true)
    }
}
