import FlywheelCore
/// A dense, row-major matrix of `Double`: the feature matrix estimators fit and predict on.
/// NaN marks a missing value.
public struct Matrix: Hashable, Codable, Sendable {
    public let rows: Int
    public let columns: Int
    public var values: [Double]

    public init(rows: Int, columns: Int, values: [Double]) {
        precondition(values.count == rows * columns, "a \(rows)×\(columns) matrix needs \(rows * columns) values")
        self.rows = rows
        self.columns = columns
        self.values = values
    }

    public init(rows: Int, columns: Int, repeating value: Double = 0) {
        self.init(rows: rows, columns: columns, values: [Double](repeating: value, count: rows * columns))
    }

    /// Builds a matrix from equal-length rows.
    public init(_ rowArrays: [[Double]]) {
        let c = rowArrays.first?.count ?? 0
        self.init(rows: rowArrays.count, columns: c, values: rowArrays.flatMap { row in
            precondition(row.count == c, "every row needs \(c) values")
            return row
        })
    }

    public subscript(row: Int, column: Int) -> Double {
        get { values[row * columns + column] }
        set { values[row * columns + column] = newValue }
    }

    /// One row's values.
    public func row(_ r: Int) -> ArraySlice<Double> { values[(r * columns)..<((r + 1) * columns)] }

    /// Each row's column of the largest value; ties go to the lowest index (scikit-learn's argmax).
    public func argmaxPerRow() -> [Int] {
        (0..<rows).map { r in
            var best = 0
            for c in 1..<Swift.max(columns, 1) where self[r, c] > self[r, best] { best = c }
            return best
        }
    }

    /// The rows at `indices`, in that order.
    public func selecting(rows indices: [Int]) -> Matrix {
        var out = [Double]()
        out.reserveCapacity(indices.count * columns)
        for r in indices { out.append(contentsOf: row(r)) }
        return Matrix(rows: indices.count, columns: columns, values: out)
    }
}

/// A classifier: learns from rows and class indices, answers class probabilities.
public protocol Classifier: Sendable, Codable {
    /// `y[i]` is the class index of row `i`, in `0..<classCount`.
    mutating func fit(_ x: Matrix, _ y: [Int], classCount: Int) throws
    /// One row per input row, one column per class; each row sums to 1.
    func predictProbabilities(_ x: Matrix) -> Matrix
}

extension Classifier {
    /// The most probable class of each row (ties go to the lowest index, as scikit-learn's argmax).
    public func predict(_ x: Matrix) -> [Int] { predictProbabilities(x).argmaxPerRow() }
}

/// A regressor: learns from rows and numeric targets, answers a value per row.
public protocol Regressor: Sendable, Codable {
    mutating func fit(_ x: Matrix, _ y: [Double]) throws
    func predict(_ x: Matrix) -> [Double]
}
