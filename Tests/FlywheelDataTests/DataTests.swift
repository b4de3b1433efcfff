import FlywheelCore
import FlywheelData
import Foundation
import Testing

func fixture(_ name: String) throws -> URL {
    try #require(Bundle.module.url(forResource: "Fixtures", withExtension: nil)).appendingPathComponent(name)
}

@Suite struct WriterTests {
    @Test func csvRoundTripsEveryValue() throws {
        let t = try Table(columns: [
            .numeric("x", [1, 2.5, .nan, 1e-300, -0.1]),
            .categorical("s", ["a,b", "say \"hi\"", nil, "NA", "line\nbreak"]),
            .boolean("b", [true, false, nil, true, false]),
        ])
        let text = CSVWriter.data(t)
        #expect(String(decoding: text, as: UTF8.self).hasPrefix("x,s,b\n1,\"a,b\",true\n2.5,\"say \"\"hi\"\"\",false\n,,\n"))
        let back = try CSVReader(types: ["s": .categorical]).read(text)
        #expect(back == t)
    }

    @Test func jsonLinesRoundTripAndTypes() throws {
        let text = """
            {"n": 1.5, "s": "a", "b": true}
            {"n": null, "s": "b"}

            {"n": 3, "b": false, "extra": "x"}
            """
        let t = try JSONLines.read(Data(text.utf8), source: "t.jsonl")
        #expect(t.columnNames == ["b", "n", "s", "extra"])
        #expect(t.columns.map(\.type) == [.boolean, .numeric, .categorical, .categorical])
        #expect(t.rowCount == 3)
        #expect(t.column(named: "extra")?.text(0) == nil && t.column(named: "extra")?.text(2) == "x")
        #expect(t.column(named: "b")?.isMissing(1) == true)
        let back = try JSONLines.read(try JSONLines.data(t))
        #expect(back.rowCount == 3)
        #expect(back.column(named: "n") == t.column(named: "n"))
        #expect(back.column(named: "s") == t.column(named: "s"))
    }

    @Test(arguments: [
        ("{\"a\": 1}\n{\"a\": \"x\"}\n", "t.jsonl line 2: field 'a' should be a number"),
        ("{\"a\": 1}\n[1, 2]\n", "t.jsonl line 2: expected one JSON object"),
        ("{\"a\": {\"b\": 1}}\n", "line 1: field 'a' is a nested array or object"),
    ])
    func jsonLinesErrorsNameTheLine(_ text: String, _ expected: String) {
        let e = #expect(throws: FlywheelError.self) { try JSONLines.read(Data(text.utf8), source: "t.jsonl") }
        #expect(e?.message.contains(expected) == true, "\(e?.message ?? "")")
    }
}

@Suite struct SchemaTests {
    @Test func infersAndValidatesCleanData() throws {
        let t = try CSVReader().read(contentsOf: try fixture("iris.csv"))
        let s = Schema.infer(from: t)
        #expect(s.columns.map(\.type) == [.numeric, .numeric, .numeric, .numeric, .categorical])
        #expect(s.columns[0].min == 4.3 && s.columns[0].max == 7.9)
        #expect(s.columns[4].categories == ["setosa", "versicolor", "virginica"])
        #expect(s.columns.allSatisfy { !$0.nullable })
        #expect(s.validate(t).isValid)
    }

    /// Every kind of anomaly at once, each with counts and examples.
    @Test func reportsEveryAnomaly() throws {
        let schema = Schema(columns: [
            ColumnSchema(name: "age", type: .numeric, nullable: false, min: 0, max: 120),
            ColumnSchema(name: "city", type: .categorical, categories: ["Oslo", "Lima"]),
            ColumnSchema(name: "score", type: .numeric, maxMissingFraction: 0.25),
            ColumnSchema(name: "id", type: .numeric),
            ColumnSchema(name: "gone", type: .boolean),
        ])
        let t = try CSVReader().read(Data("""
            age,city,score,id,surplus
            34,Oslo,1,7,x
            -2,Rome,,A7,y
            150,Rome,,8,z
            ,Paris,3,9,w
            """.utf8))
        let r = schema.validate(t)
        let byKind = Dictionary(grouping: r.anomalies, by: \.kind)
        #expect(byKind[.unexpectedMissing]?.first?.count == 1)
        #expect(byKind[.belowMinimum]?.first?.examples == ["-2"])
        #expect(byKind[.aboveMaximum]?.first?.examples == ["150"])
        let unseen = try #require(byKind[.unseenCategory]?.first)
        #expect(unseen.count == 3 && unseen.examples == ["Rome", "Paris"])
        #expect(byKind[.tooManyMissing]?.first?.count == 2)
        let mismatch = try #require(byKind[.typeMismatch]?.first)
        #expect(mismatch.column == "id" && mismatch.count == 1 && mismatch.examples == ["A7"])
        #expect(byKind[.missingColumn]?.map(\.column) == ["gone"])
        #expect(byKind[.extraColumn]?.map(\.column) == ["surplus"])
        #expect(r.anomalies.count == 8)
        #expect(!r.isValid)
    }

