import FlywheelCore
import FlywheelData
import FlywheelLearn
import Foundation
import Testing

/// Preprocessing equals scikit-learn's on the same data (scripts/preprocessing_reference.py).
@Suite struct PreprocessingTests {
    struct Reference: Decodable {
        var x: [Double?]
        var y: [Double?]
        var city: [String]
        var test_x: [Double?]
        var test_city: [String]
        var impute_mean: [Double]
        var impute_median: [Double]
        var impute_most_frequent: [Double]
        var standard_test: [Double]
        var minmax_test: [Double]
        var onehot_categories: [String]
        var onehot_test: [[Double]]
        var ordinal_test: [Double?]
    }

    func reference() throws -> Reference {
        let url = try #require(Bundle.module.url(forResource: "Fixtures", withExtension: nil))
            .appendingPathComponent("preprocessing_reference.json")
        return try JSONDecoder().decode(Reference.self, from: Data(contentsOf: url))
    }

    func close(_ a: Double, _ b: Double) -> Bool { abs(a - b) <= 1e-12 * max(1, abs(b)) || (a.isNaN && b.isNaN) }

    @Test func imputersMatch() throws {
        let r = try reference()
        for (strategy, expected) in [(ImputeStrategy.mean, r.impute_mean), (.median, r.impute_median), (.mostFrequent, r.impute_most_frequent)] {
            for (i, column) in [r.x, r.y].enumerated() {
                var imp = Imputer(strategy: strategy)
                imp.fit(column.map { $0 ?? .nan })
                #expect(close(imp.fill, expected[i]), "\(strategy) column \(i): \(imp.fill) vs \(expected[i])")
            }
        }
    }

    @Test func columnTransformerMatchesScalersAndEncoders() throws {
        let r = try reference()
        let train = try Table(columns: [.numeric("x", r.x.map { $0 ?? .nan }), .categorical("city", r.city)])
        let test = try Table(columns: [.numeric("x", r.test_x.map { $0 ?? .nan }), .categorical("city", r.test_city)])

        let std = try Preprocessor(fitting: train, features: ["x", "city"])
        #expect(std.featureNames == ["x"] + r.onehot_categories.map { "city=\($0)" })
        let (m, unseen) = try std.transform(test)
        #expect(unseen == ["city": 1])
        for row in 0..<4 {
            #expect(close(m[row, 0], r.standard_test[row]), "standard row \(row)")
            #expect(Array(m.row(row).dropFirst()) == r.onehot_test[row], "one-hot row \(row)")
        }
        let mm = try Preprocessor(fitting: train, features: ["x", "city"], options: .init(scaling: .minMax, categorical: .ordinal))
        let (m2, _) = try mm.transform(test)
        for row in 0..<4 {
            #expect(close(m2[row, 0], r.minmax_test[row]), "min-max row \(row)")
            #expect(close(m2[row, 1], r.ordinal_test[row] ?? .nan), "ordinal row \(row)")
        }
    }

    /// One record through the record path gives the same features as the table path.
    @Test func recordsEncodeLikeTablesAndNameBadFields() throws {
        let train = try Table(columns: [.numeric("x", [1, 2, 3, .nan]), .categorical("c", ["a", "b", "a", nil]), .boolean("f", [true, false, nil, true])])
        let p = try Preprocessor(fitting: train, features: ["x", "c", "f"])
        let (m, _) = try p.transform(train)
        var out = [Double](repeating: -1, count: p.width)
        try p.transform(record: ["x": .missing, "c": .missing, "f": .bool(true)], into: &out)
        #expect(out == Array(m.row(3)))
        try p.transform(record: ["x": .number(2), "c": .string("b"), "f": .bool(false)], into: &out)
        #expect(out == Array(m.row(1)))
        var e = #expect(throws: FlywheelError.self) { try p.transform(record: ["x": .number(1), "c": .string("a")], into: &out) }
        #expect(e?.message.contains("field 'f' is missing") == true)
        e = #expect(throws: FlywheelError.self) { try p.transform(record: ["x": .string("high"), "c": .string("a"), "f": .bool(true)], into: &out) }
        #expect(e?.message.contains("field 'x' is the string \"high\"") == true)
        e = #expect(throws: FlywheelError.self) { try p.transform(record: ["x": .number(.infinity), "c": .string("a"), "f": .bool(true)], into: &out) }
        #expect(e?.message.contains("field 'x'") == true)
        let wrongType = try Table(columns: [.categorical("x", ["1"]), .categorical("c", ["a"]), .boolean("f", [true])])
        #expect(throws: FlywheelError.self) { try p.transform(wrongType) }
    }
}
