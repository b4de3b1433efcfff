import Foundation
import FlywheelLearn
import Testing

/// Test-only access to the fixture folder: a minimal CSV reader for the numeric datasets (FlywheelData's
/// reader is written elsewhere; these tests must not depend on it) and JSON loading.
enum LinearFixtures {
    struct Dataset {
        var header: [String]
        var x: Matrix
        /// The last column as text (class names, or numbers for regression).
        var target: [String]
        /// Ascending, as the reference scripts' boolean mask selects them.
        var testRows: [Int]
        var trainRows: [Int]

        /// Class indices in the order of the sorted class names (as scikit-learn's LabelEncoder).
        var classIndices: (labels: [Int], classes: [String]) {
            let classes = Array(Set(target)).sorted()
            let index = Dictionary(uniqueKeysWithValues: classes.enumerated().map { ($1, $0) })
            return (target.map { index[$0]! }, classes)
        }

        var numericTarget: [Double] { target.map { Double($0)! } }
    }

    static func folder() throws -> URL {
        try #require(Bundle.module.url(forResource: "Fixtures", withExtension: nil))
    }

    static func dataset(_ name: String) throws -> Dataset {
        let base = try folder().appendingPathComponent("data")
        let text = try String(contentsOf: base.appendingPathComponent("\(name).csv"), encoding: .utf8)
        var lines = text.split(whereSeparator: \.isNewline).map(String.init)
        let header = lines.removeFirst().split(separator: ",").map(String.init)
        var values = [Double]()
        var target = [String]()
        for line in lines where !line.isEmpty {
            let fields = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            try #require(fields.count == header.count, "ragged row in \(name).csv")
            for f in fields.dropLast() { values.append(try #require(Double(f), "not a number: \(f)")) }
            target.append(fields[fields.count - 1])
        }
        let x = Matrix(rows: target.count, columns: header.count - 1, values: values)
        let idxText = try String(contentsOf: base.appendingPathComponent("\(name).test_idx.txt"), encoding: .utf8)
        let test = idxText.split(whereSeparator: \.isWhitespace).compactMap { Int($0) }
        let testSet = Set(test)
        let train = (0..<x.rows).filter { !testSet.contains($0) }
        return Dataset(header: header, x: x, target: target, testRows: test.sorted(), trainRows: train)
    }

    static func json(_ file: String) throws -> [String: Any] {
        let data = try Data(contentsOf: try folder().appendingPathComponent(file))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    /// Standardizes `x` with the mean and (population) standard deviation of `reference`, as
    /// scikit-learn's StandardScaler does; constant columns are left centered only.
    static func standardize(_ x: Matrix, using reference: Matrix) -> Matrix {
        var out = x
        for c in 0..<reference.columns {
            var mean = 0.0
            for r in 0..<reference.rows { mean += reference[r, c] }
            mean /= Double(reference.rows)
            var v = 0.0
            for r in 0..<reference.rows { v += (reference[r, c] - mean) * (reference[r, c] - mean) }
            var sd = (v / Double(reference.rows)).squareRoot()
            if sd == 0 { sd = 1 }
            for r in 0..<x.rows { out[r, c] = (x[r, c] - mean) / sd }
        }
        return out
    }
}