    @Test func schemaDecodesFromJSONAndChecksItself() throws {
        let json = #"{"columns": [{"name": "a", "type": "numeric", "min": 1, "max": 0}]}"#
        let s = try JSONDecoder().decode(Schema.self, from: Data(json.utf8))
        #expect(s.columns[0].nullable)
        let e = #expect(throws: FlywheelError.self) { try s.check() }
        #expect(e?.message.contains("min 1 is greater than max 0") == true)
        let bad = Schema(columns: [ColumnSchema(name: "c", type: .categorical, min: 1)])
        #expect(throws: FlywheelError.self) { try bad.check() }
    }
}

@Suite struct ProfileTests {
    /// numpy's figures on iris (scripts/profile_reference.py).
    @Test func matchesNumpy() throws {
        let ref = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: try fixture("iris_profile_reference.json"))) as? [String: Any])
        let cols = try #require(ref["columns"] as? [String: [String: Any]])
        let p = Profile(of: try CSVReader().read(contentsOf: try fixture("iris.csv")))
        #expect(p.rows == 150)
        for c in p.columns {
            let r = try #require(cols[c.name])
            if let n = c.numeric {
                for (key, value) in [("mean", n.mean), ("std", n.std), ("population_std", n.populationStd), ("min", n.min), ("max", n.max)] {
                    let expected = try #require(r[key] as? Double)
                    #expect(abs(value - expected) <= 1e-12 * max(1, abs(expected)), "\(c.name).\(key)")
                }
                let q = try #require(r["quantiles"] as? [String: Double])
                for (k, v) in q { #expect(abs((n.quantiles[k] ?? .nan) - v) <= 1e-12, "\(c.name).\(k)") }
                #expect(n.histogram.counts.map { Int($0) } == r["histogram20"] as? [Int], "\(c.name) histogram")
                #expect(n.sampleIsExact && n.sample.count == 150 && n.sample == n.sample.sorted())
            } else {
                #expect(c.frequencies == r["frequencies"] as? [String: Int])
            }
        }
    }

    /// Chunks merged give the profile of the whole, and streaming a file gives the same.
    @Test func chunksMergeToTheWhole() throws {
        let url = try fixture("iris.csv")
        let t = try CSVReader().read(contentsOf: url)
        let whole = Profile(of: t)
        var a = ProfileAccumulator(), b = ProfileAccumulator()
        try a.add(t.selecting(rows: Array(0..<61)), rowOffset: 0)
        try b.add(t.selecting(rows: Array(61..<150)), rowOffset: 61)
        try a.merge(b)
        let merged = a.finish()
        for (x, y) in zip(whole.columns, merged.columns) {
            #expect(x.count == y.count && x.missing == y.missing && x.frequencies == y.frequencies)
            if let nx = x.numeric, let ny = y.numeric {
                #expect(abs(nx.mean - ny.mean) < 1e-12 && abs(nx.std - ny.std) < 1e-12)
                #expect(nx.sample == ny.sample && nx.quantiles == ny.quantiles && nx.histogram == ny.histogram)
            }
        }
        var chunks = 0
        try CSVReader().forEachChunk(contentsOf: url, rows: 40) { chunk, first in
            #expect(first == chunks * 40)
            chunks += 1
        }
        #expect(chunks == 4)
        #expect(try CSVReader().profile(contentsOf: url).columns.map(\.count) == whole.columns.map(\.count))
    }

    /// Past the sample capacity the sample stays bounded and uniform; moments stay exact.
    @Test func largeColumnsKeepABoundedSample() throws {
        let n = 50_000
        let values = (0..<n).map { Double($0) }
        var acc = ProfileAccumulator()
        for start in stride(from: 0, to: n, by: 10_000) {
            try acc.add(try Table(columns: [.numeric("x", Array(values[start..<(start + 10_000)]))]), rowOffset: start)
        }
        let p = try #require(acc.finish().columns.first?.numeric)
        #expect(p.sample.count == ProfileAccumulator.sampleCapacity && !p.sampleIsExact)
        #expect(abs(p.mean - Double(n - 1) / 2) < 1e-9)
        #expect(abs((p.quantiles["p50"] ?? 0) - Double(n) / 2) < Double(n) * 0.02)
        #expect(abs(p.histogram.counts.reduce(0, +) - Double(n)) < 1e-6)
    }
}

extension SchemaTests {
    @Test func booleanColumnsValidate() throws {
        let t = try CSVReader().read(Data("flag\ntrue\nfalse\n\n".utf8))
        #expect(Schema.infer(from: t).validate(t).isValid)
        let strict = Schema(columns: [ColumnSchema(name: "flag", type: .boolean)])
        let wrong = try CSVReader().read(Data("flag\ntrue\nmaybe\n".utf8))
        #expect(strict.validate(wrong).anomalies.map(\.kind) == [.typeMismatch])
        #expect(strict.validate(wrong).anomalies.first?.examples == ["maybe"])
    }
}
